using Vexlab.Model.Configuration;
using Vexlab.Model.Guest;

namespace Vexlab.Model.Protocols;

/// <summary>
/// The five protocols, by CLI name. Each is a host policy plus the guest's handler programs,
/// written micro-op by micro-op after the kernel code they model.
/// </summary>
public static class ProtocolCatalog
{
    public static readonly string[] Names = ["sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve"];

    public static string Describe(string name) => name switch
    {
        "sync" => "a hypervisor with no async path: the vCPU is suspended in the host until the page is resident",
        "kvm-halt" => "KVM with a guest that never enabled APF: host-only async work and the artificial halt",
        "kvm-pf" => "a 5.7 host and guest: not-present and page-ready both as #PF, SEND_ALWAYS with CONFIG_PREEMPT",
        "kvm-pf-int" => "a 5.8+ host with a 5.9+ guest: not-present #PF at CPL3, page-ready by interrupt",
        "ve" => "the April 2020 #VE design: hardware #VE, resolve_ept(can_continue), wakeup interrupt",
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown protocol"),
    };

    public static bool IsKnown(string name) => Array.IndexOf(Names, name) >= 0;

    /// <summary>
    /// Refuses a name that is no protocol with one line: <paramref name="origin"/> (the option or file place that gave
    /// it; null for a command's own argument), the name, the nearest protocol and the list.
    /// </summary>
    public static void Require(string name, string? origin)
    {
        if (!IsKnown(name))
        {
            // A protocol given as a command's argument (explain protocol NAME) has no place to name but itself.
            var unknown = NearestName.Unknown("protocol", name, Names);
            throw new InputException(origin is null ? unknown : $"{origin}: {unknown}");
        }
    }

    /// <summary>Builds a protocol; an unknown name throws <see cref="InputException"/>.</summary>
    public static ProtocolSpec Create(string name, IEnumerable<KeyValuePair<string, string>>? overrides = null, string? label = null, string? origin = null)
    {
        Require(name, origin ?? "command line");
        var knobs = KnobSet.Create(name, overrides, origin);
        var guest = new GuestPolicy
        {
            ConfigPreempt = knobs.Bool("guest.config_preempt"),
            StiBlocksNmi = knobs.Bool("arch.sti_blocks_nmi"),
            LapicEnabledAtStart = knobs.Bool("guest.lapic.enabled_at_apf_enable"),
            DummyEntries = knobs.Bool("guest.apf.dummy_entries"),
            RecheckBeforeDummyInsert = knobs.Bool("guest.apf.recheck_before_dummy_insert"),
            ClearTokenAtInit = knobs.Bool("guest.apf.clear_token_at_init"),
            CanContinue = knobs.Text("guest.ve.can_continue") switch
            {
                "seed" => CanContinuePolicy.Seed,
                "user-or-preemptible-kernel" => CanContinuePolicy.UserOrPreemptibleKernel,
                "always" => CanContinuePolicy.Always,
                _ => CanContinuePolicy.Never,
            },
            InfoStore = knobs.Text("guest.ve.info_store") == "args" ? VeInfoStore.Args : VeInfoStore.PvPage,
            RegisterNeverConvertible = knobs.Bool("guest.ve.register_never_convertible"),

            // 5.7's clear_highpage() used kmap_atomic(), and so did the guests up to d2c20e51e396;
            // kvm-pf-int's guest and the #VE design's are taken as kernels after it, where a task
            // whose zeroing waits for the host can be preempted by an interrupt taken meanwhile.
            ClearPageUnderKmapAtomic = name == "kvm-pf",

            // balance_push came with 2558aacff858 (5.11): the 5.7 guest moves a going-down CPU's queued tasks
            // only at sched_cpu_dying (migrate_tasks).
            BalancePush = name != "kvm-pf",
            SharedLlc = knobs.Bool("guest.sched.shared_llc"),

            // kick_ilb's smp_send_reschedule() became a csd IPI with 90b5363acd47, spared a polling CPU by b2a02fc43a1f (5.8).
            KickIlbIgnoresPolling = name == "kvm-pf",
        };

        var kvmHost = new HostPolicy
        {
            AsyncPf = true,
            MaxPerVcpu = knobs.Int("host.apf.max_per_vcpu"),
            TokenNeverZero = knobs.Bool("host.apf.token_never_zero"),
            TokenIdBits = knobs.Int("host.apf.token_id_bits"),
            ReadyOnlyIfNotPresentDelivered = knobs.Bool("host.apf.ready_only_if_not_present_delivered"),
            RequireNoPendingEvent = knobs.Bool("host.apf.require_no_pending_event"),
            DequeueRequiresLapicEnabled = knobs.Bool("host.apf.dequeue_requires_lapic_enabled"),
            ReadyTarget = knobs.Text("host.apf.ready_target") == "any" ? ReadyTarget.Any : ReadyTarget.Same,
            ReportErrors = knobs.Bool("host.apf.report_errors"),
            CancelPendingNotPresent = knobs.Bool("host.apf.cancel_pending_not_present"),
            HltInGuest = knobs.Bool("host.hlt_in_guest"),
            FlushOnCr0Pg = knobs.Bool("host.apf.flush_on_cr0_pg"),
            FlushWorkOnDestroy = knobs.Bool("host.apf.flush_work_on_destroy"),
        };

        var host = name switch
        {
            "sync" => new HostPolicy { AsyncPf = false, Ready = ReadyDelivery.None },
            "kvm-halt" => kvmHost with { PvApf = false, Ready = ReadyDelivery.None },
            "kvm-pf" => kvmHost with
            {
                PvApf = true,
                Ready = ReadyDelivery.PageFault,
                SendAlways = guest.ConfigPreempt,
                DequeueOnlyAtEntry = true,
                ReportErrors = false,
            },
            "kvm-pf-int" => kvmHost with { PvApf = true, Ready = ReadyDelivery.Interrupt },
            _ => new HostPolicy
            {
                AsyncPf = false,
                Ready = ReadyDelivery.WakeupRing,
                Convertible = knobs.Text("host.ve.convertible") switch
                {
                    "needs-io" => VeConvertible.NeedsIo,
                    "unrecoverable-only" => VeConvertible.UnrecoverableOnly,
                    _ => VeConvertible.All,
                },
            },
        };

        var handlers = new GuestProgram[HandlerProgram.Count];
        handlers[HandlerProgram.PageFault] = name switch
        {
            "kvm-pf" => GuestHandlers.PageFaultEntry57(knobs),
            "kvm-pf-int" => GuestHandlers.PageFaultEntry59(knobs),
            _ => GuestHandlers.PageFaultPlain(),
        };
        handlers[HandlerProgram.Ve] = name == "ve" ? GuestHandlers.VeHandler(knobs, host.Convertible) : GuestHandlers.UnexpectedVe();
        handlers[HandlerProgram.Nmi] = GuestHandlers.Nmi(knobs, name);
        handlers[HandlerProgram.Callback] = host.Ready switch
        {
            ReadyDelivery.Interrupt => GuestHandlers.ApfReadyInterrupt(),
            ReadyDelivery.WakeupRing => GuestHandlers.VeWakeupInterrupt(),
            _ => GuestHandlers.SpuriousInterrupt(),
        };
        handlers[HandlerProgram.Timer] = GuestHandlers.TimerInterrupt();
        handlers[HandlerProgram.Reschedule] = GuestHandlers.RescheduleInterrupt();
        handlers[HandlerProgram.Idle] = GuestHandlers.Idle();

        var overridesText = string.Join(';', knobs.Overrides.Select(kv => kv.Key + "=" + kv.Value));
        var displayLabel = label ?? (overridesText.Length == 0 ? name : $"{name}[{overridesText}]");
        return new ProtocolSpec(name, displayLabel, knobs, host, guest, handlers);
    }
}
