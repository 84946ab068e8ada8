using System.Collections.Immutable;
using System.Globalization;
using Vexlab.Model.Configuration;

namespace Vexlab.Model.Protocols;

public enum KnobKind : byte
{
    Bool,
    Integer,
    Enum,
}

/// <summary>
/// One knob: a dotted key, its type and default, the protocols that use it, and the kernel
/// commit or message it comes from.
/// </summary>
public sealed record KnobInfo(
    string Key,
    KnobKind Kind,
    string Default,
    string[] Protocols,
    string Source,
    string Description,
    string[]? Values = null,
    int Min = 0,
    int Max = int.MaxValue)
{
    /// <summary>Era-correct defaults that differ per protocol (the 5.7 host, say).</summary>
    public ImmutableDictionary<string, string> ProtocolDefaults { get; init; } = ImmutableDictionary<string, string>.Empty;

    public string DefaultFor(string protocol) => ProtocolDefaults.TryGetValue(protocol, out var value) ? value : Default;

    public bool AppliesTo(string protocol) => Protocols.Length == 0 || Array.IndexOf(Protocols, protocol) >= 0;

    /// <summary>
    /// For a value no KVM host on x86 runs with (a model's shortcut, not a kernel's history), what it changes;
    /// null for every other value. A counterexample under such a value is a possible execution only of a host
    /// that does what the text says, and the checker says so beside it.
    /// </summary>
    public Func<string, string?>? Departure { get; init; }
}

/// <summary>A knob value a check ran with that no KVM host on x86 runs with, and what that changes.</summary>
public sealed record KnobDeparture(string Key, string Value, string Why);

/// <summary>The catalogue of every model knob (the model-side part of `vexlab explain keys`).</summary>
public static class KnobCatalog
{
    private static readonly string[] s_kvmPfInt = ["kvm-pf-int"];
    private static readonly string[] s_kvmPfBoth = ["kvm-pf", "kvm-pf-int"];
    private static readonly string[] s_kvmAll = ["kvm-halt", "kvm-pf", "kvm-pf-int"];
    private static readonly string[] s_ve = ["ve"];
    private static readonly string[] s_all = [];

    public static ImmutableArray<KnobInfo> All { get; } =
    [
        new("arch.sti_blocks_nmi", KnobKind.Bool, "true", s_all,
            "arch/x86/kvm/vmx/vmx.c vmx_nmi_blocked(); SDM Vol. 3A 6.8.3 (STI shadow may block NMIs)",
            "An STI shadow also holds back NMIs, as KVM's vmx_nmi_blocked does."),
        new("guest.config_preempt", KnobKind.Bool, "true", s_all,
            "CONFIG_PREEMPTION, which selects CONFIG_PREEMPT_COUNT (5.7 kvm_async_pf_task_wait reads it); 5.7 guests set KVM_ASYNC_PF_SEND_ALWAYS exactly when it is on",
            "Kernel code is preemptible on return from interrupt."),
        new("guest.sched.shared_llc", KnobKind.Bool, "true", s_all,
            "kernel/sched/core.c ttwu_queue(): the wake list only across LLCs (518cd6234178), resched_curr()'s test_tsk_need_resched() and set_nr_and_not_polling(); 2ebb17717550 (5.8) and f3dd3f674555 (6.0) send some same-LLC wakes through the wake list as well",
            "All vCPUs share one last-level cache, as in a guest given one socket: a remote wake is queued by the waker and sends a reschedule IPI only where it preempts and need_resched was clear. false: each vCPU is its own LLC (one socket per vCPU), and every remote wake sends the wake list's IPI, preempting or not, unless the idle loop there polls."),
        new("guest.nmi.save_restore_cr2", KnobKind.Bool, "true", s_kvmPfBoth,
            "exc_nmi nmi_cr2 (7fbb98c5cb07, 9d0504167990)",
            "The NMI handler saves CR2 once per outer NMI and restores it if it changed."),
        new("guest.nmi.save_restore_apf_flags", KnobKind.Bool, "false", s_kvmPfBoth,
            "proposed March 2020 (msgid 87v9mab823.fsf@nanos.tec.linutronix.de thread), never merged",
            "The NMI handler stashes and clears the APF flags word and restores it on exit."),
        new("guest.pf.read_order", KnobKind.Enum, "both-first", s_kvmPfBoth,
            "a0d14b8909de (x86/mm, tracing: Fix CR2 corruption, 5.3) moved only the CR2 read before the entry's trace points; 91eeafea1e4b (x86/entry: Switch page fault exception to IDTENTRY_RAW, 5.8) moved the APF flags read before them",
            "What the #PF entry reads before the first thing that can fault, a trace point (trace-first: nothing, before 5.3; cr2-first: CR2, the flags after it, 5.3 to 5.7; both-first: CR2 and the flags, 5.8+).",
            ["both-first", "cr2-first", "trace-first"])
        {
            ProtocolDefaults = ImmutableDictionary<string, string>.Empty.Add("kvm-pf", "cr2-first"),
        },
        new("guest.apf.dummy_entries", KnobKind.Bool, "true", s_kvmPfBoth,
            "arch/x86/kernel/kvm.c kvm_async_pf_task_wake (dummy entries since 2.6.38)",
            "A wake that finds no waiter leaves a dummy entry for the token (B9 when false)."),
        new("guest.apf.recheck_before_dummy_insert", KnobKind.Bool, "true", s_kvmPfInt,
            "0547758a6de3 (x86/kvm: Alloc dummy async #PF token outside of raw spinlock); false is its first proposal, never merged (msgid 20220519090218.2230653-1-yajun.deng@linux.dev)",
            "After dropping the lock to allocate a dummy, look the token up again before inserting (B8 when false)."),
        new("guest.apf.clear_token_at_init", KnobKind.Bool, "false", s_kvmPfInt,
            "proposed: no kernel clears apf_reason.token in kvm_guest_cpu_init (arch/x86/kernel/kvm.c); docs/kvm-facts.md, \"A token left by CPU offline\"",
            "kvm_guest_cpu_init clears the page-ready token slot before it enables APF, so a token left by a CPU going offline does not hold back every later page-ready (true: the fix)."),
        new("guest.lapic.enabled_at_apf_enable", KnobKind.Bool, "true", s_kvmPfInt,
            "2f15d027c05f (KVM: x86: Properly handle APF vs disabled LAPIC situation)",
            "The guest's LAPIC is software-enabled when it enables APF (false: direct-kernel boot, enabled later)."),
        new("guest.ve.info_store", KnobKind.Enum, "pv-page", s_ve,
            "seed: store_ve_info_in_pv_page(); msgid 92ea7036-0b77-20da-34ac-f425e6f233c2@redhat.com (as hypercall arguments)",
            "Where the #VE handler stores the VE info for resolve_ept.", ["pv-page", "args"]),
        new("guest.ve.clear_busy", KnobKind.Enum, "after-store", s_ve,
            "SDM Vol. 3C 25.5.6.1: another #VE can occur only after software clears the busy word; the seed does not say when",
            "When the #VE handler clears the VE-information busy word (after-hypercall: EPT violations on this vCPU in the gap exit and are resolved synchronously).",
            ["after-store", "after-hypercall", "before-store", "never"]),
        new("guest.ve.irq_enable", KnobKind.Enum, "before-hypercall", s_ve,
            "seed: the handler may do other stuff while the page comes in; it does not say where it re-enables interrupts",
            "Where the can-continue path of the #VE handler enables interrupts: before resolve_ept(true), or after it (the completion is set up first, so an early wakeup is kept).",
            ["before-hypercall", "after-hypercall"]),
        new("guest.ve.can_continue", KnobKind.Enum, "seed", s_ve,
            "seed: if (!user_mode(regs) || !preemptible()) resolve_ept(false), preemptible() read as the interrupted context's (literally it is 0 in a handler entered through an interrupt gate); user-or-preemptible-kernel, always and never are changes to the seed",
            "Which interrupted contexts may do other stuff while the page comes in (seed: user mode only, because of !user_mode(regs); user-or-preemptible-kernel: also kernel code that preemptible() allows, none without guest.config_preempt; always: every context, NMIs included). The model keeps one completion per task, not one per handler call: under always a nested #VE re-initialises the completion its interrupted call waits on, so nmi-host-fault also fails no-deadlock and no-lost-wakeup (docs/kvm-facts.md, The #VE design).",
            ["seed", "user-or-preemptible-kernel", "always", "never"]),
        new("guest.ve.register_never_convertible", KnobKind.Bool, "true", s_ve,
            "TDX: no #VE in the SYSCALL gap or NMI entry (msgid 20220218161718.67148-9-kirill.shutemov@linux.intel.com)",
            "Entry text, stacks and PV pages keep suppress-#VE."),
        new("guest.ve.trace_point", KnobKind.Bool, "false", s_ve,
            "TDX review: nothing may run before the VE info is read",
            "The #VE handler has a step that can fault before it stores the VE info."),
        new("host.apf.max_per_vcpu", KnobKind.Integer, "64", s_kvmAll,
            "ASYNC_PF_PER_VCPU (virt/kvm/async_pf.c kvm_setup_async_pf)",
            "Outstanding async page faults per vCPU before the host falls back to a synchronous fault.", Min: 1, Max: 255),
        new("host.apf.token_never_zero", KnobKind.Bool, "true", s_kvmAll,
            "6f3c1fc53d86 (KVM: x86/mmu: make apf token non-zero to fix bug)",
            "alloc_apf_token never yields 0, the empty-slot value (B1 when false)."),
        new("host.apf.token_id_bits", KnobKind.Integer, "20", s_kvmAll,
            "kvm_arch_setup_async_pf: token = (apf.id++ << 12) | vcpu_id",
            "Bits of apf.id before it wraps (small values make B1 reachable).", Min: 1, Max: 20)
        {
            // apf.id is a u32 shifted left by 12 into a u32 token: 20 bits survive.
            Departure = v => int.Parse(v, CultureInfo.InvariantCulture) >= 20
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"token ids wrap after {1 << int.Parse(v, CultureInfo.InvariantCulture):N0} faults of a vCPU, KVM's after 1,048,576 (kvm_arch_setup_async_pf)"),
        },
        new("host.apf.ready_only_if_not_present_delivered", KnobKind.Bool, "true", s_kvmPfBoth,
            "2a18b7e7cd88 (KVM: async_pf: Inject 'page ready' event only if 'page not present' was previously injected)",
            "Page-ready only for faults the guest was told of (B2 when false).")
        {
            ProtocolDefaults = ImmutableDictionary<string, string>.Empty.Add("kvm-pf", "false"),
        },
        new("host.apf.require_no_pending_event", KnobKind.Bool, "true", s_kvmPfBoth,
            "2a266f23550b (KVM MMU: check pending exception before injecting APF)",
            "APF events only when no exception is pending (B3 when false)."),
        new("host.apf.dequeue_requires_lapic_enabled", KnobKind.Bool, "true", s_kvmPfInt,
            "2f15d027c05f (KVM: x86: Properly handle APF vs disabled LAPIC situation)",
            "Completions are dequeued only while the LAPIC is enabled (B6 when false)."),
        new("host.apf.ready_target", KnobKind.Enum, "same", s_kvmPfBoth,
            "Documentation/virt/kvm/x86/msr.rst: page-ready is delivered to the same vCPU, but guests should not rely on it",
            "Which vCPU the host raises page-ready on.", ["same", "any"])
        {
            Departure = v => v == "any"
                ? "page-ready may reach a vCPU other than the fault's, which KVM on x86 never does (kvm_arch_async_page_present)"
                : null,
        },
        new("host.apf.report_errors", KnobKind.Bool, "false", s_kvmPfInt,
            "msgid 20200616214847.24482-3-vgoyal@redhat.com and 20200720211359.GF502563@redhat.com (proposed 2020, not merged)",
            "Report a failed page: SIGBUS to a user task told of the fault, otherwise a synchronous fault and an error exit (B12 fix)."),
        new("host.apf.cancel_pending_not_present", KnobKind.Bool, "false", ["kvm-pf"],
            "9a6e7c39810e (2017), reverted by 84b09f33a5de",
            "The 2017-2020 workaround: page-ready cancels a still-pending not-present #PF without matching tokens."),
        new("host.apf.flush_on_cr0_pg", KnobKind.Bool, "false", s_kvmAll,
            "kvm_post_set_cr0 (kvm_clear_async_pf_completion_queue on a CR0.PG change), removed by ab4e41eb9fab (KVM: x86: Fix the interaction between SMM and the asynchronous pagefault)",
            "A CR0.PG change, such as RSM's return from SMM, clears the completion queue without notifying the guest (B4 when true)."),
        new("host.apf.flush_work_on_destroy", KnobKind.Bool, "true", s_kvmAll,
            "3d75b8aa5c29 (KVM: Always flush async #PF workqueue when vCPU is being destroyed, CVE-2024-26976)",
            "Destroying a vCPU waits for its async #PF work before the VM and the module go (false: each work item holds a VM reference, and the last one destroys the VM and returns into module text; B7)."),
        new("host.hlt_in_guest", KnobKind.Bool, "false", s_kvmAll,
            "kvm_can_do_async_pf: kvm_hlt_in_guest() and PV delivery impossible -> synchronous",
            "Userspace disabled HLT exits (KVM_X86_DISABLE_EXITS_HLT)."),
        new("host.ve.convertible", KnobKind.Enum, "all", s_ve,
            "seed: make all recoverable EPT entries convertible; msgid 87pncib06x.fsf@nanos.tec.linutronix.de",
            "Which host-absent EPT entries have suppress-#VE clear (all, needs-io: the handler has no recoverable() test, as the VE info cannot tell, and learns of a failed page from resolve_ept's result; unrecoverable-only: every #VE is for a failed page).", ["all", "needs-io", "unrecoverable-only"]),
    ];

    /// <summary>"; did you mean KEY?" for the knob nearest a mistyped key (see <see cref="NearestName.Hint"/>), or nothing.</summary>
    public static string Hint(string key) => NearestName.Hint(key, All.Select(k => k.Key));

    /// <summary>
    /// Refuses a <c>--set</c> of a known knob that none of <paramref name="protocols"/> reads: it would change nothing
    /// and be reported nowhere. <paramref name="origin"/> names where the key was given (<c>--set</c>, a scenario's
    /// line); unknown keys are left to the scenario or protocol that resolves them.
    /// </summary>
    public static void RequireUsed(string key, IReadOnlyList<string> protocols, string origin)
    {
        if (Unused(key, protocols) is { } problem)
        {
            throw new InputException($"{origin}: {key}: {problem}");
        }
    }

    /// <summary>
    /// Why <paramref name="key"/> is refused for <paramref name="protocols"/> ("kvm-pf-int does not use this knob (it
    /// applies to ve)"), or null when one of them reads it or it is no knob: the rule of <see cref="RequireUsed"/>, for
    /// callers that place the error themselves (a scenario file's line).
    /// </summary>
    public static string? Unused(string key, IReadOnlyList<string> protocols)
    {
        ArgumentNullException.ThrowIfNull(protocols);
        if (Find(key) is not { } knob)
        {
            return null;
        }

        foreach (var protocol in protocols)
        {
            if (knob.AppliesTo(protocol))
            {
                return null;
            }
        }

        var who = protocols.Count == 1 ? protocols[0] + " does not use" : "none of " + string.Join(", ", protocols) + " uses";
        return $"{who} this knob (it applies to {string.Join(", ", knob.Protocols)})";
    }

    /// <summary>The values among <paramref name="values"/> that depart from every KVM host on x86, in key order.</summary>
    public static IReadOnlyList<KnobDeparture> Departures(IEnumerable<KeyValuePair<string, string>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var found = new List<KnobDeparture>();
        foreach (var (key, value) in values)
        {
            if (Find(key)?.Departure?.Invoke(value) is { } why)
            {
                found.Add(new KnobDeparture(key, value, why));
            }
        }

        found.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return found;
    }

    public static KnobInfo? Find(string key)
    {
        foreach (var knob in All)
        {
            if (string.Equals(knob.Key, key, StringComparison.Ordinal))
            {
                return knob;
            }
        }

        return null;
    }
}

/// <summary>Knob values for one protocol: defaults, then overrides, validated against the catalogue.</summary>
public sealed class KnobSet
{
    private readonly ImmutableSortedDictionary<string, string> _values;

    private KnobSet(string protocol, ImmutableSortedDictionary<string, string> values, ImmutableSortedDictionary<string, string> overrides)
    {
        Protocol = protocol;
        _values = values;
        Overrides = overrides;
    }

    public string Protocol { get; }

    /// <summary>The overrides given (applicable to this protocol), in canonical text.</summary>
    public ImmutableSortedDictionary<string, string> Overrides { get; }

    public IEnumerable<KeyValuePair<string, string>> Values => _values;

    /// <summary>
    /// Builds the knob values for <paramref name="protocol"/>. Unknown keys and bad values throw
    /// <see cref="InputException"/>; keys that do not apply to the protocol are ignored.
    /// </summary>
    public static KnobSet Create(string protocol, IEnumerable<KeyValuePair<string, string>>? overrides = null, string? origin = null)
    {
        var values = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var knob in KnobCatalog.All)
        {
            values[knob.Key] = knob.DefaultFor(protocol);
        }

        var applied = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, raw) in overrides ?? [])
        {
            var knob = KnobCatalog.Find(key) ?? throw new InputException(
                $"{origin ?? "command line"}: {key}: unknown knob{KnobCatalog.Hint(key)}");
            var value = Canonical(knob, raw, origin);
            if (knob.AppliesTo(protocol))
            {
                values[key] = value;
                applied[key] = value;
            }
        }

        return new KnobSet(protocol, values.ToImmutable(), applied.ToImmutable());
    }

    public bool Bool(string key) => string.Equals(Get(key), "true", StringComparison.Ordinal);

    public int Int(string key) => int.Parse(Get(key), CultureInfo.InvariantCulture);

    public string Text(string key) => Get(key);

    private string Get(string key) =>
        _values.TryGetValue(key, out var value) ? value : throw new ArgumentException($"no knob {key}", nameof(key));

    private static string Canonical(KnobInfo knob, string raw, string? origin)
    {
        var text = raw.Trim();
        string Fail(string expected) =>
            throw new InputException($"{origin ?? "command line"}: {knob.Key}: expected {expected}, got '{raw}'");
        switch (knob.Kind)
        {
            case KnobKind.Bool:
                return text.ToLowerInvariant() switch
                {
                    "true" or "yes" or "on" => "true",
                    "false" or "no" or "off" => "false",
                    _ => Fail("true or false"),
                };
            case KnobKind.Integer:
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                {
                    return Fail("an integer");
                }

                if (number < knob.Min || number > knob.Max)
                {
                    return Fail(string.Create(CultureInfo.InvariantCulture, $"an integer in {knob.Min}..{knob.Max}"));
                }

                return number.ToString(CultureInfo.InvariantCulture);
            default:
                return Array.IndexOf(knob.Values!, text) >= 0 ? text : Fail("one of " + string.Join(", ", knob.Values!));
        }
    }
}
