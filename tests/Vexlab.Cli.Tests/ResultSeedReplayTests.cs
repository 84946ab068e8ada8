using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// Every result carries its seed and a one-line replay command (docs/output.md): the JSON of bench, sweep run, plot
/// and report too, whose replay is the command line as given less --json, and reruns it; standard error gives people
/// the same line (vexlab: [seed S; ]replay: COMMAND) once.
/// </summary>
public sealed class ResultSeedReplayTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vexlab-seed-replay-" + Guid.NewGuid().ToString("N"));

    public ResultSeedReplayTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>The words of a replay line whose words need no quotes, less "vexlab", to run again.</summary>
    private static string[] Words(JsonNode doc)
    {
        var replay = (string)doc["replay"]!;
        Assert.StartsWith("vexlab ", replay, StringComparison.Ordinal);
        Assert.DoesNotContain("--json", replay, StringComparison.Ordinal);
        return replay.Split(' ')[1..];
    }

    /// <summary>Standard error holds the replay line once, with the seed text, and it names the JSON's command.</summary>
    private static void AssertReplayLine(string stderr, string? seeds, JsonNode doc)
    {
        var line = "vexlab: " + (seeds is null ? string.Empty : seeds + "; ") + "replay: " + (string)doc["replay"]!;
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("vexlab: ", StringComparison.Ordinal) && l.Contains("replay: ", StringComparison.Ordinal));
        Assert.Contains(line, stderr.Split('\n'));
    }

    [Fact]
    public void A_sweep_run_carries_its_seeds_and_its_replay_runs_what_the_store_lacks()
    {
        File.WriteAllText(P("s.yaml"), "scenario: postcopy\nprotocols: [sync, ve]\nseeds: 3\n");
        var first = CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("s.duckdb"), "--jobs", "1", "--json");
        Assert.Equal(0, first.ExitCode);
        var doc = JsonNode.Parse(first.Stdout)!;
        Assert.Equal([1L, 2L, 3L], doc["seed"]!.AsArray().Select(s => (long)s!));
        Assert.True((bool)doc["complete"]!);
        Assert.True(doc.AsObject().ContainsKey("stop_reason"));
        Assert.Null(doc["stop_reason"]);
        Assert.Equal($"vexlab sweep run {P("s.yaml")} --db {P("s.duckdb")} --jobs 1", (string?)doc["replay"]);
        AssertReplayLine(first.Stderr, "seeds 1..3", doc);

        var again = CliRunner.RunFake([.. Words(doc), "--json"]);
        Assert.Equal(0, again.ExitCode);
        var rerun = JsonNode.Parse(again.Stdout)!;
        Assert.Equal((int)doc["runs"]!, (int)rerun["already_done"]!);
        Assert.Equal((string?)doc["replay"], (string?)rerun["replay"]);
    }

    /// <summary>A merge copies stored runs: no seed of its own, and a line that merges the same shards again.</summary>
    [Fact]
    public void A_sweep_merge_has_no_seed_and_its_replay_merges_again()
    {
        File.WriteAllText(P("s.yaml"), "scenario: postcopy\nprotocols: [sync, ve]\nseeds: 2\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("a.duckdb"), "--jobs", "1", "--shard", "1/2").ExitCode);
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("b.duckdb"), "--jobs", "1", "--shard", "2/2").ExitCode);

        var merge = CliRunner.Run("sweep", "merge", P("m.duckdb"), P("a.duckdb"), P("b.duckdb"), "--json");
        Assert.Equal(0, merge.ExitCode);
        var doc = JsonNode.Parse(merge.Stdout)!;
        Assert.True(doc.AsObject().ContainsKey("seed"));
        Assert.Null(doc["seed"]);
        Assert.Equal($"vexlab sweep merge {P("m.duckdb")} {P("a.duckdb")} {P("b.duckdb")}", (string?)doc["replay"]);
        AssertReplayLine(merge.Stderr, null, doc);

        File.Delete(P("m.duckdb"));
        var again = CliRunner.Run([.. Words(doc), "--json"]);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal((long)doc["added"]!, (long)JsonNode.Parse(again.Stdout)!["added"]!);
    }

    /// <summary>A query or an export reads stored runs: no seed of its own, and a line that gives the same rows or file again.</summary>
    [Fact]
    public void A_results_query_and_export_have_no_seed_and_replay_to_the_same_output()
    {
        File.WriteAllText(P("s.yaml"), "scenario: postcopy\nprotocols: [sync, ve]\nseeds: 2\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("s.duckdb"), "--jobs", "1").ExitCode);

        const string Sql = "select count(*) as n from results";
        var query = CliRunner.Run("results", "query", P("s.duckdb"), Sql, "--json");
        Assert.Equal(0, query.ExitCode);
        var queryDoc = JsonNode.Parse(query.Stdout)!;
        Assert.True(queryDoc.AsObject().ContainsKey("seed"));
        Assert.Null(queryDoc["seed"]);
        Assert.Equal($"vexlab results query {P("s.duckdb")} '{Sql}'", (string?)queryDoc["replay"]);
        AssertReplayLine(query.Stderr, null, queryDoc);

        // --format json writes the same document, replay line and all; stderr stays quiet, as for the other formats.
        var format = CliRunner.Run("results", "query", P("s.duckdb"), Sql, "--format", "json");
        Assert.Equal(0, format.ExitCode);
        var formatDoc = JsonNode.Parse(format.Stdout)!;
        Assert.Null(formatDoc["seed"]);
        Assert.Equal($"vexlab results query {P("s.duckdb")} '{Sql}' --format json", (string?)formatDoc["replay"]);
        Assert.Equal(queryDoc["rows"]!.ToJsonString(), formatDoc["rows"]!.ToJsonString());
        Assert.Equal(string.Empty, format.Stderr);

        var export = CliRunner.Run("results", "export", P("s.duckdb"), "--out", P("s.csv"), "--json");
        Assert.Equal(0, export.ExitCode);
        var exportDoc = JsonNode.Parse(export.Stdout)!;
        Assert.True(exportDoc.AsObject().ContainsKey("seed"));
        Assert.Null(exportDoc["seed"]);
        Assert.Equal($"vexlab results export {P("s.duckdb")} --out {P("s.csv")}", (string?)exportDoc["replay"]);
        AssertReplayLine(export.Stderr, null, exportDoc);
        var csv = File.ReadAllText(P("s.csv"));
        File.Delete(P("s.csv"));
        Assert.Equal(0, CliRunner.Run(Words(exportDoc)).ExitCode);
        Assert.Equal(csv, File.ReadAllText(P("s.csv")));
    }

    [Fact]
    public void A_plot_and_a_report_have_no_seed_and_replay_to_the_same_file()
    {
        var json = P("r.json");
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--json", json).ExitCode);

        var plot = CliRunner.Run("plot", json, "--kind", "cdf", "--out", P("p.svg"), "--json");
        Assert.Equal(0, plot.ExitCode);
        var plotDoc = JsonNode.Parse(plot.Stdout)!;
        Assert.True(plotDoc.AsObject().ContainsKey("seed"));
        Assert.Null(plotDoc["seed"]);
        Assert.Equal($"vexlab plot {json} --kind cdf --out {P("p.svg")}", (string?)plotDoc["replay"]);
        AssertReplayLine(plot.Stderr, null, plotDoc);

        var report = CliRunner.Run("report", json, "--json", "--out", P("r.html"));
        Assert.Equal(0, report.ExitCode);
        var reportDoc = JsonNode.Parse(report.Stdout)!;
        Assert.True(reportDoc.AsObject().ContainsKey("seed"));
        Assert.Null(reportDoc["seed"]);
        Assert.Equal($"vexlab report {json} --out {P("r.html")}", (string?)reportDoc["replay"]);
        AssertReplayLine(report.Stderr, null, reportDoc);

        foreach (var doc in new[] { plotDoc, reportDoc })
        {
            var file = (string)doc["out"]!;
            File.Delete(file);
            Assert.Equal(0, CliRunner.Run(Words(doc)).ExitCode);
            Assert.True(new FileInfo(file).Length > 0, file);
        }
    }

    [Fact]
    public void The_simulator_bench_carries_its_runs_seed_and_the_checker_bench_none()
    {
        var sim = CliRunner.Run("bench", "--duration", "2ms", "--protocol", "ve", "--json");
        Assert.Equal(0, sim.ExitCode);
        var simDoc = JsonNode.Parse(sim.Stdout)!;
        Assert.Equal(1L, (long)simDoc["seed"]!);
        Assert.Equal("vexlab bench --duration 2ms --protocol ve", (string?)simDoc["replay"]);
        AssertReplayLine(sim.Stderr, "seed 1", simDoc);

        var checker = CliRunner.Run("bench", "--checker", "--workers", "1", "--max-states", "2000", "--json");
        Assert.Equal(0, checker.ExitCode);
        var checkerDoc = JsonNode.Parse(checker.Stdout)!;
        Assert.True(checkerDoc.AsObject().ContainsKey("seed"));
        Assert.Null(checkerDoc["seed"]);
        Assert.Equal("vexlab bench --checker --workers 1 --max-states 2000", (string?)checkerDoc["replay"]);
        AssertReplayLine(checker.Stderr, null, checkerDoc);
    }
}
