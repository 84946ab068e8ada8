using System.Collections.Immutable;

namespace Vexlab.Scenarios.Outputs;

/// <summary>
/// The names of VM exits and injected events in the order every output lists them: the simulator counts them in this
/// order (its ExitReason and InjectionKind enums), its JSON and tables write them so, and a report read back from a
/// file, whose entries each name only their nonzero counts, puts its rows back in it.
/// </summary>
public static class EventOrder
{
    /// <summary>VM exit reasons, named as KVM's <c>kvm_exit</c> tracepoint prints them (VMX_EXIT_REASONS).</summary>
    public static ImmutableArray<string> ExitReasons { get; } =
    [
        "EXCEPTION_NMI", "EXTERNAL_INTERRUPT", "INTERRUPT_WINDOW", "CPUID", "HLT", "VMCALL", "IO_INSTRUCTION",
        "MSR_READ", "MSR_WRITE", "EPT_VIOLATION", "EPT_MISCONFIG", "PREEMPTION_TIMER", "PAUSE_INSTRUCTION", "NMI_WINDOW",
        "TPR_BELOW_THRESHOLD",
    ];

    /// <summary>What KVM injects into a vCPU, or the CPU delivers to it.</summary>
    public static ImmutableArray<string> Injections { get; } = ["#PF", "apf_not_present", "apf_ready", "#VE", "irq", "#DF"];

    /// <summary>
    /// <paramref name="names"/> in the order of <paramref name="order"/>; a name it does not hold (from a newer or
    /// older file) goes after, where it first appears.
    /// </summary>
    public static IReadOnlyList<string> Sort(IEnumerable<string> names, ImmutableArray<string> order)
    {
        ArgumentNullException.ThrowIfNull(names);
        return [.. names.Distinct(StringComparer.Ordinal).Select((n, i) => (Name: n, Rank: order.IndexOf(n) is var k and >= 0 ? k : order.Length + i)).OrderBy(x => x.Rank).Select(x => x.Name)];
    }
}
