using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Vexlab.Scenarios.Outputs;

namespace Vexlab.Simulation.Metrics;

/// <summary>VM exit reasons, named as KVM's <c>kvm_exit</c> tracepoint prints them (VMX_EXIT_REASONS).</summary>
public enum ExitReason
{
    ExceptionNmi,
    ExternalInterrupt,
    InterruptWindow,
    Cpuid,
    Hlt,
    Vmcall,
    IoInstruction,
    MsrRead,
    MsrWrite,
    EptViolation,
    EptMisconfig,
    PreemptionTimer,
    PauseInstruction,

    /// <summary>
    /// NMI-window exiting (VMX exit reason 8): an NMI KVM could not inject because the guest blocked NMIs, taken
    /// when the guest unblocks them (vmx enable_nmi_window, handle_nmi_window).
    /// </summary>
    NmiWindow,

    /// <summary>
    /// TPR below threshold (VMX exit reason 43): the guest lowered its TPR under the priority of a pending interrupt
    /// (update_cr8_intercept set the threshold), counted where the 5.7 host's completion check after it injects.
    /// </summary>
    TprBelowThreshold,
}

/// <summary>
/// What KVM injects into a vCPU, or the CPU delivers to it (an ordinary #PF, #VE), counted once each when
/// delivered: the kinds are disjoint, so an async-PF #PF is not also an ordinary #PF, nor a page-ready
/// interrupt also an irq.
/// </summary>
public enum InjectionKind
{
    /// <summary>Ordinary guest #PF (vector 14): a not-present guest PTE, delivered by the CPU.</summary>
    PageFault,

    /// <summary>APF "page not present": the synthetic #PF with the token in CR2 (kvm_arch_async_page_not_present).</summary>
    ApfNotPresent,

    /// <summary>
    /// APF "page ready": the interrupt on the vector of MSR_KVM_ASYNC_PF_INT (5.8+), or the 5.7 host's synthetic
    /// #PF with the token in CR2 (kvm_arch_async_page_present).
    /// </summary>
    ApfReady,

    /// <summary>#VE (vector 20), delivered by the CPU without an exit.</summary>
    VirtualizationException,

    /// <summary>Any other external interrupt (timer, IPI, the #VE design's wakeup).</summary>
    ExternalInterrupt,

    /// <summary>#DF: KVM merged a #PF into a pending #PF (kvm_multiple_exception).</summary>
    DoubleFault,
}

/// <summary>Protocol signals the simulator counts (one name each).</summary>
public enum SignalKind
{
    ApfNotPresent,
    ApfPageReady,
    ApfAck,
    ApfHalt,
    ApfSyncFallback,
    VeDelivered,
    VeResolveEpt,
    VeWakeup,
    VeBusyFallback,
    TaskWakeup,
    Ipi,

    /// <summary>An access to a gfn already queued on this vCPU halted it (trace_kvm_async_pf_repeated_fault).</summary>
    ApfRepeatedFault,

    /// <summary>Async work started for a page another vCPU's work already fetches (the gfn hash is per vCPU).</summary>
    ApfDuplicateWork,
}

/// <summary>Name tables for the counter enums.</summary>
public static class CounterNames
{
    /// <summary>In <see cref="ExitReason"/>'s order, the one every output lists them in (EventOrder).</summary>
    public static ImmutableArray<string> ExitReasons => EventOrder.ExitReasons;

    /// <summary>VMX basic exit reason numbers (Intel SDM Vol. 3D appendix C), same order as <see cref="ExitReason"/>.</summary>
    public static ImmutableArray<int> VmxExitCodes { get; } = [0, 1, 7, 10, 12, 18, 30, 31, 32, 48, 49, 52, 40, 8, 43];

    /// <summary>In <see cref="InjectionKind"/>'s order, the one every output lists them in (EventOrder).</summary>
    public static ImmutableArray<string> Injections => EventOrder.Injections;

    public static ImmutableArray<string> Signals { get; } =
    [
        "apf_not_present", "apf_page_ready", "apf_ack", "apf_halt", "apf_sync_fallback", "ve_delivered",
        "ve_resolve_ept", "ve_wakeup", "ve_busy_fallback", "task_wakeup", "ipi", "apf_repeated_fault", "apf_duplicate_work",
    ];

    public static string Name(ExitReason reason) => ExitReasons[(int)reason];

    public static string Name(InjectionKind kind) => Injections[(int)kind];

    public static string Name(SignalKind kind) => Signals[(int)kind];
}

/// <summary>
/// A small array of counts indexed by an <c>int</c>-backed enum, with a name table. Increment does not
/// allocate; enumerate <see cref="Snapshot"/> for reports.
/// </summary>
public sealed class EnumCounter<TEnum>
    where TEnum : struct, Enum
{
    private readonly long[] _counts;

    public EnumCounter(ImmutableArray<string> names)
    {
        if (Unsafe.SizeOf<TEnum>() != sizeof(int))
        {
            throw new ArgumentException($"{typeof(TEnum).Name} must be int-backed", nameof(names));
        }

        if (names.Length != Enum.GetValues<TEnum>().Length)
        {
            throw new ArgumentException($"name table for {typeof(TEnum).Name} has the wrong length", nameof(names));
        }

        Names = names;
        _counts = new long[names.Length];
    }

    public ImmutableArray<string> Names { get; }

    public long this[TEnum key] => _counts[Index(key)];

    public long Total
    {
        get
        {
            long t = 0;
            foreach (var c in _counts)
            {
                t += c;
            }

            return t;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Increment(TEnum key, long by = 1) => _counts[Index(key)] += by;

    public void Merge(EnumCounter<TEnum> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    public void Reset() => Array.Clear(_counts);

    /// <summary>(name, count) pairs in enum order, including zeros.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot()
    {
        var result = new KeyValuePair<string, long>[_counts.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new KeyValuePair<string, long>(Names[i], _counts[i]);
        }

        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Index(TEnum key) => Unsafe.As<TEnum, int>(ref key);
}

/// <summary>Per-run counters: exits by reason (with handling time), injections, signals.</summary>
public sealed class Counters
{
    private readonly LatencyRecorder[] _exitTimes;

    public Counters()
    {
        Exits = new EnumCounter<ExitReason>(CounterNames.ExitReasons);
        Injections = new EnumCounter<InjectionKind>(CounterNames.Injections);
        Signals = new EnumCounter<SignalKind>(CounterNames.Signals);
        _exitTimes = new LatencyRecorder[CounterNames.ExitReasons.Length];
        for (var i = 0; i < _exitTimes.Length; i++)
        {
            _exitTimes[i] = new LatencyRecorder();
        }
    }

    public EnumCounter<ExitReason> Exits { get; }

    public EnumCounter<InjectionKind> Injections { get; }

    public EnumCounter<SignalKind> Signals { get; }

    /// <summary>Counts one exit and records the time it kept the vCPU out of the guest (exit to entry).</summary>
    public void RecordExit(ExitReason reason, long handledNs)
    {
        Exits.Increment(reason);
        _exitTimes[(int)reason].Record(handledNs);
    }

    public LatencyRecorder ExitTime(ExitReason reason) => _exitTimes[(int)reason];

    /// <summary>Rows for <see cref="Tracing.ExitsReportWriter"/>: every reason with at least one exit.</summary>
    public IReadOnlyList<ExitStat> ExitStats()
    {
        var rows = new List<ExitStat>();
        for (var i = 0; i < _exitTimes.Length; i++)
        {
            if (_exitTimes[i].Count > 0)
            {
                rows.Add(new ExitStat(CounterNames.ExitReasons[i], _exitTimes[i]));
            }
        }

        return rows;
    }

    public void Merge(Counters other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Exits.Merge(other.Exits);
        Injections.Merge(other.Injections);
        Signals.Merge(other.Signals);
        for (var i = 0; i < _exitTimes.Length; i++)
        {
            _exitTimes[i].Merge(other._exitTimes[i]);
        }
    }
}

/// <summary>One event class for a perf-kvm-stat style table: its name and per-event handling times.</summary>
public sealed record ExitStat(string Name, LatencyRecorder Times);
