using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// Every command that takes one protocol takes an entry <c>NAME[key=value,...]</c>, as compare --protocols and
/// check --matrix's rows write it: <c>check --protocol 've[...]'</c>, <c>bench --protocol</c> and <c>explain protocol</c>
/// answered "unknown protocol" while <c>run --protocol</c> took it, so a matrix row could not be checked as written.
/// One parser reads them all, with one set of errors (exit 2).
/// </summary>
public sealed class ProtocolEntryOptionTests
{
    private const string Entry = "ve[guest.ve.clear_busy=after-hypercall]";

    private static readonly string[][] s_commands =
    [
        ["run", "--builtin", "postcopy", "--duration", "5ms", "--protocol"],
        ["check", "--builtin", "token-wrap", "--protocol"],
        ["bench", "--duration", "5ms", "--protocol"],
    ];

    public static TheoryData<string[]> Commands() => new(s_commands);

    [Theory]
    [MemberData(nameof(Commands))]
    public void An_entry_is_taken_with_its_knob(string[] command)
    {
        var result = CliRunner.Run([.. command, Entry]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("guest.ve.clear_busy=after-hypercall", result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Each command's JSON names the entry as given, beside its protocol: bench's said "ve" alone, so a saved bench of
    /// a knob entry could not be told from one of plain ve.
    /// </summary>
    [Theory]
    [MemberData(nameof(Commands))]
    public void The_json_names_the_entry_as_given(string[] command)
    {
        var result = CliRunner.Run([.. command, Entry, "--json", "-"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var doc = JsonNode.Parse(result.Stdout)!;
        Assert.Equal("ve", (string?)doc["protocol"]);
        Assert.Contains("guest.ve.clear_busy=after-hypercall", doc.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_protocol_takes_an_entry_as_it_takes_the_knob_with_set()
    {
        var entry = JsonNode.Parse(CliRunner.Run("explain", "protocol", Entry, "--json").Stdout)!;
        var set = JsonNode.Parse(CliRunner.Run("explain", "protocol", "ve", "--set", "guest.ve.clear_busy=after-hypercall", "--json").Stdout)!;
        Assert.Equal("after-hypercall", (string?)entry["knobs"]!["guest.ve.clear_busy"]);
        Assert.True(JsonNode.DeepEquals(set["rows"], entry["rows"]));
        Assert.Equal((string?)set["variant"], (string?)entry["variant"]);
    }

    /// <summary>A malformed entry is refused alike by every command that takes --protocol, naming it, before any work.</summary>
    [Theory]
    [InlineData("vex[guest.ve.clear_busy=never]", "vexlab: --protocol: unknown protocol 'vex'; did you mean ve? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)\n")]
    [InlineData("ve[guest.ve.clear_busy=never", "vexlab: --protocol: unbalanced '[' in \"ve[guest.ve.clear_busy=never\"\n")]
    [InlineData("sync[guest.ve.clear_busy=never]", "vexlab: --protocol sync[guest.ve.clear_busy=never]: guest.ve.clear_busy: sync does not use this knob (it applies to ve)\n")]
    [InlineData("ve[]", "vexlab: --protocol: empty knob in \"ve[]\"; write ve[key=value;key=value]\n")]
    public void A_malformed_entry_is_refused_alike(string entry, string expected)
    {
        foreach (var command in s_commands)
        {
            var result = CliRunner.Run([.. command, entry]);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal(expected, result.Stderr);
            Assert.Equal(string.Empty, result.Stdout);
        }
    }

    [Theory]
    [InlineData("run", "use compare for several")]
    [InlineData("check", "check --matrix --protocols LIST checks several")]
    [InlineData("bench", "bench measures one")]
    public void Several_entries_are_refused(string name, string hint)
    {
        var command = s_commands.Single(c => c[0] == name);
        var result = CliRunner.Run([.. command, "ve,sync"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: --protocol: give one protocol ({hint})\n", result.Stderr);
    }

    [Fact]
    public void Check_takes_an_entry_as_the_same_knob_given_with_set()
    {
        var entry = JsonNode.Parse(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", Entry, "--json").Stdout)!;
        var set = JsonNode.Parse(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "ve", "--set", "guest.ve.clear_busy=after-hypercall", "--json").Stdout)!;
        foreach (var field in new[] { "protocol", "knobs", "replay", "verdict", "states", "transitions" })
        {
            Assert.True(JsonNode.DeepEquals(set[field], entry[field]), field);
        }

        // The entry's knob wins over a --set of the same knob, as run and compare apply an entry's keys after --set (check
        // once let --set win, the other way round from run). The replay line sets the knob once, to the entry's value.
        var both = JsonNode.Parse(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "ve[guest.ve.clear_busy=never]", "--set", "guest.ve.clear_busy=after-hypercall", "--json").Stdout)!;
        Assert.Equal("never", (string?)both["knobs"]!["guest.ve.clear_busy"]);
        Assert.EndsWith("--protocol ve --set guest.ve.clear_busy=never", (string?)both["replay"], StringComparison.Ordinal);
    }

    // One rule for an entry's knobs beside --set in every command that takes entries: run and compare (the simulator's
    // keys) and check and check --matrix (the model's knobs) all give the entry's value.
    [Fact]
    public void Every_command_applies_an_entry_after_set()
    {
        const string Set = "guest.ve.clear_busy=after-hypercall";
        const string Entry = "ve[guest.ve.clear_busy=never]";
        // A run's JSON names no knob: its digest tells the entry's run from the --set one's (they differ at 5ms).
        string Digest(params string[] args) => (string)JsonNode.Parse(CliRunner.Run([.. args, "--duration", "5ms", "--json"]).Stdout)!["digest"]!;
        var entryAlone = Digest("run", "--builtin", "postcopy", "--protocol", Entry);
        Assert.NotEqual(entryAlone, Digest("run", "--builtin", "postcopy", "--protocol", "ve", "--set", Set));
        var compare = JsonNode.Parse(CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", Entry, "--set", Set, "--duration", "5ms", "--json").Stdout)!;
        var check = JsonNode.Parse(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", Entry, "--set", Set, "--json").Stdout)!;
        var matrix = JsonNode.Parse(CliRunner.Run("check", "--matrix", "--protocols", Entry, "--set", Set, "--property", "fault-info-intact", "--json").Stdout)!;

        Assert.Equal(entryAlone, Digest("run", "--builtin", "postcopy", "--protocol", Entry, "--set", Set));
        Assert.Equal(entryAlone, (string?)compare["results"]![0]!["digest"]);
        Assert.Equal("never", (string?)check["knobs"]!["guest.ve.clear_busy"]);
        Assert.All(matrix["matrix"]!.AsArray(), cell => Assert.Contains("--set guest.ve.clear_busy=never", (string?)cell!["replay"], StringComparison.Ordinal));
        Assert.All(matrix["matrix"]!.AsArray(), cell => Assert.DoesNotContain("after-hypercall", (string?)cell!["replay"], StringComparison.Ordinal));
    }

    /// <summary>A key check cannot take is refused in an entry as --set refuses it, the entry named where --set was.</summary>
    [Theory]
    [InlineData("duration=1ms")]
    [InlineData("guest.vcpus=2")]
    [InlineData("cost.wake_halted_vcpu=100us")]
    [InlineData("guest.ve.no_such=1")]
    [InlineData("guest.ve.clear_busy=bogus")]
    public void Check_refuses_in_an_entry_what_set_refuses(string knob)
    {
        var set = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "ve", "--set", knob);
        var entry = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", $"ve[{knob}]");
        Assert.Equal(2, set.ExitCode);
        Assert.Equal(2, entry.ExitCode);
        Assert.StartsWith("vexlab: --set: ", set.Stderr, StringComparison.Ordinal);
        Assert.Equal(set.Stderr.Replace("vexlab: --set: ", $"vexlab: --protocol ve[{knob}]: ", StringComparison.Ordinal), entry.Stderr);
    }

    [Fact]
    public void A_check_matrix_row_is_checked_as_written()
    {
        var matrix = JsonNode.Parse(CliRunner.Run("check", "--matrix", "--protocols", "ve,ve[guest.ve.info_store=args]", "--json").Stdout)!;
        var row = matrix["matrix"]!.AsArray().First(r => (string?)r!["model"] == "nmi-host-fault" && ((string?)r["protocol"])!.Contains('[', StringComparison.Ordinal))!;
        var check = CliRunner.Run("check", "--builtin", "nmi-host-fault", "--protocol", (string)row["protocol"]!, "--json");
        Assert.True(check.ExitCode is 0 or 1, check.Stderr);
        var doc = JsonNode.Parse(check.Stdout)!;
        Assert.Equal((string?)row["verdict"], (string?)doc["verdict"]);
        Assert.Equal((long)row["states"]!, (long)doc["states"]!);
        Assert.Equal((string?)row["replay"], (string?)doc["replay"]);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("check")]
    [InlineData("bench")]
    [InlineData("explain", "protocol")]
    public void Help_names_the_entry_syntax(params string[] command)
    {
        var result = CliRunner.Run([.. command, "--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("NAME[key=value,...]", result.Stdout.ReplaceLineEndings(" "), StringComparison.Ordinal);
    }
}
