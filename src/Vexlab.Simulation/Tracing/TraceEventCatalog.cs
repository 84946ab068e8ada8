using System.Buffers.Binary;
using System.Collections.Immutable;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// The tracepoints Vexlab emits, with the record layouts and print formats of the kernel's format files.
/// The kvm system follows arch/x86/kvm/trace.h at torvalds/linux 029e8c8ad655 and
/// include/trace/events/kvm.h with kvm_async_pf_repeated_fault (the name of kvm_async_pf_doublefault since
/// v5.9); <c>print fmt</c> lines are TP_printk with its macros expanded as the kernel writes them
/// (KVM_ISA_VMX = 1, VMX_EXIT_REASONS from arch/x86/include/uapi/asm/vmx.h). The vexlab system holds the
/// #VE design's events and the guest-side fault events, in the same "key value" style.
/// <see cref="Encode"/> writes the record bytes a tracepoint's TP_fast_assign would.
/// </summary>
public static class TraceEventCatalog
{
    /// <summary>VMX basic exit reasons (arch/x86/include/uapi/asm/vmx.h VMX_EXIT_REASONS).</summary>
    private const string VmxExitReasons =
        "{ 0, \"EXCEPTION_NMI\" }, { 1, \"EXTERNAL_INTERRUPT\" }, { 2, \"TRIPLE_FAULT\" }, { 3, \"INIT_SIGNAL\" }, " +
        "{ 4, \"SIPI_SIGNAL\" }, { 7, \"INTERRUPT_WINDOW\" }, { 8, \"NMI_WINDOW\" }, { 9, \"TASK_SWITCH\" }, " +
        "{ 10, \"CPUID\" }, { 12, \"HLT\" }, { 13, \"INVD\" }, { 14, \"INVLPG\" }, { 15, \"RDPMC\" }, " +
        "{ 16, \"RDTSC\" }, { 18, \"VMCALL\" }, { 19, \"VMCLEAR\" }, { 20, \"VMLAUNCH\" }, { 21, \"VMPTRLD\" }, " +
        "{ 22, \"VMPTRST\" }, { 23, \"VMREAD\" }, { 24, \"VMRESUME\" }, { 25, \"VMWRITE\" }, { 26, \"VMOFF\" }, " +
        "{ 27, \"VMON\" }, { 28, \"CR_ACCESS\" }, { 29, \"DR_ACCESS\" }, { 30, \"IO_INSTRUCTION\" }, " +
        "{ 31, \"MSR_READ\" }, { 32, \"MSR_WRITE\" }, { 33, \"INVALID_STATE\" }, { 34, \"MSR_LOAD_FAIL\" }, " +
        "{ 36, \"MWAIT_INSTRUCTION\" }, { 37, \"MONITOR_TRAP_FLAG\" }, { 39, \"MONITOR_INSTRUCTION\" }, " +
        "{ 40, \"PAUSE_INSTRUCTION\" }, { 41, \"MCE_DURING_VMENTRY\" }, { 43, \"TPR_BELOW_THRESHOLD\" }, " +
        "{ 44, \"APIC_ACCESS\" }, { 45, \"EOI_INDUCED\" }, { 46, \"GDTR_IDTR\" }, { 47, \"LDTR_TR\" }, " +
        "{ 48, \"EPT_VIOLATION\" }, { 49, \"EPT_MISCONFIG\" }, { 50, \"INVEPT\" }, { 51, \"RDTSCP\" }, " +
        "{ 52, \"PREEMPTION_TIMER\" }, { 53, \"INVVPID\" }, { 54, \"WBINVD\" }, { 55, \"XSETBV\" }, " +
        "{ 56, \"APIC_WRITE\" }, { 57, \"RDRAND\" }, { 58, \"INVPCID\" }, { 59, \"VMFUNC\" }, { 60, \"ENCLS\" }, " +
        "{ 61, \"RDSEED\" }, { 62, \"PML_FULL\" }, { 63, \"XSAVES\" }, { 64, \"XRSTORS\" }, { 67, \"UMWAIT\" }, " +
        "{ 68, \"TPAUSE\" }, { 74, \"BUS_LOCK\" }, { 75, \"NOTIFY\" }";

    /// <summary>The SVM exit codes of arch/x86/include/uapi/asm/svm.h that Vexlab's runs could meet (all runs are VMX).</summary>
    private const string SvmExitReasons =
        "{ 0x060, \"interrupt\" }, { 0x061, \"nmi\" }, { 0x072, \"cpuid\" }, { 0x078, \"hlt\" }, " +
        "{ 0x07b, \"io\" }, { 0x07c, \"msr\" }, { 0x081, \"vmmcall\" }, { 0x400, \"npf\" }";

    /// <summary>kvm_trace_sym_exc (arch/x86/kvm/trace.h).</summary>
    private const string ExceptionSymbols =
        "{ 0, \"#DE\" }, { 1, \"#DB\" }, { 3, \"#BP\" }, { 4, \"#OF\" }, { 5, \"#BR\" }, { 6, \"#UD\" }, " +
        "{ 7, \"#NM\" }, { 8, \"#DF\" }, { 10, \"#TS\" }, { 11, \"#NP\" }, { 12, \"#SS\" }, { 13, \"#GP\" }, " +
        "{ 14, \"#PF\" }, { 16, \"#MF\" }, { 17, \"#AC\" }, { 18, \"#MC\" }";

    /// <summary>kvm_deliver_mode (include/trace/events/kvm.h).</summary>
    private const string DeliverModes =
        "{0x0, \"Fixed\"}, {0x1, \"LowPrio\"}, {0x2, \"SMI\"}, {0x3, \"Res3\"}, {0x4, \"NMI\"}, {0x5, \"INIT\"}, " +
        "{0x6, \"SIPI\"}, {0x7, \"ExtINT\"}";

    public const string KvmSystem = "kvm";
    public const string VexlabSystem = "vexlab";
    public const string FtraceSystem = "ftrace";
    public const string SchedSystem = "sched";

    /// <summary>TASK_REPORT (include/linux/sched.h) as the format file spells the macro out: TASK_RUNNING through TASK_PARKED.</summary>
    private const string TaskReport = "(0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040)";

    /// <summary>TASK_REPORT_MAX, ((TASK_REPORT + 1) &lt;&lt; 1).</summary>
    private const string TaskReportMax = "((" + TaskReport + " + 1) << 1)";

    /// <summary>
    /// sched_switch (include/trace/events/sched.h, 6.x): comms are TASK_COMM_LEN char arrays (signed:0, char being
    /// unsigned since 3bc753c06dd0 "kbuild: treat char as always unsigned"), prev_state a long that
    /// __trace_sched_switch_state fills (<see cref="SchedState"/>), printed S, D, ... or R, with "+" for a preempted task.
    /// </summary>
    public static TraceEventFormat SchedSwitch { get; } = new(SchedSystem, "sched_switch", 316,
    [
        new("char", "prev_comm[16]", 8, 16, false),
        new("pid_t", "prev_pid", 24, 4, true),
        new("int", "prev_prio", 28, 4, true),
        new("long", "prev_state", 32, 8, true),
        new("char", "next_comm[16]", 40, 16, false),
        new("pid_t", "next_pid", 56, 4, true),
        new("int", "next_prio", 60, 4, true),
    ],
        "\"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", " +
        "REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & (" + TaskReportMax + " - 1)) ? " +
        "__print_flags(REC->prev_state & (" + TaskReportMax + " - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, " +
        "{ 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, " +
        "{ 0x00000080, \"I\" }) : \"R\", REC->prev_state & " + TaskReportMax + " ? \"+\" : \"\", " +
        "REC->next_comm, REC->next_pid, REC->next_prio");

    /// <summary>sched_wakeup (sched_wakeup_template, include/trace/events/sched.h since the success field went): comm, pid, prio, target_cpu.</summary>
    public static TraceEventFormat SchedWakeup { get; } = new(SchedSystem, "sched_wakeup", 318,
    [
        new("char", "comm[16]", 8, 16, false),
        new("pid_t", "pid", 24, 4, true),
        new("int", "prio", 28, 4, true),
        new("int", "target_cpu", 32, 4, true),
    ],
        "\"comm=%s pid=%d prio=%d target_cpu=%03d\", REC->comm, REC->pid, REC->prio, REC->target_cpu");

    /// <summary>
    /// sched_migrate_task (include/trace/events/sched.h, 6.x; set_task_cpu fires it when a task's CPU changes): comm, pid,
    /// prio, orig_cpu, dest_cpu.
    /// </summary>
    public static TraceEventFormat SchedMigrateTask { get; } = new(SchedSystem, "sched_migrate_task", 314,
    [
        new("char", "comm[16]", 8, 16, false),
        new("pid_t", "pid", 24, 4, true),
        new("int", "prio", 28, 4, true),
        new("int", "orig_cpu", 32, 4, true),
        new("int", "dest_cpu", 36, 4, true),
    ],
        "\"comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d\", REC->comm, REC->pid, REC->prio, REC->orig_cpu, REC->dest_cpu");

    public static TraceEventFormat KvmExit { get; } = new(KvmSystem, "kvm_exit", 1501,
    [
        new("unsigned int", "exit_reason", 8, 4, false),
        new("unsigned long", "guest_rip", 16, 8, false),
        new("u32", "isa", 24, 4, false),
        new("u64", "info1", 32, 8, false),
        new("u64", "info2", 40, 8, false),
        new("u32", "intr_info", 48, 4, false),
        new("u32", "error_code", 52, 4, false),
        new("unsigned int", "vcpu_id", 56, 4, false),
    ],
        "\"vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x\", " +
        "REC->vcpu_id, (REC->isa == 1) ? __print_symbolic(REC->exit_reason & 0xffff, " + VmxExitReasons + ") : " +
        "__print_symbolic(REC->exit_reason, " + SvmExitReasons + "), " +
        "(REC->isa == 1 && REC->exit_reason & ~0xffff) ? \" \" : \"\", " +
        "(REC->isa == 1) ? __print_flags(REC->exit_reason & ~0xffff, \" \", { 0x80000000, \"FAILED_VMENTRY\" }) : \"\", " +
        "REC->guest_rip, REC->info1, REC->info2, REC->intr_info, REC->error_code");

    public static TraceEventFormat KvmEntry { get; } = new(KvmSystem, "kvm_entry", 1502,
    [
        new("unsigned int", "vcpu_id", 8, 4, false),
        new("unsigned long", "rip", 16, 8, false),
    ],
        "\"vcpu %u, rip 0x%lx\", REC->vcpu_id, REC->rip");

    public static TraceEventFormat KvmHypercall { get; } = new(KvmSystem, "kvm_hypercall", 1503,
    [
        new("unsigned long", "nr", 8, 8, false),
        new("unsigned long", "a0", 16, 8, false),
        new("unsigned long", "a1", 24, 8, false),
        new("unsigned long", "a2", 32, 8, false),
        new("unsigned long", "a3", 40, 8, false),
    ],
        "\"nr 0x%lx a0 0x%lx a1 0x%lx a2 0x%lx a3 0x%lx\", REC->nr, REC->a0, REC->a1, REC->a2, REC->a3");

    public static TraceEventFormat KvmInjVirq { get; } = new(KvmSystem, "kvm_inj_virq", 1504,
    [
        new("unsigned int", "irq", 8, 4, false),
    ],
        "\"irq %u\", REC->irq");

    public static TraceEventFormat KvmInjException { get; } = new(KvmSystem, "kvm_inj_exception", 1505,
    [
        new("u8", "exception", 8, 1, false),
        new("u8", "has_error", 9, 1, false),
        new("u32", "error_code", 12, 4, false),
    ],
        "\"%s (0x%x)\", __print_symbolic(REC->exception, " + ExceptionSymbols + "), REC->has_error ? REC->error_code : 0");

    public static TraceEventFormat KvmPageFault { get; } = new(KvmSystem, "kvm_page_fault", 1506,
    [
        new("unsigned long", "fault_address", 8, 8, false),
        new("unsigned int", "error_code", 16, 4, false),
    ],
        "\"address %lx error_code %x\", REC->fault_address, REC->error_code");

    public static TraceEventFormat KvmMsr { get; } = new(KvmSystem, "kvm_msr", 1507,
    [
        new("unsigned", "write", 8, 4, false),
        new("u32", "ecx", 12, 4, false),
        new("u64", "data", 16, 8, false),
        new("u8", "exception", 24, 1, false),
    ],
        "\"msr_%s %x = 0x%llx%s\", REC->write ? \"write\" : \"read\", REC->ecx, REC->data, REC->exception ? \" (#GP)\" : \"\"");

    public static TraceEventFormat KvmApicAcceptIrq { get; } = new(KvmSystem, "kvm_apic_accept_irq", 1508,
    [
        new("__u32", "apicid", 8, 4, false),
        new("__u16", "dm", 12, 2, false),
        new("__u16", "tm", 14, 2, false),
        new("__u8", "vec", 16, 1, false),
    ],
        "\"apicid %x vec %u (%s|%s)\", REC->apicid, REC->vec, __print_symbolic((REC->dm >> 8 & 0x7), " + DeliverModes + "), REC->tm ? \"level\" : \"edge\"");

    public static TraceEventFormat KvmTryAsyncGetPage { get; } = new(KvmSystem, "kvm_try_async_get_page", 1509,
    [
        new("__u64", "gva", 8, 8, false),
        new("u64", "gfn", 16, 8, false),
    ],
        "\"gva = %#llx, gfn = %#llx\", REC->gva, REC->gfn");

    public static TraceEventFormat KvmAsyncPfRepeatedFault { get; } = new(KvmSystem, "kvm_async_pf_repeated_fault", 1510,
    [
        new("__u64", "gva", 8, 8, false),
        new("u64", "gfn", 16, 8, false),
    ],
        "\"gva = %#llx, gfn = %#llx\", REC->gva, REC->gfn");

    public static TraceEventFormat KvmAsyncPfNotPresent { get; } = new(KvmSystem, "kvm_async_pf_not_present", 1511,
    [
        new("__u64", "token", 8, 8, false),
        new("__u64", "gva", 16, 8, false),
    ],
        "\"token %#llx gva %#llx\", REC->token, REC->gva");

    public static TraceEventFormat KvmAsyncPfReady { get; } = new(KvmSystem, "kvm_async_pf_ready", 1512,
    [
        new("__u64", "token", 8, 8, false),
        new("__u64", "gva", 16, 8, false),
    ],
        "\"token %#llx gva %#llx\", REC->token, REC->gva");

    public static TraceEventFormat KvmAsyncPfCompleted { get; } = new(KvmSystem, "kvm_async_pf_completed", 1513,
    [
        new("unsigned long", "address", 8, 8, false),
        new("u64", "gva", 16, 8, false),
    ],
        "\"gva %#llx address %#lx\", REC->gva, REC->address");

    public static TraceEventFormat VeDelivered { get; } = new(VexlabSystem, "ve_delivered", 1601,
    [
        new("unsigned int", "vcpu_id", 8, 4, false),
        new("u64", "gva", 16, 8, false),
        new("u64", "gfn", 24, 8, false),
    ],
        "\"vcpu %u gva %#llx gfn %#llx\", REC->vcpu_id, REC->gva, REC->gfn");

    public static TraceEventFormat VeResolveEpt { get; } = new(VexlabSystem, "ve_resolve_ept", 1602,
    [
        new("unsigned int", "vcpu_id", 8, 4, false),
        new("u8", "can_continue", 12, 1, false),
        new("u64", "gfn", 16, 8, false),
        new("u64", "token", 24, 8, false),
    ],
        "\"vcpu %u gfn %#llx token %#llx can_continue %u\", REC->vcpu_id, REC->gfn, REC->token, REC->can_continue");

    public static TraceEventFormat VeWakeup { get; } = new(VexlabSystem, "ve_wakeup", 1603,
    [
        new("unsigned int", "vcpu_id", 8, 4, false),
        new("u64", "token", 16, 8, false),
    ],
        "\"vcpu %u token %#llx\", REC->vcpu_id, REC->token");

    public static TraceEventFormat GuestFault { get; } = new(VexlabSystem, "guest_fault", 1604,
    [
        new("unsigned int", "vcpu_id", 8, 4, false),
        new("int", "task", 12, 4, true),
        new("u64", "gva", 16, 8, false),
        new("u64", "gfn", 24, 8, false),
        new("u64", "token", 32, 8, false),
    ],
        "\"vcpu %u task %d gva %#llx gfn %#llx token %#llx\", REC->vcpu_id, REC->task, REC->gva, REC->gfn, REC->token");

    public static TraceEventFormat GuestFaultDone { get; } = new(VexlabSystem, "guest_fault_done", 1605,
    [
        new("unsigned int", "vcpu_id", 8, 4, false),
        new("int", "task", 12, 4, true),
        new("u64", "gfn", 16, 8, false),
        new("u64", "token", 24, 8, false),
        new("u64", "latency_ns", 32, 8, false),
        new("u8", "outcome", 40, 1, false),
    ],
        "\"vcpu %u task %d gfn %#llx token %#llx latency_ns %llu %s\", REC->vcpu_id, REC->task, REC->gfn, REC->token, REC->latency_ns, __print_symbolic(REC->outcome, { 0, \"done\" }, { 1, \"fixup\" }, { 2, \"signal\" })");

    /// <summary>
    /// ftrace's <c>print</c> event (kernel/trace/trace_entries.h, ID 5 as TRACE_PRINT): what a write to
    /// <c>/sys/kernel/tracing/trace_marker</c> records (tracing_mark_write), ip then the text. A replay writes the
    /// violated property here, where <c>trace-cmd report</c> and KernelShark show a marker's text.
    /// </summary>
    public static TraceEventFormat Print { get; } = new(FtraceSystem, "print", 5,
    [
        new("unsigned long", "ip", 8, 8, false),
        new("char", "buf[]", 16, 0, true),
    ],
        "\"%ps: %s\", (void *)REC->ip, REC->buf");

    /// <summary>The function a marker's ip names (kallsyms gives it this address): tracing_mark_write, as for a trace_marker write.</summary>
    public const string MarkerFunction = "tracing_mark_write";

    /// <summary>The kernel text address of <see cref="MarkerFunction"/> in the trace's kallsyms.</summary>
    public const ulong MarkerIp = 0xffffffff811d3a40UL;

    /// <summary>
    /// The longest marker text a 6.8+ kernel records from one trace_marker write: what one ring-buffer page holds
    /// (ring_buffer_max_event_size) less the print record's common fields and ip and the two bytes tracing_mark_write
    /// keeps for a newline and the NUL (meta_size = sizeof(*entry) + 2); 6.8 cut writes to the page
    /// (8ec90be7f15f) and to TRACE_MARKER_MAX_SIZE, 4096. Kernels before it cut them at TRACE_BUF_SIZE, 1024.
    /// </summary>
    public const int MaxMarkerText = TraceDatWriter.MaxRecord - 16 - 2;

    /// <summary>Every format of the kvm and vexlab systems, kvm first, in the order trace.dat lists them (<see cref="Print"/> goes with ftrace's own).</summary>
    public static ImmutableArray<TraceEventFormat> All { get; } =
    [
        KvmExit, KvmEntry, KvmHypercall, KvmInjVirq, KvmInjException, KvmPageFault, KvmMsr, KvmApicAcceptIrq,
        KvmTryAsyncGetPage, KvmAsyncPfRepeatedFault, KvmAsyncPfNotPresent, KvmAsyncPfReady, KvmAsyncPfCompleted,
        VeDelivered, VeResolveEpt, VeWakeup, GuestFault, GuestFaultDone, SchedSwitch, SchedWakeup, SchedMigrateTask,
    ];

    /// <summary>The tracepoint a record kind fires, or null for timeline-only kinds.</summary>
    public static TraceEventFormat? For(TraceKind kind) => kind switch
    {
        TraceKind.KvmExit => KvmExit,
        TraceKind.KvmEntry => KvmEntry,
        TraceKind.KvmHypercall => KvmHypercall,
        TraceKind.KvmInjVirq => KvmInjVirq,
        TraceKind.KvmInjException => KvmInjException,
        TraceKind.KvmPageFault => KvmPageFault,
        TraceKind.KvmMsr => KvmMsr,
        TraceKind.KvmApicAcceptIrq => KvmApicAcceptIrq,
        TraceKind.KvmTryAsyncGetPage => KvmTryAsyncGetPage,
        TraceKind.KvmAsyncPfRepeatedFault => KvmAsyncPfRepeatedFault,
        TraceKind.KvmAsyncPfNotPresent => KvmAsyncPfNotPresent,
        TraceKind.KvmAsyncPfReady => KvmAsyncPfReady,
        TraceKind.KvmAsyncPfCompleted => KvmAsyncPfCompleted,
        TraceKind.VeDelivered => VeDelivered,
        TraceKind.VeResolveEpt => VeResolveEpt,
        TraceKind.VeWakeup => VeWakeup,
        TraceKind.FaultBegin => GuestFault,
        TraceKind.FaultEnd => GuestFaultDone,
        TraceKind.SchedSwitch => SchedSwitch,
        TraceKind.SchedWakeup => SchedWakeup,
        TraceKind.SchedMigrateTask => SchedMigrateTask,
        TraceKind.Violation or TraceKind.Marker or TraceKind.ReplayStep or TraceKind.Stopped => Print,
        _ => null,
    };

    /// <summary>VMX basic exit reason of a counted exit.</summary>
    public static uint VmxExitCode(ExitReason reason) => (uint)CounterNames.VmxExitCodes[(int)reason];

    /// <summary>
    /// Writes the record of <paramref name="r"/> (common header with <paramref name="pid"/>, then the fields)
    /// into <paramref name="dest"/>, which must hold <see cref="TraceEventFormat.RecordSize"/> bytes; returns
    /// that size, or 0 for kinds with no tracepoint.
    /// </summary>
    public static int Encode(in TraceRecord r, int pid, Span<byte> dest, TraceThreads? threads = null)
    {
        var f = For(r.Kind);
        if (f is null)
        {
            return 0;
        }

        if (f == Print)
        {
            // print: ip, then the text and its NUL; the record is as long as they are.
            var text = System.Text.Encoding.ASCII.GetBytes(KvmFormat.MarkerText(r));
            var size = f.RecordSize + text.Length + 1;
            var m = dest[..size];
            m.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(m, f.Id);
            BinaryPrimitives.WriteInt32LittleEndian(m[4..], pid);
            BinaryPrimitives.WriteUInt64LittleEndian(m[8..], MarkerIp);
            text.CopyTo(m[16..]);
            return size;
        }

        var d = dest[..f.RecordSize];
        d.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(d, f.Id);
        BinaryPrimitives.WriteInt32LittleEndian(d[4..], pid);
        var vcpu = (uint)Math.Max(r.Vcpu, 0);
        switch (r.Kind)
        {
            case TraceKind.KvmExit:
                U32(d, 8, VmxExitCode(r.ExitReason));
                U64(d, 16, r.Rip);
                U32(d, 24, 1);
                U64(d, 32, r.Info1);
                U64(d, 40, r.Info2);
                U32(d, 48, r.IntrInfo);
                U32(d, 52, (uint)r.ErrorCode);
                U32(d, 56, vcpu);
                break;
            case TraceKind.KvmEntry:
                U32(d, 8, vcpu);
                U64(d, 16, r.Rip);
                break;
            case TraceKind.KvmHypercall:
                U64(d, 8, r.Value < 0 ? 0 : (ulong)r.Value);
                U64(d, 16, r.Info1);
                U64(d, 24, r.Info2);
                break;
            case TraceKind.KvmInjVirq:
                U32(d, 8, (uint)r.Vector);
                break;
            case TraceKind.KvmInjException:
                d[8] = (byte)r.Vector;
                d[9] = r.HasErrorCode ? (byte)1 : (byte)0;
                U32(d, 12, (uint)r.ErrorCode);
                break;
            case TraceKind.KvmPageFault:
                U64(d, 8, r.Address);
                U32(d, 16, (uint)r.ErrorCode);
                break;
            case TraceKind.KvmMsr:
                U32(d, 8, 1);
                U32(d, 12, (uint)r.Info1);
                U64(d, 16, r.Info2);
                break;
            case TraceKind.KvmApicAcceptIrq:
                U32(d, 8, vcpu);
                d[16] = (byte)r.Vector;
                break;
            case TraceKind.KvmTryAsyncGetPage:
            case TraceKind.KvmAsyncPfRepeatedFault:
                U64(d, 8, r.Gva);
                U64(d, 16, r.Gfn);
                break;
            case TraceKind.KvmAsyncPfNotPresent:
            case TraceKind.KvmAsyncPfReady:
                U64(d, 8, r.Token);
                U64(d, 16, r.Gva);
                break;
            case TraceKind.KvmAsyncPfCompleted:
                U64(d, 8, r.Address);
                U64(d, 16, r.Gva);
                break;
            case TraceKind.VeDelivered:
                U32(d, 8, vcpu);
                U64(d, 16, r.Gva);
                U64(d, 24, r.Gfn);
                break;
            case TraceKind.VeResolveEpt:
                U32(d, 8, vcpu);
                d[12] = r.Value != 0 ? (byte)1 : (byte)0;
                U64(d, 16, r.Gfn);
                U64(d, 24, r.Token);
                break;
            case TraceKind.VeWakeup:
                U32(d, 8, vcpu);
                U64(d, 16, r.Token);
                break;
            case TraceKind.FaultBegin:
                U32(d, 8, vcpu);
                BinaryPrimitives.WriteInt32LittleEndian(d[12..], r.Task);
                U64(d, 16, r.Gva);
                U64(d, 24, r.Gfn);
                U64(d, 32, r.Token);
                break;
            case TraceKind.SchedSwitch:
            {
                var t = threads ?? new TraceThreads(Math.Max(Math.Max(r.Vcpu, r.PrevVcpu) + 1, 1), 0);
                Comm(d, 8, t.VcpuComm(r.PrevVcpu, r.Pcpu));
                I32(d, 24, t.VcpuPid(r.PrevVcpu));
                I32(d, 28, TraceThreads.DefaultPrio);
                BinaryPrimitives.WriteInt64LittleEndian(d[32..], r.PrevState);
                Comm(d, 40, t.VcpuComm(r.Vcpu, r.Pcpu));
                I32(d, 56, t.VcpuPid(r.Vcpu));
                I32(d, 60, TraceThreads.DefaultPrio);
                break;
            }

            case TraceKind.SchedWakeup:
            {
                var t = threads ?? new TraceThreads(Math.Max(r.Vcpu + 1, 1), 0);
                Comm(d, 8, t.VcpuComm(r.Vcpu, r.Pcpu));
                I32(d, 24, t.VcpuPid(r.Vcpu));
                I32(d, 28, TraceThreads.DefaultPrio);
                I32(d, 32, r.Pcpu);
                break;
            }

            case TraceKind.SchedMigrateTask:
            {
                var t = threads ?? new TraceThreads(Math.Max(r.Vcpu + 1, 1), 0);
                Comm(d, 8, t.VcpuComm(r.Vcpu, r.Pcpu));
                I32(d, 24, t.VcpuPid(r.Vcpu));
                I32(d, 28, TraceThreads.DefaultPrio);
                I32(d, 32, (int)r.Value);
                I32(d, 36, r.Pcpu);
                break;
            }

            case TraceKind.FaultEnd:
                U32(d, 8, vcpu);
                BinaryPrimitives.WriteInt32LittleEndian(d[12..], r.Task);
                U64(d, 16, r.Gfn);
                U64(d, 24, r.Token);
                U64(d, 32, (ulong)Math.Max(r.DurationNs, 0));
                d[40] = (byte)r.Value;
                break;
        }

        return f.RecordSize;

        static void U32(Span<byte> d, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(d[at..], v);
        static void I32(Span<byte> d, int at, int v) => BinaryPrimitives.WriteInt32LittleEndian(d[at..], v);

        // memcpy of TASK_COMM_LEN bytes: the name and its NUL, at most 15 characters of it.
        static void Comm(Span<byte> d, int at, string comm)
        {
            var n = Math.Min(comm.Length, 15);
            System.Text.Encoding.ASCII.GetBytes(comm.AsSpan(0, n), d.Slice(at, 16));
        }
        static void U64(Span<byte> d, int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(d[at..], v);
    }
}
