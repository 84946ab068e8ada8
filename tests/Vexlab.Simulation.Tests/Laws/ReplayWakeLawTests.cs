using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A replay (<see cref="Simulator.Replay"/>, what <c>vexlab replay</c> runs on a counterexample) charges a halted or
/// stalled vCPU's wake as the timed run does (<see cref="WakeCostLawTests"/>): once per wake, cost.wake_halted_vcpu of
/// host_exit from the wake to the vCPU's next step, under every protocol, and the vCPU's kvm_entry comes after it.
/// </summary>
public sealed class ReplayWakeLawTests
{
    private static readonly string TwentyFaults = ScenarioRuns.SequentialFaults(20, "1s");

    private const long Fast = 2_000;
    private const long Slow = 100_000;

    public static TheoryData<string> Protocols => EveryProtocol.Names;

    [Theory]
    [MemberData(nameof(Protocols))]
    public void EachWakeInAReplay_AddsTheWakeCost_AsHostExit(string protocol)
    {
        // The step list a checker could print: vCPU 0 runs until it has nothing to do (its task asleep and the idle
        // task's HLT exit, or KVM's artificial halt, or a synchronous stall), then the host completes its work. Each of
        // the 20 faults is one block and one wake under every protocol (kvm-halt: the artificial halt ended by the
        // page-ready dequeue; kvm-pf: the idle HLT ended by the page-ready #PF's dequeue; kvm-pf-int and ve: the idle
        // HLT ended by the page-ready or wakeup interrupt; sync: the stall ended by the page's I/O). Going from a 2 us wake to a
        // 100 us one adds 98 us of host_exit per wake, to the nanosecond, and nothing else: the guest's own work and the
        // wait for the page take the same time. Replays charged the wake only where the model said "unhalted" (the
        // artificial halt's and kvm-pf's dequeue), and in that step's old category: halted or idle, never host_exit.
        var (actions, wakes) = Steps(protocol);
        Assert.Equal(20, wakes);
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
        // blocks (the artificial halt's or the stall's EPT violation, the idle task's HLT) lasts 98 us longer at a 100 us wake than at a
        // 2 us one, once per wake, and no other exit moves.
        var (actions, wakes) = Steps(protocol);
        var fast = Exits(protocol, actions, Fast);
        var slow = Exits(protocol, actions, Slow);
        Assert.Equal(fast.Count, slow.Count);
        var longer = fast.Zip(slow, (f, s) => s - f).ToList();
        Assert.Equal(wakes, longer.Count(d => d == Slow - Fast));
        Assert.Equal(fast.Count - wakes, longer.Count(d => d == 0));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void AWake_IsTheWakeCost_WhenASlowerCompletionComesBeforeTheVcpusStep(string protocol)
    {
        // Two vCPUs wait for a page each; the step list completes both pages before either vCPU steps, as a checker's
        // can. The first completion wakes its vCPU, and the second comes at its own latency, 10 ms on average from a
        // slow backing store (host.latency, as replay --set gives it), long after that wake is over. The wake is still
        // cost.wake_halted_vcpu of host_exit: going from a 2 us wake to a 100 us one adds 98 us per wake, to the
        // nanosecond, and the vCPU is halted or idle, as its state says, from the wake's end to its step. The replay
        // counted host_exit from the wake up to the vCPU's step instead, so the second page's latency hid the wake's
        // cost: 15.3 to 15.8 ms of host_exit at a 2 us wake, and the 40 slower wakes added 3.24 to 3.34 ms, not 3.92.
        // A stall's end is not that: once its page is in, the model has the vCPU in the host (InHost) until its entry
        // step, so under sync the replay counts host_exit from the wake to that step, and a wake the step list outwaits
        // adds less than its cost (at most it).
        var (actions, wakes) = Steps(TwoVcpus, protocol, Fast, vcpus: 2, iterations: 20);
        Assert.Equal(40, wakes);
        var fast = ReplayTwo(protocol, actions, Fast);
        var slow = ReplayTwo(protocol, actions, Slow);
        var added = slow.Result.VcpuHostExitNs - fast.Result.VcpuHostExitNs;
        var what = $"{wakes} wakes: host_exit {fast.Result.VcpuHostExitNs} ns at a {Fast} ns wake, {slow.Result.VcpuHostExitNs} ns at {Slow} ns";
        Assert.True(protocol == "sync" ? added > 0 && added <= wakes * (Slow - Fast) : added == wakes * (Slow - Fast), what);
        Assert.Equal(fast.Result.VcpuGuestNs, slow.Result.VcpuGuestNs);
        foreach (var r in new[] { fast.Result, slow.Result })
        {
            // Two vCPUs, each counted over the whole replay.
            Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
        }
    }

    private static readonly string TwoVcpus = ScenarioRuns.TwoVcpusSequentialFaults(20);

    private static ReplayResult ReplayTwo(string protocol, List<MachineAction> actions, long wakeNs)
    {
        var setup = ScenarioRuns.Prepare(TwoVcpus, protocol, [$"cost.wake_halted_vcpu={wakeNs}ns", "host.latency=10ms"]).Setup;
        var replay = new Simulator(setup).Replay(actions);
        Assert.Null(replay.Divergence);
        Assert.Equal(actions.Count, replay.Applied);
        return replay;
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
    private static (List<MachineAction> Actions, int Wakes) Steps(string protocol) => Steps(TwentyFaults, protocol, Fast, vcpus: 1, iterations: 20);

    /// <summary>
    /// The first vCPU with a choice of the timed driver takes it; when none has one, the host completes every work item
    /// that can complete, one after another, before any vCPU steps again. Ends at <paramref name="iterations"/> of each vCPU's task.
    /// </summary>
    private static (List<MachineAction> Actions, int Wakes) Steps(string yaml, string protocol, long wakeNs, int vcpus, int iterations)
    {
        var m = new Machine(ScenarioRuns.Prepare(yaml, protocol, [$"cost.wake_halted_vcpu={wakeNs}ns"]).Setup.Machine);
        var buffer = new MachineAction[64];
        var actions = new List<MachineAction>();
        var wakes = 0;
        var sink = new Iterations();
        var halted = new bool[vcpus];
        var pending = new Queue<MachineAction>();
        for (var i = 0; i < 100_000 && sink.Done < vcpus * iterations; i++)
        {
            MachineAction next = default;
            var found = false;
            if (pending.Count == 0)
            {
                for (var v = 0; v < vcpus && !found; v++)
                {
                    var n = m.VcpuActions(v, buffer, 0);
                    found = NextAction.TryChoose(buffer.AsSpan(0, n), out next);
                }

                if (!found)
                {
                    foreach (var a in Enumerable.Range(0, m.WorkCapacity)
                        .Select(slot => new MachineAction(ActionKind.Complete, m.Work(slot).Vcpu, (ushort)slot))
                        .Where(a => m.Work(a.Arg).Kind != WorkKind.Free && m.IsEnabled(a)))
                    {
                        pending.Enqueue(a);
                    }
                }
            }

            if (!found)
            {
                if (!pending.TryDequeue(out next))
                {
                    break;
                }

                if (!m.IsEnabled(next))
                {
                    continue;
                }
            }

            for (var v = 0; v < vcpus; v++)
            {
                halted[v] = m.Vcpu(v).Run is RunState.GuestHalt or RunState.HostHalted or RunState.HostStalled;
            }

            m.Apply(next, ref sink);
            actions.Add(next);
            for (var v = 0; v < vcpus; v++)
            {
                if (halted[v] && m.Vcpu(v).Run is not (RunState.GuestHalt or RunState.HostHalted or RunState.HostStalled))
                {
                    wakes++;
                }
            }
        }

        Assert.Equal(vcpus * iterations, sink.Done);
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
