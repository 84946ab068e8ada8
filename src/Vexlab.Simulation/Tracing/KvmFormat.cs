using System.Globalization;
using System.Text;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// Renders KVM tracepoint arguments with the kernel's own TP_printk formats (mainline 6.x), checked
/// against include/trace/events/kvm.h and arch/x86/kvm/trace.h. Vexlab's #VE events (ve_*) follow the
/// same "key value" style. printf semantics are kept: <c>%#llx</c> prints 0 as <c>0</c>.
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
    public static string? EventName(TraceKind kind) => kind switch
    {
        TraceKind.KvmExit => "kvm_exit",
        TraceKind.KvmEntry => "kvm_entry",
        TraceKind.KvmPageFault => "kvm_page_fault",
        TraceKind.KvmTryAsyncGetPage => "kvm_try_async_get_page",
        TraceKind.KvmAsyncPfRepeatedFault => "kvm_async_pf_repeated_fault",
        TraceKind.KvmAsyncPfNotPresent => "kvm_async_pf_not_present",
        TraceKind.KvmAsyncPfReady => "kvm_async_pf_ready",
        TraceKind.KvmAsyncPfCompleted => "kvm_async_pf_completed",
        TraceKind.KvmInjException => "kvm_inj_exception",
        TraceKind.KvmInjVirq => "kvm_inj_virq",
        TraceKind.KvmApicAcceptIrq => "kvm_apic_accept_irq",
        TraceKind.VeDelivered => "ve_delivered",
        TraceKind.VeResolveEpt => "ve_resolve_ept",
        TraceKind.VeWakeup => "ve_wakeup",
        _ => null,
    };

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

    /// <summary>The arguments part of the line (after "event: "), or null for kinds with no tracepoint.</summary>
    public static string? Arguments(in TraceRecord r)
    {
        var sb = new StringBuilder(96);
        switch (r.Kind)
        {
            case TraceKind.KvmExit:
                // "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x"
                sb.Append(Inv, $"vcpu {r.Vcpu} reason {CounterNames.Name(r.ExitReason)} rip 0x{r.Rip:x} info1 0x{r.Info1:x16} info2 0x{r.Info2:x16} intr_info 0x{r.IntrInfo:x8} error_code 0x{(uint)r.ErrorCode:x8}");
                break;
            case TraceKind.KvmEntry:
                // "vcpu %u, rip 0x%lx%s"
                sb.Append(Inv, $"vcpu {r.Vcpu}, rip 0x{r.Rip:x}");
                break;
            case TraceKind.KvmPageFault:
                // "vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx"
                sb.Append(Inv, $"vcpu {r.Vcpu} rip 0x{r.Rip:x} address 0x{r.Address:x16} error_code 0x{r.ErrorCode:x}");
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
                // "%s%s%s%s%s": symbol, " (", error code via __print_symbolic -> 0x%lx, ")", " [reinjected]"
                sb.Append(ExceptionName(r.Vector));
                if (r.HasErrorCode)
                {
                    sb.Append(Inv, $" (0x{r.ErrorCode:x})");
                }

                break;
            case TraceKind.KvmInjVirq:
                // "%s 0x%x%s"
                sb.Append(Inv, $"IRQ 0x{r.Vector:x}");
                break;
            case TraceKind.KvmApicAcceptIrq:
                // "apicid %x vec %u (%s|%s)", delivery mode Fixed, edge-triggered
                sb.Append(Inv, $"apicid {r.Vcpu:x} vec {r.Vector} (Fixed|edge)");
                break;
            case TraceKind.VeDelivered:
                sb.Append(Inv, $"vcpu {r.Vcpu} gva {AltHex(r.Gva)} gfn {AltHex(r.Gfn)} token {AltHex(r.Token)}");
                break;
            case TraceKind.VeResolveEpt:
                sb.Append(Inv, $"vcpu {r.Vcpu} gfn {AltHex(r.Gfn)} token {AltHex(r.Token)}");
                break;
            case TraceKind.VeWakeup:
                sb.Append(Inv, $"vcpu {r.Vcpu} token {AltHex(r.Token)} task {r.Task}");
                break;
            default:
                return null;
        }

        return sb.ToString();
    }
}
