using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using MetricsExit = Vexlab.Simulation.Metrics.ExitReason;
using ModelExit = Vexlab.Model.Machine.ExitReason;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// Where the kernel would fire its tracepoints, given the model's events, and the exit-to-entry times
/// <c>perf kvm stat</c> measures from them. Always on (the exit statistics need it, allocation-free);
/// writes <see cref="TraceRecord"/>s only when given a sink.
/// <list type="bullet">
/// <item>Time: an event in a step is stamped at the step's start plus the cost charged before it, so an exit's
/// handler runs after its kvm_exit; on each host CPU stamps never go back (an event another agent causes on a
/// vCPU still inside its step waits for the step).</item>
/// <item>kvm_exit on every VM exit; kvm_entry when the vCPU next runs guest code or gets an injection
/// (vcpu_enter_guest injects, then enters): so stalls and halts in the host lie inside the exit, and
/// kvm_inj_exception / kvm_inj_virq come before their entry. #PF and #VE the CPU delivers without an exit
/// are not injections (no kvm_inj_exception); #VE gets a vexlab:ve_delivered line.</item>
/// <item>Async PF (virt/kvm/async_pf.c, arch/x86/kvm/x86.c): kvm_try_async_get_page and kvm_async_pf_not_present
/// on the vCPU whether KVM then injects #PF or halts the vCPU (kvm_arch_async_page_not_present traces first);
/// kvm_async_pf_repeated_fault for a gfn already queued; kvm_async_pf_completed on the worker that ran
/// async_pf_execute; kvm_async_pf_ready on the vCPU that dequeues the completion, then kvm_apic_accept_irq when the
/// guest is notified by interrupt (5.8+; a 5.7 host injects page-ready as a #PF, traced by kvm_inj_exception). Nothing async under a synchronous fault.</item>
/// <item>Guest faults: vexlab:guest_fault at the first faulting access of a task and vexlab:guest_fault_done at
/// the access that completes it (or its fixup, or a signal), with the exact latency the run's
/// fault_latency_ns records.</item>
/// </list>
/// </summary>
public sealed class KvmTracepoints
{
    /// <summary>Guest RIP in the trace: the model has no instruction addresses; a kernel text address stands in.</summary>
    public const ulong GuestRip = 0xffffffff81000000UL;

    /// <summary>Where the VMM mapped guest memory (host virtual address of gpa 0), for kvm_async_pf_completed's address.</summary>
    public const ulong HostMemoryBase = 0x7f5500000000UL;

    /// <summary>The #VE design's resolve_ept hypercall number (no upstream number: it is not in KVM).</summary>
    public const ulong ResolveEptHypercall = 0x100;

    /// <summary>MSR_KVM_ASYNC_PF_ACK (arch/x86/include/uapi/asm/kvm_para.h).</summary>
    public const uint MsrAsyncPfAck = 0x4b564d07;

    /// <summary>
    /// MSR_IA32_TSC_DEADLINE (arch/x86/include/asm/msr-index.h): the guest's tick handler re-arms its local APIC timer
    /// with a write to it (lapic_next_deadline, the lapic-deadline clockevent's set_next_event).
    /// </summary>
    public const uint MsrTscDeadline = 0x6e0;

    /// <summary>
    /// The x2APIC EOI register's MSR (APIC_BASE_MSR + (APIC_EOI >> 4), arch/x86/include/asm/apicdef.h): a guest's EOI
    /// write, an MSR_WRITE exit without APICv.
    /// </summary>
    public const uint MsrX2ApicEoi = 0x80b;

    /// <summary>
    /// VM-exit interruption information of an NMI exit (SDM Vol. 3C 24.9.2): valid (bit 31), type NMI (2, bits 10:8),
    /// vector 2; kvm_exit prints it as intr_info, and KVM's handle_exception_nmi tests it (is_nmi).
    /// </summary>
    public const uint NmiExitInterruptionInfo = 0x80000202;

    /// <summary>
    /// VM-exit interruption information of an EXTERNAL_INTERRUPT exit for the host's local APIC timer (its scheduler
    /// tick): valid (bit 31), type external interrupt (0, bits 10:8), vector LOCAL_TIMER_VECTOR 0xec
    /// (arch/x86/include/asm/irq_vectors.h, as of 6cc0d5f4a9a5). KVM runs guests with "acknowledge interrupt on exit"
    /// (VM_EXIT_ACK_INTR_ON_EXIT in setup_vmcs_config, arch/x86/kvm/vmx/vmx.c), so the processor acknowledges the
    /// interrupt and stores its vector there (SDM Vol. 3C 24.9.2, Information for VM Exits Due to Vectored Events);
    /// handle_external_interrupt_irqoff reads it (vmx_get_intr_info) to call the host's handler, and kvm_exit prints
    /// it as intr_info.
    /// </summary>
    public const uint LocalTimerExitInterruptionInfo = 0x80000000 | LocalTimerVector;

    /// <summary>
    /// VM-exit interruption information of an EXTERNAL_INTERRUPT exit for the reschedule IPI, RESCHEDULE_VECTOR 0xfd
    /// (arch/x86/include/asm/irq_vectors.h): the one a wakeup on another pCPU sends to preempt the thread running there
    /// (check_preempt_wakeup_fair -> resched_curr -> smp_send_reschedule). Same layout as
    /// <see cref="LocalTimerExitInterruptionInfo"/>.
    /// </summary>
    public const uint RescheduleExitInterruptionInfo = 0x80000000 | RescheduleVector;

    /// <summary>LOCAL_TIMER_VECTOR (arch/x86/include/asm/irq_vectors.h): the local APIC timer, the host's tick.</summary>
    public const uint LocalTimerVector = 0xec;

    /// <summary>RESCHEDULE_VECTOR (arch/x86/include/asm/irq_vectors.h): the reschedule IPI.</summary>
    public const uint RescheduleVector = 0xfd;

    /// <summary>EPT violation exit qualification of a guest read of a not-present page (SDM Vol. 3C 28.3.3.2: read, GLA valid, final translation).</summary>
    public const ulong EptReadQualification = 0x181;

    private static readonly int Reasons = Enum.GetValues<MetricsExit>().Length;

    /// <summary>The run's vCPU time split, told of each exit and entry: its host_exit is time between them.</summary>
    public Observation.VcpuTime? Time { get; set; }

    private readonly ITraceSink? _sink;
    private readonly TraceThreads _threads;
    private readonly bool _readyByInterrupt;
    private readonly int _vcpus;
    private readonly bool[] _irqWindowForNmi;
    private readonly bool[] _nmiWindowForNmi;
    private readonly bool[] _inGuest;
    private readonly long[] _exitAt;
    private readonly MetricsExit[] _exitReason;
    private readonly long[] _enteredAt;
    private readonly long[] _guestNs;
    private readonly long[] _exitNs;
    private readonly long[] _cpuLast;
    private readonly long[] _pcpuLast;
    private readonly int[] _pcpuOf;

    // Per vCPU thread, the pCPU it is on (task_cpu: where it last ran, or where its wakeup moved it; -1: never ran).
    private readonly int[] _taskCpu;
    private readonly List<TraceRecord>?[] _pending;
    private readonly int[] _exitPage;
    private readonly bool[] _resolveContinue;
    private readonly bool[] _startedThisExit;
    private readonly ulong[] _veGpa;
    private readonly ExitTimes[] _times;
    private readonly long[] _faultStart;
    private readonly long[] _faultStamp;
    private readonly long[] _faultId;
    private readonly int[] _faultPage;
    private readonly uint[] _faultToken;
    private readonly int[] _faultStepCount;
    private long _faults;
    private int _worker = -1;
    private WorkKind _workKind;
    private uint _workToken;
    private int _workPage = -1;

    /// <param name="vcpus">vCPUs.</param>
    /// <param name="tasks">Guest tasks.</param>
    /// <param name="threads">Host threads and CPUs of the trace.</param>
    /// <param name="sink">Where trace records go, or null for the statistics only.</param>
    /// <param name="readyByInterrupt">Page-ready goes to the guest as an interrupt (5.8+), not as a #PF (5.7).</param>
    public KvmTracepoints(int vcpus, int tasks, TraceThreads threads, ITraceSink? sink, bool readyByInterrupt)
    {
        ArgumentNullException.ThrowIfNull(threads);
        _readyByInterrupt = readyByInterrupt;
        _vcpus = vcpus;
        _threads = threads;
        _sink = sink;
        _inGuest = new bool[vcpus];
        Array.Fill(_inGuest, true);
        _exitAt = new long[vcpus];
        _exitReason = new MetricsExit[vcpus];
        _enteredAt = new long[vcpus];
        _guestNs = new long[vcpus];
        _exitNs = new long[vcpus];
        _cpuLast = new long[threads.Threads];
        _pcpuLast = new long[threads.Pcpus];
        _pcpuOf = new int[vcpus];
        Array.Fill(_pcpuOf, -1);
        _taskCpu = new int[vcpus];
        Array.Fill(_taskCpu, -1);
        _pending = new List<TraceRecord>?[vcpus];
        _irqWindowForNmi = new bool[vcpus];
        _nmiWindowForNmi = new bool[vcpus];
        _exitPage = new int[vcpus];
        _resolveContinue = new bool[vcpus];
        _startedThisExit = new bool[vcpus];
        _veGpa = new ulong[vcpus];
        _times = new ExitTimes[vcpus * Reasons];
        for (var i = 0; i < _times.Length; i++)
        {
            _times[i] = new ExitTimes();
        }

        _faultStart = new long[tasks];
        Array.Fill(_faultStart, -1);
        _faultStamp = new long[tasks];
        _faultId = new long[tasks];
        _faultPage = new int[tasks];
        _faultToken = new uint[tasks];
        _faultStepCount = new int[tasks];
    }

    /// <summary>The 1-based number of the step being applied (in a replay, the counterexample's step): a violation names it.</summary>
    public long Step { get; set; }

    /// <summary>No stamp goes past this (the run's duration): a step that starts before the end has its events by the end.</summary>
    public long EndLimitNs { get; set; } = long.MaxValue;

    /// <summary>
    /// How long an NMI that arrives in guest mode (a host PMI) keeps the vCPU in the host: the
    /// EXCEPTION_NMI exit and its handling, before KVM injects the NMI and enters again.
    /// </summary>
    public long NmiExitNs { get; set; }

    /// <summary>
    /// The interruption information of the EXTERNAL_INTERRUPT exits the model reports (a tick under kvm-pf): the host's
    /// local APIC timer unless the driver says which interrupt it is (a reschedule IPI's preemption).
    /// </summary>
    public uint ModelExternalInterruptInfo { get; set; } = LocalTimerExitInterruptionInfo;

    /// <summary>Exit-to-entry times of vCPU <paramref name="vcpu"/> (or all vCPUs when null), one row per reason seen.</summary>
    public IReadOnlyList<ExitTimeRow> ExitRows(int? vcpu = null)
    {
        var rows = new List<ExitTimeRow>();
        for (var r = 0; r < Reasons; r++)
        {
            var merged = new ExitTimes();
            for (var v = 0; v < _vcpus; v++)
            {
                if (vcpu is null || vcpu == v)
                {
                    merged.Merge(_times[(v * Reasons) + r]);
                }
            }

            if (merged.Count > 0)
            {
                rows.Add(new ExitTimeRow(Metrics.CounterNames.Name((MetricsExit)r), merged));
            }
        }

        return rows;
    }

    /// <summary>
    /// Whether vCPU <paramref name="vcpu"/> runs the guest at <paramref name="now"/>: it entered since its last exit, and
    /// that entry is not still ahead (an exit's handling, stamped to end later, keeps it in the host until then).
    /// </summary>
    public bool InGuestMode(int vcpu, long now) => _inGuest[vcpu] && _enteredAt[vcpu] <= now;

    /// <summary>
    /// Whether vCPU <paramref name="vcpu"/> is in the host since its last kvm_exit, its next kvm_entry not yet stamped: an
    /// exit the model reports now is no exit (<see cref="On"/> drops it, and the earlier exit keeps the time).
    /// </summary>
    public bool InHost(int vcpu) => !_inGuest[vcpu];

    /// <summary>Time vCPU <paramref name="vcpu"/> spent from VM exits to the next entries.</summary>
    public long ExitNs(int vcpu) => _exitNs[vcpu];

    /// <summary>Time vCPU <paramref name="vcpu"/> spent in guest mode (from entries to the next exits).</summary>
    public long GuestModeNs(int vcpu) => _guestNs[vcpu];

    /// <summary>The host worker (work slot) whose completion the next events belong to, and the page it brought in (-1: none).</summary>
    public void BeginWork(int slot, WorkKind kind, uint token, int page = -1)
    {
        _worker = slot;
        _workKind = kind;
        _workToken = token;
        _workPage = page;
    }

    public void EndWork() => _worker = -1;

    /// <param name="now">The step's start.</param>
    /// <param name="offset">Cost charged in this step before the event.</param>
    /// <param name="actor">The vCPU whose step this is, or -1 for host agents (workers, timers, host events).</param>
    /// <param name="e">The event.</param>
    public void On(long now, long offset, int actor, in ModelEvent e)
    {
        var v = e.Vcpu;
        var t = Math.Min(now + offset, EndLimitNs);
        if (e.Kind == ModelEventKind.PropertyViolated)
        {
            // A checker property broke (a replayed counterexample): mark where, on the vCPU whose step it was.
            var on = v < _vcpus ? v : Math.Max(actor, -1);
            Emit(TraceRecord.At(on >= 0 ? Math.Max(t, _cpuLast[on]) : t, TraceKind.Violation, on) with
            {
                Value = e.Aux,
                Id = Step,
                Label = Vexlab.Model.Properties.PropertyNames.Of((Vexlab.Model.Properties.SafetyProperty)e.Aux),
            });
            return;
        }

        if (v >= _vcpus)
        {
            return;
        }
        switch (e.Kind)
        {
            case ModelEventKind.VmExit:
                Exit(v, t, (ModelExit)e.Aux, e.Page, e.Token);
                break;
            case ModelEventKind.ExceptionDelivered:
                if (!_inGuest[v] && actor == v)
                {
                    // An injection at entry (the APF #PF with its token in CR2, or #DF): error code 0, valid.
                    var s = Stamp(v, t);
                    Emit(TraceRecord.At(s, TraceKind.KvmInjException, v) with { Vector = e.Aux, HasErrorCode = true, ErrorCode = 0 });
                    Enter(v, s);
                }
                else
                {
                    GuestContext(v, t, actor);
                }

                break;
            case ModelEventKind.InterruptDelivered:
                if (actor == v)
                {
                    var s = Stamp(v, t);
                    Emit(TraceRecord.At(s, TraceKind.KvmInjVirq, v) with { Vector = VectorOf(e.Aux) });
                    if (!_inGuest[v])
                    {
                        Enter(v, s);
                    }
                }

                break;
            case ModelEventKind.NmiDelivered:
                // Whoever delivers it (the vCPU's step, or the NMI source as it raises it): a host PMI that arrives in
                // guest mode exits (EXCEPTION_NMI); one that arrives while the vCPU is in the host (halted) does not.
                // One the guest blocked when it arrived is delivered by the vCPU's own step once the guest unblocks
                // NMIs: KVM had asked for an NMI window (enable_nmi_window), and that is the exit (NMI_WINDOW).
                // Either way KVM injects the NMI and enters (vmx_inject_nmi, then vcpu_enter_guest).
                // An NMI that arrives while an exit is still being handled (its entry comes later) is injected at
                // that entry, without an exit of its own. So is one that its source raises while the vCPU is in the
                // host, halted or being woken (kvm_vcpu_has_events ends the halt, and the NMI goes in at the
                // vcpu_enter_guest after the wake): the entry is the vCPU's own next step, which the wake
                // (cost.wake_halted_vcpu) has put that far ahead. Stamping kvm_entry at the raise instead counted
                // the rest of the wake as guest mode (kvm-halt: 3.1 ms of a 100 ms run at a 100 us wake, against
                // 0.16 ms at 5 us), or, with the idle task current, left a HLT exit ended by the NMI at the raise.
                if (InGuestMode(v, t))
                {
                    NmiExit(v, t, actor == v ? NmiWindowExit(v) : MetricsExit.ExceptionNmi);
                }
                else if (!_inGuest[v] && actor == v)
                {
                    Enter(v, Stamp(v, t));
                }

                break;
            case ModelEventKind.VeDelivered:
                GuestContext(v, t, actor);
                _veGpa[v] = Machine.AddressOf(Math.Max(e.Page, 0));
                if (_sink is not null)
                {
                    var gpa = Machine.AddressOf(Math.Max(e.Page, 0));
                    Emit(TraceRecord.At(Stamp(v, t), TraceKind.VeDelivered, v) with { Gva = gpa, Gfn = gpa >> 12 });
                }

                break;
            case ModelEventKind.AsyncStarted:
                AsyncStarted(v, t, in e);
                break;
            case ModelEventKind.ArtificialHalt:
                if (_sink is not null && _exitPage[v] >= 0 && !_startedThisExit[v])
                {
                    // kvm_find_async_pf_gfn hit: the gfn is already queued on this vCPU.
                    var gpa = Machine.AddressOf(_exitPage[v]);
                    Emit(TraceRecord.At(Stamp(v, t), TraceKind.KvmAsyncPfRepeatedFault, v) with { Gva = gpa, Gfn = gpa >> 12 });
                }

                break;
            case ModelEventKind.SyncStall:
                if (_sink is not null && e.Aux == 1)
                {
                    var gpa = Machine.AddressOf(Math.Max(e.Page, 0));
                    Emit(TraceRecord.At(Stamp(v, t), TraceKind.VeResolveEpt, v) with { Gfn = gpa >> 12, Value = 0 });
                }

                break;
            case ModelEventKind.WorkCompleted:
                if (_sink is not null && _worker >= 0 && _workKind == WorkKind.Async && e.Page >= 0)
                {
                    // async_pf_execute, on the worker.
                    var gpa = Machine.AddressOf(e.Page);
                    var cpu = _threads.Vcpus + Math.Min(_worker, Math.Max(_threads.Workers - 1, 0));
                    Emit(TraceRecord.At(StampCpu(cpu, t), TraceKind.KvmAsyncPfCompleted) with { Worker = _worker, Gva = gpa, Address = HostMemoryBase + gpa, Token = e.Token });
                }

                if (_sink is not null && _worker >= 0)
                {
                    // The host's I/O for the page every waiting fault needs: one step of each fault's chain, on the worker.
                    FlowSteps(_threads.Vcpus + Math.Min(_worker, Math.Max(_threads.Workers - 1, 0)), _worker, t, e.Page >= 0 ? e.Page : _workPage, -1, "page in");
                }

                break;
            case ModelEventKind.ReadyDequeued:
                if (_sink is not null)
                {
                    var gva = e.Page >= 0 ? (ulong)Machine.AddressOf(e.Page) : 0UL;
                    var s = Stamp(v, t);
                    Emit(TraceRecord.At(s, TraceKind.KvmAsyncPfReady, v) with { Token = e.Token, Gva = gva });
                    if (e.Aux == 1 && _readyByInterrupt)
                    {
                        // 5.8+ kvm_arch_async_page_present: kvm_apic_set_irq on the MSR_KVM_ASYNC_PF_INT vector. A 5.7 host
                        // injects a #PF instead (kvm_inject_page_fault): its kvm_inj_exception comes at the next entry.
                        Emit(TraceRecord.At(s, TraceKind.KvmApicAcceptIrq, v) with { Vector = VectorOf((byte)ModelVector.Callback) });
                    }

                    FlowSteps(v, -1, s, e.Page, -1, "page ready");
                }

                break;
            case ModelEventKind.InterruptRaised:
                if (_sink is not null && e.Aux == (byte)ModelVector.Callback && _worker >= 0 && _workKind == WorkKind.VeResolve)
                {
                    // The #VE design's wakeup, posted by the host when resolve_ept's work completes.
                    var cpu = _threads.Vcpus + Math.Min(_worker, Math.Max(_threads.Workers - 1, 0));
                    Emit(TraceRecord.At(StampCpu(cpu, t), TraceKind.VeWakeup, v) with { Worker = _worker, Token = _workToken });
                }

                break;
            case ModelEventKind.Hypercall:
                _resolveContinue[v] = e.Aux == 1;
                break;
            case ModelEventKind.AccessFault:
                GuestContext(v, t, actor);
                FaultBegin(v, now + offset, t, in e);
                break;
            case ModelEventKind.AccessDone:
            case ModelEventKind.Fixup:
                GuestContext(v, t, actor);
                FaultEnd(v, now + offset, t, e.Task, e.Kind == ModelEventKind.AccessDone ? 0 : 1);
                break;
            case ModelEventKind.Signal:
                FaultEnd(v, now + offset, t, e.Task, 2);
                break;
            case ModelEventKind.TaskWoken:
                GuestContext(v, t, actor);
                if (_sink is not null)
                {
                    // The page-ready handler (or the #VE design's wakeup) wakes the task that slept on the fault.
                    FlowSteps(v, -1, Math.Max(t, _cpuLast[v]), -1, e.Task, "wake task");
                }

                break;
            case ModelEventKind.IterationDone:
                GuestContext(v, t, actor);
                if (_sink is not null)
                {
                    Emit(TraceRecord.At(Math.Max(t, _cpuLast[v]), TraceKind.TaskWork, v) with { Task = e.Task });
                }

                break;
            case ModelEventKind.Compute:
            case ModelEventKind.KernelStep:
            case ModelEventKind.ContextSwitch:
            case ModelEventKind.GuestMinorFault:
            case ModelEventKind.TaskExited:
            case ModelEventKind.TaskSlept:
            case ModelEventKind.GuestHalted:
                GuestContext(v, t, actor);
                break;
            default:
                break;
        }
    }

    /// <summary>Closes each vCPU's open exit or guest-mode interval at <paramref name="endNs"/>.</summary>
    public void Complete(long endNs)
    {
        for (var v = 0; v < _vcpus; v++)
        {
            var end = Math.Max(endNs, _cpuLast[v]);
            if (_inGuest[v])
            {
                _guestNs[v] += end - _enteredAt[v];
            }
            else
            {
                var d = end - _exitAt[v];
                _exitNs[v] += d;
                _times[(v * Reasons) + (int)_exitReason[v]].Record(d);
            }

            _enteredAt[v] = end;
            _exitAt[v] = end;
        }
    }

    /// <summary>
    /// The model's exit <paramref name="reason"/>. An EXTERNAL_INTERRUPT with a <paramref name="vector"/> is the kick of
    /// an interrupt raised for the vCPU (the host's RESCHEDULE_VECTOR): its intr_info names that vector, not the
    /// host's tick. The guest's EOI write is an MSR_WRITE of the x2APIC EOI register.
    /// </summary>
    private void Exit(int v, long t, ModelExit reason, int page, uint vector)
    {
        switch (reason)
        {
            case ModelExit.EoiWrite:
                Exit(v, t, MetricsExit.MsrWrite, page, 0, MsrX2ApicEoi, 0);
                return;
            case ModelExit.ExternalInterrupt when vector != 0:
                Exit(v, t, MetricsExit.ExternalInterrupt, page, 0x80000000 | vector);
                return;
        }

        Exit(v, t, Metric(reason), page);
    }

    /// <summary>The kvm_exit reason of the model's exit <paramref name="reason"/>.</summary>
    public static MetricsExit Metric(ModelExit reason) => reason switch
    {
        ModelExit.EptViolation => MetricsExit.EptViolation,
        ModelExit.Hlt => MetricsExit.Hlt,
        ModelExit.MsrWrite or ModelExit.EoiWrite => MetricsExit.MsrWrite,
        ModelExit.Vmcall => MetricsExit.Vmcall,
        ModelExit.ExternalInterrupt => MetricsExit.ExternalInterrupt,
        ModelExit.PreemptionTimer => MetricsExit.PreemptionTimer,
        ModelExit.InterruptWindow => MetricsExit.InterruptWindow,
        ModelExit.NmiWindow => MetricsExit.NmiWindow,
        ModelExit.TprBelowThreshold => MetricsExit.TprBelowThreshold,
        _ => MetricsExit.ExceptionNmi,
    };

    /// <summary>
    /// vCPU <paramref name="vcpu"/> took a window exit the model reports (the 5.7 host's completion check after it
    /// injected a page-ready): handle_interrupt_window and handle_nmi_window clear the control that asked for it, and
    /// the entry that injects the #PF asks again for a waiting NMI (<paramref name="nmiPending"/>), now with no STI
    /// blocking, for an NMI window (vmx_enable_nmi_window), which lets it in at the #PF handler's first instruction.
    /// </summary>
    public void WindowExitTaken(int vcpu, bool nmiPending)
    {
        if (vcpu >= 0 && vcpu < _vcpus)
        {
            _irqWindowForNmi[vcpu] = false;
            _nmiWindowForNmi[vcpu] = nmiPending;
        }
    }

    /// <summary>
    /// A host NMI (a PMI) that arrives while vCPU <paramref name="vcpu"/> runs the guest and finds the guest blocking
    /// NMIs: it exits all the same (SDM Vol. 3C, pin-based VM-execution controls: with NMI exiting set every NMI is a VM
    /// exit, whatever the guest's virtual-NMI blocking), KVM handles it, cannot inject the
    /// guest's NMI yet, and enters again <see cref="NmiExitNs"/> later with the NMI pending.
    /// </summary>
    public void BlockedNmiExit(int vcpu, long now)
    {
        var t = Math.Min(now, EndLimitNs);
        if (vcpu >= 0 && vcpu < _vcpus && InGuestMode(vcpu, t))
        {
            NmiExit(vcpu, t, MetricsExit.ExceptionNmi);
        }
    }

    /// <summary>
    /// vCPU <paramref name="vcpu"/>, in guest mode or entering it (an entry stamped ahead), exits with EXTERNAL_INTERRUPT
    /// at <paramref name="now"/> (no earlier than its last record) for an interrupt of the host's (its tick, a reschedule
    /// IPI) that the model has no step for; its entry comes with its next guest step. <paramref name="intrInfo"/>: the
    /// exit's interruption information (<see cref="LocalTimerExitInterruptionInfo"/>, <see cref="RescheduleExitInterruptionInfo"/>).
    /// </summary>
    public void ExternalInterruptExit(int vcpu, long now, uint intrInfo)
    {
        var t = Math.Min(now, EndLimitNs);
        if (vcpu >= 0 && vcpu < _vcpus && _inGuest[vcpu])
        {
            Exit(vcpu, t, MetricsExit.ExternalInterrupt, -1, intrInfo);
        }
    }

    /// <summary>
    /// vCPU <paramref name="vcpu"/>, in guest mode at <paramref name="now"/>, exits with EXTERNAL_INTERRUPT for an
    /// interrupt of the host's that the model has no step for (the host's tick), and KVM enters again
    /// <paramref name="handlingNs"/> later: handle_external_interrupt_irqoff runs the host's handler and vcpu_run goes
    /// straight back to vcpu_enter_guest. The guest's state is as it was; the driver delays its next step as much.
    /// </summary>
    public void HostInterruptExit(int vcpu, long now, uint intrInfo, long handlingNs)
    {
        var t = Math.Min(now, EndLimitNs);
        if (vcpu >= 0 && vcpu < _vcpus && InGuestMode(vcpu, t))
        {
            Exit(vcpu, t, MetricsExit.ExternalInterrupt, -1, intrInfo);
            Enter(vcpu, Stamp(vcpu, Math.Min(t + handlingNs, EndLimitNs)));
        }
    }

    /// <summary>
    /// vCPU <paramref name="vcpu"/>'s own tick while it runs the guest: its TSC-deadline timer, which KVM emulates with the
    /// VMX preemption timer, expires as a PREEMPTION_TIMER exit at <paramref name="now"/>, and KVM enters again
    /// <paramref name="handlingNs"/> later with the timer interrupt. (Under kvm-pf the model reports that exit itself, and
    /// its entry step ends it.)
    /// </summary>
    public void PreemptionTimerExit(int vcpu, long now, long handlingNs)
    {
        var t = Math.Min(now, EndLimitNs);
        if (vcpu >= 0 && vcpu < _vcpus && InGuestMode(vcpu, t))
        {
            Exit(vcpu, t, MetricsExit.PreemptionTimer, -1);
            Enter(vcpu, Stamp(vcpu, Math.Min(t + handlingNs, EndLimitNs)));
        }
    }

    /// <summary>
    /// vCPU <paramref name="vcpu"/>, in the host, enters at <paramref name="now"/> with its VMX preemption timer already
    /// expired (vmx_update_hv_timer wrote 0): kvm_entry, and kvm_exit with PREEMPTION_TIMER at the same instant. The entry
    /// after its handling is the next step's.
    /// </summary>
    public void ExpiredPreemptionTimerAtEntry(int vcpu, long now)
    {
        if (vcpu >= 0 && vcpu < _vcpus && !_inGuest[vcpu])
        {
            var t = Stamp(vcpu, Math.Min(now, EndLimitNs));
            Enter(vcpu, t);
            Exit(vcpu, t, MetricsExit.PreemptionTimer, -1);
        }
    }

    /// <summary>
    /// vCPU <paramref name="vcpu"/>'s timer interrupt handler, just delivered, re-arms the TSC-deadline timer
    /// (lapic_next_deadline's WRMSR to MSR_IA32_TSC_DEADLINE): an MSR_WRITE exit at <paramref name="now"/>, no earlier than
    /// the delivery's entry, with a kvm_msr write of 0x6e0 whose data is the next deadline, <paramref name="nextDeadlineNs"/>
    /// (the model's TSC counts nanoseconds), and the entry <paramref name="handlingNs"/> later.
    /// </summary>
    public void TimerRearmExit(int vcpu, long now, long handlingNs, long nextDeadlineNs)
    {
        if (vcpu < 0 || vcpu >= _vcpus || !_inGuest[vcpu])
        {
            return;
        }

        var t = Stamp(vcpu, Math.Min(now, EndLimitNs));
        Exit(vcpu, t, MetricsExit.MsrWrite, -1, 0, MsrTscDeadline, (ulong)Math.Max(nextDeadlineNs, 0));
        Enter(vcpu, Stamp(vcpu, Math.Min(t + handlingNs, EndLimitNs)));
    }

    /// <summary>An exit for an NMI (its arrival, or the window that lets it in) at <paramref name="t"/>, and the entry <see cref="NmiExitNs"/> later.</summary>
    private void NmiExit(int v, long t, MetricsExit reason)
    {
        Exit(v, t, reason, -1);
        Enter(v, Stamp(v, Math.Min(t + NmiExitNs, EndLimitNs)));
    }

    /// <summary>
    /// vCPU <paramref name="vcpu"/>'s NMI could not be injected and waits for the window KVM asks for
    /// (inject_pending_event -> enable_nmi_window): vmx_enable_nmi_window sets interrupt-window exiting instead of
    /// NMI-window exiting whenever the guest's interruptibility state has GUEST_INTR_STATE_STI
    /// (<paramref name="stiBlocking"/>), whether or not the guest also blocks NMIs; SDM Vol. 3C 25.2, NMI-window
    /// exiting: "a logical processor may also prevent such a VM exit if there is blocking of events by STI".
    /// </summary>
    public void NmiHeld(int vcpu, bool stiBlocking)
    {
        if (vcpu >= 0 && vcpu < _vcpus)
        {
            _irqWindowForNmi[vcpu] = false;
            _nmiWindowForNmi[vcpu] = false;
            NmiWindowAsked(vcpu, stiBlocking);
        }
    }

    /// <summary>
    /// KVM looks again at vCPU <paramref name="vcpu"/>'s waiting NMI (an exit that requested KVM_REQ_EVENT) and asks
    /// for a window as <see cref="NmiHeld"/> says. A window asked for before stays asked for: only its own exit clears
    /// its control (handle_interrupt_window, handle_nmi_window).
    /// </summary>
    public void NmiWindowAsked(int vcpu, bool stiBlocking)
    {
        if (vcpu >= 0 && vcpu < _vcpus)
        {
            if (stiBlocking)
            {
                _irqWindowForNmi[vcpu] = true;
            }
            else
            {
                _nmiWindowForNmi[vcpu] = true;
            }
        }
    }

    /// <summary>Whether KVM asked for an interrupt window for vCPU <paramref name="vcpu"/>'s waiting NMI and it has not come yet.</summary>
    public bool AwaitsInterruptWindow(int vcpu) => vcpu >= 0 && vcpu < _vcpus && _irqWindowForNmi[vcpu];

    /// <summary>
    /// The exit that lets a held NMI in: NMI_WINDOW where KVM asked for an NMI window (an NMI-window exit takes
    /// priority over an interrupt-window one, SDM Vol. 3C 25.2), else INTERRUPT_WINDOW where it asked only for an
    /// interrupt window (an STI shadow held the NMI, vmx_enable_nmi_window).
    /// </summary>
    public MetricsExit NmiWindowExit(int vcpu) =>
        vcpu >= 0 && vcpu < _vcpus && _irqWindowForNmi[vcpu] && !_nmiWindowForNmi[vcpu] ? MetricsExit.InterruptWindow : MetricsExit.NmiWindow;

    /// <summary>
    /// The interrupt window KVM asked for vCPU <paramref name="vcpu"/>'s NMI opens at <paramref name="now"/> (RFLAGS.IF=1,
    /// no blocking by STI or MOV SS) while the guest still blocks NMIs: an INTERRUPT_WINDOW exit that injects nothing.
    /// handle_interrupt_window clears interrupt-window exiting and requests KVM_REQ_EVENT; inject_pending_event finds
    /// the NMI still blocked and asks again, now without blocking by STI, for an NMI window: the NMI comes in by an
    /// NMI_WINDOW exit once the guest's IRET unblocks NMIs.
    /// </summary>
    public void InterruptWindowExit(int vcpu, long now)
    {
        var t = Math.Min(now, EndLimitNs);
        if (vcpu >= 0 && vcpu < _vcpus && InGuestMode(vcpu, t))
        {
            NmiExit(vcpu, t, MetricsExit.InterruptWindow);
            _irqWindowForNmi[vcpu] = false;
            _nmiWindowForNmi[vcpu] = true;
        }
    }

    private void Exit(int v, long t, MetricsExit metric, int page, uint intrInfo = 0, uint msr = MsrAsyncPfAck, ulong msrData = 1)
    {
        var s = Stamp(v, t);
        if (!_inGuest[v])
        {
            // Already in the host (an exit the model reports twice): the earlier exit keeps the time.
            return;
        }

        _inGuest[v] = false;
        _guestNs[v] += s - _enteredAt[v];
        _exitAt[v] = s;
        Time?.ExitAt(v, s);
        _exitReason[v] = metric;
        _exitPage[v] = page;
        _startedThisExit[v] = false;

        if (_sink is null)
        {
            return;
        }

        var ept = metric == MetricsExit.EptViolation;
        var exit = TraceRecord.Exit(s, v, metric, GuestRip, ept ? EptReadQualification : 0UL);
        var info = metric switch
        {
            MetricsExit.ExceptionNmi => NmiExitInterruptionInfo,
            MetricsExit.ExternalInterrupt => intrInfo != 0 ? intrInfo : ModelExternalInterruptInfo,
            _ => 0U,
        };
        Emit(exit with { IntrInfo = info });
        if (ept)
        {
            var gpa = page >= 0 ? (ulong)Machine.AddressOf(page) : 0UL;
            Emit(TraceRecord.At(s, TraceKind.KvmPageFault, v) with { Address = gpa, ErrorCode = EptReadQualification, Gfn = gpa >> 12 });
        }
        else if (metric == MetricsExit.MsrWrite)
        {
            Emit(TraceRecord.At(s, TraceKind.KvmMsr, v) with { Info1 = msr, Info2 = msrData });
        }
        else if (metric == MetricsExit.Vmcall)
        {
            Emit(TraceRecord.At(s, TraceKind.KvmHypercall, v) with { Value = (long)ResolveEptHypercall, Info1 = _veGpa[v], Info2 = _resolveContinue[v] ? 1UL : 0UL });
        }
    }

    private void Enter(int v, long s)
    {
        if (_inGuest[v])
        {
            return;
        }

        _inGuest[v] = true;
        Time?.EntryAt(v, s);
        var d = s - _exitAt[v];
        _exitNs[v] += d;
        _times[(v * Reasons) + (int)_exitReason[v]].Record(d);
        _enteredAt[v] = s;
        Emit(TraceRecord.Entry(s, v, GuestRip));
    }

    /// <summary>
    /// vCPU <paramref name="vcpu"/> runs guest code from <paramref name="now"/> (a step of a vCPU the model has in guest
    /// mode): if it was in the host, it entered then. A guest step that raises no event (an IRET, a flag test) still
    /// ends the exit before it; without this, kvm_entry waited for the next step with an event, and a hypercall's
    /// exit or a stall's wakeup lasted, in the trace and in the exit times, through guest code.
    /// </summary>
    public void GuestRuns(int vcpu, long now)
    {
        if (vcpu >= 0 && vcpu < _vcpus && !_inGuest[vcpu])
        {
            Enter(vcpu, Stamp(vcpu, Math.Min(now, EndLimitNs)));
        }
    }

    /// <summary>A replay's note (<see cref="TraceKind.Marker"/>) at <paramref name="timeNs"/>, on vCPU 0's CPU: it names no vCPU.</summary>
    public void Mark(long timeNs, string text, long step) =>
        Emit(TraceRecord.At(Stamp(0, Math.Min(timeNs, EndLimitNs)), TraceKind.Marker) with { Label = text, Id = step });

    /// <summary>
    /// The run stopped at <paramref name="timeNs"/>, before <paramref name="durationNs"/> (<see cref="TraceKind.Stopped"/>):
    /// stamped after every CPU's last event, so it is the last line of every buffer it could go on and of their merge, and
    /// a reader of the trace alone (trace-cmd report, KernelShark, Perfetto) sees that it is partial, as the result's
    /// <c>complete: false</c> says. Strictly after: trace-cmd report merges the buffers by timestamp with ties to the
    /// lower CPU, and the mark goes on CPU 0, so an event of another CPU at the mark's instant printed after it.
    /// </summary>
    public void Stopped(long timeNs, long durationNs)
    {
        if (_sink is null)
        {
            return;
        }

        var at = Math.Max(Math.Min(timeNs, EndLimitNs), 0);
        foreach (var last in _cpuLast)
        {
            at = Math.Max(at, last + 1);
        }

        foreach (var last in _pcpuLast)
        {
            at = Math.Max(at, last + 1);
        }

        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{StoppedMark} at {timeNs} ns of {durationNs} ns: the trace is partial (complete: false)");
        _sink.Write(TraceRecord.At(at, TraceKind.Stopped) with { Label = text, Value = timeNs });
    }

    /// <summary>The first word of a stopped run's last mark (<see cref="Stopped"/>).</summary>
    public const string StoppedMark = "vexlab:stopped";

    /// <summary>
    /// A replay's step, named as the checker's step list names it (<see cref="TraceKind.ReplayStep"/>), at its start: on its
    /// vCPU, on its worker for a completion, else on the host (both -1). In Perfetto an instant on that track; in
    /// trace.dat and the ftrace text a trace_marker write (ftrace's print) on that CPU, the host's on CPU 0, so that
    /// <c>trace-cmd report</c> lists each step before the tracepoints it fires.
    /// </summary>
    public void StepMark(long timeNs, int vcpu, int worker, string text, long step)
    {
        var onVcpu = vcpu >= 0 && vcpu < _vcpus;
        var cpu = worker >= 0 ? Math.Min(_vcpus + worker, _cpuLast.Length - 1) : onVcpu ? vcpu : 0;
        var at = StampCpu(cpu, Math.Min(timeNs, EndLimitNs));
        Emit(TraceRecord.At(at, TraceKind.ReplayStep, onVcpu ? vcpu : -1) with { Worker = worker, Label = text, Id = step });
    }

    /// <summary>Guest code runs on vCPU <paramref name="v"/>: if it was in the host, it entered first.</summary>
    private void GuestContext(int v, long t, int actor)
    {
        if (!_inGuest[v] && actor == v)
        {
            Enter(v, Stamp(v, t));
        }
    }

    private void AsyncStarted(int v, long t, in ModelEvent e)
    {
        _startedThisExit[v] = true;

        var gpa = Machine.AddressOf(Math.Max(e.Page, 0));
        if (e.Task < _faultToken.Length)
        {
            _faultToken[e.Task] = e.Token;
        }

        if (_sink is null)
        {
            return;
        }

        var s = Stamp(v, t);
        if (e.Aux == 2)
        {
            Emit(TraceRecord.At(s, TraceKind.VeResolveEpt, v) with { Gfn = gpa >> 12, Token = e.Token, Value = 1 });
            return;
        }

        // kvm_faultin_pfn traces the attempt, kvm_arch_async_page_not_present the token, before #PF or halt.
        Emit(TraceRecord.At(s, TraceKind.KvmTryAsyncGetPage, v) with { Gva = gpa, Gfn = gpa >> 12 });
        Emit(TraceRecord.At(s, TraceKind.KvmAsyncPfNotPresent, v) with { Token = e.Token, Gva = gpa });
    }

    private void FaultBegin(int v, long now, long t, in ModelEvent e)
    {
        var task = e.Task;
        if (task >= _faultStart.Length || _faultStart[task] >= 0)
        {
            return;
        }

        _faultStart[task] = now;
        _faultId[task] = ++_faults;
        _faultStepCount[task] = 0;
        _faultPage[task] = e.Page;
        _faultToken[task] = 0;
        if (_sink is null)
        {
            return;
        }

        var gpa = Machine.AddressOf(Math.Max(e.Page, 0));
        var s = Stamp(v, t);
        _faultStamp[task] = s;
        Emit(TraceRecord.At(s, TraceKind.FaultBegin, v) with { Task = task, Gva = gpa, Gfn = gpa >> 12, Id = _faults, StepNs = now });
    }

    private void FaultEnd(int v, long now, long t, int task, int outcome)
    {
        if (task >= _faultStart.Length || _faultStart[task] < 0)
        {
            return;
        }

        var latency = Math.Max(now - _faultStart[task], 1);
        _faultStart[task] = -1;
        if (_sink is null)
        {
            return;
        }

        var gpa = Machine.AddressOf(Math.Max(_faultPage[task], 0));
        Emit(TraceRecord.At(Stamp(v, t), TraceKind.FaultEnd, v) with
        {
            Task = task,
            Gva = gpa,
            Gfn = gpa >> 12,
            Token = _faultToken[task],
            Id = _faultId[task],
            DurationNs = latency,
            Value = outcome,
            StepNs = now,
        });
    }

    /// <summary>
    /// One step in the cause chain of each open fault that waits on <paramref name="page"/> (or of task
    /// <paramref name="task"/>'s fault), on host CPU <paramref name="cpu"/>. The stamp is not kept as the CPU's
    /// last: these records print no ftrace line.
    /// </summary>
    private void FlowSteps(int cpu, int worker, long stamp, int page, int task, string label)
    {
        for (var k = 0; k < _faultStart.Length; k++)
        {
            if (_faultStart[k] < 0 || (task >= 0 ? k != task : (page < 0 || _faultPage[k] != page)))
            {
                continue;
            }

            _faultStepCount[k]++;
            Emit(TraceRecord.At(Math.Max(stamp, _cpuLast[cpu]), TraceKind.FaultFlow, worker >= 0 ? -1 : cpu) with
            {
                Worker = worker,
                Task = k,
                Id = _faultId[k],
                Label = label,
                Gfn = Machine.AddressOf(Math.Max(_faultPage[k], 0)) >> 12,
            });
        }
    }

    private long Stamp(int v, long t) => StampCpu(v, t);

    /// <summary>
    /// pCPU <paramref name="pcpu"/> hands over from vCPU <paramref name="prev"/>'s thread to vCPU <paramref name="next"/>'s
    /// (-1: the idle task) at <paramref name="t"/>: a sched_switch there, stamped no earlier than prev's last event, so the
    /// pCPU's buffer keeps its order, and next's events after it.
    /// </summary>
    public void SchedSwitch(long t, int pcpu, int prev, int next, long prevState)
    {
        if (_sink is null)
        {
            return;
        }

        var s = Math.Max(Math.Min(t, EndLimitNs), _pcpuLast[pcpu]);
        _pcpuLast[pcpu] = s;
        if (prev >= 0)
        {
            _pcpuOf[prev] = -1;
        }

        if (next >= 0)
        {
            // A queued thread that a pCPU other than its last one picks was moved there first (the idle or newidle
            // balance's detach_task -> set_task_cpu, on that pCPU, before the switch); one its wakeup moved is there already.
            Migrate(s, next, pcpu, prev);
        }

        _sink.Write(TraceRecord.At(s, TraceKind.SchedSwitch, next) with { Pcpu = pcpu, PrevVcpu = prev, PrevState = prevState });
        if (next >= 0)
        {
            _pcpuOf[next] = pcpu;
            if (_pending[next] is { Count: > 0 } held)
            {
                foreach (var r in held)
                {
                    Emit(r);
                }

                held.Clear();
            }
        }
    }

    /// <summary>
    /// vCPU <paramref name="v"/>'s blocked thread wakes at <paramref name="t"/> with target_cpu <paramref name="pcpu"/>: a
    /// sched_wakeup on that pCPU (ttwu_do_wakeup), recorded by <paramref name="current"/>, the thread running there (-1: idle).
    /// </summary>
    public void SchedWakeup(long t, int v, int pcpu, int current)
    {
        if (_sink is null)
        {
            return;
        }

        var s = Math.Max(Math.Min(t, EndLimitNs), _pcpuLast[pcpu]);
        _pcpuLast[pcpu] = s;

        // try_to_wake_up: select_task_rq chose target_cpu; if that is not the thread's task_cpu, set_task_cpu moves it
        // (sched_migrate_task) before ttwu_queue wakes it there (sched_wakeup). A thread that never ran has no CPU to
        // leave: its first switch-in places it.
        if (_taskCpu[v] >= 0)
        {
            Migrate(s, v, pcpu, current);
        }

        _sink.Write(TraceRecord.At(s, TraceKind.SchedWakeup, v) with { Pcpu = pcpu, PrevVcpu = current });
    }

    /// <summary>
    /// vCPU <paramref name="v"/>'s thread goes to pCPU <paramref name="pcpu"/>: if it last ran on another (task_cpu), a
    /// sched_migrate_task there at <paramref name="s"/>, recorded by <paramref name="current"/>, the thread running there
    /// (-1: idle), once per move. Its first run is no move: the thread had no CPU of the ones it shares before.
    /// </summary>
    private void Migrate(long s, int v, int pcpu, int current)
    {
        var from = _taskCpu[v];
        _taskCpu[v] = pcpu;
        if (from < 0 || from == pcpu)
        {
            return;
        }

        _sink!.Write(TraceRecord.At(s, TraceKind.SchedMigrateTask, v) with { Pcpu = pcpu, PrevVcpu = current, Value = from });
    }

    private long StampCpu(int cpu, long t)
    {
        var s = Math.Max(t, _cpuLast[cpu]);
        _cpuLast[cpu] = s;
        return s;
    }

    /// <summary>
    /// Hands <paramref name="r"/> to the sink. On shared pCPUs a vCPU's tracepoint goes on the buffer of the pCPU its
    /// thread runs on, so its stamp is moved up to that buffer's last (a switch or a wakeup there), never past it; and a
    /// tracepoint of a thread that holds no pCPU waits for its switch-in, as the thread runs the code that fires it only
    /// then (kvm_check_async_pf_completion, for one, runs in the vCPU thread's vcpu_enter_guest). One still held when the
    /// run ends is not recorded: the thread never ran again. Only the record's time moves: the exit statistics keep the
    /// model's stamps, so a run's numbers do not depend on its trace.
    /// </summary>
    private void Emit(in TraceRecord r)
    {
        if (_sink is null)
        {
            return;
        }

        var v = r.Vcpu;
        if (_pcpuLast.Length == 0 || r.Worker >= 0 || v < 0 || v >= _vcpus || TraceEventCatalog.For(r.Kind) is null)
        {
            _sink.Write(r);
            return;
        }

        var p = _pcpuOf[v];
        if (p < 0)
        {
            (_pending[v] ??= []).Add(r);
            return;
        }

        var s = Math.Max(r.TimeNs, _pcpuLast[p]);
        _pcpuLast[p] = s;
        _sink.Write(r with { TimeNs = s });
    }

    /// <summary>Vectors the model's interrupts use: timer (LOCAL_TIMER_VECTOR 0xec), APF page-ready (HYPERVISOR_CALLBACK_VECTOR 0xf3), IPI.</summary>
    private static int VectorOf(byte modelVector) => modelVector switch
    {
        0 => 0xEC,
        1 => 0xF3,
        _ => 0xFD,
    };
}
