using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A replay line of a scenario file carries the first digits of the scenario's hash, and <c>run</c> refuses a scenario
/// that no longer resolves to them: a file edited after a run, a compare or a sweep wrote the line reran the edited
/// scenario and printed its numbers under the old line, with nothing to say they were another scenario's.
/// </summary>
public sealed class ScenarioHashReplayTests : IDisposable
{
    private const string Scenario = "duration: 1ms\nhost.latency: 250us\nregions:\n  - name: heap\n    size: 1MiB\ntasks:\n  - name: copier\n    loop: touch heap sequential\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-hashreplay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static JsonObject WithoutTiming(string json)
    {
        var doc = JsonNode.Parse(json)!.AsObject();
        doc.Remove("timing");
        return doc;
    }

    /// <summary>Runs a replay line's words (as bash splits them) with the line's program replaced by the CLI.</summary>
    private static CliRunner.Result RunLine(string line, params string[] extra)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("printf '%s\\0' " + line["vexlab ".Length..]);
        using var process = Process.Start(info)!;
        var words = process.StandardOutput.ReadToEnd().Split('\0', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        return CliRunner.Run([.. words, .. extra]);
    }

    [Fact]
    public void A_replay_line_reruns_its_file_to_the_same_json()
    {
        File.WriteAllText(P("s.yaml"), Scenario);
        var first = CliRunner.Run("run", P("s.yaml"), "--protocol", "kvm-pf-int", "--json");
        Assert.Equal(0, first.ExitCode);
        var line = JsonNode.Parse(first.Stdout)!["replay"]!.GetValue<string>();
        var hash = JsonNode.Parse(first.Stdout)!["scenario_hash"]!.GetValue<string>();
        Assert.EndsWith(" --scenario-hash " + hash[..12], line, StringComparison.Ordinal);

        var again = RunLine(line, "--json");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(WithoutTiming(first.Stdout).ToJsonString(), WithoutTiming(again.Stdout).ToJsonString());
    }

    [Theory]
    [InlineData("host.latency: 250us", "host.latency: 300us")]
    [InlineData("loop: touch heap sequential", "loop: touch heap random")]
    [InlineData("size: 1MiB", "size: 2MiB")]
    public void An_edited_file_is_refused_by_its_old_replay_line(string before, string after)
    {
        File.WriteAllText(P("s.yaml"), Scenario);
        var first = CliRunner.Run("run", P("s.yaml"), "--protocol", "ve", "--json");
        var line = JsonNode.Parse(first.Stdout)!["replay"]!.GetValue<string>();
        File.WriteAllText(P("s.yaml"), Scenario.Replace(before, after, StringComparison.Ordinal));

        var replay = RunLine(line, "--json");
        Assert.Equal(2, replay.ExitCode);
        Assert.Equal(string.Empty, replay.Stdout);
        Assert.StartsWith($"vexlab: {P("s.yaml")}: --scenario-hash: the scenario resolves to ", replay.Stderr, StringComparison.Ordinal);
        Assert.Contains("the file or the command line changed since this line was written", replay.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A latency CSV the scenario reads (<c>empirical file=</c>) is part of the scenario: its rows change the run, and the
    /// scenario's text only names it. An edited CSV kept the hash, and the old line ran the new rows to other numbers.
    /// </summary>
    [Fact]
    public void An_edited_latency_csv_is_refused_by_its_old_replay_line()
    {
        const string WithCsv = "duration: 2ms\nhost:\n  absent_at_start: 100%\n  backing: mine\nbackings:\n  - name: mine\n    latency: empirical file=lat.csv unit=us column=1 weight_column=2\n"
            + "regions:\n  - name: heap\n    size: 1MiB\ntasks:\n  - name: copier\n    loop: touch heap sequential\n";
        File.WriteAllText(P("s.yaml"), WithCsv);
        File.WriteAllText(P("lat.csv"), "10,5\n200,3\n");
        var first = CliRunner.Run("run", P("s.yaml"), "--protocol", "sync", "--json");
        Assert.Equal(0, first.ExitCode);
        var line = JsonNode.Parse(first.Stdout)!["replay"]!.GetValue<string>();
        var again = RunLine(line, "--json");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(WithoutTiming(first.Stdout).ToJsonString(), WithoutTiming(again.Stdout).ToJsonString());

        File.WriteAllText(P("lat.csv"), "10,5\n9000,3\n");
        var replay = RunLine(line, "--json");
        Assert.Equal(2, replay.ExitCode);
        Assert.Equal(string.Empty, replay.Stdout);
        Assert.Contains("--scenario-hash: the scenario resolves to ", replay.Stderr, StringComparison.Ordinal);

        // A scenario that reads no CSV keeps the hash of its settings alone: the lines already written stay good.
        File.WriteAllText(P("plain.yaml"), Scenario);
        var plain = CliRunner.Run("run", P("plain.yaml"), "--protocol", "sync", "--json");
        Assert.Equal(
            Vexlab.Scenarios.Documents.CanonicalHash.Compute(Vexlab.Simulation.Scenarios.ScenarioSchema.Instance.Resolve(
                Vexlab.Scenarios.Documents.ScenarioDocument.Parse(Scenario, P("plain.yaml")), []).ToCanonicalText()),
            JsonNode.Parse(plain.Stdout)!["scenario_hash"]!.GetValue<string>());
    }

    /// <summary>
    /// A sweep's scenario is its file's text and the latency CSVs it reads: run again after the CSV was edited, the
    /// sweep kept the old data's rows as "already in" the store; now the store is refused as another sweep's (exit 2).
    /// </summary>
    [Fact]
    public void A_sweep_run_again_after_its_latency_csv_was_edited_is_refused()
    {
        const string WithCsv = "duration: 2ms\nhost:\n  absent_at_start: 100%\n  backing: mine\nbackings:\n  - name: mine\n    latency: \"empirical file=lat.csv unit=us\"\n"
            + "regions:\n  - name: heap\n    size: 1MiB\ntasks:\n  - name: copier\n    loop: touch heap sequential\n";
        File.WriteAllText(P("e.yaml"), WithCsv);
        File.WriteAllText(P("lat.csv"), "10\n200\n");
        File.WriteAllText(P("sw.yaml"), "scenario: e.yaml\nprotocols: [sync]\nseeds: 2\n");
        Assert.Equal(0, CliRunner.Run("sweep", "run", P("sw.yaml"), "--db", P("a.duckdb"), "--jobs", "1").ExitCode);
        var same = CliRunner.Run("sweep", "run", P("sw.yaml"), "--db", P("a.duckdb"), "--jobs", "1");
        Assert.Equal(0, same.ExitCode);
        Assert.Contains("2 already in", same.Stdout, StringComparison.Ordinal);

        File.WriteAllText(P("lat.csv"), "10\n9000\n");
        var edited = CliRunner.Run("sweep", "run", P("sw.yaml"), "--db", P("a.duckdb"), "--jobs", "1");
        Assert.Equal(2, edited.ExitCode);
        Assert.Contains("it has changed since", edited.Stderr, StringComparison.Ordinal);
    }

    // The hash is of the scenario as resolved, not of the text: a comment, a reordering or a value written another way
    // that means the same leaves the line good.
    [Theory]
    [InlineData("duration: 1ms\n", "# the same run\nduration: 1000us\n")]
    [InlineData("host.latency: 250us\n", "host:\n  latency: 250us\n")]
    public void An_edit_that_keeps_the_scenario_keeps_the_line(string before, string after)
    {
        File.WriteAllText(P("s.yaml"), Scenario);
        var first = CliRunner.Run("run", P("s.yaml"), "--protocol", "ve", "--json");
        var line = JsonNode.Parse(first.Stdout)!["replay"]!.GetValue<string>();
        File.WriteAllText(P("s.yaml"), Scenario.Replace(before, after, StringComparison.Ordinal));
        var replay = RunLine(line, "--json");
        Assert.Equal(0, replay.ExitCode);
        Assert.Equal(JsonNode.Parse(first.Stdout)!["scenario_hash"]!.GetValue<string>(), JsonNode.Parse(replay.Stdout)!["scenario_hash"]!.GetValue<string>());
    }

    [Fact]
    public void A_sweep_rows_replay_line_reruns_the_row_and_refuses_the_edited_base_scenario()
    {
        File.WriteAllText(P("s.yaml"), Scenario);
        File.WriteAllText(P("sweep.yaml"), "scenario: s.yaml\nprotocols: [\"ve[guest.ve.can_continue=always]\"]\nseeds: 1\naxes:\n  - {name: lat, key: host.latency, values: [100us]}\n");
        Assert.Equal(0, CliRunner.Run("sweep", "run", P("sweep.yaml"), "--db", P("r.duckdb")).ExitCode);
        var rows = CliRunner.Run("results", "query", P("r.duckdb"), "SELECT replay, scenario_hash FROM results", "--format", "json");
        var row = JsonNode.Parse(rows.Stdout)!["rows"]![0]!;
        var line = row["replay"]!.GetValue<string>();
        Assert.Contains(" --scenario-hash " + row["scenario_hash"]!.GetValue<string>()[..12], line, StringComparison.Ordinal);

        // The line names the base file by its path from where the sweep ran (here the sweep file's absolute path's folder).
        Assert.Contains(P("s.yaml"), line, StringComparison.Ordinal);
        var replay = RunLine(line, "--json");
        Assert.Equal(0, replay.ExitCode);
        Assert.Equal(row["scenario_hash"]!.GetValue<string>(), JsonNode.Parse(replay.Stdout)!["scenario_hash"]!.GetValue<string>());

        File.WriteAllText(P("s.yaml"), Scenario.Replace("size: 1MiB", "size: 2MiB", StringComparison.Ordinal));
        var edited = RunLine(line, "--json");
        Assert.Equal(2, edited.ExitCode);
        Assert.Contains("--scenario-hash: the scenario resolves to ", edited.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_builtins_replay_line_carries_no_hash()
    {
        var run = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms", "--json");
        Assert.DoesNotContain("--scenario-hash", JsonNode.Parse(run.Stdout)!["replay"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1234567")]
    [InlineData("ABCDEF123456")]
    [InlineData("xyz12345")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    public void A_malformed_hash_is_refused(string hash)
    {
        File.WriteAllText(P("s.yaml"), Scenario);
        var result = CliRunner.Run("run", P("s.yaml"), "--protocol", "ve", "--scenario-hash", hash);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: --scenario-hash: expected 8 to 32 lowercase hex digits, got '{hash}'\n", result.Stderr);
    }
}
