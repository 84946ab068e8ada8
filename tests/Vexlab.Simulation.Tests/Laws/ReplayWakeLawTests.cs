using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A replay (<see cref="Simulator.Replay"/>, what <c>vexlab replay</c> runs on a counterexample) charges a halted vCPU's
/// wake as the timed run does (<see cref="WakeCostLawTests"/>): once per wake, cost.wake_halted_vcpu of host_exit from
/// the wake to the vCPU's next step, under every protocol, and the vCPU's kvm_entry comes after it.
/// </summary>
public sealed class ReplayWakeLawTests
{
    private static readonly string TwentyFaults = ScenarioRuns.SequentialFaults(20, "1s");

    private const long Fast = 2_000;
    private const long Slow = 100_000;

    public static TheoryData<string> Protocols => ["sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve"];

    [Theory]
    [MemberData(nameof(Protocols))]
    public void EachWakeInAReplay_AddsTheWakeCost_AsHostExit(string protocol)
    {
        // The step list a checker could print: vCPU 0 runs until it has nothing to do (its task asleep and the idle
        // task's HLT exit, or KVM's artificial halt, or a synchronous stall), then the host completes its work. Each of
        // the 20 faults is one halt and one wake under every protocol that halts (kvm-halt: the artificial halt ended by
        // the page-ready dequeue; kvm-pf: the idle HLT ended by the page-ready #PF's dequeue; kvm-pf-int and ve: the idle
        // HLT ended by the page-ready or wakeup interrupt), none under sync, which stalls. Going from a 2 us wake to a
        // 100 us one adds 98 us of host_exit per wake, to the nanosecond, and nothing else: the guest's own work and the
        // wait for the page take the same time. Replays charged the wake only where the model said "unhalted" (the
        // artificial halt's and kvm-pf's dequeue), and in that step's old category: halted or idle, never host_exit.
        var (actions, wakes) = Steps(protocol);
        Assert.Equal(protocol == "sync" ? 0 : 20, wakes);
        var fast = Replay(protocol, actions, Fast);
        var slow = Replay(protocol, actions, Slow);
        var what = $"{wakes} wakes: host_exit +{slow.Result.VcpuHostExitNs - fast.Result.VcpuHostExitNs} ns, simulated +{slow.Result.SimulatedNs - fast.Result.SimulatedNs} ns, "
            + $"halted +{slow.Result.VcpuHaltedNs - fast.Result.VcpuHaltedNs} ns, idle +{slow.Result.VcpuIdleNs - fast.Result.VcpuIdleNs} ns, guest +{slow.Result.VcpuGuestNs - fast.Result.VcpuGuestNs} ns";
        Assert.True(wakes * (Slow - Fast) == slow.Result.VcpuHostExitNs - fast.Result.VcpuHostExitNs, what);
        Assert.Equal(wakes * (Slow - Fast), slow.Result.SimulatedNs - fast.Result.SimulatedNs);
        Assert.Equal(fast.Result.VcpuGuestNs, slow.Result.VcpuGuestNs);
        Assert.Equal(fast.Result.VcpuHaltedNs + fast.Result.VcpuIdleNs, slow.Result.VcpuHaltedNs + slow.Result.VcpuIdleNs);
        foreach (var r in new[] { fast.Result, slow.Result })
        {
            Assert.Equal(r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void RunAndReplay_ChargeTheSameForAWake(string protocol)
    {
        // The timed run of the same workload wakes the vCPU once per fault too (WakeCostLawTests): its host_exit grows by
        // the same 98 us per wake as the replay's, within what the run's other timing moves (1%).
        var (actions, wakes) = Steps(protocol);
        var replayed = Replay(protocol, actions, Slow).Result.VcpuHostExitNs - Replay(protocol, actions, Fast).Result.VcpuHostExitNs;
        var run = ScenarioRuns.Run(TwentyFaults, protocol, $"cost.wake_halted_vcpu={Slow}ns").VcpuHostExitNs
            - ScenarioRuns.Run(TwentyFaults, protocol, $"cost.wake_halted_vcpu={Fast}ns").VcpuHostExitNs;
        var perWake = Slow - Fast;
        Assert.Equal(wakes * perWake, replayed);
        Assert.InRange(run, (wakes * perWake) - (wakes * perWake / 100), (wakes * perWake) + (wakes * perWake / 100));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void AReplayedWake_EntersAfterTheWake(string protocol)
    {
        // The wake is host time up to the vCPU's kvm_entry (86ecf21, 27c3ed0): in trace.dat and Perfetto, the exit that
        // halts (the artificial halt's EPT violation, the idle task's HLT) lasts 98 us longer at a 100 us wake than at a
        // 2 us one, once per wake, and no other exit moves.
        var (actions, wakes) = Steps(protocol);
        var fast = Exits(protocol, actions, Fast);
        var slow = Exits(protocol, actions, Slow);
        Assert.Equal(fast.Count, slow.Count);
        var longer = fast.Zip(slow, (f, s) => s - f).ToList();
        Assert.Equal(wakes, longer.Count(d => d == Slow - Fast));
        Assert.Equal(fast.Count - wakes, longer.Count(d => d == 0));
    }

    /// <summary>How long each of vCPU 0's exits lasts, kvm_exit to kvm_entry, in the replay's trace.</summary>
    private static List<long> Exits(string protocol, List<MachineAction> actions, long wakeNs)
    {
        var sink = new RecordingSink();
        var replay = new Simulator(Setup(protocol, wakeNs), sink).Replay(actions);
        Assert.Null(replay.Divergence);
        var records = sink.Records.Where(r => r.Vcpu == 0 && r.Kind is TraceKind.KvmExit or TraceKind.KvmEntry).OrderBy(r => r.TimeNs).ToList();
        var spans = new List<long>();
        for (var i = 0; i + 1 < records.Count; i++)
        {
            if (records[i].Kind == TraceKind.KvmExit && records[i + 1].Kind == TraceKind.KvmEntry)
            {
                spans.Add(records[i + 1].TimeNs - records[i].TimeNs);
            }
        }

        return spans;
    }

    private static SimulationSetup Setup(string protocol, long wakeNs) =>
        ScenarioRuns.Prepare(TwentyFaults, protocol, [$"cost.wake_halted_vcpu={wakeNs}ns"]).Setup;

    private static ReplayResult Replay(string protocol, List<MachineAction> actions, long wakeNs)
    {
        var replay = new Simulator(Setup(protocol, wakeNs)).Replay(actions);
        Assert.Null(replay.Divergence);
        Assert.Equal(actions.Count, replay.Applied);
        return replay;
    }

    /// <summary>vCPU 0 takes the timed driver's choice while it has one; else the host completes the first work item that can.</summary>
    private static (List<MachineAction> Actions, int Wakes) Steps(string protocol)
    {
        var m = new Machine(Setup(protocol, Fast).Machine);
        var buffer = new MachineAction[64];
        var actions = new List<MachineAction>();
        var wakes = 0;
        var sink = new Iterations();
        for (var i = 0; i < 20_000 && sink.Done < 20; i++)
        {
            var n = m.VcpuActions(0, buffer, 0);
            if (!NextAction.TryChoose(buffer.AsSpan(0, n), out var next))
            {
                var complete = Enumerable.Range(0, m.WorkCapacity)
                    .Select(slot => new MachineAction(ActionKind.Complete, m.Work(slot).Vcpu, (ushort)slot))
                    .FirstOrDefault(a => m.Work(a.Arg).Kind != WorkKind.Free && m.IsEnabled(a));
                if (complete.Kind != ActionKind.Complete)
                {
                    break;
                }

                next = complete;
            }

            var halted = m.Vcpu(0).Run is RunState.GuestHalt or RunState.HostHalted;
            m.Apply(next, ref sink);
            actions.Add(next);
            if (halted && m.Vcpu(0).Run is not (RunState.GuestHalt or RunState.HostHalted))
            {
                wakes++;
            }
        }

        Assert.Equal(20, sink.Done);
        return (actions, wakes);
    }

    /// <summary>Counts the task's iterations: the step list ends at the 20th, as a counterexample ends where it breaks.</summary>
    private struct Iterations : IModelEventSink
    {
        public int Done;

        public void On(in ModelEvent e)
        {
            if (e.Kind == ModelEventKind.IterationDone)
            {
                Done++;
            }
        }

        public readonly int PickNextTask(int vcpu, int current, int fallback) => fallback;

        public readonly bool PreemptOnTick(int vcpu, int current) => true;

        public readonly bool PreemptOnWakeup(int vcpu, int woken) => true;
    }
}
