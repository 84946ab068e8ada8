using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Properties;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

/// <summary>The host (KVM) side: EPT violations, async work, completions and page-ready.</summary>
public sealed partial class Machine
{
    /// <summary>
    /// One guest access to a page. True when it completed; false when it faulted (an exception was
    /// delivered, or the vCPU is stalled or halted in the host), so the micro-op runs again later.
    /// </summary>
    private bool Access<TSink>(int v, int t, int page, bool user, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var pg = ref PageRef(page);
        if ((pg.Flags & PageFlags.GuestPresent) == 0)
        {
            // Not present in the guest page table: a real #PF, CR2 = the address.
            DeliverException(v, Vectors.PF, FrameEvent.PageFault, AddressOf(page), ref sink);
            return false;
        }

        return HostAccess(v, t, page, user, ref sink);
    }

    /// <summary>An access through a mapping the guest always has (a present PTE, the kernel's direct map): only the host can fault.</summary>
    private bool HostAccess<TSink>(int v, int t, int page, bool user, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var pg = ref PageRef(page);
        if (pg.Host == HostPage.Resident)
        {
            pg.Flags |= PageFlags.Referenced;
            return true;
        }

        sink.On(new ModelEvent(ModelEventKind.AccessFault, (byte)v, (byte)t, user ? (byte)1 : (byte)0, 0, page));
        return HostFault(v, page, user, ref sink);
    }

    private bool Convertible(ref PageState pg) => _host.Convertible switch
    {
        VeConvertible.None => false,
        _ when (pg.Flags & PageFlags.NeverConvertible) != 0 => false,
        VeConvertible.All => true,
        VeConvertible.NeedsIo => pg.Host is HostPage.AbsentIo or HostPage.Unrecoverable,
        _ => pg.Host == HostPage.Unrecoverable,
    };

    /// <summary>
    /// The EPT violation on <paramref name="pg"/> is a #VE, not an exit (SDM Vol. 3C 25.5.6: convertible, CR0.PE=1,
    /// not delivering an event, busy word 0). The guest runs in protected mode and the model's event delivery touches
    /// no model page, so those two conditions always hold here.
    /// </summary>
    private bool RaisesVe(ref VcpuState cpu, ref PageState pg) =>
        VeConversion.Decide(new VeConditions(true, !Convertible(ref pg), true, false, cpu.VeBusy), out _) == VeDecision.VirtualizationException;

    /// <summary>An EPT violation on a host-absent page: #VE if convertible, else an exit and the protocol's path.</summary>
    private bool HostFault<TSink>(int v, int page, bool user, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        ref var pg = ref PageRef(page);
        var vb = (byte)v;
        if (_host.Convertible != VeConvertible.None)
        {
            if (RaisesVe(ref cpu, ref pg))
            {
                cpu.VeBusy = VeConversion.BusyValue;
                cpu.VeGpa = AddressOf(page);
                sink.On(new ModelEvent(ModelEventKind.VeDelivered, vb, cpu.CurrentTask, 0, 0, page));
                DeliverException(v, Vectors.VE, FrameEvent.Ve, AddressOf(page), ref sink);
                return false;
            }
        }

        sink.On(new ModelEvent(ModelEventKind.VmExit, vb, cpu.CurrentTask, (byte)ExitReason.EptViolation, 0, page));
        if (pg.Host is HostPage.AbsentNoIo or HostPage.NotInEpt)
        {
            // The non-blocking lookup succeeds (host page cache, zswap, or the host mm that async work
            // faulted it into): try_async_pf / kvm_faultin_pfn returns before kvm_find_async_pf_gfn,
            // so a completion still on the done list does not halt it, and the exit handler maps it.
            var afterAsyncWork = pg.Host == HostPage.NotInEpt;
            pg.Host = HostPage.Resident;
            sink.On(new ModelEvent(ModelEventKind.MinorEptFault, vb, cpu.CurrentTask, afterAsyncWork ? (byte)1 : (byte)0, 0, page));
            if (_host.DequeueOnlyAtEntry)
            {
                // 5.7 vcpu_run calls kvm_check_async_pf_completion after every exit it handles, this
                // one too, before the next vcpu_enter_guest (as HostExit does). An EPT violation is
                // fault-like: the access has not happened, so where that check injects a page-ready
                // #PF the guest takes it first and retries the access after its IRET.
                CheckCompletionsAfterExit(v, ref sink);
                return cpu.Pending == PendingEvent.None;
            }

            // 5.8+: a completion on an empty done list set KVM_REQ_APF_READY (kvm_arch_async_page_present_queued),
            // which vcpu_enter_guest serves before this exit's re-entry: kvm_check_async_pf_completion dequeues
            // while kvm_arch_can_dequeue_async_page_present holds, and the page-ready interrupt it raises is
            // injected at that entry, before the access is retried, wherever the guest can take it. A request
            // that finds nothing to dequeue is used up all the same.
            return !ServePendingReadyRequest(v, ref sink) || !CanDeliverInterrupt(v);
        }

        if (!_host.AsyncPf || (pg.Flags & PageFlags.KnownFailed) != 0 || !CanDoAsyncPf(v, user))
        {
            SyncStall(v, page, hypercall: false, ref sink, VeBusyRefused(ref cpu, ref pg));
            return false;
        }

        if (InFlightFor(v, page))
        {
            // kvm_faultin_pfn (try_async_pf in 5.7): kvm_find_async_pf_gfn -> KVM_REQ_APF_HALT, tested
            // before kvm_setup_async_pf's ASYNC_PF_PER_VCPU limit.
            ArtificialHalt(v, ref sink);
            return false;
        }

        // kvm_arch_setup_async_pf takes the token (alloc_apf_token; apf.id++ before 6f3c1fc53d86)
        // before it calls kvm_setup_async_pf, so a fault refused below still uses up an id.
        var token = AllocToken(v);
        if (cpu.ApfQueued >= _host.MaxPerVcpu)
        {
            // kvm_setup_async_pf returns 0 with the queue full: the fault is handled synchronously.
            SyncStall(v, page, hypercall: false, ref sink);
            return false;
        }

        var item = NewWork(WorkKind.Async, v, page, token);
        cpu.ApfQueued++;
        if (CanDeliverAsyncPf(v, user))
        {
            // kvm_arch_async_page_not_present: flags = KVM_PV_REASON_PAGE_NOT_PRESENT, #PF with CR2 = token.
            WorkRef(item).NotPresentInjected = 1;
            cpu.ApfFlags = 1;
            sink.On(new ModelEvent(ModelEventKind.AsyncStarted, vb, cpu.CurrentTask, 1, token, page));
            if (_host.DequeueOnlyAtEntry)
            {
                cpu.Pending = PendingEvent.PfNotPresent;
                cpu.PendingToken = token;
                cpu.Run = RunState.InHost;
            }
            else
            {
                // kvm_inject_page_fault -> kvm_queue_exception: KVM_REQ_EVENT. vcpu_enter_guest serves its requests before
                // kvm_check_and_inject_events injects the #PF, KVM_REQ_APF_READY among them: a completion waiting since
                // before this exit is dequeued first, and its page-ready interrupt waits behind the #PF's IF=0.
                RequestEvent(v);
                ServePendingReadyRequest(v, ref sink);
                DeliverException(v, Vectors.PF, FrameEvent.AsyncPfNotPresent, token, ref sink);
            }
        }
        else
        {
            sink.On(new ModelEvent(ModelEventKind.AsyncStarted, vb, cpu.CurrentTask, 0, token, page));
            ArtificialHalt(v, ref sink);
        }

        return false;
    }

    /// <summary>
    /// kvm_can_do_async_pf: nothing pending, interrupts allowed, and not HLT-in-guest unless the
    /// not-present event can be delivered (kvm_can_deliver_async_pf, which holds the CPL test).
    /// </summary>
    private bool CanDoAsyncPf(int v, bool user)
    {
        ref var cpu = ref VcpuRef(v);
        if (cpu.Pending != PendingEvent.None || !InterruptsAllowed(v))
        {
            return false;
        }

        return !_host.HltInGuest || CanDeliverAsyncPf(v, user);
    }

    /// <summary>kvm_can_deliver_async_pf: PV APF enabled, and CPL3 unless SEND_ALWAYS.</summary>
    private bool CanDeliverAsyncPf(int v, bool user) =>
        _host.PvApf && VcpuRef(v).ApfEnabled == 1 && (user || _host.SendAlways);

    private bool InFlightFor(int v, int page)
    {
        for (var i = 0; i < _workCapacity; i++)
        {
            ref var w = ref WorkRef(i);
            if (w.Kind == WorkKind.Async && w.Vcpu == v && w.Page == page)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>kvm_arch_setup_async_pf: token = (apf.id++ &lt;&lt; 12) | vcpu_id; alloc_apf_token skips id 0 since 6f3c1fc53d86.</summary>
    private uint AllocToken(int v)
    {
        ref var cpu = ref VcpuRef(v);
        var mask = (1u << _host.TokenIdBits) - 1;
        if (_host.TokenNeverZero && (cpu.ApfNextId & mask) == 0)
        {
            cpu.ApfNextId = 1;
        }

        var token = ((cpu.ApfNextId & mask) << 12) | (uint)v;
        cpu.ApfNextId = (cpu.ApfNextId + 1) & mask;
        return token;
    }

    private int NewWork(WorkKind kind, int v, int page, uint token)
    {
        for (var i = 0; i < _workCapacity; i++)
        {
            ref var w = ref WorkRef(i);
            if (w.Kind == WorkKind.Free)
            {
                w = new WorkItem { Kind = kind, Vcpu = (byte)v, Status = WorkStatus.InFlight, Token = token, Page = page };
                if (page >= 0)
                {
                    PageRef(page).InFlight++;
                }

                return i;
            }
        }

        throw new InvalidOperationException("host work table full: raise the work capacity");
    }

    /// <summary>
    /// The vCPU stalls in the host for <paramref name="page"/>. The event's aux is 1 for the #VE design's resolve
    /// hypercall, 2 for a #VE the busy word refused (<paramref name="veBusy"/>), else 0.
    /// </summary>
    private void SyncStall<TSink>(int v, int page, bool hypercall, ref TSink sink, bool veBusy = false)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        var item = NewWork(WorkKind.Sync, v, page, 0);
        WorkRef(item).Reserved = hypercall ? (byte)1 : (byte)0;
        cpu.Run = RunState.HostStalled;
        cpu.StallPage = page;
        sink.On(new ModelEvent(ModelEventKind.SyncStall, (byte)v, cpu.CurrentTask, hypercall ? (byte)1 : veBusy ? (byte)2 : (byte)0, 0, page));
    }

    private void ArtificialHalt<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        cpu.Run = RunState.HostHalted;
        cpu.ApfHalted = 1;
        sink.On(new ModelEvent(ModelEventKind.ArtificialHalt, (byte)v, cpu.CurrentTask, 0, 0, -1));
    }

    private RunState AfterHost => _host.DequeueOnlyAtEntry ? RunState.InHost : RunState.InGuest;

    /// <summary>The host finishes a work item (async_pf_execute, or the synchronous fault returns).</summary>
    private void Complete<TSink>(int item, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var w = ref WorkRef(item);
        var v = w.Vcpu;
        ref var cpu = ref VcpuRef(v);
        var failed = false;
        if (w.Page >= 0)
        {
            ref var pg = ref PageRef(w.Page);
            pg.InFlight--;
            failed = pg.Host == HostPage.Unrecoverable;
            if (failed)
            {
                if (_host.ReportErrors || _host.Ready == ReadyDelivery.WakeupRing)
                {
                    pg.Flags |= PageFlags.KnownFailed;
                }
            }
            else
            {
                // async_pf_execute only faults the page into the host mm (get_user_pages_remote); the
                // EPT entry comes from kvm_arch_async_page_ready's prefault at the dequeue, or from the
                // next EPT violation. A synchronous fault maps it in the exit handler it blocked in.
                pg.Host = w.Kind == WorkKind.Async ? HostPage.NotInEpt : HostPage.Resident;
            }
        }

        sink.On(new ModelEvent(ModelEventKind.WorkCompleted, v, cpu.CurrentTask, failed ? (byte)1 : (byte)0, w.Token, w.Page));
        switch (w.Kind)
        {
            case WorkKind.Sync:
                var hypercall = w.Reserved == 1;
                var page = w.Page;
                w = default;
                cpu.StallPage = -1;
                if (hypercall)
                {
                    // resolve_ept(can_continue=false) returns, with an error for an unrecoverable page.
                    ref var task = ref TaskRef(cpu.CurrentTask);
                    FrameRef(cpu.CurrentTask, task.Depth - 1).R1 = failed ? ErrorStatus : 0;
                    cpu.Run = RunState.InGuest;
                }
                else if (failed)
                {
                    VmError(v, cpu.CurrentTask, page, ref sink);
                }
                else
                {
                    cpu.Run = AfterHost;
                    if (!_host.DequeueOnlyAtEntry)
                    {
                        // 5.8+: the fault's handler returns to vcpu_run, and vcpu_enter_guest serves the KVM_REQ_APF_READY
                        // a completion made while the thread was blocked (kvm_arch_async_page_present_queued, 557a961abbe0)
                        // before the guest retries the access, as after a minor EPT fault. (5.7 checks in InHost, before Enter.)
                        ServePendingReadyRequest(v, ref sink);
                    }
                }

                break;
            case WorkKind.Async:
                // async_pf_execute: onto the done list (the GUP result is ignored unless errors are reported).
                w.Status = failed && _host.ReportErrors ? WorkStatus.Failed : WorkStatus.Done;
                if (cpu.Done == 0 && TracksReadyRequest)
                {
                    // first = list_empty(&vcpu->async_pf.done) before the list_add_tail; only then
                    // kvm_arch_async_page_present_queued makes KVM_REQ_APF_READY (557a961abbe0).
                    cpu.ApfReadyRequest = 1;
                }

                cpu.Done++;
                w.DoneOrder = cpu.Done;
                if (GlobalsRef.TornDown == 1)
                {
                    WorkerAfterClose(v, ref sink);
                }

                break;
            case WorkKind.VeResolve:
                var token = w.Token;
                w = default;
                PostWakeup(v, token, failed, ref sink);
                break;
        }
    }

    private void VmError<TSink>(int v, int t, int page, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var g = ref GlobalsRef;
        g.Outcome = GuestOutcome.VmError;
        sink.On(new ModelEvent(ModelEventKind.VmError, (byte)v, (byte)t, 0, 0, page));
    }

    private int DoneHead(int v)
    {
        for (var i = 0; i < _workCapacity; i++)
        {
            ref var w = ref WorkRef(i);
            if (w.Kind != WorkKind.Free && w.Vcpu == v && w.DoneOrder == 1)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>kvm_arch_can_dequeue_async_page_present (5.8+) or can_inject_present (5.7) for source vCPU s onto target v.</summary>
    private bool CanDequeue(int v, int s)
    {
        // Only completions on the done list can be dequeued; the count avoids scanning the work slots.
        ref var source = ref VcpuRef(s);
        if (_host.Ready == ReadyDelivery.WakeupRing || source.Done == 0)
        {
            return false;
        }

        if (VcpuRef(v).Run == RunState.HostStalled)
        {
            // kvm_check_async_pf_completion runs on the vCPU's own thread (vcpu_enter_guest, the ACK MSR write, 5.7's
            // vcpu_run), which a synchronous fault holds in get_user_pages: the check comes when the fault returns.
            return false;
        }

        if (!_host.PvApf || source.ApfEnabled == 0)
        {
            // Host-only async PF: completions are consumed just to un-halt the vCPU.
            return v == s;
        }

        ref var target = ref VcpuRef(v);
        if (_host.Ready == ReadyDelivery.Interrupt)
        {
            if (_host.ReadyTarget == ReadyTarget.Same && v != s)
            {
                return false;
            }

            return (!_host.DequeueRequiresLapicEnabled || target.LapicEnabled == 1) && target.ApfToken == 0;
        }

        // 5.7: only when the vCPU passes through the host, with interrupts allowed and nothing pending.
        var inHost = target.Run == RunState.InHost || HaltedInHost(v);
        return v == s && inHost && CanInjectPageReadyAsPf(v);
    }

    /// <summary>
    /// 5.7's kvm_arch_can_inject_async_page_present with PV APF enabled: kvm_can_do_async_pf. Interrupts allowed,
    /// no event to re-inject (<see cref="HostPolicy.RequireNoPendingEvent"/>), and with HLT in the guest
    /// (kvm_hlt_in_guest) also kvm_can_deliver_async_pf: the CPL test of a guest that did not ask for
    /// KVM_ASYNC_PF_SEND_ALWAYS holds the page-ready of a vCPU at CPL 0, idle in HLT among others, until it runs
    /// user code again.
    /// </summary>
    private bool CanInjectPageReadyAsPf(int v)
    {
        ref var cpu = ref VcpuRef(v);
        return InterruptsAllowed(v) && (!_host.RequireNoPendingEvent || cpu.Pending == PendingEvent.None)
            && (!_host.HltInGuest || CanDeliverAsyncPf(v, AtCpl3(v)));
    }

    /// <summary>True when vCPU <paramref name="v"/> runs user code: its current task's innermost frame is at CPL3.</summary>
    private bool AtCpl3(int v)
    {
        var t = VcpuRef(v).CurrentTask;
        ref var task = ref TaskRef(t);
        return task.Depth > 0 && FrameRef(t, task.Depth - 1).User == 1;
    }

    /// <summary>
    /// 5.7's vcpu_run after an exit it handled: the vCPU is in the host, and kvm_check_async_pf_completion dequeues
    /// while its loop's test (<see cref="CanDequeue"/>) holds, before the next vcpu_enter_guest.
    /// </summary>
    private void CheckCompletionsAfterExit<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        VcpuRef(v).Run = RunState.InHost;
        CheckCompletions(v, ref sink);
    }

    /// <summary>
    /// Whether the host keeps KVM_REQ_APF_READY: 5.8+ with page-ready by interrupt. 5.7 checks after every exit and
    /// makes no request; kvm-halt's host-only async PF dequeues its whole done list at every check, so a request is
    /// pending exactly while that list is not empty.
    /// </summary>
    private bool TracksReadyRequest => _host.Ready == ReadyDelivery.Interrupt && !_host.DequeueOnlyAtEntry;

    /// <summary>Whether vCPU <paramref name="v"/>'s next vcpu_enter_guest runs kvm_check_async_pf_completion for KVM_REQ_APF_READY.</summary>
    private bool ReadyRequested(int v) => !TracksReadyRequest || VcpuRef(v).ApfReadyRequest == 1;

    /// <summary>
    /// Whether a completion of vCPU <paramref name="s"/> is dequeued onto vCPU <paramref name="v"/> next: one can be
    /// (<see cref="CanDequeue"/>), and for its own list a check is due (<see cref="ReadyRequested"/>). After a request
    /// served while nothing could be dequeued (the token slot busy, the LAPIC off), what follows waits for the guest's
    /// MSR_KVM_ASYNC_PF_ACK or a new request: async_pf_execute makes one only for a completion on an empty list.
    /// </summary>
    private bool DequeueDue(int v, int s) => CanDequeue(v, s) && (v != s || ReadyRequested(v));

    /// <summary>
    /// vcpu_enter_guest serves KVM_REQ_APF_READY on vCPU <paramref name="v"/> (kvm_check_request clears it), or code
    /// that calls kvm_check_async_pf_completion itself (the ACK MSR write) runs it: the loop, and no request left.
    /// </summary>
    private void ServeReadyRequest<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        VcpuRef(v).ApfReadyRequest = 0;
        CheckCompletions(v, ref sink);
    }

    /// <summary>
    /// vcpu_enter_guest on vCPU <paramref name="v"/> after an exit: it serves KVM_REQ_APF_READY if one is pending
    /// (<see cref="ReadyRequested"/>; the 5.8+ host keeps no other way in). Returns whether the check dequeued
    /// anything.
    /// </summary>
    private bool ServePendingReadyRequest<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        if (!ReadyRequested(v))
        {
            return false;
        }

        var dequeues = CanDequeue(v, v);
        ServeReadyRequest(v, ref sink);
        return dequeues;
    }

    /// <summary>
    /// vCPU <paramref name="v"/>, in guest mode, exits inside another step of the model's: its guest tick (a
    /// PREEMPTION_TIMER exit, <see cref="ActionKind.Tick"/>), the kick of an NMI raised for it
    /// (<see cref="ActionKind.RaiseNmi"/>: __apic_accept_irq's APIC_DM_NMI case calls kvm_inject_nmi, then
    /// kvm_vcpu_kick), or the kick of any interrupt raised for it (<see cref="Raise"/>: a reschedule IPI, a task's
    /// wake, another vCPU's page-ready). Under the 5.8+ host the entry after it serves a pending KVM_REQ_APF_READY as every entry does
    /// (vcpu_enter_guest: kvm_check_request before kvm_check_and_inject_events), so what can be dequeued is, before the
    /// step's own interrupt or NMI is injected, and a request that cannot dequeue (the token slot busy, the LAPIC off)
    /// is used up. Without this a tick left the request pending, and a later exit dequeued what KVM leaves for the ACK.
    /// </summary>
    private void ServeReadyRequestAtOwnExit<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        if (TracksReadyRequest && InGuestMode(v))
        {
            ServePendingReadyRequest(v, ref sink);
        }
    }

    /// <summary>kvm_check_async_pf_completion's loop on vCPU <paramref name="v"/>'s own done list: dequeue while <see cref="CanDequeue"/> holds.</summary>
    private void CheckCompletions<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
        => CheckCompletions(v, v, ref sink);

    /// <summary>
    /// The same loop on vCPU <paramref name="s"/>'s done list, each page-ready notified on vCPU <paramref name="v"/>
    /// (another vCPU only under host.apf.ready_target=any).
    /// </summary>
    private void CheckCompletions<TSink>(int v, int s, ref TSink sink)
        where TSink : IModelEventSink
    {
        while (CanDequeue(v, s) && GlobalsRef.Outcome == GuestOutcome.Running)
        {
            Dequeue(v, s, ref sink);
        }
    }

    /// <summary>One iteration of kvm_check_async_pf_completion: ready (prefault) and present (notify, un-halt).</summary>
    private void Dequeue<TSink>(int v, int s, ref TSink sink)
        where TSink : IModelEventSink
    {
        var item = DoneHead(s);
        ref var w = ref WorkRef(item);
        for (var i = 0; i < _workCapacity; i++)
        {
            ref var other = ref WorkRef(i);
            if (other.Kind != WorkKind.Free && other.Vcpu == s && other.DoneOrder > 1)
            {
                other.DoneOrder--;
            }
        }

        ref var source = ref VcpuRef(s);
        ref var target = ref VcpuRef(v);

        // kvm_arch_async_page_present ends with apf.halted = false and mp_state = KVM_MP_STATE_RUNNABLE
        // whatever it injected: the halt ends below, by the state before the 5.7 #PF branch moves it.
        var sourceHalted = source.Run == RunState.HostHalted;
        var targetInHlt = target.Run == RunState.GuestHalt && !_host.HltInGuest;
        source.Done--;
        if (source.Done == 0)
        {
            source.ApfReadyRequest = 0;
        }

        var wakeAll = w.Kind == WorkKind.WakeAll;
        var token = wakeAll ? BroadcastToken : w.Token;
        var failed = w.Status == WorkStatus.Failed;
        var notify = _host.PvApf && source.ApfEnabled == 1
            && (wakeAll || w.NotPresentInjected == 1 || !_host.ReadyOnlyIfNotPresentDelivered);
        if (notify && !wakeAll && w.NotPresentInjected == 0)
        {
            Violated(SafetyProperty.ReadyMatchesNotPresent, v, target.CurrentTask, ref sink);
        }

        if (failed && w.NotPresentInjected == 0 && w.Page >= 0)
        {
            // error_gfn of msgid 20200720211359.GF502563@redhat.com: the next fault on it is synchronous and ends in an exit to the VMM.
            PageRef(w.Page).Flags |= PageFlags.KnownFailed;
        }

        var page = w.Page;
        if (!wakeAll && page >= 0 && PageRef(page).Host == HostPage.NotInEpt)
        {
            // kvm_arch_async_page_ready (arch/x86/kvm/mmu/mmu.c; x86.c before 5.10): the prefault,
            // kvm_mmu_do_page_fault(..., prefetch = true), maps the page before the page-ready is sent;
            // a wake-all has no page (work->wakeup_all returns early).
            PageRef(page).Host = HostPage.Resident;
        }

        w = default;
        if (source.ApfQueued > 0)
        {
            source.ApfQueued--;
        }

        sink.On(new ModelEvent(ModelEventKind.ReadyDequeued, (byte)v, target.CurrentTask, notify ? (byte)1 : (byte)0, token, page));
        if (notify)
        {
            if (_host.Ready == ReadyDelivery.Interrupt)
            {
                target.ApfToken = token;
                target.Reserved = failed ? (byte)1 : (byte)0;
                Raise(v, ModelVector.Callback, ref sink);
            }
            else if (_host.CancelPendingNotPresent && target.ApfFlags == 1 && target.Pending == PendingEvent.PfNotPresent)
            {
                // 9a6e7c39810e: cancel the pending not-present and this ready, without matching tokens.
                // The cancelled not-present only makes the access retry; the cancelled page-ready is
                // lost, and the task waiting for its token sleeps forever (no-lost-wakeup).
                target.ApfFlags = 0;
                target.Pending = PendingEvent.None;
            }
            else
            {
                target.ApfFlags = 2;
                target.Pending = QueuePageReady(target.Pending);
                target.PendingToken = token;
                if (target.Run is RunState.GuestHalt or RunState.HostHalted)
                {
                    target.Run = RunState.InHost;
                }
            }
        }

        source.WokenByCompletion = 0;
        if (sourceHalted)
        {
            source.Run = AfterHost;
            source.ApfHalted = 0;
            sink.On(new ModelEvent(ModelEventKind.Unhalted, (byte)s, source.CurrentTask, 0, 0, -1));
        }
        else if (targetInHlt)
        {
            // kvm_arch_async_page_present: mp_state = KVM_MP_STATE_RUNNABLE, so a guest HLT ends too.
            target.Run = AfterHost;
            sink.On(new ModelEvent(ModelEventKind.Unhalted, (byte)v, target.CurrentTask, 2, 0, -1));
        }
    }

    /// <summary>
    /// kvm_inject_page_fault -> kvm_multiple_exception (arch/x86/kvm/x86.c, 5.7) for a page-ready #PF queued on top of
    /// <paramref name="pending"/>: nothing pending queues it; a pending #PF makes #DF (exception_class: page fault then
    /// page fault); a pending #DF (prev_nr == DF_VECTOR) requests KVM_REQ_TRIPLE_FAULT and leaves the #DF queued, so a
    /// later exception requests it again.
    /// </summary>
    private static PendingEvent QueuePageReady(PendingEvent pending)
    {
        if (pending == PendingEvent.None)
        {
            return PendingEvent.PfReady;
        }

        var previous = pending is PendingEvent.PfNotPresent or PendingEvent.PfReady ? Vectors.PF : Vectors.DF;
        return DoubleFault.Combine(previous, Vectors.PF, DoubleFaultRules.Kvm) switch
        {
            DoubleFaultOutcome.Serial => PendingEvent.PfReady,
            DoubleFaultOutcome.DoubleFault => PendingEvent.DoubleFault,
            _ => PendingEvent.TripleFault,
        };
    }

    /// <summary>
    /// True when vCPU <paramref name="v"/> is halted (KVM's artificial halt, or a guest HLT that
    /// exits) and its done list is not empty, but no completion can be dequeued: kvm_vcpu_block
    /// returns anyway (kvm_vcpu_has_events tests only list_empty_careful(&amp;vcpu-&gt;async_pf.done)).
    /// </summary>
    private bool WokenByUndequeuable(int v)
    {
        ref var cpu = ref VcpuRef(v);
        return cpu.Done > 0 && HaltedInHost(v) && !DequeueDue(v, v);
    }

    /// <summary>
    /// vCPU <paramref name="v"/>'s thread waits in kvm_vcpu_block: KVM's artificial halt, or a guest HLT that exits
    /// (without host.hlt_in_guest). Whatever ends it, the thread goes back in through vcpu_enter_guest.
    /// </summary>
    private bool HaltedInHost(int v)
    {
        ref var cpu = ref VcpuRef(v);
        return cpu.Run == RunState.HostHalted || (cpu.Run == RunState.GuestHalt && !_host.HltInGuest);
    }

    /// <summary>
    /// vCPU <paramref name="v"/> is in guest mode, running or halted in the guest (host.hlt_in_guest: HLT does not
    /// exit), where a host interrupt exits it.
    /// </summary>
    private bool InGuestMode(int v)
    {
        ref var cpu = ref VcpuRef(v);
        return cpu.Run == RunState.InGuest || (cpu.Run == RunState.GuestHalt && _host.HltInGuest);
    }

    /// <summary>
    /// vcpu_block: the halt ends (apf.halted = false, mp_state RUNNABLE) and vcpu_run loops; an
    /// artificial halt re-executes the faulting access, which halts again while its gfn is in flight.
    /// </summary>
    private void Unblock<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        cpu.ApfHalted = 0;
        cpu.WokenByCompletion = 1;

        // The entry after the wake serves a pending KVM_REQ_APF_READY, which finds nothing to dequeue.
        cpu.ApfReadyRequest = 0;
        cpu.Run = AfterHost;
        sink.On(new ModelEvent(ModelEventKind.Unhalted, (byte)v, cpu.CurrentTask, 3, 0, -1));
    }

    /// <summary>VM entry: inject the pending event (5.7 host).</summary>
    private void Enter<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        var pending = cpu.Pending;
        var token = cpu.PendingToken;
        cpu.Pending = PendingEvent.None;
        cpu.PendingToken = 0;
        cpu.Run = RunState.InGuest;
        if (pending != PendingEvent.None)
        {
            // kvm_queue_exception made KVM_REQ_EVENT when the event was queued.
            RequestEvent(v);
        }

        switch (pending)
        {
            case PendingEvent.PfNotPresent:
                DeliverException(v, Vectors.PF, FrameEvent.AsyncPfNotPresent, token, ref sink);
                break;
            case PendingEvent.PfReady:
                DeliverException(v, Vectors.PF, FrameEvent.AsyncPfReady, token, ref sink);
                break;
            case PendingEvent.DoubleFault:
                Violated(SafetyProperty.NoProtocolDoubleFault, v, cpu.CurrentTask, ref sink);
                sink.On(new ModelEvent(ModelEventKind.ExceptionDelivered, (byte)v, cpu.CurrentTask, Vectors.DF, 0, -1));
                Die(v, cpu.CurrentTask, PanicReason.DoubleFault, ref sink);
                break;
            case PendingEvent.TripleFault:
                // vcpu_enter_guest serves KVM_REQ_TRIPLE_FAULT before it injects anything: exit_reason =
                // KVM_EXIT_SHUTDOWN and a return to the VMM, so the guest never sees the #DF it had pending.
                Violated(SafetyProperty.NoProtocolDoubleFault, v, cpu.CurrentTask, ref sink);
                GlobalsRef.Outcome = GuestOutcome.VmError;
                sink.On(new ModelEvent(ModelEventKind.VmError, (byte)v, cpu.CurrentTask, 1, 0, -1));
                break;
        }
    }

    /// <summary>The #VE design's hypercall resolve_ept(can_continue).</summary>
    private void ResolveEpt<TSink>(int v, int t, ref Frame f, bool canContinue, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        sink.On(new ModelEvent(ModelEventKind.Hypercall, (byte)v, (byte)t, canContinue ? (byte)1 : (byte)0, 0, -1));
        sink.On(new ModelEvent(ModelEventKind.VmExit, (byte)v, (byte)t, (byte)ExitReason.Vmcall, 0, -1));
        var gpa = _guest.InfoStore == VeInfoStore.PvPage ? cpu.VePvGpa : f.R0;
        if (gpa != f.EventInfo)
        {
            Violated(SafetyProperty.FaultInfoIntact, v, t, ref sink);
        }

        if (canContinue && f.SavedIf == 0)
        {
            Violated(SafetyProperty.DosOnlyIf1, v, t, ref sink);
        }

        var page = PageOfAddress(gpa);
        f.R1 = 0;
        if (page < 0)
        {
            f.R1 = ErrorStatus;
            if (canContinue)
            {
                PostWakeup(v, TaskRef(t).WaitToken, true, ref sink);
            }

            return;
        }

        ref var pg = ref PageRef(page);
        if (pg.Host == HostPage.AbsentNoIo)
        {
            pg.Host = HostPage.Resident;
        }

        var knownFailed = (pg.Flags & PageFlags.KnownFailed) != 0;
        if (pg.Host == HostPage.Resident || knownFailed)
        {
            // Nothing to wait for: the answer comes back at once (an error for a remembered failure).
            if (canContinue)
            {
                PostWakeup(v, TaskRef(t).WaitToken, knownFailed, ref sink);
            }
            else
            {
                f.R1 = knownFailed ? ErrorStatus : 0;
            }

            return;
        }

        if (canContinue)
        {
            NewWork(WorkKind.VeResolve, v, page, TaskRef(t).WaitToken);
            sink.On(new ModelEvent(ModelEventKind.AsyncStarted, (byte)v, (byte)t, 2, TaskRef(t).WaitToken, page));
        }
        else
        {
            SyncStall(v, page, hypercall: true, ref sink);
        }
    }

    /// <summary>Posts {token, status} to the vCPU's wakeup ring and raises the wakeup vector.</summary>
    private void PostWakeup<TSink>(int v, uint token, bool error, ref TSink sink)
        where TSink : IModelEventSink
    {
        for (var i = 0; i < _ringCapacity; i++)
        {
            ref var r = ref RingRef(v, i);
            if (r.Used == 0)
            {
                r = new WakeRecord { Token = token, Used = 1, Error = error ? (byte)1 : (byte)0 };
                if (VcpuRef(v).LapicEnabled == 1)
                {
                    Raise(v, ModelVector.Callback, ref sink);
                }

                return;
            }
        }

        throw new InvalidOperationException("wakeup ring full");
    }

    /// <summary>
    /// kvm_guest_cpu_offline: kvm_pv_disable_apf() (a no-op unless the guest enabled APF) writes 0 to
    /// MSR_KVM_ASYNC_PF_EN; the host's kvm_pv_enable_async_pf then calls
    /// kvm_clear_async_pf_completion_queue (outstanding work cancelled, completions freed, nothing
    /// notified) and resets the gfn hash. The guest then runs apf_task_wake_all() for this CPU.
    /// kvm_cpu_down_prepare is a CPUHP_AP_ONLINE_DYN teardown callback: CPUHP_AP_ACTIVE's
    /// sched_cpu_deactivate has already taken the CPU out of cpu_active_mask (<see cref="CpuDeactivate"/>,
    /// stepped before the hotplug thread's first op), so the tasks woken here go to an active CPU.
    /// </summary>
    private void ApfDisable<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        if (!_host.PvApf || cpu.ApfEnabled == 0)
        {
            return;
        }

        sink.On(new ModelEvent(ModelEventKind.VmExit, (byte)v, cpu.CurrentTask, (byte)ExitReason.MsrWrite, 0, -1));
        cpu.ApfEnabled = 0;
        ClearCompletionQueue(v);

        // apf_task_wake_all: every node of this CPU; apf_task_wake_one never frees a dummy.
        for (var i = 0; i < _sleepCapacity; i++)
        {
            ref var n = ref SleepRef(i);
            if (n.Used == SleepNode.Hashed && n.Cpu == v)
            {
                if (n.Dummy == 1)
                {
                    LeakDummy(i);
                }
                else
                {
                    WakeNode(v, i, false, ref sink);
                }
            }
        }
    }

    /// <summary>
    /// kvm_clear_async_pf_completion_queue: queued work is cancelled (cancel_work_sync) and the
    /// done list freed, without notifying the guest; async_pf.queued = 0. With
    /// <paramref name="veResolveToo"/> the #VE host's resolve work goes as well (a migration's
    /// destination starts with none of the source's host work).
    /// </summary>
    private void ClearCompletionQueue(int v, bool veResolveToo = false)
    {
        ref var cpu = ref VcpuRef(v);
        for (var i = 0; i < _workCapacity; i++)
        {
            ref var w = ref WorkRef(i);
            if (w.Vcpu == v && (w.Kind is WorkKind.Async or WorkKind.WakeAll || (veResolveToo && w.Kind == WorkKind.VeResolve)))
            {
                if (w.Page >= 0 && w.Status == WorkStatus.InFlight)
                {
                    PageRef(w.Page).InFlight--;
                }

                w = default;
            }
        }

        cpu.ApfQueued = 0;
        cpu.Done = 0;
        cpu.ApfReadyRequest = 0;
        cpu.WokenByCompletion = 0;
    }

    /// <summary>
    /// The guest software-enables its LAPIC. 2f15d027c05f makes apic_set_spiv and
    /// kvm_lapic_set_base request KVM_REQ_APF_READY, so completions held back while it was
    /// disabled are dequeued before the guest runs on; the #VE host raises what it held back.
    /// </summary>
    private void LapicEnabled<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        if (_host.DequeueRequiresLapicEnabled && _host.Ready == ReadyDelivery.Interrupt)
        {
            // The APIC write exits; vcpu_enter_guest serves KVM_REQ_APF_READY before the next entry with
            // kvm_check_async_pf_completion, which dequeues while kvm_arch_can_dequeue_async_page_present holds.
            ServeReadyRequest(v, ref sink);
        }

        for (var i = 0; i < _ringCapacity; i++)
        {
            if (RingRef(v, i).Used == 1)
            {
                Raise(v, ModelVector.Callback, ref sink);
                return;
            }
        }
    }

    /// <summary>
    /// __apic_accept_irq for a fixed interrupt: <paramref name="vector"/> goes into vCPU <paramref name="v"/>'s IRR, and
    /// a vCPU in guest mode is kicked. <paramref name="ownExit"/> names the exit that brings it out of guest mode: the
    /// kick's (an EXTERNAL_INTERRUPT for the host's RESCHEDULE_VECTOR, kvm_vcpu_kick -> smp_send_reschedule), or the
    /// tick's own PREEMPTION_TIMER.
    /// </summary>
    private void Raise<TSink>(int v, ModelVector vector, ref TSink sink, ExitReason ownExit = ExitReason.ExternalInterrupt)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        if (cpu.LapicEnabled == 0)
        {
            // kvm_apic_set_irq fails on a software-disabled LAPIC: the interrupt is lost.
            sink.On(new ModelEvent(ModelEventKind.InterruptDropped, (byte)v, cpu.CurrentTask, (byte)vector, 0, -1));
            return;
        }

        cpu.Irr |= (byte)(1 << (int)vector);
        sink.On(new ModelEvent(ModelEventKind.InterruptRaised, (byte)v, cpu.CurrentTask, (byte)vector, 0, -1));

        // __apic_accept_irq: kvm_lapic_set_irr, then KVM_REQ_EVENT and a kick (the model has no APICv). The kick exits
        // a vCPU in guest mode, and the entry after it serves a pending KVM_REQ_APF_READY.
        RequestEvent(v);
        OwnExit(v, ownExit, ownExit == ExitReason.ExternalInterrupt ? KickVector : 0u, ref sink);
    }

    /// <summary>
    /// vCPU <paramref name="v"/>'s own exit inside another step (<see cref="Raise"/>'s kick, <see cref="RaiseNmi"/>'s
    /// EXCEPTION_NMI): the 5.8+ entry after it serves a pending KVM_REQ_APF_READY, and the 5.7 vcpu_run checks
    /// completions after it; each does nothing under the other host.
    /// </summary>
    private void OwnExit<TSink>(int v, ExitReason reason, uint vector, ref TSink sink)
        where TSink : IModelEventSink
    {
        ServeReadyRequestAtOwnExit(v, ref sink);
        CheckCompletionsAtOwnExit(v, reason, vector, ref sink);
    }

    /// <summary>
    /// The host's RESCHEDULE_VECTOR (arch/x86/include/asm/irq_vectors.h), which kvm_vcpu_kick sends
    /// (smp_send_reschedule) to the pCPU of a vCPU in guest mode: the interruption information of its exit.
    /// </summary>
    public const uint KickVector = 0xFD;

    /// <summary>
    /// Under the 5.7 host, vCPU <paramref name="v"/> in guest mode takes an exit of its own inside another step: the kick
    /// of an interrupt raised for it (<see cref="Raise"/>, whose exit carries <paramref name="vector"/>, the host's
    /// interrupt), the host NMI of a vPMU overflow (<see cref="RaiseNmi"/>: EXCEPTION_NMI, then __apic_accept_irq's
    /// APIC_DM_NMI case queues the guest's NMI and kicks), or a window exit (<see cref="StepToWindow"/>). 5.7's async_pf_execute
    /// neither kicks nor requests anything (557a961abbe0 added KVM_REQ_APF_READY and the kick in 5.8), and vcpu_run calls
    /// kvm_check_async_pf_completion after every vcpu_enter_guest that returns 1, so a completion waiting on the done list
    /// is dequeued after this exit, before the entry that injects the raised event: where that check injects a
    /// page-ready (<see cref="CompletionCheckInjectsAtOwnExit"/>) the exit is reported and the vCPU stays in the host
    /// with the #PF pending, and its Enter delivers it, the raised event after it as it can be taken. An exit whose check
    /// injects nothing changes nothing the guest sees, and is left out, as <see cref="ActionKind.HostExit"/> is.
    /// </summary>
    private void CheckCompletionsAtOwnExit<TSink>(int v, ExitReason reason, uint vector, ref TSink sink)
        where TSink : IModelEventSink
    {
        if (!CompletionCheckInjectsAtOwnExit(v))
        {
            return;
        }

        sink.On(new ModelEvent(ModelEventKind.VmExit, (byte)v, VcpuRef(v).CurrentTask, (byte)reason, vector, -1));
        CheckCompletionsAfterExit(v, ref sink);
    }

    private void RaiseNmi<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        Spend(ref GlobalsRef.NmiBudget);
        ref var cpu = ref VcpuRef(v);

        // kvm_inject_nmi -> nmi_queued++, KVM_REQ_NMI and a kick; process_nmi adds the queued NMI to
        // nmi_pending, capped at NmiLimit, and makes KVM_REQ_EVENT. The guest runs no instruction in
        // between, so its state now is KVM's then.
        cpu.NmiPending = (byte)Math.Min(cpu.NmiPending + 1, NmiLimit(v));
        sink.On(new ModelEvent(ModelEventKind.External, (byte)v, cpu.CurrentTask, (byte)ActionKind.RaiseNmi, 0, -1));
        OwnExit(v, ExitReason.ExceptionNmi, 0, ref sink);

        // KVM_REQ_EVENT: kvm_check_and_inject_events injects a pending NMI if vmx_nmi_allowed, else calls
        // enable_nmi_window. vmx_enable_nmi_window asks for an interrupt window when the guest has blocking by
        // STI (SDM Vol. 3C 25.2: NMI-window exiting may be held off by STI blocking), whether or not the guest
        // also blocks NMIs. A second NMI that comes while the first waits behind that window after the shadow
        // ended (sti; cli) has the first injected now, with IF=0 (RequestEvent).
        if (!EventBlocking.CanAcceptNmi(ArchState(v), _guest.StiBlocksNmi) && cpu.Shadow == InterruptShadow.Sti)
        {
            cpu.NmiIrqWindow = 1;
        }

        RequestEvent(v);

        if (CanDeliverNmi(v))
        {
            DeliverNmi(v, ref sink);
        }
    }

    /// <summary>
    /// process_nmi's cap on vcpu->arch.nmi_pending (arch/x86/kvm/x86.c): 1 while the guest blocks NMIs
    /// (vmx_get_nmi_mask: it is in its NMI handler, before the IRET) or an injection is under way, else 2, one to
    /// inject at once and one to follow through the NMI window. The model injects in one action, so nmi_injected
    /// is never seen set. An NMI over the cap is dropped.
    /// </summary>
    private int NmiLimit(int v) => VcpuRef(v).NmiBlocked == 1 ? 1 : 2;

    /// <summary>
    /// KVM_REQ_EVENT for vCPU <paramref name="v"/>: the next vcpu_enter_guest runs kvm_check_and_inject_events,
    /// which looks at the pending NMI again. One held behind an interrupt window (<see cref="VcpuState.NmiIrqWindow"/>)
    /// is injected then if vmx_nmi_allowed, or waits for an NMI window if NMIs are blocked without STI; only with
    /// the STI shadow still on does vmx_enable_nmi_window ask for the interrupt window again. An exit alone does
    /// not re-evaluate: vcpu_enter_guest calls kvm_check_and_inject_events only on KVM_REQ_EVENT (or an
    /// interrupt window userspace asked for).
    /// </summary>
    private void RequestEvent(int v)
    {
        ref var cpu = ref VcpuRef(v);
        if (cpu.NmiIrqWindow == 1 && cpu.Shadow != InterruptShadow.Sti)
        {
            cpu.NmiIrqWindow = 0;
        }
    }

    /// <summary>
    /// Interrupt-window exiting (SDM Vol. 3C 25.2): a VM exit before any instruction with RFLAGS.IF=1 and no
    /// blocking by STI or MOV SS. For an NMI held behind that window, handle_interrupt_window clears the control
    /// and makes KVM_REQ_EVENT: the NMI is injected next, or waits for an NMI window while the guest blocks
    /// NMIs. Run after every action, so no state holds the bit with the window open.
    /// </summary>
    private void InterruptWindowOpens()
    {
        for (var v = 0; v < _vcpus; v++)
        {
            ref var cpu = ref VcpuRef(v);
            if (cpu.NmiIrqWindow == 1 && cpu.If == 1 && cpu.Shadow == InterruptShadow.None)
            {
                cpu.NmiIrqWindow = 0;
            }
        }
    }

    /// <summary>The host truncates the DAX file: its pages can never be brought in again.</summary>
    private void Truncate<TSink>(ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var g = ref GlobalsRef;
        Spend(ref g.TruncateBudget);
        g.Truncated = 1;
        for (var p = 0; p < _config.Pages; p++)
        {
            ref var pg = ref PageRef(p);
            if ((pg.Flags & PageFlags.Dax) != 0)
            {
                pg.Host = HostPage.Unrecoverable;
            }
        }

        sink.On(new ModelEvent(ModelEventKind.External, 0, 0, (byte)ActionKind.Truncate, 0, -1));
    }

    /// <summary>
    /// Migration done: the destination has no outstanding work; QEMU restores the APF MSR and
    /// kvm_async_pf_wakeup_all queues a broadcast; the #VE host posts a broadcast wakeup.
    /// kvm_pv_enable_async_pf returns before kvm_async_pf_wakeup_all when the restored value does not
    /// enable PV APF (5.7: KVM_ASYNC_PF_ENABLED clear; 5.8+, 2635b5c4a0aa: kvm_pv_async_pf_enabled
    /// false), so a guest that never enabled it (kvm-halt) or disabled it (apf-disable) gets none.
    /// The destination's vCPU is a new one (kvm_vm_ioctl_create_vcpu zero-allocates it) and apf.halted
    /// is in no migrated state: a vCPU the source held in the APF halt runs, and retries its access.
    /// Nor is apf.id (QEMU restores MSR_KVM_ASYNC_PF_EN and _INT; kvm_pv_enable_async_pf does not
    /// touch it): the destination's tokens start again at the source's first, (1 &lt;&lt; 12) | vcpu_id
    /// from alloc_apf_token (vcpu_id before 6f3c1fc53d86), while the guest may still sleep on them.
    /// </summary>
    private void Reenable<TSink>(ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var g = ref GlobalsRef;
        Spend(ref g.ReenableBudget);
        sink.On(new ModelEvent(ModelEventKind.External, 0, 0, (byte)ActionKind.Reenable, 0, -1));
        for (var v = 0; v < _vcpus; v++)
        {
            ref var cpu = ref VcpuRef(v);
            ClearCompletionQueue(v, veResolveToo: true);
            cpu.ApfNextId = 0;
            if (cpu.Run == RunState.HostHalted)
            {
                // The destination's first KVM_RUN: kvm_vcpu_running() (apf.halted false), so vcpu_run()
                // calls vcpu_enter_guest() before anything else, on every host.
                cpu.Run = RunState.InGuest;
                cpu.ApfHalted = 0;
                sink.On(new ModelEvent(ModelEventKind.Unhalted, (byte)v, cpu.CurrentTask, 5, 0, -1));
            }
            else if (_host.DequeueOnlyAtEntry && cpu.Run == RunState.InHost)
            {
                // A vCPU the source held between exit and entry enters first on the destination too:
                // vcpu_enter_guest() injects the exception KVM_SET_VCPU_EVENTS restored.
                Enter(v, ref sink);
            }
        }

        // Every vCPU has entered before any wake-all is queued, so an entry that kills the guest
        // leaves no vCPU with a wake-all that another vCPU's, processed first, would lack: the
        // result does not depend on the vCPUs' order (VcpuSymmetry relies on that).
        if (g.Outcome != GuestOutcome.Running)
        {
            return;
        }

        for (var v = 0; v < _vcpus; v++)
        {
            ref var cpu = ref VcpuRef(v);
            if (_host.Ready == ReadyDelivery.WakeupRing)
            {
                PostWakeup(v, BroadcastToken, false, ref sink);
                continue;
            }

            if (_host.AsyncPf && _host.PvApf && cpu.ApfEnabled == 1)
            {
                var item = NewWork(WorkKind.WakeAll, v, -1, BroadcastToken);
                ref var w = ref WorkRef(item);
                w.Status = WorkStatus.Done;
                w.DoneOrder = 1;
                cpu.Done = 1;
                cpu.ApfQueued = 1;

                // The MSR is restored before the vCPU runs. 5.8+: kvm_async_pf_wakeup_all() calls
                // kvm_arch_async_page_present_queued(), whose KVM_REQ_APF_READY vcpu_enter_guest()
                // handles before the first entry, so the broadcast is raised before the guest
                // executes anything. 5.7 has neither (557a961abbe0 added both): its
                // kvm_async_pf_wakeup_all() makes no request and no kick, and vcpu_run() calls
                // kvm_check_async_pf_completion() only after vcpu_enter_guest() or vcpu_block()
                // returns. A vCPU in the guest runs first and gets the wake-all at its next exit
                // (a tick, an EPT violation; a cancelled entry is the tick without a step); only a
                // halted one, whose vcpu_block() ends on the non-empty done list
                // (kvm_vcpu_has_events()), takes it before the guest runs.
                if (CanDequeue(v, v))
                {
                    Dequeue(v, v, ref sink);
                }
            }
        }
    }

    /// <summary>
    /// An access in the SYSCALL gap or NMI entry, to the entry text page: a #VE there (the
    /// page not registered never-convertible) is fatal; otherwise an ordinary exit.
    /// </summary>
    private bool EntryWindowAccess<TSink>(int v, int t, ref TSink sink)
        where TSink : IModelEventSink
    {
        var page = _config.EntryPage;
        ref var pg = ref PageRef(page);
        if (pg.Host == HostPage.Resident)
        {
            return true;
        }

        ref var cpu = ref VcpuRef(v);
        if (RaisesVe(ref cpu, ref pg))
        {
            cpu.VeBusy = VeConversion.BusyValue;
            cpu.VeGpa = AddressOf(page);
            sink.On(new ModelEvent(ModelEventKind.VeDelivered, (byte)v, (byte)t, 1, 0, page));
            Violated(SafetyProperty.NoVeInEntryWindow, v, t, ref sink);
            Die(v, t, PanicReason.VeInEntryWindow, ref sink);
            return false;
        }

        sink.On(new ModelEvent(ModelEventKind.VmExit, (byte)v, (byte)t, (byte)ExitReason.EptViolation, 0, page));
        SyncStall(v, page, hypercall: false, ref sink, VeBusyRefused(ref cpu, ref pg));
        return false;
    }

    /// <summary>
    /// A convertible EPT violation that became an exit only because the #VE information area's busy word was set
    /// (SDM Vol. 3C 25.5.6: the processor does not deliver a #VE while it is nonzero).
    /// </summary>
    private bool VeBusyRefused(ref VcpuState cpu, ref PageState pg) =>
        _host.Convertible != VeConvertible.None && Convertible(ref pg) && cpu.VeBusy != 0;
}
