using System.Text.Json;
using Vexlab.Model.Protocols;

namespace Vexlab.Cli.Tests;

/// <summary><c>vexlab explain bugs</c> and <c>vexlab explain keys</c>.</summary>
public sealed class ExplainBugsTests
{
    /// <summary>
    /// The ids are one numbering: the known-bugs table's title names the ids it skips, which the out-of-scope table
    /// holds, so a reader who finds B5 missing is told where it went (a new-user pass took them for lost).
    /// </summary>
    [Fact]
    public void Bugs_Human_TitleNamesTheOutOfScopeIdsItSkips()
    {
        var result = CliRunner.Run("explain", "bugs");
        Assert.Equal(0, result.ExitCode);
        var title = Assert.Single(result.Stdout.Split('\n'), l => l.Contains("Known bugs", StringComparison.Ordinal));
        Assert.Contains("(B5, B10 and B13 are out of scope, below)", title, StringComparison.Ordinal);
        Assert.Equal(["B5", "B10", "B13"], BugCatalog.OutOfScope.Select(b => b.Id));
    }

    [Fact]
    public void Bugs_Json_HasEveryRowAndTheOutOfScopeList()
    {
        var result = CliRunner.Run("explain", "bugs", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        var ids = root.GetProperty("bugs").EnumerateArray().Select(b => b.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(new[] { "B1", "B2", "B3", "B4", "B6", "B7", "B8", "B9", "B11", "B12" }, ids);
        foreach (var bug in root.GetProperty("bugs").EnumerateArray())
        {
            var knob = KnobCatalog.Find(bug.GetProperty("knob").GetString()!);
            Assert.NotNull(knob);
            Assert.True(knob.AppliesTo(bug.GetProperty("protocol").GetString()!));
            // Only B12's fix (error reports) is not what KVM does today.
            var buggyDefault = bug.GetProperty("id").GetString() == "B12";
            Assert.Equal(buggyDefault, bug.GetProperty("buggy_value").GetString() == bug.GetProperty("default").GetString());
            Assert.Equal(buggyDefault, bug.GetProperty("default_is_buggy").GetBoolean());
            Assert.Contains(bug.GetProperty("property").GetString(), Model.Properties.PropertyNames.Safety.Concat(Model.Properties.PropertyNames.Liveness));
            Assert.False(string.IsNullOrEmpty(bug.GetProperty("model").GetString()));
        }

        var b8 = root.GetProperty("bugs").EnumerateArray().Single(b => b.GetProperty("id").GetString() == "B8");
        Assert.Equal("0547758a6de3", b8.GetProperty("commit").GetString());
        Assert.Equal("wake-race", b8.GetProperty("model").GetString());
        var outOfScope = root.GetProperty("out_of_scope").EnumerateArray().Select(b => b.GetProperty("commit").GetString()).ToArray();
        Assert.DoesNotContain("ab4e41eb9fab", outOfScope);
        Assert.Contains("68c35f89d016", outOfScope);
        Assert.DoesNotContain("3d75b8aa5c29", outOfScope);
        Assert.Contains("9bc1f09f6fa7", outOfScope);
        Assert.Contains(root.GetProperty("out_of_scope").EnumerateArray(), b => b.GetProperty("id").GetString() == "B13");
        var window = Assert.Single(root.GetProperty("open_windows").EnumerateArray());
        Assert.Equal("nmi-window", window.GetProperty("model").GetString());
    }

    [Fact]
    public void Bugs_Human_IsATable()
    {
        var result = CliRunner.Run("explain", "bugs");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("guest.apf.recheck_before_dummy_insert=false", result.Stdout);
        Assert.Contains("Out of scope", result.Stdout);
        Assert.Equal(string.Empty, result.Stderr);
    }

    // Each row's command, run as printed, finds the bug: exit 1 with the row's property violated.
    [Fact]
    public void Every_bug_and_window_check_line_finds_it()
    {
        var result = CliRunner.Run("explain", "bugs", "--json");
        using var doc = JsonDocument.Parse(result.Stdout);
        var rows = doc.RootElement.GetProperty("bugs").EnumerateArray().Concat(doc.RootElement.GetProperty("open_windows").EnumerateArray()).ToList();
        Assert.Equal(BugCatalog.All.Length + BugCatalog.OpenWindows.Length, rows.Count);
        foreach (var row in rows)
        {
            var line = row.GetProperty("check").GetString()!;
            Assert.StartsWith("vexlab check --builtin " + row.GetProperty("model").GetString() + " --protocol " + row.GetProperty("protocol").GetString(), line, StringComparison.Ordinal);
            var check = CliRunner.Run([.. line.Split(' ')[1..], "--json"]);
            Assert.True(check.ExitCode == 1, $"{row.GetProperty("id")}: {line}: exit {check.ExitCode} {check.Stderr}");
            using var found = JsonDocument.Parse(check.Stdout);
            Assert.Equal(row.GetProperty("property").GetString(), found.RootElement.GetProperty("violations")[0].GetProperty("property").GetString());
            Assert.Equal(line, found.RootElement.GetProperty("replay").GetString());
        }
    }

    [Fact]
    public void Bugs_JsonToFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vexlab-bugs-{Guid.NewGuid():N}.json");
        try
        {
            var result = CliRunner.Run("explain", "bugs", "--json", path);
            Assert.Equal(0, result.ExitCode);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            Assert.Equal(BugCatalog.All.Length, doc.RootElement.GetProperty("bugs").GetArrayLength());
            Assert.Contains("B12", result.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Keys_Json_ListsEveryKnob()
    {
        var result = CliRunner.Run("explain", "keys", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var keys = doc.RootElement.GetProperty("keys").EnumerateArray().ToArray();
        Assert.Equal(KnobCatalog.All.Select(k => k.Key), keys.Select(k => k.GetProperty("key").GetString()!));
        var ready = keys.Single(k => k.GetProperty("key").GetString() == "host.apf.ready_only_if_not_present_delivered");
        Assert.Equal("false", ready.GetProperty("protocol_defaults").GetProperty("kvm-pf").GetString());
        Assert.Equal("true", ready.GetProperty("protocol_defaults").GetProperty("kvm-pf-int").GetString());
        var store = keys.Single(k => k.GetProperty("key").GetString() == "guest.ve.info_store");
        Assert.Equal(new[] { "pv-page", "args" }, store.GetProperty("values").EnumerateArray().Select(v => v.GetString()!).ToArray());
        Assert.Equal(new[] { "ve" }, store.GetProperty("protocols").EnumerateArray().Select(v => v.GetString()!).ToArray());
    }

    [Fact]
    public void Keys_Human_ListsEveryKnob()
    {
        var result = CliRunner.Run("explain", "keys");
        Assert.Equal(0, result.ExitCode);
        foreach (var knob in KnobCatalog.All)
        {
            Assert.Contains(knob.Key, result.Stdout);
        }
    }
}

public sealed class ExplainScenarioKeysTests
{
    // A KEY selects itself and the keys under it, a dotted segment (or a list's []) at a time, in both tables.
    [Theory]
    [InlineData("guest.apf", new[] { "guest.apf.dummy_entries", "guest.apf.recheck_before_dummy_insert", "guest.apf.clear_token_at_init" }, new string[0])]
    [InlineData("guest.tick", new string[0], new[] { "guest.tick" })]
    [InlineData("guest.ve.can_continue", new[] { "guest.ve.can_continue" }, new string[0])]
    public void ExplainKeys_Key_SelectsItAndTheKeysUnderIt(string selected, string[] knobs, string[] scenarioKeys)
    {
        var result = CliRunner.Run("explain", "keys", selected, "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        Assert.Equal(knobs, doc.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("key").GetString()!).ToArray());
        Assert.Equal(scenarioKeys, doc.RootElement.GetProperty("scenario_keys").EnumerateArray().Select(k => k.GetProperty("key").GetString()!).ToArray());
    }

    [Fact]
    public void ExplainKeys_ListElement_SelectsItsFields()
    {
        var result = CliRunner.Run("explain", "keys", "tasks[]", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var keys = doc.RootElement.GetProperty("scenario_keys").EnumerateArray().Select(k => k.GetProperty("key").GetString()!).ToArray();
        Assert.Contains("tasks[].loop", keys);
        Assert.All(keys, k => Assert.StartsWith("tasks[].", k, StringComparison.Ordinal));
        Assert.Empty(doc.RootElement.GetProperty("keys").EnumerateArray());
    }

    [Theory]
    [InlineData("guest.tck", "vexlab: no key \"guest.tck\" and none under it (did you mean guest.tick?)\n")]
    // A prefix is a selection too (guest.apf selects its keys), so a mistyped prefix is answered with the nearest one.
    [InlineData("guest.ap", "vexlab: no key \"guest.ap\" and none under it (did you mean guest.apf?)\n")]
    [InlineData("task[]", "vexlab: no key \"task[]\" and none under it (did you mean tasks[]?)\n")]
    [InlineData("zzzzzz", "vexlab: no key \"zzzzzz\" and none under it\n")]
    public void ExplainKeys_UnknownKey_IsRefusedWithTheNearest(string selected, string expected)
    {
        var result = CliRunner.Run("explain", "keys", selected);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void ExplainKeys_ListsScenarioKeysWithDefaults()
    {
        var result = CliRunner.Run("explain", "keys", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var keys = doc.RootElement.GetProperty("scenario_keys").EnumerateArray()
            .ToDictionary(k => k.GetProperty("key").GetString()!, k => k.GetProperty("default").GetString());
        Assert.Equal("4ms", keys["guest.tick"]);
        Assert.Equal("(required)", keys["tasks[].loop"]);
        Assert.Contains("host.latency", keys.Keys);
        Assert.DoesNotContain("guest.apf.dummy_entries", keys.Keys);
    }
}

public sealed class ExplainPropertiesTests
{
    [Fact]
    public void ExplainProperties_ListsEveryCheckerProperty()
    {
        var result = CliRunner.Run("explain", "properties", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var names = doc.RootElement.GetProperty("properties").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToHashSet();
        foreach (var name in Vexlab.Checking.MachineSystem.AllPropertyNames)
        {
            Assert.Contains(name, names);
        }
    }
}
