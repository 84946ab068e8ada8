using System.Text.Json;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Driver;

public sealed class SimulatorTests
{
    public static TheoryData<string, string> BuiltinsTimesProtocols()
    {
        var data = new TheoryData<string, string>();
        foreach (var b in Builtins.Names)
        {
            foreach (var p in ProtocolCatalog.Names)
            {
                data.Add(b, p);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BuiltinsTimesProtocols))]
    public void EveryBuiltin_RunsUnderEveryProtocol(string builtin, string protocol)
    {
        var r = BuiltinRuns.Run(builtin, protocol, 1.0, "duration=50ms");
        Assert.True(r.Events > 0);
        Assert.True(r.SimulatedNs > 0);
        Assert.NotEqual(GuestOutcome.Oops, r.Outcome);
    }

    [Fact]
    public void SameInputs_GiveIdenticalJsonOutsideTiming()
    {
        var entry = Overrides.ParseProtocols("kvm-pf-int")[0];
        var a = BuiltinRuns.Prepare("postcopy", entry, 1.0, "duration=50ms");
        var b = BuiltinRuns.Prepare("postcopy", entry, 1.0, "duration=50ms");
        var ja = ResultJson.WithoutTiming(ResultJson.Build(a, ScenarioRunner.Run(a)));
        var jb = ResultJson.WithoutTiming(ResultJson.Build(b, ScenarioRunner.Run(b)));
        Assert.Equal(ja, jb);
    }

    [Fact]
    public void SeedOrDuration_ChangesDigest()
    {
        var baseline = BuiltinRuns.Run("postcopy", "ve", 1.0, "duration=50ms").Digest;
        Assert.NotEqual(baseline, BuiltinRuns.Run("postcopy", "ve", 1.0, "duration=50ms", "seed=2").Digest);
        Assert.NotEqual(baseline, BuiltinRuns.Run("postcopy", "ve", 1.0, "duration=60ms").Digest);
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(1.0)]
    [InlineData(1.3)]
    public void SwapOvercommit_CpuTaskGainsFromAsyncProtocols(double scale)
    {
        long Cpu(string p) => BuiltinRuns.Run("swap-overcommit", p, scale).Task("cpu").WorkDone;
        var sync = Cpu("sync");
        var halt = Cpu("kvm-halt");
        var pfInt = Cpu("kvm-pf-int");
        var ve = Cpu("ve");
        Assert.True(pfInt > sync, $"kvm-pf-int {pfInt} vs sync {sync}");
        Assert.True(ve > sync, $"ve {ve} vs sync {sync}");
        Assert.True(pfInt >= halt, $"kvm-pf-int {pfInt} vs kvm-halt {halt}");
        Assert.True(ve >= halt, $"ve {ve} vs kvm-halt {halt}");
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(1.0)]
    [InlineData(1.3)]
    public void KernelHeavy_PreemptibleKernelContinueDoesMostWork(double scale)
    {
        var pfInt = BuiltinRuns.Run("kernel-heavy", "kvm-pf-int", scale).WorkDone;
        var ve = BuiltinRuns.Run("kernel-heavy", "ve", scale).WorkDone;
        var variant = BuiltinRuns.Run("kernel-heavy", "ve[guest.ve.can_continue=user-or-preemptible-kernel]", scale).WorkDone;
        Assert.True(variant > pfInt && variant > ve, $"variant {variant}, kvm-pf-int {pfInt}, ve {ve}");
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(1.0)]
    [InlineData(1.3)]
    public void DaxTruncate_OutcomesPerProtocol(double scale)
    {
        var sync = BuiltinRuns.Run("dax-truncate", "sync", scale);
        Assert.Equal(GuestOutcome.VmError, sync.Outcome);

        var ve = BuiltinRuns.Run("dax-truncate", "ve", scale);
        Assert.Equal(GuestOutcome.Running, ve.Outcome);
        Assert.Equal(1, ve.Task("mapper").Signals);
        Assert.Equal(1, ve.Signals["SIGBUS"]);
        Assert.True(ve.ErrorReturns > 0);
        Assert.Equal(0, ve.Task("reader").Signals);
        foreach (var t in ve.Tasks)
        {
            if (t.Name is not ("mapper" or "reader"))
            {
                Assert.True(t.FinishedNs >= 0, t.Name + " did not finish");
            }
        }

        // Without error reporting the mapper is told "not present", woken, and faults again, forever.
        var pfInt = BuiltinRuns.Run("dax-truncate", "kvm-pf-int", scale);
        var truncated = BuiltinRuns.Run("dax-truncate", "kvm-pf-int", scale, "duration=100ms");
        var retries = pfInt.Counters.Signals[Metrics.SignalKind.ApfNotPresent] - truncated.Counters.Signals[Metrics.SignalKind.ApfNotPresent];
        Assert.True(retries > 100, $"retries after truncation: {retries}");
        Assert.Empty(pfInt.Signals);
        Assert.Equal(GuestOutcome.Running, pfInt.Outcome);

        var reported = BuiltinRuns.Run("dax-truncate", "kvm-pf-int[host.apf.report_errors=true]", scale);
        var reportedBefore = BuiltinRuns.Run("dax-truncate", "kvm-pf-int[host.apf.report_errors=true]", scale, "duration=100ms");
        var reportedRetries = reported.Counters.Signals[Metrics.SignalKind.ApfNotPresent] - reportedBefore.Counters.Signals[Metrics.SignalKind.ApfNotPresent];
        Assert.True(reportedRetries < 10, $"retries with errors reported: {reportedRetries}");
    }

    // The callback vector is the #VE design's wakeup (the host's wakeup ring) and, under kvm-pf-int, page-ready
    // (kvm_async_pf_intr): each counter holds its own protocol's interrupts only.
    [Theory]
    [InlineData("sync", false, false)]
    [InlineData("kvm-halt", false, false)]
    [InlineData("kvm-pf", false, true)]
    [InlineData("kvm-pf-int", false, true)]
    [InlineData("ve", true, false)]
    public void CallbackVector_IsCountedAsItsProtocolsWakeup(string protocol, bool veWakeups, bool pageReady)
    {
        var r = BuiltinRuns.Run("postcopy", protocol, 1.0, "duration=50ms");
        Assert.Equal(veWakeups, r.Counters.Signals[Metrics.SignalKind.VeWakeup] > 0);
        Assert.Equal(pageReady, r.Counters.Signals[Metrics.SignalKind.ApfPageReady] > 0);
    }

    [Fact]
    public void PerfettoTrace_IsValidJsonWithNestedSlices()
    {
        var entry = Overrides.ParseProtocols("kvm-pf-int")[0];
        var run = BuiltinRuns.Prepare("postcopy", entry, 1.0, "duration=20ms");
        using var stream = new MemoryStream();
        using (var writer = new PerfettoTraceWriter(stream, run.Setup.Machine.Vcpus, new Machine(run.Setup.Machine).WorkCapacity, leaveOpen: true))
        {
            ScenarioRunner.Run(run, writer);
        }

        using var doc = JsonDocument.Parse(stream.ToArray());
        var events = doc.RootElement.GetProperty("traceEvents");
        var byTrack = new Dictionary<(int, int), List<(double Ts, double End)>>();
        var count = 0;
        foreach (var e in events.EnumerateArray())
        {
            if (e.GetProperty("ph").GetString() != "X")
            {
                continue;
            }

            count++;
            var key = (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32());
            var ts = e.GetProperty("ts").GetDouble();
            var end = ts + e.GetProperty("dur").GetDouble();
            if (!byTrack.TryGetValue(key, out var list))
            {
                byTrack[key] = list = [];
            }

            list.Add((ts, end));
        }

        Assert.True(count > 10);
        foreach (var (_, slices) in byTrack)
        {
            slices.Sort((a, b) => a.Ts != b.Ts ? a.Ts.CompareTo(b.Ts) : b.End.CompareTo(a.End));
            var stack = new Stack<double>();
            foreach (var (ts, end) in slices)
            {
                while (stack.Count > 0 && stack.Peek() <= ts + 1e-6)
                {
                    stack.Pop();
                }

                Assert.True(stack.Count == 0 || end <= stack.Peek() + 1e-6, $"slice {ts}-{end} overlaps its parent");
                stack.Push(end);
            }
        }
    }

    [Fact]
    public void FtraceTrace_UsesKvmFormats()
    {
        var entry = Overrides.ParseProtocols("kvm-pf-int")[0];
        var run = BuiltinRuns.Prepare("postcopy", entry, 1.0, "duration=20ms");
        var text = new StringWriter();
        var writer = new FtraceWriter(text, run.Setup.Machine.Vcpus, new Machine(run.Setup.Machine).WorkCapacity);
        ScenarioRunner.Run(run, writer);
        var lines = text.ToString().Split('\n');
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"kvm_exit: +vcpu \d+ reason EPT_VIOLATION rip 0x[0-9a-f]+ info1 0x[0-9a-f]{16} info2 0x[0-9a-f]{16} intr_info 0x[0-9a-f]{8} error_code 0x[0-9a-f]{8}"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"kvm_async_pf_not_present: +token 0x[0-9a-f]+ gva 0x[0-9a-f]+"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"CPU \d+/KVM-\d+ +\[\d+\] .* \d+\.\d{6}: kvm_entry: +vcpu \d+, rip 0x[0-9a-f]+"));
    }

    [Fact]
    public void SteadyState_AllocatesLessThanOneBytePerEvent()
    {
        var entry = Overrides.ParseProtocols("kvm-pf-int")[0];
        var run = BuiltinRuns.Prepare("swap-overcommit", entry, 1.0, "duration=200ms");
        ScenarioRunner.Run(run);
        var sim = new Vexlab.Simulation.Driver.Simulator(run.Setup);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var r = sim.Run();
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(bytes < r.Events, $"{bytes} bytes for {r.Events} events");
    }
}
