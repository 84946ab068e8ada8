using Vexlab.Model.Machine;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Scheduling;

namespace Vexlab.Simulation.Driver;

/// <summary>A host event the driver raises at a fixed simulated time.</summary>
public enum HostEventKind
{
    /// <summary>The host truncates the DAX file (<see cref="ActionKind.Truncate"/>).</summary>
    Truncate,

    /// <summary>Migration completes and APF is re-enabled (<see cref="ActionKind.Reenable"/>).</summary>
    Reenable,
}

public readonly record struct HostEvent(long AtNs, HostEventKind Kind);

/// <summary>A <c>compute</c> op's length: <paramref name="Units"/> of cost.compute_unit plus <paramref name="Ns"/>.</summary>
public readonly record struct ComputeSpan(long Units, long Ns);

/// <summary>
/// Everything one timed run needs: the machine, the latency of each backing store (indexed by
/// <see cref="Model.Host.PageState.Backing"/>), costs, the external sources and the run bounds.
/// </summary>
public sealed record SimulationSetup
{
    public required MachineConfig Machine { get; init; }

    /// <summary>Backing stores by page backing index.</summary>
    public required IReadOnlyList<BackingStore> Backings { get; init; }

    public CostModel Costs { get; init; } = CostModel.Default;

    public required long DurationNs { get; init; }

    public ulong Seed { get; init; } = 1;

    /// <summary>Host memory limit in pages for CLOCK eviction; 0 = unlimited.</summary>
    public long HostLimitPages { get; init; }

    /// <summary>Timer tick period per vCPU; 0 = no tick.</summary>
    public long TickPeriodNs { get; init; }

    /// <summary>
    /// Each vCPU's tick comes up to this long after its place on the grid of <see cref="TickPeriodNs"/>, uniformly from
    /// the seed (<c>guest.tick_jitter</c>): the vCPUs' deadlines fall together, and which one's tick goes first is the
    /// host's race. 0 (a setup built by hand): every tick on the grid, in vCPU order.
    /// </summary>
    public long TickJitterNs { get; init; }

    /// <summary>
    /// The guest stops an idle vCPU's tick (<c>guest.nohz_idle</c>: CONFIG_NO_HZ_IDLE, as distribution
    /// kernels build): a vCPU running its idle task with nothing runnable takes no tick until something
    /// wakes it, and a busy vCPU's tick kicks the idle load balancer for it. False: every vCPU takes
    /// every tick (CONFIG_HZ_PERIODIC, or nohz=off).
    /// </summary>
    public bool NohzIdle { get; init; } = true;

    /// <summary>
    /// Period of the host's own scheduler tick on each pCPU that runs a vCPU (<c>host.hz</c>:
    /// 1 s / CONFIG_HZ); 0 = none (nohz_full with one runnable thread, or a setup built by hand).
    /// </summary>
    public long HostTickPeriodNs { get; init; }

    /// <summary>Mean time between NMIs per vCPU (exponential); 0 = none.</summary>
    public double NmiMeanIntervalNs { get; init; }

    public IReadOnlyList<HostEvent> HostEvents { get; init; } = [];

    /// <summary>Workload task names by workload index, and the instance-to-name grouping.</summary>
    public required IReadOnlyList<string> TaskGroups { get; init; }

    /// <summary>For each workload task instance, its index in <see cref="TaskGroups"/>.</summary>
    public required IReadOnlyList<int> TaskGroupOf { get; init; }

    /// <summary>Keep every fault_latency_ns sample in order (<see cref="Metrics.LatencyRecorder.Samples"/>), to check traces against the run fault for fault.</summary>
    public bool KeepFaultLatencies { get; init; }

    /// <summary>The guest's fair scheduler (<c>guest.sched.policy</c>).</summary>
    public SchedPolicy SchedPolicy { get; init; } = SchedPolicy.Eevdf;

    /// <summary>EEVDF's RUN_TO_PARITY (<c>guest.sched.run_to_parity</c>): a wakeup does not preempt an eligible current task within the request it was picked with.</summary>
    public bool RunToParity { get; init; } = true;

    /// <summary>
    /// EEVDF's base slice, a task's request (<c>guest.sched.base_slice</c>; sysctl_sched_base_slice as
    /// /sys/kernel/debug/sched/base_slice_ns sets it); 0: the kernel's, scaled by the vCPUs.
    /// </summary>
    public long GuestBaseSliceNs { get; init; }

    /// <summary>Lengths of compute ops whose Instr.B is 1 + an index here (B = 0: A units).</summary>
    public IReadOnlyList<ComputeSpan> ComputeSpans { get; init; } = [];

    /// <summary>Swap reads in service at once on the shared device (<c>host.swap.queue_depth</c>); 0: no device queue.</summary>
    public int SwapQueueDepth { get; init; }

    /// <summary>The swap device's bandwidth in bytes per second (<c>host.swap.bandwidth</c>); 0: no transfer time.</summary>
    public long SwapBandwidthBytesPerSecond { get; init; }

    /// <summary>Bytes one model page stands for (<c>guest.page_size</c>): what a swap read moves.</summary>
    public long PageBytes { get; init; } = 4096;

    /// <summary>Physical CPUs the vCPU threads share (<c>host.pcpus</c>); 0 or at least the vCPUs: one each, no contention.</summary>
    public int Pcpus { get; init; }

    /// <summary>
    /// A vCPU thread's request in the host's EEVDF (<c>host.sched.slice</c>; se->slice): its
    /// deadline's distance from its vruntime and half its lag limit. The pCPU's tick ends the run
    /// it buys: at the first tick at which it is served (<see cref="Scheduling.HostCpus.SliceCheckAt"/>).
    /// </summary>
    public long HostSliceNs { get; init; } = 4_000_000;

    /// <summary>A woken vCPU thread preempts a running one as EEVDF decides (<c>host.sched.wakeup_preemption</c>); false: it waits for a slice's end.</summary>
    public bool HostWakeupPreemption { get; init; } = true;

    /// <summary>The guest reads PV steal time (<c>guest.steal_time</c>): time waiting for a pCPU is not charged to its tasks.</summary>
    public bool StealTime { get; init; } = true;

    /// <summary>Reclaim under the host limit: watermarks, kswapd's pace, swap readahead (<c>host.reclaim.*</c>, <c>host.swap.page_cluster</c>).</summary>
    public Memory.ReclaimSettings Reclaim { get; init; } = new();

    /// <summary>The scenario reads files through the guest page cache (a region with <c>file: true</c>).</summary>
    public bool HasFiles { get; init; }

    /// <summary>Pages the guest page cache holds before it drops the least recently used (<c>guest.page_cache</c>; 0: no limit).</summary>
    public long PageCachePages { get; init; }

    /// <summary>The guest's load balancer moves tasks between vCPUs (<c>guest.sched.balance</c>).</summary>
    public bool Balance { get; init; } = true;

    /// <summary>
    /// The periodic balance's interval while a vCPU is idle (busy: <see cref="Scheduling.LoadBalancer.BusyFactor"/>
    /// times it); 0: the kernel's, sd_weight ms (one flat domain of all vCPUs, sd_init). Not a
    /// scenario key: a setup built by hand sets it, as a law that scales every time does.
    /// </summary>
    public long BalanceIntervalNs { get; init; }

    /// <summary>
    /// sysctl_sched_migration_cost (<c>guest.sched.migration_cost</c>): the load balancer passes over a task that ran
    /// within it (task_hot) until its domain's attempts have failed more than cache_nice_tries times; 0: no task is hot.
    /// </summary>
    public long MigrationCostNs { get; init; } = Scheduling.LoadBalancer.DefaultMigrationCostNs;

    /// <summary>Per workload task instance: pinned to its vCPU by the scenario (empty: none is).</summary>
    public IReadOnlyList<bool> TaskPinned { get; init; } = [];

    /// <summary>Lengths of <c>sleep</c> ops whose Instr.B is 1 + an index here.</summary>
    public IReadOnlyList<long> SleepSpans { get; init; } = [];

    /// <summary>For each task group, the mean time between its open-loop request arrivals (0: a closed loop, no arrivals).</summary>
    public IReadOnlyList<double> ArrivalIntervalNs { get; init; } = [];

    /// <summary>Nice level of each workload task instance (empty: all 0).</summary>
    public IReadOnlyList<int> TaskNice { get; init; } = [];
}
