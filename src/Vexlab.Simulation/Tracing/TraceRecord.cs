using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tracing;

/// <summary>What a <see cref="TraceRecord"/> describes. Each writer renders the kinds it understands.</summary>
public enum TraceKind
{
    /// <summary>
    /// vCPU <see cref="TraceRecord.Vcpu"/> enters <see cref="TraceRecord.State"/> (closes its previous state);
    /// <see cref="TraceRecord.Value"/> 1: it is in the host handling an exit, running no guest code (the model's InHost).
    /// No writer draws it: the Perfetto state slices are <see cref="VcpuTime"/>'s, vcpu_ns' own split.
    /// </summary>
    VcpuState,

    /// <summary>A complete slice of <see cref="TraceRecord.DurationNs"/> on a vCPU track, or a worker track if <see cref="TraceRecord.Worker"/> is set.</summary>
    Slice,

    /// <summary>Host worker <see cref="TraceRecord.Worker"/> fetches a page for <see cref="TraceRecord.Token"/> for <see cref="TraceRecord.DurationNs"/>.</summary>
    HostWork,

    /// <summary>A fault on <see cref="TraceRecord.Token"/> becomes outstanding.</summary>
    FaultBegin,

    /// <summary>The fault on <see cref="TraceRecord.Token"/> is resolved.</summary>
    FaultEnd,

    /// <summary>Counter <see cref="TraceRecord.Label"/> takes <see cref="TraceRecord.Value"/>.</summary>
    Counter,

    /// <summary>A free-form instant named <see cref="TraceRecord.Label"/>.</summary>
    Instant,

    /// <summary>The cause chain of fault <see cref="TraceRecord.Id"/> passes here (<see cref="TraceRecord.Label"/> says how: the worker's I/O, the page-ready, the wakeup).</summary>
    FaultFlow,

    /// <summary>Safety property <see cref="TraceRecord.Value"/> (named in <see cref="TraceRecord.Label"/>) broke at this step, the <see cref="TraceRecord.Id"/>th.</summary>
    Violation,

    /// <summary>Task <see cref="TraceRecord.Task"/> finished one unit of work (an iteration of its loop).</summary>
    TaskWork,

    /// <summary>
    /// A replay's note on the property its counterexample breaks, in <see cref="TraceRecord.Label"/>, where no single
    /// step's event says it: a dead end (no-deadlock), a lasso's loop start and end, a user invariant.
    /// </summary>
    Marker,

    KvmExit,
    KvmEntry,
    KvmPageFault,
    KvmTryAsyncGetPage,
    KvmAsyncPfRepeatedFault,
    KvmAsyncPfNotPresent,
    KvmAsyncPfReady,
    KvmAsyncPfCompleted,
    KvmInjException,
    KvmInjVirq,
    KvmApicAcceptIrq,
    KvmHypercall,
    KvmMsr,
    VeDelivered,
    VeResolveEpt,
    VeWakeup,

    /// <summary>
    /// vCPU <see cref="TraceRecord.Vcpu"/>'s time counts from here in the vcpu_ns category numbered <see cref="TraceRecord.Value"/>
    /// (<see cref="Observation.VcpuCategory"/>): the split itself, for the timeline and the Perfetto state slices; no tracepoint.
    /// </summary>
    VcpuTime,

    /// <summary>
    /// A replay's step <see cref="TraceRecord.Id"/>, named in <see cref="TraceRecord.Label"/> as the checker's step list
    /// names it, at its start: a Perfetto instant on its track, and a trace_marker write (ftrace's print) in trace.dat.
    /// </summary>
    ReplayStep,

    /// <summary>
    /// sched:sched_switch on pCPU <see cref="TraceRecord.Pcpu"/>: vCPU <see cref="TraceRecord.PrevVcpu"/>'s thread (-1: the
    /// idle task) leaves it in state <see cref="TraceRecord.PrevState"/> and vCPU <see cref="TraceRecord.Vcpu"/>'s (-1: the
    /// idle task) runs. Only with shared pCPUs (<c>host.pcpus</c> below the vCPUs).
    /// </summary>
    SchedSwitch,

    /// <summary>
    /// sched:sched_wakeup of vCPU <see cref="TraceRecord.Vcpu"/>'s blocked thread, target_cpu <see cref="TraceRecord.Pcpu"/>,
    /// recorded on that pCPU by the thread running there (<see cref="TraceRecord.PrevVcpu"/>, -1: the idle task).
    /// </summary>
    SchedWakeup,

    /// <summary>
    /// sched:sched_migrate_task of vCPU <see cref="TraceRecord.Vcpu"/>'s thread from orig_cpu <see cref="TraceRecord.Value"/>
    /// (the pCPU it last ran on) to dest_cpu <see cref="TraceRecord.Pcpu"/>, recorded on dest_cpu by the thread running there
    /// (<see cref="TraceRecord.PrevVcpu"/>, -1: the idle task), as set_task_cpu fires it when the thread is moved there.
    /// </summary>
    SchedMigrateTask,

    /// <summary>
    /// The run stopped at <see cref="TraceRecord.TimeNs"/>, before its duration (a signal or a wall-clock limit: the
    /// result's <c>complete: false</c>); <see cref="TraceRecord.Label"/> says so. The trace ends here, partial: a trace_marker
    /// write in trace.dat and the ftrace text, a global instant in Perfetto.
    /// </summary>
    Stopped,
}

/// <summary>
/// sched_switch's prev_state values (include/linux/sched.h): __trace_sched_switch_state gives a preempted task
/// TASK_REPORT_MAX (printed "R+"), a blocked one 1 &lt;&lt; (its state index - 1).
/// </summary>
public static class SchedState
{
    /// <summary>Runnable; the idle task as prev.</summary>
    public const long Running = 0;

    /// <summary>TASK_INTERRUPTIBLE: kvm_vcpu_block's wait (a halted vCPU, HLT or KVM's artificial halt).</summary>
    public const long Interruptible = 0x1;

    /// <summary>TASK_UNINTERRUPTIBLE: a vCPU thread waiting for its page in the fault path (a synchronous stall).</summary>
    public const long Uninterruptible = 0x2;

    /// <summary>TASK_REPORT_MAX, ((TASK_REPORT + 1) &lt;&lt; 1) with TASK_REPORT 0x7f: preempted while runnable ("R+").</summary>
    public const long Preempted = 0x100;
}

/// <summary>Coarse vCPU state for the timeline.</summary>
public enum VcpuState
{
    Guest,
    StalledInHost,
    HaltedInHost,
    Idle,

    /// <summary>Runnable but waiting for a physical CPU (host.pcpus): steal time.</summary>
    WaitingForPcpu,
}

/// <summary>
/// Neutral trace record produced by the simulator and consumed by every <see cref="ITraceSink"/>.
/// Fields a kind does not use stay at their defaults. -1 in <see cref="Vcpu"/>/<see cref="Worker"/> means "none".
/// </summary>
public readonly record struct TraceRecord
{
    public long TimeNs { get; init; }

    public TraceKind Kind { get; init; }

    public int Vcpu { get; init; }

    public int Worker { get; init; }

    public int Task { get; init; }

    public ulong Gfn { get; init; }

    public ulong Gva { get; init; }

    /// <summary>Guest physical address (kvm_page_fault) or host virtual address (kvm_async_pf_completed).</summary>
    public ulong Address { get; init; }

    public ulong Rip { get; init; }

    public uint Token { get; init; }

    public int Vector { get; init; }

    public ulong ErrorCode { get; init; }

    public bool HasErrorCode { get; init; }

    public ExitReason ExitReason { get; init; }

    public ulong Info1 { get; init; }

    public ulong Info2 { get; init; }

    public uint IntrInfo { get; init; }

    public long DurationNs { get; init; }

    /// <summary>Pairs the begin and end of one fault (<see cref="TraceKind.FaultBegin"/>, <see cref="TraceKind.FaultEnd"/>) and links its flow.</summary>
    public long Id { get; init; }

    public long Value { get; init; }

    /// <summary>
    /// For <see cref="TraceKind.FaultBegin"/> and <see cref="TraceKind.FaultEnd"/>: the start of the step in which the fault
    /// began or ended, the two instants fault_latency_ns measures between (<see cref="TimeNs"/> is the tracepoint's stamp, which
    /// comes later in the step).
    /// </summary>
    public long StepNs { get; init; }

    public VcpuState State { get; init; }

    public string? Label { get; init; }

    /// <summary>For <see cref="TraceKind.SchedSwitch"/> and <see cref="TraceKind.SchedWakeup"/>: the pCPU; for <see cref="TraceKind.SchedMigrateTask"/>: dest_cpu.</summary>
    public int Pcpu { get; init; }

    /// <summary>For <see cref="TraceKind.SchedSwitch"/>: the vCPU whose thread leaves the pCPU; for <see cref="TraceKind.SchedWakeup"/> and <see cref="TraceKind.SchedMigrateTask"/>: the one running there; -1: the idle task.</summary>
    public int PrevVcpu { get; init; }

    /// <summary>For <see cref="TraceKind.SchedSwitch"/>: prev_state as __trace_sched_switch_state gives it (<see cref="SchedState"/>).</summary>
    public long PrevState { get; init; }

    public static TraceRecord At(long timeNs, TraceKind kind, int vcpu = -1) =>
        new() { TimeNs = timeNs, Kind = kind, Vcpu = vcpu, Worker = -1 };

    public static TraceRecord StateChange(long timeNs, int vcpu, VcpuState state) =>
        At(timeNs, TraceKind.VcpuState, vcpu) with { State = state };

    public static TraceRecord Exit(long timeNs, int vcpu, ExitReason reason, ulong rip, ulong info1 = 0, ulong info2 = 0) =>
        At(timeNs, TraceKind.KvmExit, vcpu) with { ExitReason = reason, Rip = rip, Info1 = info1, Info2 = info2 };

    public static TraceRecord Entry(long timeNs, int vcpu, ulong rip) =>
        At(timeNs, TraceKind.KvmEntry, vcpu) with { Rip = rip };
}

/// <summary>Consumer of trace records (writers, fan-out, in-memory capture).</summary>
public interface ITraceSink
{
    void Write(in TraceRecord record);

    /// <summary>Closes open slices and flushes; no writes after this.</summary>
    void Complete(long endTimeNs);
}

/// <summary>Sends every record to several sinks.</summary>
public sealed class TraceFanout(params ITraceSink[] sinks) : ITraceSink
{
    public void Write(in TraceRecord record)
    {
        foreach (var s in sinks)
        {
            s.Write(record);
        }
    }

    public void Complete(long endTimeNs)
    {
        foreach (var s in sinks)
        {
            s.Complete(endTimeNs);
        }
    }
}
