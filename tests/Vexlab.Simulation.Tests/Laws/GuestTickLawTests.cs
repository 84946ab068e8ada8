using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// guest.tick: the guest is a Linux kernel, so its vCPUs tick together at whole periods of guest
/// time. tick_setup_sched_timer (kernel/time/tick-sched.c) starts every CPU's tick at
/// tick_init_jiffy_update(), rounded up to a multiple of TICK_NSEC, and adds no per-CPU offset
/// unless skew_tick=1; kvmclock keeps the vCPUs' clocks in step. These laws hold the grid itself, so they run with
/// guest.tick_jitter=0; TickJitterLawTests holds each tick within its jitter after the same grid.
/// </summary>
public class GuestTickLawTests
{
    /// <summary>
    /// Every guest tick exit of every vCPU falls on k x guest.tick, and each tick exits all four
    /// vCPUs at once, vCPU 0 first: the event queue runs equal times in the order they were
    /// scheduled, and each tick reschedules itself as it runs. The ticks were once staggered, vCPU
    /// v's at (1 + v / vcpus) periods.
    /// </summary>
    [Theory]
    [InlineData("1ms", 1)]
    [InlineData("4ms", 1)]
    [InlineData("3ms", 5)]
    [InlineData("10ms", 9)]
    public void EveryVcpusGuestTickFallsOnOneGrid_AtWholePeriods(string tick, int seed)
    {
        var (r, trace) = ScenarioRuns.RunTraced(ScenarioRuns.FourBusyVcpus, "kvm-pf", $"guest.tick={tick}", "guest.tick_jitter=0", $"seed={seed}");
        var period = long.Parse(tick[..^2], System.Globalization.CultureInfo.InvariantCulture) * 1_000_000;
        var exits = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.PreemptionTimer).ToList();
        Assert.Equal(r.Counters.Exits[ExitReason.PreemptionTimer], exits.Count);
        Assert.All(exits, x => Assert.True(x.TimeNs % period == 0, $"vCPU {x.Vcpu} exited at {x.TimeNs} ns, off the guest tick grid k x {period} ns"));

        var ticks = exits.GroupBy(x => x.TimeNs).ToList();
        Assert.All(ticks, g => Assert.Equal([0, 1, 2, 3], g.Select(x => (int)x.Vcpu)));
        // The run covers [0, 50 ms): a tick at 50 ms itself falls after it.
        Assert.Equal((50_000_000 - 1) / period, ticks.Count);
    }

    /// <summary>
    /// On shared pCPUs too (host.pcpus=2): a vCPU in the guest when the grid's tick comes exits
    /// then, and the vCPUs that do, do so together; the host tick's exits (HZ=1000) fall on the
    /// host's own grid, whose phase against the guest's is the seed's.
    /// </summary>
    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 2)]
    [InlineData(1, 64)]
    [InlineData(5, 64)]
    public void OnSharedPcpus_GuestAndHostTicksEachKeepOneGrid(int seed, int onlineCpus)
    {
        // The default host (64 online CPUs, a 3 ms request) and a two-CPU one (1.5 ms): the 3 ms slice
        // once counted guest ticks of vCPUs that held no pCPU as exits (126 against the trace's 124).
        var (r, trace, simulator) = ScenarioRuns.RunTracedSimulator(ScenarioRuns.FourBusyVcpus, "kvm-pf", "guest.tick=4ms", "guest.tick_jitter=0", "host.hz=1000", "host.pcpus=2", $"host.online_cpus={onlineCpus}", $"seed={seed}");
        var hostPhase = simulator.HostTickPhaseNs;
        Assert.Equal(hostPhase, simulator.Pcpus!.TickPhaseNs);
        // The guest's tick exits with PREEMPTION_TIMER (KVM's VMX preemption timer emulates its TSC deadline), the
        // host's with EXTERNAL_INTERRUPT.
        var exits = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason is ExitReason.ExternalInterrupt or ExitReason.PreemptionTimer).ToList();
        Assert.NotEmpty(exits);
        // A vCPU waiting for its pCPU at its tick keeps the VMX preemption timer armed (only vcpu_block moves the deadline
        // to a host hrtimer): its PREEMPTION_TIMER exit is at its next kvm_entry, the same instant, off the grid.
        var atEntry = AtTheirEntry(trace);
        Assert.All(exits, x => Assert.True(x.ExitReason == ExitReason.PreemptionTimer ? x.TimeNs % 4_000_000 == 0 || atEntry.Contains(x) : (x.TimeNs - hostPhase) % 1_000_000 == 0,
            $"vCPU {x.Vcpu}'s {x.ExitReason} exit at {x.TimeNs} ns is off its grid"));
        Assert.All(exits, x => Assert.True(x.TimeNs % 4_000_000 == 0 || (x.TimeNs - hostPhase) % 1_000_000 == 0 || atEntry.Contains(x),
            $"vCPU {x.Vcpu} exited at {x.TimeNs} ns, on neither the guest's grid k x 4 ms nor the host's {hostPhase} + k x 1 ms"));
        Assert.NotEmpty(atEntry);
        Assert.True(r.Counters.Exits[ExitReason.ExternalInterrupt] + r.Counters.Exits[ExitReason.PreemptionTimer] == exits.Count);
    }

    /// <summary>The PREEMPTION_TIMER exits a vCPU takes at the instant of its kvm_entry: the deadline passed out of guest mode.</summary>
    private static HashSet<TraceRecord> AtTheirEntry(Tests.Tracing.RecordingSink trace)
    {
        var found = new HashSet<TraceRecord>();
        var enteredAt = new Dictionary<int, long>();
        foreach (var x in trace.Records.Where(x => x.Kind is TraceKind.KvmEntry or TraceKind.KvmExit))
        {
            if (x.Kind == TraceKind.KvmEntry)
            {
                enteredAt[x.Vcpu] = x.TimeNs;
                continue;
            }

            if (x.ExitReason == ExitReason.PreemptionTimer && enteredAt.TryGetValue(x.Vcpu, out var t) && t == x.TimeNs)
            {
                found.Add(x);
            }

            enteredAt.Remove(x.Vcpu);
        }

        return found;
    }
}
