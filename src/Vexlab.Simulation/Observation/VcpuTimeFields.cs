using Vexlab.Scenarios.Outputs;
using Vexlab.Simulation.Driver;

namespace Vexlab.Simulation.Observation;

/// <summary>One category of the vCPUs' time: its name for people, its key in <c>vcpu_ns</c> and <c>vcpu_pct</c>, and its value.</summary>
public sealed record VcpuTimeField(string Label, string Key, Func<SimulationResult, long> Ns);

/// <summary>
/// The categories a result splits the vCPUs' time into, in the order every output lists them (a run's and a replay's
/// JSON, the comparison's metrics, the replay's table); they sum to vCPUs x <see cref="SimulationResult.SimulatedNs"/>.
/// Keys, labels and order are <see cref="VcpuTimeParts"/>', which the report read back from files shares.
/// </summary>
public static class VcpuTimeFields
{
    /// <summary>The key of the time a runnable vCPU waits for a pCPU, zero unless vCPUs share them (host.pcpus).</summary>
    public const string Steal = VcpuTimeParts.Steal;

    public static IReadOnlyList<VcpuTimeField> All { get; } = [.. VcpuTimeParts.All.Select(p => new VcpuTimeField(p.Label, p.Key, Ns(p.Key)))];

    private static Func<SimulationResult, long> Ns(string key) => key switch
    {
        "guest" => r => r.VcpuGuestNs,
        "host_exit" => r => r.VcpuHostExitNs,
        "host_stalled" => r => r.VcpuStalledNs,
        "host_halted" => r => r.VcpuHaltedNs,
        "idle" => r => r.VcpuIdleNs,
        Steal => r => r.VcpuStealNs,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "a vCPU-time part the simulator does not measure"),
    };

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
