using System.Text.Json;
using Vexlab.Model.Arch;

namespace Vexlab.Cli.Tests;

/// <summary><c>vexlab explain rules</c> and <c>vexlab explain double-fault</c>.</summary>
public sealed class ExplainArchTests
{
    [Fact]
    public void DoubleFault_Json_PfThenVe_IsDoubleFault()
    {
        var result = CliRunner.Run("explain", "double-fault", "#PF", "VE", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("vexlab_version").GetString()));
        Assert.Equal(14, root.GetProperty("first").GetInt32());
        Assert.Equal(20, root.GetProperty("second").GetInt32());
        Assert.Equal("page-fault", root.GetProperty("first_class").GetString());
        Assert.Equal("page-fault", root.GetProperty("second_class").GetString());
        Assert.Equal("sdm", root.GetProperty("rules").GetString());
        Assert.Equal("double-fault", root.GetProperty("outcome").GetString());

        // The human line goes to stderr when JSON takes stdout.
        Assert.Contains("raised while delivering #PF", result.Stderr);
    }

    [Theory]
    [InlineData("VE", "PF", "sdm", "double-fault")]
    [InlineData("VE", "PF", "kvm", "serial")]
    [InlineData("0x0d", "14", "sdm", "serial")]
    [InlineData("DF", "GP", "sdm", "triple-fault")]
    [InlineData("DF", "DB", "sdm", "serial")]
    [InlineData("DF", "DB", "kvm", "triple-fault")]
    [InlineData("gp", "#de", "sdm", "double-fault")]
    public void DoubleFault_Json_Outcomes(string first, string second, string rules, string outcome)
    {
        var result = CliRunner.Run("explain", "double-fault", first, second, "--rules", rules, "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(outcome, doc.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(rules, doc.RootElement.GetProperty("rules").GetString());
    }

    // SDM Vol. 3C 25.5.6.1: an EPT violation met during event delivery is not convertible (a VM exit), so a #VE raised
    // while delivering an event is one injected in software; Table 6-5's #DF for it is said with that note, and only
    // when SECOND is #VE (a #PF while delivering #VE is the processor's own double fault).
    [Theory]
    [InlineData("PF", "VE", "sdm", "the processor raises no #VE while delivering #PF: an EPT violation met during event delivery is a VM exit, not a #VE (SDM Vol. 3C 25.5.6.1), and the host re-injects #PF; only a #VE the hypervisor injects in software meets this rule.")]
    [InlineData("GP", "VE", "kvm", "the processor raises no #VE while delivering #GP: an EPT violation met during event delivery is a VM exit, not a #VE (SDM Vol. 3C 25.5.6.1), and the host re-injects #GP; only a #VE the hypervisor injects in software meets this rule.")]
    [InlineData("VE", "PF", "sdm", null)]
    [InlineData("PF", "GP", "sdm", null)]
    public void DoubleFault_A_VE_raised_during_delivery_is_noted_as_software_injected(string first, string second, string rules, string? note)
    {
        var result = CliRunner.Run("explain", "double-fault", first, second, "--rules", rules, "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var json = doc.RootElement.GetProperty("note");
        if (note is null)
        {
            Assert.Equal(JsonValueKind.Null, json.ValueKind);
            Assert.DoesNotContain("Note:", result.Stderr, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(note, json.GetString());
            Assert.Contains("  Note: " + note + "\n", result.Stderr, StringComparison.Ordinal);
        }
    }

    // SDM Vol. 3A 6.7.1: NMIs are blocked from an NMI's delivery to the next IRET, so a second NMI waits pending rather
    // than being "delivered first" as Table 6-5's serial handling of two benign events would say; KVM holds it in
    // nmi_pending (process_nmi) until vmx_nmi_blocked() clears. Every other serial pair keeps the generic sentence.
    [Theory]
    [InlineData("NMI", "NMI", "sdm", "held pending and delivered after the first handler's IRET")]
    [InlineData("NMI", "NMI", "kvm", "injected after the handler's IRET")]
    [InlineData("PF", "NMI", "sdm", "NMI is delivered first")]
    [InlineData("DB", "UD", "sdm", "#UD is delivered first")]
    public void DoubleFault_A_second_NMI_waits_for_the_first_handlers_IRET(string first, string second, string rules, string expected)
    {
        var result = CliRunner.Run("explain", "double-fault", first, second, "--rules", rules);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(expected, result.Stdout, StringComparison.Ordinal);
        if (first == "NMI")
        {
            Assert.DoesNotContain("delivered first", result.Stdout, StringComparison.Ordinal);
        }
    }

    // #DF is an abort (SDM Vol. 3A Table 6-1) in none of Table 6-4's classes; KVM's exception_class() has no case for it
    // and returns benign, the triple fault coming from kvm_multiple_exception()'s own prev_nr == DF_VECTOR test.
    [Theory]
    [InlineData("sdm", "abort")]
    [InlineData("kvm", "benign")]
    public void Rules_DF_is_an_abort_to_the_SDM_and_benign_to_KVMs_exception_class(string rules, string expected)
    {
        var result = CliRunner.Run("explain", "rules", "--rules", rules, "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var df = doc.RootElement.GetProperty("classes").EnumerateArray().Single(c => c.TryGetProperty("vector", out var v) && v.GetInt32() == 8);
        Assert.Equal(expected, df.GetProperty("class").GetString());
    }

    [Fact]
    public void DoubleFault_Human_NamesBothAndTheOutcome()
    {
        var result = CliRunner.Run("explain", "double-fault", "14", "20");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.StartsWith("#VE (20, page-fault class) raised while delivering #PF (14, page-fault class), sdm rules: double-fault", result.Stdout);
    }

    [Theory]
    [InlineData("explain", "double-fault", "15", "PF")]
    [InlineData("explain", "double-fault", "99", "PF")]
    [InlineData("explain", "double-fault", "XX", "PF")]
    [InlineData("explain", "double-fault", "PF", "22")]
    [InlineData("explain", "double-fault", "PF", "DF")]
    [InlineData("explain", "double-fault", "PF", "#DF", "--json")]
    [InlineData("explain", "double-fault", "PF")]
    [InlineData("explain", "double-fault")]
    [InlineData("explain", "double-fault", "PF", "VE", "extra")]
    [InlineData("explain", "double-fault", "PF", "VE", "--rules", "amd")]
    [InlineData("explain", "rules", "--rules", "amd")]
    public void BadInput_OneStderrLine_ExitTwo(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    // The vector at fault is named by its place in the usage (explain double-fault FIRST SECOND), not as "command line".
    [Theory]
    [InlineData("15", "PF", "vexlab: FIRST: vector 15 is reserved and has no exception class\n")]
    [InlineData("PF", "XX", "vexlab: SECOND: 'XX' is not a vector (a number 0-255, 0x0e, or a mnemonic such as PF or '#PF')\n")]
    [InlineData("PF", "DF", "vexlab: SECOND: #DF is the result of the double-fault rule, not an exception raised by a delivery\n")]
    [InlineData("PF", "32", "vexlab: SECOND: vector 32 is not an exception vector (0-31; INT n and external interrupts are all benign)\n")]
    public void BadVector_NamesItsArgument(string first, string second, string expected)
    {
        var result = CliRunner.Run("explain", "double-fault", first, second);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Stderr);
    }

    [Theory]
    [InlineData("sdm", DoubleFaultRules.Sdm)]
    [InlineData("kvm", DoubleFaultRules.Kvm)]
    public void Rules_Json_HasFullMatrix(string name, DoubleFaultRules rules)
    {
        var result = CliRunner.Run("explain", "rules", "--rules", name, "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal(name, root.GetProperty("rules").GetString());

        var matrix = root.GetProperty("double_fault").GetProperty("matrix");
        Assert.Equal(21 * 20, matrix.GetArrayLength());
        var seen = new HashSet<(int, int)>();
        foreach (var cell in matrix.EnumerateArray())
        {
            var first = cell.GetProperty("first").GetInt32();
            var second = cell.GetProperty("second").GetInt32();
            Assert.InRange(first, 0, 21);
            Assert.InRange(second, 0, 21);
            Assert.NotEqual(15, first);
            Assert.NotEqual(15, second);
            Assert.NotEqual(8, second);
            Assert.True(seen.Add((first, second)));
            var expected = DoubleFault.Combine(first, second, rules) switch
            {
                DoubleFaultOutcome.DoubleFault => "double-fault",
                DoubleFaultOutcome.TripleFault => "triple-fault",
                _ => "serial",
            };
            Assert.Equal(expected, cell.GetProperty("outcome").GetString());
        }

        var classes = root.GetProperty("classes").EnumerateArray().ToList();
        var ve = classes.Single(c => c.TryGetProperty("vector", out var v) && v.GetInt32() == 20);
        Assert.Equal(rules == DoubleFaultRules.Sdm ? "page-fault" : "benign", ve.GetProperty("class").GetString());
        Assert.Contains(root.GetProperty("blocking").EnumerateArray(), b => b.GetProperty("event").GetString() == "nmi");
    }

    [Fact]
    public void Rules_Human_PrintsTables()
    {
        var result = CliRunner.Run("explain", "rules");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        var text = result.Stdout;
        Assert.Contains("Exception classes", text);
        Assert.Contains("Double fault (sdm rules)", text);
        Assert.Contains("Event blocking", text);
        Assert.Contains("#VE (page-fault)", text);
        Assert.Contains("#DF (abort)", text);
        Assert.Contains("SDM Vol. 3A 6.15, Table 6-5", text);

        // The #VE column is software injection's: the processor raises no #VE during event delivery.
        Assert.Contains("(SDM Vol. 3C 25.5.6.1)", string.Join(' ', text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
        Assert.Contains("vmx_nmi_blocked", text);
        Assert.Contains("0xFFFFFFFF", text);
        Assert.Contains(" TF ", text);
        Assert.Contains(" DF ", text);
    }

    [Fact]
    public void Rules_JsonToFile_KeepsHumanOnStdout()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vexlab-rules-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            var result = CliRunner.Run("explain", "rules", "--json", path);
            Assert.Equal(0, result.ExitCode);
            Assert.Contains("Exception classes", result.Stdout);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            Assert.Equal(420, doc.RootElement.GetProperty("double_fault").GetProperty("matrix").GetArrayLength());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
