namespace Vexlab.Simulation.Costs;

/// <summary>Every cost the simulator charges. Names (<c>cost.*</c>) are in <see cref="CostModel.KeyName"/>.</summary>
public enum CostKey
{
    VmExitEntry,
    KvmExitHandling,
    Hypercall,
    EptViolationMinor,
    PfDelivery,
    VeDelivery,
    GuestPfMinor,
    ContextSwitch,
    ApfNotPresentGuest,
    ApfReadyIrq,
    AckMsrExit,
    InterruptInject,
    WakeHaltedVcpu,
    HostSwapInOverhead,
    MicroOp,
    ComputeUnit,
}

/// <summary>A default cost with its provenance, as listed by <c>vexlab explain costs</c>.</summary>
/// <param name="Id">Enum id of the cost.</param>
/// <param name="Key">Dotted key, e.g. <c>cost.vm_exit_entry</c>.</param>
/// <param name="Nanoseconds">Default value in integer nanoseconds.</param>
/// <param name="RangeLowNs">Low end of the sensitivity range (docs/costs.md).</param>
/// <param name="RangeHighNs">High end of the sensitivity range.</param>
/// <param name="Source">Where the number comes from (its docs/costs.md row and confidence tag).</param>
public sealed record CostDefault(CostKey Id, string Key, long Nanoseconds, long RangeLowNs, long RangeHighNs, string Source);

/// <summary>One row of <see cref="CostModel.Describe"/>: the value in force and where its default came from.</summary>
public sealed record CostEntry(string Key, long Nanoseconds, string Unit, long DefaultNanoseconds, string Source);
