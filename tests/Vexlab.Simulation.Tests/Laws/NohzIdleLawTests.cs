using Vexlab.Model.Protocols;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// guest.nohz_idle (on by default): the guest is built with CONFIG_NO_HZ_IDLE, as distribution
/// kernels are. do_idle -> cpuidle_idle_call, with no cpuidle driver, calls
/// tick_nohz_idle_stop_tick() before default_idle_call()'s HLT, and the tick stays stopped until
/// the idle loop exits with work; tick_nohz_restart then forwards it from its last tick by whole
/// TICK_NSEC, onto the old grid. An idle vCPU therefore takes no timer interrupt, no halt wake and
/// no HLT exit per tick, and its periodic balance is run by the idle load balancer a busy vCPU's
/// tick kicks (nohz_balancer_kick). Before, every idle vCPU took every tick, as with
/// CONFIG_HZ_PERIODIC, which guest.nohz_idle=false still gives.
/// </summary>
public sealed class NohzIdleLawTests
{
    /// <summary>LOCAL_TIMER_VECTOR (arch/x86/include/asm/irq_vectors.h), the vector the model's tick injects.</summary>
    private const int TimerVector = 0xEC;

    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    /// <summary>One task pinned to vCPU 0 and nothing else: vCPUs 1 to 3 only ever run their idle task.</summary>
    private const string OneBusyThreeIdle = """
        name: one-busy
        duration: 100ms
        host:
          hz: 0
        guest:
          vcpus: 4
        tasks:
          - name: cpu
            vcpu: 0
            loop: compute 100
        """;

    public static TheoryData<string> EveryProtocol => [.. Protocols];

    [Theory]
    [MemberData(nameof(EveryProtocol))]
    public void IdleVcpus_TakeNoTick_NoHaltWake_NoHostExitAfterTheirFirstHlt(string protocol)
    {
        var (r, trace) = ScenarioRuns.RunTraced(OneBusyThreeIdle, protocol);

        // vCPU 0 ticks every 4 ms: 25 ticks in 100 ms, the last one's injection at the run's end.
        Assert.InRange(trace.Records.Count(x => x.Kind == TraceKind.KvmInjVirq && x.Vector == TimerVector && x.Vcpu == 0), 24, 25);
        for (var v = 1; v < 4; v++)
        {
            var records = trace.Records.Where(x => x.Vcpu == v).ToList();
            Assert.Equal(0, records.Count(x => x.Kind is TraceKind.KvmInjVirq or TraceKind.KvmInjException));

            // One HLT exit: the idle loop's first, at the start; nothing ends that halt.
            var exits = records.Where(x => x.Kind == TraceKind.KvmExit).ToList();
            Assert.True(exits.Count <= 1, $"vCPU {v}: {exits.Count} exits");
            Assert.All(exits, x => Assert.Equal(ExitReason.Hlt, x.ExitReason));
            Assert.All(exits, x => Assert.True(x.TimeNs < 4_000_000, $"vCPU {v} exited at {x.TimeNs} ns"));
            Assert.True(records.Count(x => x.Kind == TraceKind.VcpuTime && x.Value == (long)VcpuCategory.HostExit) <= 1, $"vCPU {v} went to the host more than once");
        }

        // The three idle vCPUs' whole run is idle time, but for the first HLT exit.
        Assert.True(r.VcpuHostExitIdleTaskNs < 3 * 10_000, $"idle task in the host for {r.VcpuHostExitIdleTaskNs} ns");
    }

    [Theory]
    [MemberData(nameof(EveryProtocol))]
    public void WithThePeriodicTick_IdleVcpusTakeEveryTick(string protocol)
    {
        // guest.nohz_idle=false is the old behaviour and CONFIG_HZ_PERIODIC: each idle vCPU is woken
        // from its HLT by each of its 25 ticks, injected a timer interrupt, and halts again.
        var (r, trace) = ScenarioRuns.RunTraced(OneBusyThreeIdle, protocol, "guest.nohz_idle=false");
        for (var v = 1; v < 4; v++)
        {
            Assert.InRange(trace.Records.Count(x => x.Kind == TraceKind.KvmInjVirq && x.Vector == TimerVector && x.Vcpu == v), 24, 25);
            Assert.InRange(trace.Records.Count(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.Hlt && x.Vcpu == v), 24, 26);
        }

        Assert.True(r.VcpuHostExitIdleTaskNs > 3 * 25 * 1_000, $"idle task in the host for {r.VcpuHostExitIdleTaskNs} ns");
    }

    /// <summary>Two vCPUs on one pCPU: a task pinned to vCPU 0, vCPU 1 idle.</summary>
    private const string OneBusyOneIdleOnOnePcpu = """
        name: shared-pcpu
        duration: 100ms
        host:
          pcpus: 1
        guest:
          vcpus: 2
        tasks:
          - name: cpu
            vcpu: 0
            loop: compute 100
        """;

    [Theory]
    [MemberData(nameof(EveryProtocol))]
    public void AnIdleVcpuOnTheSamePcpu_StealsNothingFromTheBusyOne(string protocol)
    {
        // vCPU 1 needs the pCPU once, to run its idle loop up to its first HLT when vCPU 0's first
        // host slice ends (at a host tick, HZ=250, whose phase the seed draws: within 8 ms); after
        // that the busy vCPU 0 never waits for it.
        var (r, trace) = ScenarioRuns.RunTraced(OneBusyOneIdleOnOnePcpu, protocol);
        var steal = trace.Records.Where(x => x.Kind == TraceKind.VcpuTime && x.Vcpu == 0 && x.Value == (long)VcpuCategory.Steal).ToList();
        Assert.True(steal.Count <= 1, $"{protocol}: vCPU 0 waited for the pCPU {steal.Count} times");
        Assert.All(steal, x => Assert.True(x.TimeNs <= 8_000_000, $"{protocol}: vCPU 0 waited for the pCPU at {x.TimeNs} ns"));

        // With the periodic tick each of the idle vCPU's wakes wants the pCPU, and the busy vCPU waits for it.
        var (periodic, periodicTrace) = ScenarioRuns.RunTraced(OneBusyOneIdleOnOnePcpu, protocol, "guest.nohz_idle=false");
        Assert.Contains(periodicTrace.Records, x => x.Kind == TraceKind.VcpuTime && x.Vcpu == 0 && x.Value == (long)VcpuCategory.Steal && x.TimeNs > 8_000_000);
        Assert.True(periodic.VcpuStealNs > r.VcpuStealNs, $"{protocol}: steal {periodic.VcpuStealNs} ns with the periodic tick, {r.VcpuStealNs} ns without");
        Assert.True(r.WorkDone >= periodic.WorkDone, $"{protocol}: {r.WorkDone} iterations with NO_HZ_IDLE, {periodic.WorkDone} without");
    }

    /// <summary>
    /// Two tasks that sleep and compute on two vCPUs: each vCPU goes idle and back every few ticks.
    /// No host tick and no page absent, so under kvm-pf each EXTERNAL_INTERRUPT exit is a guest tick.
    /// </summary>
    private const string Sleepers = """
        name: sleepers
        duration: 200ms
        host:
          hz: 0
        guest:
          vcpus: 2
        tasks:
          - name: s
            count: 2
            loop: sleep 5300us; compute 2100us
        """;

    [Theory]
    [InlineData("4ms", 1)]
    [InlineData("1ms", 2)]
    [InlineData("3ms", 3)]
    public void ATickThatRestarts_StaysOnTheGrid(string tick, int seed)
    {
        var period = long.Parse(tick[..^2], System.Globalization.CultureInfo.InvariantCulture) * 1_000_000;
        var (r, trace) = ScenarioRuns.RunTraced(Sleepers, "kvm-pf", $"guest.tick={tick}", $"seed={seed}");
        var ticks = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.PreemptionTimer).ToList();
        Assert.Equal(r.Counters.Exits[ExitReason.PreemptionTimer], ticks.Count);
        // On the grid, up to guest.tick_jitter (1 us by default) after it.
        Assert.All(ticks, x => Assert.True(x.TimeNs % period < 1_000, $"vCPU {x.Vcpu} ticked at {x.TimeNs} ns, off the grid k x {period} ns"));

        // The vCPUs are idle most of the time (2.1 ms of work in every 7.4 ms): their ticks stop then,
        // so they take far fewer timer interrupts than the periodic tick's 2 x 200 ms / period, and
        // some all the same.
        var periodic = 2 * 200_000_000 / period;
        Assert.InRange(TimerIrqs(trace), 1, periodic * 6 / 10);
        Assert.InRange(ticks.Count, 1, periodic * 6 / 10);
        var (_, periodicTrace) = ScenarioRuns.RunTraced(Sleepers, "kvm-pf", $"guest.tick={tick}", $"seed={seed}", "guest.nohz_idle=false");
        Assert.InRange(TimerIrqs(periodicTrace), periodic - 2, periodic);
    }

    /// <summary>RESCHEDULE_VECTOR, the vector the model's kick_ilb IPI injects.</summary>
    private const int RescheduleVector = 0xFD;

    /// <summary>
    /// Two compute tasks a and b, pinned to vCPU 0 and to <paramref name="vcpuOfB"/>, on <paramref name="vcpus"/> vCPUs for
    /// 1 s, no host tick and the guest tick on its grid: every other vCPU stays idle.
    /// </summary>
    private static string TwoPinnedTasks(int vcpus, int vcpuOfB) => $"""
        name: two-pinned
        duration: 1s
        host:
          hz: 0
        guest:
          vcpus: {vcpus}
          tick_jitter: 0
        tasks:
          - name: a
            vcpu: 0
            loop: compute 100us
          - name: b
            vcpu: {vcpuOfB}
            loop: compute 100us
        """;

    /// <summary>
    /// nohz_balancer_kick from vCPU 0's tick (it runs two tasks) kicks the idle vCPU 1 once its balance is due: kick_ilb's
    /// IPI wakes it from HLT, its _nohz_idle_balance finds every task of vCPU 0 pinned (LBF_ALL_PINNED), and
    /// load_balance doubles sd->balance_interval from min_interval (2 ms on two vCPUs) toward MAX_PINNED_INTERVAL, 512 ms,
    /// which max_load_balance_interval (HZ x 2 CPUs / 10: 200 ms) caps; rebalance_domains takes the next balance from the
    /// interval that balance left. So the kicks come after gaps of 4, 8, 16 ... ms (each rounded up to vCPU 0's next 4 ms
    /// tick), then every 200 ms. Each kick is one reschedule interrupt injected
    /// into vCPU 1 and one HLT exit after it; the kick's IPI used to be left out, and vCPU 1 never left its first HLT.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    [InlineData("sync")]
    public void AnIdleVcpuThatCanPullNothing_IsKickedAtIntervalsThatDoubleToTheCap(string protocol)
    {
        var (_, trace) = ScenarioRuns.RunTraced(TwoPinnedTasks(vcpus: 2, vcpuOfB: 0), protocol);
        var kicks = trace.Records.Where(x => x.Kind == TraceKind.KvmInjVirq && x.Vcpu == 1).ToList();
        Assert.All(kicks, x => Assert.Equal(RescheduleVector, x.Vector));
        var hlts = trace.Records.Count(x => x.Kind == TraceKind.KvmExit && x.Vcpu == 1 && x.ExitReason == ExitReason.Hlt);
        Assert.Equal(kicks.Count + 1, hlts);

        // Every kick injected just after one of vCPU 0's ticks (on the 4 ms grid, no jitter: the wake of the halted
        // vCPU lies between), each gap at least the interval the last balance left and less than one tick more, until
        // the cap.
        const long Tick = 4_000_000, Cap = 200_000_000, Wake = 100_000;
        Assert.All(kicks, x => Assert.InRange(x.TimeNs % Tick, 1, Wake));
        var interval = 4_000_000L;
        for (var i = 1; i < kicks.Count; i++)
        {
            var gap = kicks[i].TimeNs - kicks[i - 1].TimeNs;
            var due = Math.Min(interval, Cap);
            Assert.InRange(gap, due - Wake, due + Tick + Wake);
            interval *= 2;
        }

        // 4, 8, 16, 32, 64, 128, 256, 456, 656, 856 ms.
        Assert.Equal(10, kicks.Count);
    }

    /// <summary>
    /// nohz_balancer_kick also kicks when this CPU runs one task but more than one CPU of its LLC is busy
    /// (sds->nr_busy_cpus > 1; sd_llc_shared exists only where the CPUs share an LLC). The idle vCPU's balance then finds
    /// the domain balanced each time (a lone task stays), and its interval backs off to max_interval, twice min_interval
    /// (2 x 3 ms on three vCPUs): so it is kicked, and woken from HLT, about once per 6 ms rounded up to the next busy
    /// tick. With one LLC per vCPU nothing kicks it, and it stays in its first HLT.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void AnIdleVcpuBesideTwoBusyOnes_IsKickedOnlyWhereTheyShareAnLlc(string protocol)
    {
        var (_, shared) = ScenarioRuns.RunTraced(TwoPinnedTasks(vcpus: 3, vcpuOfB: 1), protocol);
        var kicks = shared.Records.Count(x => x.Kind == TraceKind.KvmInjVirq && x.Vcpu == 2);
        Assert.All(shared.Records.Where(x => x.Kind == TraceKind.KvmInjVirq && x.Vcpu == 2), x => Assert.Equal(RescheduleVector, x.Vector));

        // At most one kick per 6 ms of interval (plus the first ones, 3 ms apart), at least one per 6 ms and a tick.
        Assert.InRange(kicks, 1_000 / (6 + 4), (1_000 / 6) + 2);
        Assert.Equal(kicks + 1, shared.Records.Count(x => x.Kind == TraceKind.KvmExit && x.Vcpu == 2 && x.ExitReason == ExitReason.Hlt));

        var (_, separate) = ScenarioRuns.RunTraced(TwoPinnedTasks(vcpus: 3, vcpuOfB: 1), protocol, "guest.sched.shared_llc=false");
        Assert.Equal(0, separate.Records.Count(x => x.Kind == TraceKind.KvmInjVirq && x.Vcpu == 2));
    }

    private static int TimerIrqs(RecordingSink trace) => trace.Records.Count(x => x.Kind == TraceKind.KvmInjVirq && x.Vector == TimerVector);
}
