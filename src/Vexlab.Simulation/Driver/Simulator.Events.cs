using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using MetricsExit = Vexlab.Simulation.Metrics.ExitReason;
using ModelExit = Vexlab.Model.Machine.ExitReason;

namespace Vexlab.Simulation.Driver;

/// <summary>
/// What the driver does with each model event: hand it to the digest and the metrics, charge its
/// cost to the step that produced it, keep host memory's count, and write its trace records.
/// </summary>
public sealed partial class Simulator
{
    private void OnEvent(in ModelEvent e)
    {
        _digest.Append(_now, in e);
        var nmiExit = e.Kind == ModelEventKind.NmiDelivered && e.Vcpu < _vcpus && _tracepoints.InGuestMode(e.Vcpu, Math.Min(_now + _stepCost, _tracepoints.EndLimitNs));

        // The model puts a vCPU back in guest mode as soon as an NMI's source delivers the NMI, but KVM injects it
        // at the vCPU's next entry, after the wake that the halt's end costs: until then the vCPU is still in the
        // host, and a guest tick's EXTERNAL_INTERRUPT exit that the model (kvm-pf, whose 5.7 host dequeues
        // page-ready at entry) takes in that window is none. The tracepoints drop it; so do the counters and the cost.
        var exitFromHost = e.Kind == ModelEventKind.VmExit && e.Vcpu < _vcpus && (ModelExitIsNone || _tracepoints.InHost(e.Vcpu));
        if (!(ModelExitIsNone && e.Kind == ModelEventKind.VmExit))
        {
            // A minor EPT fault under kvm-pf leaves the vCPU in the host until its Enter step: 5.7's vcpu_run checks the
            // done list after the exit, and a completion that came during the exit's handling is dequeued before that
            // entry, whose page-ready #PF the guest takes before it retries the access. The model completes the access in
            // the faulting step all the same, so its AccessDone is no guest code: the kvm_entry is the Enter step's,
            // with the injection it makes. Entering at the AccessDone traced that page-ready as delivered in guest mode,
            // with no kvm_inj_exception (far-memory under kvm-pf: 547 APF injections counted, 546 traced).
            var inHostAfterAccess = e.Kind == ModelEventKind.AccessDone && e.Vcpu < _vcpus && _m.Vcpu(e.Vcpu).Run == RunState.InHost;
            _tracepoints.On(_now, _stepCost, inHostAfterAccess ? -1 : _actor, in e);
        }

        if (nmiExit)
        {
            // The PMI exits only from guest mode (EXCEPTION_NMI), and KVM handles it before it
            // injects the NMI and enters again: the exit's cost, as an external interrupt's. A vCPU
            // halted in the host takes its NMI at the next entry, without an exit. An NMI the guest
            // blocked when it arrived (its exit was charged then) comes in by the vCPU's own step when
            // the guest unblocks NMIs: the window exit KVM asked for (enable_nmi_window).
            _metrics.Counters.RecordExit(_actor == e.Vcpu ? _tracepoints.NmiWindowExit(e.Vcpu) : MetricsExit.ExceptionNmi, _c.SimpleExit);
            _stepCost += _c.SimpleExit;
        }

        if (e.Kind == ModelEventKind.NmiDelivered && e.Vcpu == _raisingNmi)
        {
            _raisedNmiDelivered = true;
        }

        if (e.Kind == ModelEventKind.VmExit && e.Vcpu == _raisingNmi)
        {
            // The 5.7 host's check after the PMI's exit injected a page-ready (kvm-pf): the model reports that
            // EXCEPTION_NMI exit itself, so the driver's own count of a PMI that finds the NMI held is none.
            _raisedNmiExited = true;
        }

        // At the event's own time, after what the step did before it: an access that a minor EPT fault maps in the same
        // step (the host already had the page) completes after that exit's handling, not at the step's start.
        _metrics.Observe(_now + _stepCost, in e, _events, e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == Vexlab.Model.Arch.Vectors.PF ? _m.TopFrame(e.Task).Event : Vexlab.Model.Guest.FrameEvent.Task);
        if (e.Vcpu < 64)
        {
            _dirty |= 1UL << e.Vcpu;
        }

        switch (e.Kind)
        {
            case ModelEventKind.Compute:
                _stepCost += ComputeNs(in e);
                _computeTask = e.Task;
                break;
            case ModelEventKind.KernelStep:
                _stepCost += _c.MicroOp;
                break;
            case ModelEventKind.VmExit:
                if (!exitFromHost)
                {
                    OnExit(in e);
                }

                break;
            case ModelEventKind.ExceptionDelivered:
                _stepCost += ExceptionDeliveryNs(in e);
                break;
            case ModelEventKind.VeDelivered:
                _stepCost += _c.VeDelivery;
                break;
            case ModelEventKind.InterruptDelivered:
                _stepCost += e.Aux == (byte)ModelVector.Callback ? _c.ApfReadyIrq : _c.InterruptInject;
                if (e.Aux == (byte)ModelVector.Timer && e.Vcpu < _vcpus)
                {
                    _stepCost += GuestTimerRearm(e.Vcpu);
                }

                break;
            case ModelEventKind.NmiDelivered:
                _stepCost += _c.InterruptInject;
                break;
            case ModelEventKind.GuestMinorFault:
                _stepCost += _c.GuestPfMinor;
                break;
            case ModelEventKind.MinorEptFault:
                _stepCost += _c.EptViolationMinor;
                if (e.Aux == 0)
                {
                    // Aux 1: async work brought the page in and WorkCompleted counted its frame; only the EPT entry is new.
                    _memory.Mapped(_now);
                    WakeKswapd();
                }

                break;
            case ModelEventKind.ArtificialHalt:
                if (!_asyncStarted)
                {
                    // kvm_faultin_pfn found the gfn in this vCPU's hash: trace_kvm_async_pf_repeated_fault.
                    _metrics.Counters.Signals.Increment(Metrics.SignalKind.ApfRepeatedFault);
                }

                break;
            case ModelEventKind.AsyncStarted:
                _scanWork = true;
                _asyncStarted = true;
                if (e.Page >= 0 && _m.Page(e.Page).InFlight > 1 && QueuedOnAnotherVcpu(e.Page, e.Vcpu))
                {
                    // The gfn hash is per vCPU (kvm_find_async_pf_gfn looks in vcpu->arch.apf.gfns):
                    // another vCPU's work for this page does not stop a second one.
                    _metrics.Counters.Signals.Increment(Metrics.SignalKind.ApfDuplicateWork);
                }

                break;
            case ModelEventKind.SyncStall:
                _scanWork = true;
                break;
            case ModelEventKind.Hypercall:
                _scanWork = true;
                break;
            case ModelEventKind.WorkCompleted:
                if (e.Aux == 0 && e.Page >= 0)
                {
                    _memory.SwappedIn(e.Page);
                }

                break;
            case ModelEventKind.ReadyDequeued:
                if (e.Aux == 1)
                {
                    _stepCost += _c.InterruptInject;
                }

                break;
            case ModelEventKind.TaskSlept:
            case ModelEventKind.TaskExited:
                _sched.Advance(e.Vcpu, _now);
                _sched.Dequeue(e.Task);
                _schedDirty |= 1UL << e.Vcpu;
                break;
            case ModelEventKind.AccessDone:
                _memory.Accessed(e.Page, e.Token == 1);
                break;
            case ModelEventKind.PageCacheLookup:
                _pageCache?.Lookup(e.Page, e.Aux == 1);
                break;
            case ModelEventKind.TaskBlocked:
                OnBlocked(in e);
                break;
            case ModelEventKind.IterationDone:
                OnIteration(e.Task);
                break;
            case ModelEventKind.Signal:
                {
                    // Every signal the model sends (SIGBUS, SIGSEGV) kills the task, which leaves the
                    // run queue now, as one that exits does: do_exit -> do_task_dead -> __schedule
                    // dequeues it (dequeue_task, after update_curr) before the pick, so pick_eevdf's
                    // avg_vruntime, nr_running and the buddies no longer see it. Without this the
                    // dead task stayed queued until the step's end and weighed in the pick that
                    // replaced it (SendSignal -> EndTask -> Schedule, in the same step).
                    var home = _m.Task(e.Task).Vcpu;
                    _sched.Advance(home, _now);
                    _sched.Dequeue(e.Task);
                    _schedDirty |= 1UL << home;
                    break;
                }
            case ModelEventKind.TaskWoken:
                {
                    var home = _m.Task(e.Task).Vcpu;
                    Placed(e.Task, home);
                    _sched.Advance(home, _now);
                    _sched.Enqueue(e.Task);
                    _schedDirty |= 1UL << home;

                    // account_entity_enqueue: the woken task goes to the head of cfs_tasks.
                    _balancer?.Ran(e.Task);

                    break;
                }

            case ModelEventKind.ContextSwitch:
                _stepCost += _c.ContextSwitch;
                _sched.Advance(e.Vcpu, _now);
                _sched.Switched(e.Task);
                _schedDirty |= 1UL << e.Vcpu;
                if (_balancer is not null)
                {
                    _balancer.Switched(e.Vcpu, e.Task, _now);
                    if (e.Task < _vcpus)
                    {
                        // pick_next_task_fair found nothing to run: newidle_balance.
                        _newIdle |= 1UL << e.Vcpu;
                    }
                }

                break;
            default:
                break;
        }
    }

    /// <summary>
    /// An exception's delivery in the guest: #VE's is cost.ve_delivery, charged on VeDelivered; the not-present #PF
    /// (kvm_arch_async_page_not_present's, CR2 the token) is cost.apf_not_present_guest, the #PF's delivery with the
    /// guest's sleep-table insert (kvm_async_pf_task_wait_schedule), charged as the guest takes it: after KVM's
    /// kvm_entry, so it is guest time, not the EPT_VIOLATION exit's. Charged at AsyncStarted it came before the
    /// entry, and under kvm-pf-int the exit took 3.05 us of which 2.05 was the guest's handler. The schedule() that
    /// follows is the handler's ContextSwitch (cost.context_switch), not part of this cost (docs/costs.md).
    /// </summary>
    private long ExceptionDeliveryNs(in ModelEvent e)
    {
        if (e.Aux == Vexlab.Model.Arch.Vectors.VE)
        {
            return 0;
        }

        return e.Aux == Vexlab.Model.Arch.Vectors.PF && _m.TopFrame(e.Task).Event == Vexlab.Model.Guest.FrameEvent.AsyncPfNotPresent
            ? _c.ApfNotPresentGuest
            : _c.PfDelivery;
    }

    /// <summary>Whether a vCPU other than <paramref name="v"/> has async work in flight for <paramref name="page"/>.</summary>
    private bool QueuedOnAnotherVcpu(int page, int v)
    {
        for (var i = 0; i < _work; i++)
        {
            ref readonly var w = ref _m.Work(i);
            if (w.Kind == WorkKind.Async && w.Page == page && w.Vcpu != v)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The longest compute span, 2^60 ns (36 years): the clock plus it cannot overflow.</summary>
    private const long MaxSpanNs = 1L << 60;

    /// <summary>A compute op's length: its span from the scenario, or A units of cost.compute_unit.</summary>
    private long ComputeNs(in ModelEvent e)
    {
        var spans = _setup.ComputeSpans;
        if (e.Token > 0 && e.Token <= spans.Count)
        {
            var span = spans[(int)e.Token - 1];
            var unit = _c.ComputeUnit;

            // N units take N x cost.compute_unit, saturated: 'compute 10000000000000000' at 1 us a
            // unit is 1e19 ns, which wrapped past 2^63 to a negative span and ran in 1 ns (25
            // million passes in a 1 s run instead of none). MaxSpanNs is beyond any run's end
            // and leaves room to add it to the clock.
            var ns = unit > 0 && span.Units > (MaxSpanNs - span.Ns) / unit ? MaxSpanNs : (span.Units * unit) + span.Ns;
            return Math.Clamp(ns, 1, MaxSpanNs);
        }

        return _c.ComputeUnit * Math.Max(1, (int)e.Aux);
    }

    private void OnExit(in ModelEvent e)
    {
        var reason = (ModelExit)e.Aux;
        long cost;
        MetricsExit metric;
        switch (reason)
        {
            case ModelExit.InterruptWindow:
            case ModelExit.NmiWindow:
                // Under kvm-pf only: a window exit whose check injected a page-ready. The model reports it at the guest
                // step that opened the window and leaves the vCPU in the host, so InterruptWindowForBlockedNmi (which
                // looks for a vCPU still in guest mode) does not count it again; the NMI it held now waits for the NMI
                // window the #PF's entry asks for, which the NMI's delivery counts (NmiWindowExit).
                cost = _c.SimpleExit;
                metric = Tracing.KvmTracepoints.Metric(reason);
                _tracepoints.WindowExitTaken(e.Vcpu, _m.Vcpu(e.Vcpu).NmiPending != 0);
                break;
            case ModelExit.EoiWrite:
            case ModelExit.TprBelowThreshold:
                // The EOI write (an x2APIC MSR_WRITE, not the APF ACK) or the TPR write that let a pending interrupt in,
                // reported by the model only where the 5.7 host's check after it injected a page-ready.
                cost = _c.SimpleExit;
                metric = Tracing.KvmTracepoints.Metric(reason);
                break;
            case ModelExit.EptViolation:
                cost = _c.SimpleExit;
                metric = MetricsExit.EptViolation;
                break;
            case ModelExit.Hlt:
                cost = _c.SimpleExit;
                metric = MetricsExit.Hlt;
                break;
            case ModelExit.MsrWrite:
                cost = _c.AckMsrExit;
                metric = MetricsExit.MsrWrite;
                _metrics.Counters.Signals.Increment(Metrics.SignalKind.ApfAck);
                break;
            case ModelExit.Vmcall:
                cost = _c.Hypercall;
                metric = MetricsExit.Vmcall;
                break;
            case ModelExit.ExternalInterrupt:
                cost = _c.SimpleExit;
                metric = MetricsExit.ExternalInterrupt;
                break;
            case ModelExit.PreemptionTimer:
                cost = _c.SimpleExit;
                metric = MetricsExit.PreemptionTimer;
                _guestTimerExitTaken = true;
                break;
            default:
                cost = _c.SimpleExit;
                metric = MetricsExit.ExceptionNmi;
                break;
        }

        _metrics.Counters.RecordExit(metric, cost);
        if (reason == ModelExit.ExternalInterrupt && e.Token != 0 && e.Vcpu != _actor && e.Vcpu < _vcpus)
        {
            // The kick of an interrupt raised for another vCPU in guest mode (kvm-pf: the 5.7 host's check after it
            // injected a page-ready; Token is the host's IPI vector). Its handling is that vCPU's time, not the time of
            // the step that raised it (another vCPU's, or an external wake's, which charges its cost to no vCPU):
            // AfterApply delays the kicked vCPU by it, as an external exit does (DelayByExit).
            _kickExit[e.Vcpu] += cost;
            return;
        }

        _stepCost += cost;
    }
}
