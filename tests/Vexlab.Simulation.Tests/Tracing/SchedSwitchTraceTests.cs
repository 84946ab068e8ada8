using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// vCPU threads on shared pCPUs (host.pcpus below guest.vcpus) in trace.dat and the ftrace text: one buffer per pCPU,
/// each vCPU's kvm events on the pCPU that runs its thread, and sched_switch / sched_wakeup as
/// <c>trace-cmd record -e kvm -e sched</c> would record them.
/// </summary>
public sealed partial class SchedSwitchTraceTests
{
    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    public static TheoryData<string, int, int> Runs()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var p in Protocols)
        {
            data.Add(p, 2, 1);
            data.Add(p, 3, 2);
        }

        return data;
    }

    /// <summary>swap-overcommit with <paramref name="vcpus"/> vCPUs on <paramref name="pcpus"/> pCPUs: its records, threads and the simulator's handover count.</summary>
    private static (List<TraceRecord> Records, TraceThreads Threads, long Handovers) Run(string protocol, int vcpus, int pcpus)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var run = BuiltinRuns.Prepare("swap-overcommit", entry, 1.0, "duration=30ms", $"guest.vcpus={vcpus}", $"host.pcpus={pcpus}");
        var sink = new RecordingSink();
        var sim = new Simulator(run.Setup, sink);
        sim.Run();
        var threads = new TraceThreads(vcpus, new Machine(run.Setup.Machine).WorkCapacity, pcpus: run.Setup.Pcpus);
        return (sink.Records, threads, sim.Pcpus!.Handovers);
    }

    [GeneratedRegex(@"^\s*(?<comm>.+?)-(?<pid>\d+)\s+\[(?<cpu>\d{3})\]\s+\d+\.\d{6}: (?<event>\w+):\s+(?<args>.*)$")]
    private static partial Regex LineRegex();

    [GeneratedRegex(@"prev_pid=(?<prev>\d+) prev_prio=120 prev_state=(?<state>R\+|S|D|R) ==> next_comm=.+ next_pid=(?<next>\d+) next_prio=120$")]
    private static partial Regex SwitchRegex();

    [Theory]
    [MemberData(nameof(Runs))]
    public void KvmEventsLieOnThePcpuThatRunsTheirThread(string protocol, int vcpus, int pcpus)
    {
        var (records, threads, handovers) = Run(protocol, vcpus, pcpus);
        var text = BuiltinTraces.Text(records, threads);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"cpus={pcpus + threads.Workers}", lines[0]);

        // What each pCPU runs, by pid (0: its idle task), as its sched_switch lines say; and where each vCPU thread runs.
        var running = new int[pcpus];
        var switches = 0;
        var wakeups = 0;
        var kvm = 0;
        foreach (var line in lines.Skip(1))
        {
            var m = LineRegex().Match(line);
            Assert.True(m.Success, line);
            var cpu = int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture);
            var pid = int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture);
            var ev = m.Groups["event"].Value;
            var vcpu = pid - threads.BasePid;
            if (ev == "sched_switch")
            {
                var s = SwitchRegex().Match(m.Groups["args"].Value);
                Assert.True(s.Success, line);
                var prev = int.Parse(s.Groups["prev"].Value, CultureInfo.InvariantCulture);
                var next = int.Parse(s.Groups["next"].Value, CultureInfo.InvariantCulture);
                Assert.True(cpu < pcpus, line);
                Assert.True(pid == prev && prev == running[cpu], $"the switch's prev is not what pCPU {cpu} ran ({running[cpu]}): {line}");

                // No vCPU thread runs on two pCPUs at once (so no two vCPUs share one at once: each pCPU runs one pid).
                Assert.True(next == 0 || !running.Contains(next), $"pid {next} already runs on another pCPU: {line}");
                running[cpu] = next;
                switches++;
            }
            else if (ev is "sched_wakeup" or "sched_migrate_task")
            {
                // A wake, and the move of the woken thread to its new pCPU before it, recorded by what that pCPU runs.
                Assert.True(pid == running[cpu], $"the {ev} is not recorded by what pCPU {cpu} runs ({running[cpu]}): {line}");
                wakeups += ev == "sched_wakeup" ? 1 : 0;
            }
            else if (vcpu >= 0 && vcpu < threads.Vcpus)
            {
                // A vCPU's kvm event is on a pCPU whose last sched_switch switched its thread in.
                Assert.True(cpu < pcpus && running[cpu] == pid, $"vCPU {vcpu}'s event on pCPU {cpu}, which runs pid {running[cpu]}: {line}");
                kvm++;
            }
            else
            {
                Assert.True(cpu >= pcpus, "a worker's event on a vCPU's pCPU: " + line);
            }
        }

        Assert.Equal(handovers, switches);
        Assert.True(switches > pcpus, $"only {switches} sched_switch lines");
        Assert.True(kvm > 0);
        if (protocol != "sync" || vcpus > pcpus)
        {
            Assert.True(wakeups > 0, "no sched_wakeup");
        }
    }

    [GeneratedRegex(@"prev_pid=(?<prev>\d+) prev_prio=120 prev_state=(?<state>\S+) ")]
    private static partial Regex PrevRegex();

    /// <summary>
    /// The host can take a pCPU from a vCPU thread in guest mode only through an exit: the tick or the reschedule IPI
    /// exits with EXTERNAL_INTERRUPT (handle_external_interrupt_irqoff), then vcpu_run calls schedule(). So every
    /// sched_switch away from a vCPU thread finds it in the host (its last kvm_entry or kvm_exit was an exit, on the
    /// pCPU it leaves, no later than the switch), and a thread preempted in guest mode has that exit as its pCPU's
    /// last kvm event before the switch. Before, every R+ switch of sync's swap-overcommit on one pCPU (3,410 in
    /// 300 ms) took the thread straight from guest mode.
    /// </summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void EverySwitchFromAVcpuThread_FindsItInTheHost_PreemptedOnesRightAfterAnExternalInterruptExit(string protocol, int vcpus, int pcpus)
    {
        var (records, threads, _) = Run(protocol, vcpus, pcpus);
        var lines = BuiltinTraces.Text(records, threads).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1);
        var inGuest = new Dictionary<int, bool>();
        var exitAt = new Dictionary<int, (int Cpu, string Ts)>();
        var lastKvm = new string[threads.Cpus];
        var preempted = 0;
        var afterTheirExit = 0;
        foreach (var line in lines)
        {
            var m = LineRegex().Match(line);
            Assert.True(m.Success, line);
            var cpu = int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture);
            var pid = int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture);
            var ts = line.Substring(line.IndexOf("] ", StringComparison.Ordinal) + 2, 13).Trim();
            switch (m.Groups["event"].Value)
            {
                case "kvm_entry":
                    inGuest[pid] = true;
                    break;
                case "kvm_exit":
                    inGuest[pid] = false;
                    exitAt[pid] = (cpu, ts);
                    break;
                case "sched_switch":
                    {
                        var s = PrevRegex().Match(m.Groups["args"].Value);
                        Assert.True(s.Success, line);
                        var prev = int.Parse(s.Groups["prev"].Value, CultureInfo.InvariantCulture);
                        if (prev == 0)
                        {
                            break;
                        }

                        // A thread that never entered has not run the guest yet (the first switch-ins at 0).
                        Assert.False(inGuest.GetValueOrDefault(prev), $"{protocol}: pid {prev} leaves its pCPU in guest mode: {line}");
                        if (s.Groups["state"].Value == "R+")
                        {
                            preempted++;
                            if (lastKvm[cpu] is { } last && last.Contains($"-{prev} ", StringComparison.Ordinal)
                                && last.Contains(" kvm_exit: ", StringComparison.Ordinal) && last.Contains("reason EXTERNAL_INTERRUPT", StringComparison.Ordinal))
                            {
                                afterTheirExit++;
                                Assert.Equal(cpu, exitAt[prev].Cpu);
                                Assert.True(string.CompareOrdinal(exitAt[prev].Ts.PadLeft(13), ts.PadLeft(13)) <= 0, line);
                            }
                        }

                        break;
                    }

                case "sched_wakeup":
                    break;
                default:
                    break;
            }

            if (m.Groups["event"].Value is not ("sched_switch" or "sched_wakeup" or "sched_migrate_task"))
            {
                lastKvm[cpu] = line;
            }
        }

        // Two vCPUs on one pCPU preempt each other at every fault's wake; three on two, in 30 ms, need not.
        Assert.True(pcpus > 1 || preempted > 0, "no thread was preempted");

        // Those preempted while already in the host (handling an exit, say an EPT violation's) took no new exit.
        Assert.InRange(afterTheirExit, (preempted * 9) / 10, preempted);
    }

    /// <summary>Four vCPUs on two pCPUs: two faulting tasks (their vCPUs block and wake) beside two busy ones.</summary>
    private const string FaultingAndBusyVcpus = """
        name: faulting-and-busy
        duration: 40ms
        guest:
          vcpus: 4
        host:
          memory_limit: 2MiB
        regions:
          - name: heap
            size: 16MiB
            absent: 0.9
        tasks:
          - name: mem
            count: 2
            loop: touch heap random; compute 20
          - name: cpu
            count: 2
            loop: compute 100
        """;

    public static TheoryData<string> AllProtocols()
    {
        var data = new TheoryData<string>();
        foreach (var p in Protocols)
        {
            data.Add(p);
        }

        return data;
    }

    private static (List<TraceRecord> Records, TraceThreads Threads) RunFaultingAndBusy(string protocol)
    {
        var (sink, threads) = RunFaultingAndBusySink(protocol);
        return (sink.Records, threads);
    }

    private static (RecordingSink Sink, TraceThreads Threads) RunFaultingAndBusySink(string protocol)
    {
        var (_, sink, sim) = Laws.ScenarioRuns.RunTracedSimulator(FaultingAndBusyVcpus, protocol, "host.pcpus=2");
        return (sink, new TraceThreads(4, sim.Machine.WorkCapacity, pcpus: 2));
    }

    /// <summary>A Chrome trace timestamp (microseconds, three decimals) in ns, exactly.</summary>
    private static long Ns(JsonElement e)
    {
        var raw = e.GetRawText();
        var dot = raw.IndexOf('.', StringComparison.Ordinal);
        return dot < 0
            ? long.Parse(raw, CultureInfo.InvariantCulture) * 1000
            : (long.Parse(raw[..dot], CultureInfo.InvariantCulture) * 1000) + long.Parse(raw[(dot + 1)..].PadRight(3, '0')[..3], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The Perfetto trace of a run on shared pCPUs puts each turn of a vCPU thread on the pCPU the ftrace text of the same
    /// run says it ran on: per pCPU track (host pid, tid 2000 + pCPU, named "pCPU N"), the slices are the ftrace text's
    /// switch-ins of vCPU threads there, in order, named for the thread, starting at the switch (to the ftrace line's
    /// microsecond) and ending at the pCPU's next switch or the run's end; and every kvm line of a vCPU lies inside one
    /// of its slices on that pCPU.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllProtocols))]
    public void Perfetto_PutsEachTurnOnThePcpuTheFtraceTextSays(string protocol)
    {
        var (sink, threads) = RunFaultingAndBusySink(protocol);
        var text = BuiltinTraces.Text(sink.Records, threads).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        using var doc = JsonDocument.Parse(PerfettoBuiltinTests.Write(sink, threads.Vcpus, threads.Workers));

        // The ftrace text's turns: per pCPU, (vCPU, start us, end us) from each switch-in of a vCPU thread to the next switch.
        var fromText = new List<(int Vcpu, long Start, long End)>[2] { [], [] };
        var kvm = new List<(int Vcpu, int Cpu, long Us)>();
        foreach (var line in text)
        {
            var m = LineRegex().Match(line);
            Assert.True(m.Success, line);
            var cpu = int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture);
            var pid = int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture);
            var at = line.IndexOf("] ", StringComparison.Ordinal) + 2;
            var stamp = line[at..line.IndexOf(": ", at, StringComparison.Ordinal)].Trim().Split('.');
            var us = (long.Parse(stamp[0], CultureInfo.InvariantCulture) * 1_000_000) + long.Parse(stamp[1], CultureInfo.InvariantCulture);
            if (m.Groups["event"].Value == "sched_switch")
            {
                if (fromText[cpu].Count > 0 && fromText[cpu][^1].End < 0)
                {
                    fromText[cpu][^1] = fromText[cpu][^1] with { End = us };
                }

                var next = int.Parse(line[(line.LastIndexOf("next_pid=", StringComparison.Ordinal) + 9)..].Split(' ')[0], CultureInfo.InvariantCulture);
                if (next != 0)
                {
                    fromText[cpu].Add((next - threads.BasePid, us, -1));
                }
            }
            else if (m.Groups["event"].Value.StartsWith("kvm_", StringComparison.Ordinal) && cpu < 2 && pid - threads.BasePid is >= 0 and < 4)
            {
                kvm.Add((pid - threads.BasePid, cpu, us));
            }
        }

        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        var endUs = (sink.EndNs + 500) / 1000;
        for (var p = 0; p < 2; p++)
        {
            var tid = PerfettoTraceWriter.PcpuTidBase + p;
            Assert.Contains(events, e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name"
                && e.GetProperty("pid").GetInt32() == PerfettoTraceWriter.HostPid && e.GetProperty("tid").GetInt32() == tid
                && e.GetProperty("args").GetProperty("name").GetString() == $"pCPU {p}");
            var slices = events
                .Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == PerfettoTraceWriter.HostPid && e.GetProperty("tid").GetInt32() == tid)
                .Select(e => (Name: e.GetProperty("name").GetString(), Start: Ns(e.GetProperty("ts")), End: Ns(e.GetProperty("ts")) + Ns(e.GetProperty("dur"))))
                .OrderBy(x => x.Start)
                .ToList();
            var turns = fromText[p].Select(x => x with { End = x.End < 0 ? endUs : x.End }).ToList();
            Assert.True(turns.Count > 1, $"{protocol}: pCPU {p} ran {turns.Count} turns");
            Assert.Equal(turns.Count, slices.Count);
            for (var i = 0; i < turns.Count; i++)
            {
                Assert.Equal($"CPU {turns[i].Vcpu}/KVM", slices[i].Name);
                Assert.Equal(turns[i].Start, (slices[i].Start + 500) / 1000);
                Assert.Equal(turns[i].End, (slices[i].End + 500) / 1000);
            }
        }

        // Each vCPU's kvm line lies in one of its turns on the pCPU it is filed on.
        foreach (var (vcpu, cpu, us) in kvm)
        {
            Assert.Contains(fromText[cpu], t => t.Vcpu == vcpu && t.Start <= us && (t.End < 0 || us <= t.End));
        }
    }

    [GeneratedRegex(@"^comm=(?<comm>.+) pid=(?<pid>\d+) prio=120 orig_cpu=(?<orig>\d+) dest_cpu=(?<dest>\d+)$")]
    private static partial Regex MigrateRegex();

    /// <summary>
    /// set_task_cpu fires sched_migrate_task each time a vCPU thread moves to another pCPU: on the pCPU it goes to,
    /// recorded by the thread running there, before the wakeup that moves it or the switch that runs it there. So the
    /// migrate lines are exactly the switch-ins of a thread on a pCPU other than its last one, each naming the two. Before,
    /// the trace had none (four vCPUs on two pCPUs under kvm-pf-int, 100 ms: 582 moves).
    /// </summary>
    [Theory]
    [MemberData(nameof(AllProtocols))]
    public void MigrateLines_AreTheSwitchInsOnAnotherPcpu(string protocol)
    {
        var (records, threads) = RunFaultingAndBusy(protocol);
        var lines = BuiltinTraces.Text(records, threads).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1);
        var lastCpu = new Dictionary<int, int>();
        var movedTo = new Dictionary<int, int>();
        var running = new int[2];
        var moves = 0;
        var migrates = 0;
        foreach (var line in lines)
        {
            var m = LineRegex().Match(line);
            Assert.True(m.Success, line);
            var cpu = int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture);
            var pid = int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture);
            if (m.Groups["event"].Value == "sched_migrate_task")
            {
                var g = MigrateRegex().Match(m.Groups["args"].Value);
                Assert.True(g.Success, line);
                var moved = int.Parse(g.Groups["pid"].Value, CultureInfo.InvariantCulture);
                Assert.Equal(cpu, int.Parse(g.Groups["dest"].Value, CultureInfo.InvariantCulture));
                Assert.Equal(lastCpu[moved], int.Parse(g.Groups["orig"].Value, CultureInfo.InvariantCulture));
                Assert.Equal(threads.CommOfPid(moved), g.Groups["comm"].Value);
                Assert.True(pid == running[cpu], $"recorded by pid {pid}, not by what pCPU {cpu} runs ({running[cpu]}): {line}");
                Assert.False(movedTo.ContainsKey(moved), "moved twice before it ran: " + line);
                movedTo[moved] = cpu;
                migrates++;
            }
            else if (m.Groups["event"].Value == "sched_switch")
            {
                var next = int.Parse(line[(line.LastIndexOf("next_pid=", StringComparison.Ordinal) + 9)..].Split(' ')[0], CultureInfo.InvariantCulture);
                running[cpu] = next;
                if (next == 0)
                {
                    continue;
                }

                if (lastCpu.TryGetValue(next, out var last) && last != cpu)
                {
                    moves++;
                    Assert.True(movedTo.GetValueOrDefault(next, -1) == cpu, $"pid {next} runs on pCPU {cpu} after {last} with no sched_migrate_task: {line}");
                }

                movedTo.Remove(next);
                lastCpu[next] = cpu;
            }
        }

        Assert.True(moves > 0, $"{protocol}: no thread changed pCPU");
        Assert.Equal(moves, migrates);
    }

    [TraceCmdTheory]
    [MemberData(nameof(AllProtocols))]
    public void TraceCmdReport_ParsesTheMigrateLines(string protocol)
    {
        var (records, threads) = RunFaultingAndBusy(protocol);
        var (dat, text) = TraceDatWriterTests.Both(records, threads);
        var plugins = TraceCmd.Report(dat);
        var report = TraceDatWriterTests.Report(dat, "-N");
        Assert.Equal(text, report);
        Assert.Contains(" sched_migrate_task:   comm=CPU ", report, StringComparison.Ordinal);
        Assert.DoesNotContain("[FAILED TO PARSE]", plugins, StringComparison.Ordinal);
        Assert.Equal(
            text.Split('\n').Count(l => l.Contains(" sched_migrate_task: ", StringComparison.Ordinal)),
            plugins.Split('\n').Count(l => l.Contains(" sched_migrate_task: ", StringComparison.Ordinal)));
    }

    [Fact]
    public void DedicatedPcpus_NoSchedEvents_OneBufferPerVcpu()
    {
        // A pCPU per vCPU: nothing is shared, so the trace keeps its buffer per vCPU (CPU n runs CPU n/KVM) and no sched event.
        var entry = Overrides.ParseProtocols("kvm-pf-int")[0];
        var run = BuiltinRuns.Prepare("swap-overcommit", entry, 1.0, "duration=10ms", "guest.vcpus=2", "host.pcpus=2");
        var sink = new RecordingSink();
        var sim = new Simulator(run.Setup, sink);
        sim.Run();
        Assert.Null(sim.Pcpus);
        Assert.DoesNotContain(sink.Records, r => r.Kind is TraceKind.SchedSwitch or TraceKind.SchedWakeup);
        var threads = new TraceThreads(2, new Machine(run.Setup.Machine).WorkCapacity, pcpus: run.Setup.Pcpus);
        Assert.False(threads.Shared);
        Assert.Equal(2 + threads.Workers, threads.Cpus);
    }

    [TraceCmdTheory]
    [MemberData(nameof(Runs))]
    public void TraceCmdReport_ParsesTheSchedEvents_AsTheTextFormatPrintsThem(string protocol, int vcpus, int pcpus)
    {
        var (records, threads, _) = Run(protocol, vcpus, pcpus);
        var (dat, text) = TraceDatWriterTests.Both(records, threads);
        var report = TraceDatWriterTests.Report(dat, "-N");

        // Equal to our text, so trace-cmd printed no warning (its stderr is part of the report) and parsed every record.
        Assert.Equal(text, report);
        Assert.Contains(" sched_switch:         prev_comm=", report, StringComparison.Ordinal);
        Assert.Contains(" ==> next_comm=CPU ", report, StringComparison.Ordinal);
    }

    [TraceCmdFact]
    public void TraceCmdReport_WithItsSchedPlugin_ReadsTheSwitches()
    {
        // Plain `trace-cmd report` (plugins on, as KernelShark reads the file) formats sched_switch itself:
        // "CPU 0/KVM:4242 [120] S ==> swapper/0:0 [120]".
        var (records, threads, handovers) = Run("kvm-pf-int", 2, 1);
        var (dat, _) = TraceDatWriterTests.Both(records, threads);
        var report = TraceDatWriterTests.Report(dat);
        Assert.DoesNotContain("warning", report, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("[FAILED TO PARSE]", report, StringComparison.Ordinal);
        Assert.Equal(handovers, report.Split('\n').Count(l => l.Contains(" sched_switch: ", StringComparison.Ordinal)));
        Assert.Contains("CPU 0/KVM:4242 [120] ", report, StringComparison.Ordinal);
    }
}
