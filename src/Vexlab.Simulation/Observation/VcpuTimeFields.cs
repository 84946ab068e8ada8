using Vexlab.Simulation.Driver;

namespace Vexlab.Simulation.Observation;

/// <summary>One category of the vCPUs' time: its name for people, its key in <c>vcpu_ns</c> and <c>vcpu_pct</c>, and its value.</summary>
public sealed record VcpuTimeField(string Label, string Key, Func<SimulationResult, long> Ns);

/// <summary>
/// The categories a result splits the vCPUs' time into, in the order every output lists them (a run's and a replay's
/// JSON, the comparison's metrics, the replay's table); they sum to vCPUs x <see cref="SimulationResult.SimulatedNs"/>.
/// </summary>
public static class VcpuTimeFields
{
    /// <summary>The key of the time a runnable vCPU waits for a pCPU, zero unless vCPUs share them (host.pcpus).</summary>
    public const string Steal = "steal";

    public static IReadOnlyList<VcpuTimeField> All { get; } =
    [
        new("vCPU in guest", "guest", r => r.VcpuGuestNs),
        new("vCPU in host (exits)", "host_exit", r => r.VcpuHostExitNs),
        new("vCPU stalled in host", "host_stalled", r => r.VcpuStalledNs),
        new("vCPU halted in host", "host_halted", r => r.VcpuHaltedNs),
        new("vCPU idle", "idle", r => r.VcpuIdleNs),
        new("vCPU steal (no pCPU)", Steal, r => r.VcpuStealNs),
    ];

    /// <summary>The vCPUs' time in all categories: vCPUs x simulated time.</summary>
    public static long Total(SimulationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var total = 0L;
        foreach (var f in All)
        {
            total += f.Ns(r);
        }

        return total;
    }
}
