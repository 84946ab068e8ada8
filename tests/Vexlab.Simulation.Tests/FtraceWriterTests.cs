using System.Text.RegularExpressions;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests;

public class FtraceWriterTests
{
    private const string Hex = "(0|0x[0-9a-f]+)"; // C's %#llx

    // TP_printk formats of TraceEventCatalog (arch/x86/kvm/trace.h, include/trace/events/kvm.h), as regexes.
    internal static readonly Dictionary<string, string> Formats = new(StringComparer.Ordinal)
    {
        ["kvm_exit"] = @"^vcpu \d+ reason [A-Z_]+ rip 0x[0-9a-f]+ info1 0x[0-9a-f]{16} info2 0x[0-9a-f]{16} intr_info 0x[0-9a-f]{8} error_code 0x[0-9a-f]{8}$",
        ["kvm_entry"] = @"^vcpu \d+, rip 0x[0-9a-f]+$",
        ["kvm_page_fault"] = @"^address [0-9a-f]+ error_code [0-9a-f]+$",
        ["kvm_hypercall"] = @"^nr 0x[0-9a-f]+ a0 0x[0-9a-f]+ a1 0x[0-9a-f]+ a2 0x[0-9a-f]+ a3 0x[0-9a-f]+$",
        ["kvm_msr"] = @"^msr_(read|write) [0-9a-f]+ = 0x[0-9a-f]+( \(#GP\))?$",
        ["kvm_try_async_get_page"] = $"^gva = {Hex}, gfn = {Hex}$",
        ["kvm_async_pf_repeated_fault"] = $"^gva = {Hex}, gfn = {Hex}$",
        ["kvm_async_pf_not_present"] = $"^token {Hex} gva {Hex}$",
        ["kvm_async_pf_ready"] = $"^token {Hex} gva {Hex}$",
        ["kvm_async_pf_completed"] = $"^gva {Hex} address {Hex}$",
        ["kvm_inj_exception"] = @"^(#[A-Z]{2}|0x[0-9a-f]+) \(0x[0-9a-f]+\)$",
        ["kvm_inj_virq"] = @"^irq \d+$",
        ["kvm_apic_accept_irq"] = @"^apicid [0-9a-f]+ vec \d+ \((Fixed|LowPrio|SMI|Res3|NMI|INIT|SIPI|ExtINT)\|(edge|level)\)$",
        ["ve_delivered"] = $"^vcpu \\d+ gva {Hex} gfn {Hex}$",
        ["ve_resolve_ept"] = $"^vcpu \\d+ gfn {Hex} token {Hex} can_continue [01]$",
        ["ve_wakeup"] = $"^vcpu \\d+ token {Hex}$",
        ["guest_fault"] = $"^vcpu \\d+ task \\d+ gva {Hex} gfn {Hex} token {Hex}$",
        ["guest_fault_done"] = $"^vcpu \\d+ task \\d+ gfn {Hex} token {Hex} latency_ns \\d+ (done|fixup|signal)$",
    };

    // trace-cmd report's line: %16s-%-5d [%03d] %5lu.%06lu: name: args
    internal static readonly Regex Line = new(@"^(?<comm>.{16})-(?<pid>\d+) *\[(?<cpu>\d{3})\] +(?<ts>\d+\.\d{6}): (?<event>[a-z_]+): +(?<args>.*)$");

    [Fact]
    public void EveryLine_MatchesFramingAndKvmFormat()
    {
        var lines = Render();
        Assert.StartsWith("cpus=", lines[0], StringComparison.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var m = Line.Match(line);
            Assert.True(m.Success, line);
            var ev = m.Groups["event"].Value;
            Assert.True(Formats.ContainsKey(ev), ev);
            Assert.Matches(Formats[ev], m.Groups["args"].Value);
            seen.Add(ev);
        }

        // The fixture exercises every tracepoint but kvm_async_pf_repeated_fault, kvm_hypercall and kvm_msr.
        Assert.Equal(Formats.Count - 3, seen.Count);
    }

    [Fact]
    public void Renders_ExactKnownLines()
    {
        var lines = Render();
        Assert.Contains("       CPU 0/KVM-4242  [000]     0.000010: kvm_exit:             vcpu 0 reason EPT_VIOLATION rip 0xffffffff81c0a5d0 info1 0x0000000000000181 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000", lines);
        Assert.Contains(lines, l => l.EndsWith("kvm_async_pf_not_present: token 0x1000 gva 0x7f001000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_inj_exception:    #PF (0x0)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_inj_virq:         irq 236", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_apic_accept_irq:  apicid 0 vec 236 (Fixed|edge)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("kworker/u3:0-4344  [002]", StringComparison.Ordinal) && l.EndsWith("kvm_async_pf_completed: gva 0x7f001000 address 0x7f55c0001000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_entry:            vcpu 0, rip 0xffffffff81c0a5d0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("ve_wakeup:            vcpu 1 token 0x2", StringComparison.Ordinal));
    }

    [Fact]
    public void AltHex_FollowsPrintfSemantics()
    {
        Assert.Equal("0", KvmFormat.AltHex(0));
        Assert.Equal("0x1", KvmFormat.AltHex(1));
        Assert.Equal("#PF", KvmFormat.ExceptionName(14));
        Assert.Equal("0x14", KvmFormat.ExceptionName(20)); // #VE is not in kvm_trace_sym_exc
    }

    [Fact]
    public void RepeatedFault_Format()
    {
        var r = TraceRecord.At(1, TraceKind.KvmAsyncPfRepeatedFault, 0) with { Gva = 0, Gfn = 0x10 };
        Assert.Equal("gva = 0, gfn = 0x10", KvmFormat.Arguments(r));
    }

    private static string[] Render()
    {
        using var sw = new StringWriter();
        var w = new FtraceWriter(sw, vcpus: 2, workers: 1);
        foreach (var r in TraceFixture.ApfEpisode())
        {
            w.Write(r);
        }

        w.Complete(TraceFixture.EndNs);
        return sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
