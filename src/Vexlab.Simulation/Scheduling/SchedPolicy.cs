namespace Vexlab.Simulation.Scheduling;

/// <summary>The guest kernel's fair-class scheduler (<c>guest.sched.policy</c>).</summary>
public enum SchedPolicy
{
    /// <summary>EEVDF, Linux 6.6 and later (commit 147f3efaa241, "sched/fair: Implement an EEVDF-like scheduling policy").</summary>
    Eevdf,

    /// <summary>CFS as in 5.x kernels: vruntime order, sched_latency / min_granularity slices, wakeup granularity.</summary>
    Cfs,
}

/// <summary>The kernel's constants the policies use (kernel/sched/core.c, kernel/sched/fair.c).</summary>
public static class SchedConstants
{
    /// <summary>NICE_0_LOAD: the weight of a nice-0 task.</summary>
    public const long Nice0Weight = 1024;

    /// <summary>sysctl_sched_base_slice, 6.6 to 6.14: 0.75 ms, times <see cref="TunableFactor"/> (6.15's 2ae891b826958b60919ea21c727f77bcd6ffcc2c made it 0.70 ms).</summary>
    public const long BaseSliceNs = 750_000;

    /// <summary>CFS sysctl_sched_latency: 6 ms, times <see cref="TunableFactor"/>.</summary>
    public const long CfsLatencyNs = 6_000_000;

    /// <summary>CFS sysctl_sched_min_granularity: 0.75 ms, times <see cref="TunableFactor"/>.</summary>
    public const long CfsMinGranularityNs = 750_000;

    /// <summary>CFS sysctl_sched_wakeup_granularity: 1 ms, times <see cref="TunableFactor"/>.</summary>
    public const long CfsWakeupGranularityNs = 1_000_000;

    /// <summary>CFS sched_nr_latency: above this many runnable tasks the period stretches to nr * min_granularity.</summary>
    public const int CfsNrLatency = 8;

    /// <summary>
    /// sched_prio_to_weight (kernel/sched/core.c), nice -20 .. 19: each nice level is about 10% of
    /// CPU, a factor of 1.25 between neighbours.
    /// </summary>
    public static ReadOnlySpan<int> PrioToWeight =>
    [
        88761, 71755, 56483, 46273, 36291,
        29154, 23254, 18705, 14949, 11916,
        9548, 7620, 6100, 4904, 3906,
        3121, 2501, 1991, 1586, 1277,
        1024, 820, 655, 526, 423,
        335, 272, 215, 172, 137,
        110, 87, 70, 56, 45,
        36, 29, 23, 18, 15,
    ];

    /// <summary>The weight of nice level <paramref name="nice"/> (-20 .. 19).</summary>
    public static int WeightOf(int nice) => PrioToWeight[Math.Clamp(nice, -20, 19) + 20];

    /// <summary>
    /// get_update_sysctl_factor under SCHED_TUNABLESCALING_LOG (the default): 1 + ilog2(cpus), with
    /// cpus capped at 8.
    /// </summary>
    public static int TunableFactor(int cpus) => 1 + System.Numerics.BitOperations.Log2((uint)Math.Clamp(cpus, 1, 8));
}
