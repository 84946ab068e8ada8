namespace Vexlab.Scenarios.Outputs;

/// <summary>One part of the vCPUs' time: its key in <c>vcpu_ns</c>, <c>vcpu_pct</c> and a store's columns, and its name for people.</summary>
public sealed record VcpuTimePart(string Key, string Label);

/// <summary>
/// The parts a result splits the vCPUs' time into, in the order every output lists them: the simulator's JSON and
/// tables, and the report and plots read back from files. One list, so an HTML report cannot name or order them
/// otherwise than compare's table (it once said "vCPU in guest (work)" where the table said "vCPU in guest").
/// </summary>
public static class VcpuTimeParts
{
    /// <summary>The key of the time a runnable vCPU waits for a pCPU, zero unless vCPUs share them (host.pcpus).</summary>
    public const string Steal = "steal";

    public static IReadOnlyList<VcpuTimePart> All { get; } =
    [
        new("guest", "vCPU in guest"),
        new("host_exit", "vCPU in host (exits)"),
        new("host_stalled", "vCPU stalled in host"),
        new("host_halted", "vCPU halted in host"),
        new("idle", "vCPU idle"),
        new(Steal, "vCPU steal (no pCPU)"),
    ];

    /// <summary>The label of the part keyed <paramref name="key"/>.</summary>
    public static string Label(string key) =>
        All.FirstOrDefault(p => p.Key == key)?.Label ?? throw new ArgumentOutOfRangeException(nameof(key), key, "not a vCPU-time part");
}
