using Vexlab.Scenarios.Outputs;

namespace Vexlab.Results.Documents;

/// <summary>
/// One protocol entry's result as plots and reports read it: from a <c>run</c> JSON, an entry of a
/// <c>compare</c> JSON (with <c>--seeds N</c>: means over the seeds), or a group of store rows.
/// </summary>
public sealed record RunSummary
{
    public required string Scenario { get; init; }

    public required string Protocol { get; init; }

    /// <summary>The protocol entry as written on the command line (<c>ve[guest.ve.can_continue=...]</c>).</summary>
    public required string Variant { get; init; }

    public required IReadOnlyList<long> Seeds { get; init; }

    /// <summary>Runs this summary stands for (seeds, or store rows).</summary>
    public int Runs { get; init; } = 1;

    public double SimulatedNs { get; init; }

    /// <summary>Work done (loop iterations) of all tasks, mean over runs.</summary>
    public double WorkDone { get; init; }

    /// <summary>Per task group: name, work done, processor share and waiting time, means over runs.</summary>
    public IReadOnlyList<TaskValues> Tasks { get; init; } = [];

    /// <summary>
    /// How long tasks were runnable but not running (waiting for a vCPU), summed over tasks, mean over runs; null when
    /// the input does not say. It covers the whole run, not only the time a vCPU spent in one part.
    /// </summary>
    public double? TaskWaitNs { get; init; }

    /// <summary>vCPU time in ns: guest, host_exit, host_stalled, host_halted, idle, steal (the order of <see cref="VcpuParts"/>).</summary>
    public required double[] VcpuNs { get; init; }

    /// <summary>
    /// count, min, mean, p50, p99, p999, max of fault latency (ns): count the mean over all runs, the others means
    /// over the <see cref="FaultRuns"/> runs with faults, and absent when no run had one.
    /// </summary>
    public IReadOnlyDictionary<string, double> FaultLatency { get; init; } = new Dictionary<string, double>();

    /// <summary>How many of the <see cref="Runs"/> runs completed a fault: those the latency statistics average.</summary>
    public int FaultRuns { get; init; }

    /// <summary>The fault-latency CDF as (percentile, ns), percentile ascending; empty when the input has none.</summary>
    public IReadOnlyList<(double Percentile, double Ns)> Cdf { get; init; } = [];

    /// <summary>VM exits by reason, means over runs.</summary>
    public IReadOnlyList<(string Name, double Count)> Exits { get; init; } = [];

    /// <summary>Injected events by kind, means over runs.</summary>
    public IReadOnlyList<(string Name, double Count)> Injected { get; init; } = [];

    /// <summary>Signals delivered to tasks by name (summed over runs).</summary>
    public IReadOnlyList<(string Name, double Count)> Signals { get; init; } = [];

    public double ErrorReturns { get; init; }

    /// <summary>The guest's outcome (running, finished, oops, vm-error: docs/output.md), or the runs' outcomes joined by / when they differ.</summary>
    public string Outcome { get; init; } = "running";

    /// <summary>perf kvm stat report's rows when the run was made with <c>--exits</c>.</summary>
    public IReadOnlyList<ExitStat> ExitStats { get; init; } = [];

    /// <summary>One replay command per run.</summary>
    public IReadOnlyList<string> Replays { get; init; } = [];

    /// <summary>The names of <see cref="VcpuNs"/>' parts, as JSON and the store name them.</summary>
    /// Steal stays last: the plots and the report leave it out where every entry's is zero. A run or store
    /// from before host_exit has none (read as 0): its exit handling is in guest (or idle).
    public static readonly string[] VcpuParts = [.. VcpuTimeParts.All.Select(p => p.Key)];

    public double VcpuTotalNs => VcpuNs.Sum();

    /// <summary>Share (0..1) of vCPU time in part <paramref name="index"/> of <see cref="VcpuParts"/>.</summary>
    public double VcpuShare(int index) => VcpuTotalNs > 0 && index < VcpuNs.Length ? VcpuNs[index] / VcpuTotalNs : 0;

    /// <summary>Work done per simulated second, or null when the simulated time is unknown.</summary>
    public double? WorkPerSecond => SimulatedNs > 0 ? WorkDone * 1e9 / SimulatedNs : null;
}

/// <summary>One row of perf kvm stat report's table (<c>exit_stats.events</c>).</summary>
public sealed record ExitStat(string Reason, long Samples, double SamplesPct, double TimePct, double AvgNs, long TotalNs);
