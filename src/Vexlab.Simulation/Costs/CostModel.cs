using System.Collections.Immutable;
using System.Globalization;

namespace Vexlab.Simulation.Costs;

/// <summary>
/// Immutable set of costs in integer nanoseconds. Every default carries its source in <see cref="Defaults"/>: a row of
/// docs/costs.md, which holds the measurements and where they were published.
/// Use <see cref="Scale(double)"/>, <see cref="Scale(CostKey, double)"/> and <see cref="With(CostKey, long)"/>
/// for sensitivity runs (e.g. every cost at +30 %).
/// </summary>
public sealed record CostModel
{
    /// <summary>KVM's <c>ASYNC_PF_PER_VCPU</c>: outstanding async page faults per vCPU before KVM falls back to sync.</summary>
    public const int MaxAsyncPfPerVcpu = 64;

    private const string Cal = "costs.md";

    /// <summary>The default table, in <see cref="CostKey"/> order.</summary>
    public static ImmutableArray<CostDefault> Defaults { get; } =
    [
        new(CostKey.VmExitEntry, "cost.vm_exit_entry", 500, 300, 1_000,
            Cal + " VmExitEntryRoundTrip: SplitX 2,000 cycles @2.93 GHz; AMD ~1,350 cycles [M-primary]"),
        new(CostKey.KvmExitHandling, "cost.kvm_exit_handling", 500, 300, 3_000,
            Cal + " KvmTrivialExitHandling: tscdeadline_immed 2.5-3k cycles; cloud-guest CPUID 3.8 us [Est]"),
        new(CostKey.Hypercall, "cost.hypercall", 1_000, 500, 3_800,
            Cal + " HypercallRoundTrip: Dall ISCA'16 ~1,300 cycles [Recall]; cloud guest [M-local]"),
        new(CostKey.EptViolationMinor, "cost.ept_violation_minor", 3_000, 2_000, 9_000,
            Cal + " EptViolationExitMinor: kvm_mmu_page_fault + GUP, on top of the exit [Est]; cloud guest 3-9 us in all"),
        new(CostKey.PfDelivery, "cost.pf_delivery", 250, 150, 400,
            Cal + " GuestPfDelivery: lastweek.io ring 3->0 #PF 440-600 cycles [M-secondary]"),
        new(CostKey.VeDelivery, "cost.ve_delivery", 300, 200, 500,
            Cal + " VeDelivery: #PF delivery + VE-info read [Est]; Intel SDM 3C 25.5.6 semantics"),
        new(CostKey.GuestPfMinor, "cost.guest_pf_minor", 1_000, 500, 2_000,
            Cal + " GuestPfHandlerMinor: cloud guest zero-fill fault 1.4-1.8 us [M-local]"),
        new(CostKey.ContextSwitch, "cost.context_switch", 1_500, 1_000, 3_500,
            Cal + " GuestContextSwitch: i7-11th 1.07 us thread / 2.4 us process [M-secondary]; cloud guest 2 us"),
        new(CostKey.ApfNotPresentGuest, "cost.apf_not_present_guest", 750, 500, 1_500,
            Cal + " ApfNotPresentGuestWork: #PF delivery + sleep-table insert = 0.25 + 0.5 us [Est]; schedule() is cost.context_switch"),
        new(CostKey.ApfReadyIrq, "cost.apf_ready_irq", 1_500, 1_500, 4_000,
            Cal + " ApfReadyIrq: inject + handler + wakeup [Est]; IPI 3.6-6k cycles"),
        new(CostKey.AckMsrExit, "cost.ack_msr_exit", 1_000, 500, 3_000,
            Cal + " ApfReadyAckExit: MSR_KVM_ASYNC_PF_ACK write is an MSR exit, ~1 us [Est]"),
        new(CostKey.InterruptInject, "cost.interrupt_inject", 1_500, 1_000, 2_500,
            Cal + " InterruptInjectRunningVcpu: IPIv table, IPI + posted delivery [Est]"),
        new(CostKey.WakeHaltedVcpu, "cost.wake_halted_vcpu", 5_000, 2_000, 30_000,
            Cal + " WakeHaltedVcpu: [Est]; cloud guest 25-30 us worst case [M-local]"),
        new(CostKey.HostSwapInOverhead, "cost.host_swapin_overhead", 5_000, 4_000, 40_000,
            Cal + " HostSwapInSoftwareOverhead: zram 4 us [M-secondary]; ThunderX2 swap-in min 36 us [M-primary]"),
        new(CostKey.MicroOp, "cost.micro_op", 20, 10, 50,
            "[Est]: one guest micro-op of bookkeeping (a few dozen instructions, ~50 cycles)"),
        new(CostKey.ComputeUnit, "cost.compute_unit", 1_000, 1_000, 1_000,
            "Definition: one workload compute step is 1 us of guest CPU time"),
    ];

    private static readonly CostModel DefaultModel = new(Defaults.Select(d => d.Nanoseconds).ToArray());

    private readonly long[] _values;

    private CostModel(long[] values) => _values = values;

    /// <summary>The defaults (docs/costs.md).</summary>
    public static CostModel Default => DefaultModel;

    public static int Count => Defaults.Length;

    public long this[CostKey key] => _values[(int)key];

    public long VmExitEntry => this[CostKey.VmExitEntry];

    public long KvmExitHandling => this[CostKey.KvmExitHandling];

    /// <summary>A simple exit: world switch plus trivial KVM handling.</summary>
    public long SimpleExit => VmExitEntry + KvmExitHandling;

    public long Hypercall => this[CostKey.Hypercall];

    public long EptViolationMinor => this[CostKey.EptViolationMinor];

    public long PfDelivery => this[CostKey.PfDelivery];

    public long VeDelivery => this[CostKey.VeDelivery];

    public long GuestPfMinor => this[CostKey.GuestPfMinor];

    public long ContextSwitch => this[CostKey.ContextSwitch];

    public long ApfNotPresentGuest => this[CostKey.ApfNotPresentGuest];

    public long ApfReadyIrq => this[CostKey.ApfReadyIrq];

    public long AckMsrExit => this[CostKey.AckMsrExit];

    public long InterruptInject => this[CostKey.InterruptInject];

    public long WakeHaltedVcpu => this[CostKey.WakeHaltedVcpu];

    public long HostSwapInOverhead => this[CostKey.HostSwapInOverhead];

    public long MicroOp => this[CostKey.MicroOp];

    public long ComputeUnit => this[CostKey.ComputeUnit];

    public static string KeyName(CostKey key) => Defaults[(int)key].Key;

    /// <summary>Looks a key up by its dotted name (ordinal, case-sensitive).</summary>
    public static bool TryParseKey(string name, out CostKey key)
    {
        foreach (var d in Defaults)
        {
            if (string.Equals(d.Key, name, StringComparison.Ordinal))
            {
                key = d.Id;
                return true;
            }
        }

        key = default;
        return false;
    }

    /// <summary>A copy with one cost replaced.</summary>
    public CostModel With(CostKey key, long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds);
        var copy = (long[])_values.Clone();
        copy[(int)key] = nanoseconds;
        return new CostModel(copy);
    }

    /// <summary>A copy with one cost replaced, by dotted key.</summary>
    public CostModel With(string key, long nanoseconds) =>
        TryParseKey(key, out var id) ? With(id, nanoseconds) : throw new ArgumentException($"unknown cost key '{key}'", nameof(key));

    /// <summary>Every cost multiplied by <paramref name="factor"/>, rounded to the nearest ns (halves to even).</summary>
    public CostModel Scale(double factor)
    {
        CheckFactor(factor);
        var copy = new long[_values.Length];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = ScaleValue(_values[i], factor);
        }

        return new CostModel(copy);
    }

    /// <summary>One cost multiplied by <paramref name="factor"/>.</summary>
    public CostModel Scale(CostKey key, double factor)
    {
        CheckFactor(factor);
        return With(key, ScaleValue(this[key], factor));
    }

    /// <summary>Rows for <c>vexlab explain costs</c>: key, value in force, unit, default, source.</summary>
    public IReadOnlyList<CostEntry> Describe()
    {
        var rows = new CostEntry[_values.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var d = Defaults[i];
            rows[i] = new CostEntry(d.Key, _values[i], "ns", d.Nanoseconds, d.Source);
        }

        return rows;
    }

    /// <summary>Plain-text table of <see cref="Describe"/>.</summary>
    public string ToTable()
    {
        var sb = new System.Text.StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"{"key",-28} {"value",10} {"unit",-4}  source\n");
        foreach (var row in Describe())
        {
            sb.Append(inv, $"{row.Key,-28} {row.Nanoseconds,10} {row.Unit,-4}  {row.Source}\n");
        }

        return sb.ToString();
    }

    public bool Equals(CostModel? other) =>
        other is not null && _values.AsSpan().SequenceEqual(other._values);

    public override int GetHashCode()
    {
        var h = 17L;
        foreach (var v in _values)
        {
            h = (h * 31) + v;
        }

        return h.GetHashCode();
    }

    private static void CheckFactor(double factor)
    {
        if (!double.IsFinite(factor) || factor < 0.0)
        {
            throw new ArgumentOutOfRangeException(nameof(factor), "factor must be finite and non-negative");
        }
    }

    private static long ScaleValue(long ns, double factor) =>
        (long)Math.Round(ns * factor, MidpointRounding.ToEven);
}
