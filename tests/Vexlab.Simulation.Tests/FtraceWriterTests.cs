using System.Text.RegularExpressions;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests;

public class FtraceWriterTests
{
    private const string Hex = "(0|0x[0-9a-f]+)"; // C's %#llx

    // TP_printk formats of include/trace/events/kvm.h and arch/x86/kvm/trace.h (mainline 6.x), as regexes.
    private static readonly Dictionary<string, string> Formats = new(StringComparer.Ordinal)
    {
        ["kvm_exit"] = @"^vcpu \d+ reason [A-Z_]+ rip 0x[0-9a-f]+ info1 0x[0-9a-f]{16} info2 0x[0-9a-f]{16} intr_info 0x[0-9a-f]{8} error_code 0x[0-9a-f]{8}$",
        ["kvm_entry"] = @"^vcpu \d+, rip 0x[0-9a-f]+(\[immediate exit\])?$",
        ["kvm_page_fault"] = @"^vcpu \d+ rip 0x[0-9a-f]+ address 0x[0-9a-f]{16} error_code 0x[0-9a-f]+$",
        ["kvm_try_async_get_page"] = $"^gva = {Hex}, gfn = {Hex}$",
        ["kvm_async_pf_repeated_fault"] = $"^gva = {Hex}, gfn = {Hex}$",
        ["kvm_async_pf_not_present"] = $"^token {Hex} gva {Hex}$",
        ["kvm_async_pf_ready"] = $"^token {Hex} gva {Hex}$",
        ["kvm_async_pf_completed"] = $"^gva {Hex} address {Hex}$",
        ["kvm_inj_exception"] = @"^(#[A-Z]{2}|0x[0-9a-f]+)( \(0x[0-9a-f]+\))?( \[reinjected\])?$",
        ["kvm_inj_virq"] = @"^(IRQ|Soft/INTn) 0x[0-9a-f]+( \[reinjected\])?$",
        ["kvm_apic_accept_irq"] = @"^apicid [0-9a-f]+ vec \d+ \((Fixed|LowPrio|SMI|Res3|NMI|INIT|SIPI|ExtINT)\|(edge|level)\)$",
        ["ve_delivered"] = $"^vcpu \\d+ gva {Hex} gfn {Hex} token {Hex}$",
        ["ve_resolve_ept"] = $"^vcpu \\d+ gfn {Hex} token {Hex}$",
        ["ve_wakeup"] = $"^vcpu \\d+ token {Hex} task \\d+$",
    };

    private static readonly Regex Line = new(@"^\s*(?<comm>.+)-(?<pid>\d+) +\[(?<cpu>\d{3})\] +(?<ts>\d+\.\d{6}): (?<event>[a-z_]+): (?<args>.*)$");

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

        // The fixture exercises every tracepoint except kvm_async_pf_repeated_fault.
        Assert.Equal(Formats.Count - 1, seen.Count);
    }

    [Fact]
    public void Renders_ExactKnownLines()
    {
        var lines = Render();
        Assert.Contains("        CPU 0/KVM-4242 [000]     0.000010: kvm_exit: vcpu 0 reason EPT_VIOLATION rip 0xffffffff81c0a5d0 info1 0x0000000000000181 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000", lines);
        Assert.Contains(lines, l => l.EndsWith("kvm_async_pf_not_present: token 0x1000 gva 0x7f001000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_inj_exception: #PF (0x0)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_inj_virq: IRQ 0xec", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_apic_accept_irq: apicid 0 vec 236 (Fixed|edge)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("kworker/u3:0-4344 [002]", StringComparison.Ordinal) && l.EndsWith("kvm_async_pf_completed: gva 0x7f001000 address 0x7f55c0001000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("kvm_entry: vcpu 0, rip 0xffffffff81c0a5d0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("ve_wakeup: vcpu 1 token 0x2 task 7", StringComparison.Ordinal));
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
