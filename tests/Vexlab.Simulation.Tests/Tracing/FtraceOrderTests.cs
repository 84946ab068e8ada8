using System.Globalization;
using System.Text.RegularExpressions;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// Every line of every built-in under every protocol parses with trace-cmd report's line shape and the
/// tracepoints' TP_printk grammar, and the events come in the order the kernel fires them.
/// </summary>
public class FtraceOrderTests
{
    private static readonly Regex VcpuField = new(@"^vcpu (\d+)\b");

    private static readonly HashSet<string> AsyncEvents = new(StringComparer.Ordinal)
    {
        "kvm_try_async_get_page", "kvm_async_pf_repeated_fault", "kvm_async_pf_not_present", "kvm_async_pf_ready",
        "kvm_async_pf_completed", "kvm_apic_accept_irq",
    };

    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void EveryLine_ParsesAndIsInKernelOrder(string builtin, string protocol)
    {
        var (result, trace, threads) = BuiltinTraces.Run(builtin, protocol);

        // The record stream itself never goes back in time on a CPU.
        var last = new long[threads.Cpus];
        var map = new TraceCpuMap(threads);
        foreach (var r in trace.Records)
        {
            if (TraceEventCatalog.For(r.Kind) is null)
            {
                continue;
            }

            var (cpu, _) = map.Place(r);
            Assert.True(r.TimeNs >= last[cpu], $"{r.Kind} at {r.TimeNs} on CPU {cpu} after {last[cpu]}");
            last[cpu] = r.TimeNs;
        }

        var lines = BuiltinTraces.Text(trace.Records, threads).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"cpus={threads.Cpus}", lines[0]);
        var inGuest = Enumerable.Repeat(true, threads.Vcpus).ToArray();
        var lastTs = new double[threads.Cpus];
        var injected = new string?[threads.Vcpus];
        var openFault = new Dictionary<int, string>();
        var latencies = new List<long>();
        var exits = 0;
        foreach (var line in lines.Skip(1))
        {
            var m = FtraceWriterTests.Line.Match(line);
            Assert.True(m.Success, line);
            var ev = m.Groups["event"].Value;
            var args = m.Groups["args"].Value;
            Assert.True(FtraceWriterTests.Formats.TryGetValue(ev, out var grammar), line);
            Assert.Matches(grammar, args);
            var cpu = int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture);
            var ts = double.Parse(m.Groups["ts"].Value, CultureInfo.InvariantCulture);
            Assert.True(ts >= lastTs[cpu], "time goes back on its CPU: " + line);
            lastTs[cpu] = ts;
            var comm = m.Groups["comm"].Value.Trim();
            Assert.Equal(threads.Comm(cpu), comm);
            Assert.Equal(threads.Pid(cpu), int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture));
            if (protocol == "sync")
            {
                Assert.DoesNotContain(ev, AsyncEvents);
            }

            if (ev == "kvm_async_pf_completed" || ev == "ve_wakeup")
            {
                // async_pf_execute runs on the worker.
                Assert.StartsWith("kworker/", comm, StringComparison.Ordinal);
                continue;
            }

            Assert.True(cpu < threads.Vcpus, "vCPU event on a worker: " + line);
            var vm = VcpuField.Match(args);
            if (vm.Success)
            {
                Assert.Equal(cpu, int.Parse(vm.Groups[1].Value, CultureInfo.InvariantCulture));
            }

            if (injected[cpu] is { } inj && ev != "kvm_entry")
            {
                Assert.Fail($"{inj} not followed by kvm_entry on its vCPU but by: {line}");
            }

            switch (ev)
            {
                case "kvm_exit":
                    Assert.True(inGuest[cpu], "exit while in the host: " + line);
                    inGuest[cpu] = false;
                    exits++;
                    break;
                case "kvm_entry":
                    Assert.False(inGuest[cpu], "entry while in the guest: " + line);
                    inGuest[cpu] = true;
                    injected[cpu] = null;
                    break;
                case "kvm_inj_exception":
                    // KVM injects at entry: the vCPU is in the host, and kvm_entry comes next.
                    Assert.False(inGuest[cpu], "injection while in the guest: " + line);
                    injected[cpu] = line;
                    break;
                case "kvm_inj_virq":
                    if (!inGuest[cpu])
                    {
                        injected[cpu] = line;
                    }

                    break;
                case "kvm_page_fault":
                case "kvm_try_async_get_page":
                case "kvm_async_pf_not_present":
                case "kvm_async_pf_repeated_fault":
                case "kvm_msr":
                case "kvm_hypercall":
                    Assert.False(inGuest[cpu], "exit handler event in the guest: " + line);
                    break;
                case "guest_fault":
                {
                    var task = int.Parse(Regex.Match(args, @"task (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
                    Assert.False(openFault.ContainsKey(task), "second guest_fault before the first ended: " + line);
                    openFault[task] = line;
                    break;
                }

                case "guest_fault_done":
                {
                    var task = int.Parse(Regex.Match(args, @"task (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
                    Assert.True(openFault.Remove(task), "guest_fault_done without its guest_fault: " + line);
                    var lm = Regex.Match(args, @"latency_ns (\d+) (\w+)$");
                    if (lm.Groups[2].Value == "done")
                    {
                        latencies.Add(long.Parse(lm.Groups[1].Value, CultureInfo.InvariantCulture));
                    }

                    break;
                }
            }
        }

        // Fault for fault, the trace's latencies are the run's fault_latency_ns inputs.
        Assert.Equal(result.FaultLatency.Count, latencies.Count);
        if (latencies.Count > 0)
        {
            Assert.Equal(result.FaultLatency.Sum, (Int128)latencies.Sum());
            Assert.Equal(result.FaultLatency.Min, latencies.Min());
            Assert.Equal(result.FaultLatency.Max, latencies.Max());
        }

        // Each kvm_exit is one sample of the exits report.
        Assert.Equal(exits, result.Tracepoints!.ExitRows().Sum(r => r.Times.Count));
    }
}
