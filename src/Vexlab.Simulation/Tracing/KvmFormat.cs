using System.Globalization;
using System.Text;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// Renders tracepoint arguments with the print formats of <see cref="TraceEventCatalog"/> (the kernel's
/// TP_printk for the kvm system), as libtraceevent prints them for <c>trace-cmd report</c>.
/// printf semantics are kept: <c>%#llx</c> prints 0 as <c>0</c>.
/// </summary>
public static class KvmFormat
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>kvm_trace_sym_exc in arch/x86/kvm/trace.h; other vectors print as hex (e.g. #VE = 0x14).</summary>
    private static readonly (int Vector, string Name)[] Exceptions =
    [
        (0, "#DE"), (1, "#DB"), (3, "#BP"), (4, "#OF"), (5, "#BR"), (6, "#UD"), (7, "#NM"), (8, "#DF"),
        (10, "#TS"), (11, "#NP"), (12, "#SS"), (13, "#GP"), (14, "#PF"), (16, "#MF"), (17, "#AC"), (18, "#MC"),
    ];

    /// <summary>Tracepoint name of a kind, or null for timeline-only kinds.</summary>
    public static string? EventName(TraceKind kind) => TraceEventCatalog.For(kind)?.Name;

    /// <summary>guest_fault_done's outcome: the access completed, its fixup returned -EFAULT, or a signal ended the wait.</summary>
    public static string FaultOutcome(long outcome) => outcome switch
    {
        0 => "done",
        1 => "fixup",
        2 => "signal",
        _ => "0x" + outcome.ToString("x", Inv),
    };

    /// <summary>A comm as the record holds it: TASK_COMM_LEN bytes, so at most 15 characters.</summary>
    private static string Comm(string comm) => comm.Length <= 15 ? comm : comm[..15];

    /// <summary>
    /// sched_switch's prev_state as its print fmt shows it: the state bits below TASK_REPORT_MAX as __print_flags
    /// names them ("S", "D", joined by "|"), or "R" when none is set, then "+" when TASK_REPORT_MAX is (preempted).
    /// </summary>
    public static string PrevState(long state)
    {
        (long Bit, string Name)[] flags = [(0x1, "S"), (0x2, "D"), (0x4, "T"), (0x8, "t"), (0x10, "X"), (0x20, "Z"), (0x40, "P"), (0x80, "I")];
        var bits = state & (SchedState.Preempted - 1);
        var text = bits == 0 ? "R" : string.Join('|', flags.Where(f => (bits & f.Bit) != 0).Select(f => f.Name));
        return (state & SchedState.Preempted) != 0 ? text + "+" : text;
    }

    /// <summary>C's <c>%#llx</c>: "0" for zero, "0x..." otherwise.</summary>
    public static string AltHex(ulong value) => value == 0 ? "0" : "0x" + value.ToString("x", Inv);

    public static string ExceptionName(int vector)
    {
        foreach (var (v, name) in Exceptions)
        {
            if (v == vector)
            {
                return name;
            }
        }

        // __print_symbolic falls back to "0x%lx".
        return "0x" + vector.ToString("x", Inv);
    }

    /// <summary>
    /// The text a replay's marker carries for a violated property (<see cref="TraceKind.Violation"/>): the property and
    /// the step of the counterexample that broke it, cut to what one ring-buffer page holds.
    /// </summary>
    public static string MarkerText(in TraceRecord r)
    {
        var text = r.Kind is TraceKind.Marker or TraceKind.ReplayStep or TraceKind.Stopped
            ? r.Label ?? string.Empty
            : string.Create(Inv, $"violated: {r.Label ?? r.Value.ToString(Inv)} (step {r.Id})");
        text = new string([.. text.Select(c => c is >= ' ' and <= '~' ? c : '?')]);
        return text.Length <= TraceEventCatalog.MaxMarkerText ? text : text[..TraceEventCatalog.MaxMarkerText];
    }

    /// <summary>The arguments part of the line (after "event: "), or null for kinds with no tracepoint.</summary>
    /// <param name="r">The record.</param>
    /// <param name="threads">The host's threads, for the comms and pids sched_switch and sched_wakeup name; null: the defaults.</param>
    public static string? Arguments(in TraceRecord r, TraceThreads? threads = null)
    {
        // Every kind the catalog writes as a trace_marker print (a violation, a mark, a replay step, the stop) reads the
        // same: the catalog's map is the one list of them.
        if (TraceEventCatalog.For(r.Kind) == TraceEventCatalog.Print)
        {
            // "%ps: %s": the marker's ip resolves to tracing_mark_write through the trace's kallsyms.
            return $"{TraceEventCatalog.MarkerFunction}: {MarkerText(r)}";
        }

        var sb = new StringBuilder(96);
        var vcpu = (uint)Math.Max(r.Vcpu, 0);
        switch (r.Kind)
        {
            case TraceKind.KvmExit:
                // "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x"
                sb.Append(Inv, $"vcpu {vcpu} reason {CounterNames.Name(r.ExitReason)} rip 0x{r.Rip:x} info1 0x{r.Info1:x16} info2 0x{r.Info2:x16} intr_info 0x{r.IntrInfo:x8} error_code 0x{(uint)r.ErrorCode:x8}");
                break;
            case TraceKind.KvmEntry:
                // "vcpu %u, rip 0x%lx"
                sb.Append(Inv, $"vcpu {vcpu}, rip 0x{r.Rip:x}");
                break;
            case TraceKind.KvmHypercall:
                // "nr 0x%lx a0 0x%lx a1 0x%lx a2 0x%lx a3 0x%lx"
                sb.Append(Inv, $"nr 0x{Math.Max(r.Value, 0):x} a0 0x{r.Info1:x} a1 0x{r.Info2:x} a2 0x0 a3 0x0");
                break;
            case TraceKind.KvmPageFault:
                // "address %lx error_code %x"
                sb.Append(Inv, $"address {r.Address:x} error_code {(uint)r.ErrorCode:x}");
                break;
            case TraceKind.KvmMsr:
                // "msr_%s %x = 0x%llx%s" (always a write here)
                sb.Append(Inv, $"msr_write {(uint)r.Info1:x} = 0x{r.Info2:x}");
                break;
            case TraceKind.KvmTryAsyncGetPage:
            case TraceKind.KvmAsyncPfRepeatedFault:
                // "gva = %#llx, gfn = %#llx"
                sb.Append(Inv, $"gva = {AltHex(r.Gva)}, gfn = {AltHex(r.Gfn)}");
                break;
            case TraceKind.KvmAsyncPfNotPresent:
            case TraceKind.KvmAsyncPfReady:
                // "token %#llx gva %#llx"
                sb.Append(Inv, $"token {AltHex(r.Token)} gva {AltHex(r.Gva)}");
                break;
            case TraceKind.KvmAsyncPfCompleted:
                // "gva %#llx address %#lx"
                sb.Append(Inv, $"gva {AltHex(r.Gva)} address {AltHex(r.Address)}");
                break;
            case TraceKind.KvmInjException:
                // "%s (0x%x)", __print_symbolic(exception, kvm_trace_sym_exc), has_error ? error_code : 0
                sb.Append(Inv, $"{ExceptionName(r.Vector)} (0x{(r.HasErrorCode ? (uint)r.ErrorCode : 0u):x})");
                break;
            case TraceKind.KvmInjVirq:
                // "irq %u"
                sb.Append(Inv, $"irq {(uint)r.Vector}");
                break;
            case TraceKind.KvmApicAcceptIrq:
                // "apicid %x vec %u (%s|%s)", delivery mode Fixed, edge-triggered
                sb.Append(Inv, $"apicid {vcpu:x} vec {(byte)r.Vector} (Fixed|edge)");
                break;
            case TraceKind.VeDelivered:
                sb.Append(Inv, $"vcpu {vcpu} gva {AltHex(r.Gva)} gfn {AltHex(r.Gfn)}");
                break;
            case TraceKind.VeResolveEpt:
                sb.Append(Inv, $"vcpu {vcpu} gfn {AltHex(r.Gfn)} token {AltHex(r.Token)} can_continue {(r.Value != 0 ? 1 : 0)}");
                break;
            case TraceKind.VeWakeup:
                sb.Append(Inv, $"vcpu {vcpu} token {AltHex(r.Token)}");
                break;
            case TraceKind.FaultBegin:
                sb.Append(Inv, $"vcpu {vcpu} task {r.Task} gva {AltHex(r.Gva)} gfn {AltHex(r.Gfn)} token {AltHex(r.Token)}");
                break;
            case TraceKind.FaultEnd:
                sb.Append(Inv, $"vcpu {vcpu} task {r.Task} gfn {AltHex(r.Gfn)} token {AltHex(r.Token)} latency_ns {Math.Max(r.DurationNs, 0)} {FaultOutcome(r.Value)}");
                break;
            case TraceKind.SchedSwitch:
            {
                var t = threads ?? new TraceThreads(Math.Max(Math.Max(r.Vcpu, r.PrevVcpu) + 1, 1), 0);
                sb.Append(Inv, $"prev_comm={Comm(t.VcpuComm(r.PrevVcpu, r.Pcpu))} prev_pid={t.VcpuPid(r.PrevVcpu)} prev_prio={TraceThreads.DefaultPrio} prev_state={PrevState(r.PrevState)} ==> ");
                sb.Append(Inv, $"next_comm={Comm(t.VcpuComm(r.Vcpu, r.Pcpu))} next_pid={t.VcpuPid(r.Vcpu)} next_prio={TraceThreads.DefaultPrio}");
                break;
            }

            case TraceKind.SchedWakeup:
            {
                var t = threads ?? new TraceThreads(Math.Max(r.Vcpu + 1, 1), 0);
                sb.Append(Inv, $"comm={Comm(t.VcpuComm(r.Vcpu, r.Pcpu))} pid={t.VcpuPid(r.Vcpu)} prio={TraceThreads.DefaultPrio} target_cpu={r.Pcpu:D3}");
                break;
            }

            case TraceKind.SchedMigrateTask:
            {
                var t = threads ?? new TraceThreads(Math.Max(r.Vcpu + 1, 1), 0);
                sb.Append(Inv, $"comm={Comm(t.VcpuComm(r.Vcpu, r.Pcpu))} pid={t.VcpuPid(r.Vcpu)} prio={TraceThreads.DefaultPrio} orig_cpu={r.Value} dest_cpu={r.Pcpu}");
                break;
            }

            default:
                return null;
        }

        return sb.ToString();
    }
}
