using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A store of a sweep stopped before it finished (Ctrl-C, SIGKILL, a full disk) keeps its finished runs; a report or
/// plot of it says how many of the sweep's runs it holds, even when those cover the same points for every entry.
/// </summary>
public sealed class UnfinishedStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-unfinished-").FullName;

    public UnfinishedStoreTests()
    {
        File.WriteAllText(P("s.yaml"), "scenario: postcopy\nprotocols: [sync, ve, kvm-pf]\nseeds: 4\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("s.duckdb"), "--jobs", "1").ExitCode);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void A_report_of_a_whole_store_has_no_caution()
    {
        var result = CliRunner.Run("report", P("s.duckdb"), "--out", P("r.html"), "--json", P("r.json"));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"vexlab: replay: vexlab report {P("s.duckdb")} --out {P("r.html")}\n", result.Stderr);
        Assert.DoesNotContain("Caution", (string)JsonNode.Parse(File.ReadAllText(P("r.json")))!["findings"]![0]!, StringComparison.Ordinal);
    }

    [Fact]
    public void A_report_of_a_store_merged_with_allow_partial_says_how_many_runs_it_holds()
    {
        // A merged store records the sweep's run count only (not a shard's): that is the count to hold against.
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("s1.duckdb"), "--shard", "1/2", "--jobs", "1").ExitCode);
        var merge = CliRunner.Run("sweep", "merge", P("m.duckdb"), P("s1.duckdb"), "--allow-partial");
        Assert.Equal(0, merge.ExitCode);

        // One store is a store (the line once read "merged 1 stores").
        Assert.StartsWith("merged 1 store of sweep ", merge.Stdout, StringComparison.Ordinal);
        var present = CliRunner.Run("results", "query", P("m.duckdb"), "select count(*) as n from results", "--format", "csv").Stdout.Split('\n')[1];
        var report = CliRunner.Run("report", P("m.duckdb"), "--out", P("r.html"));
        Assert.Equal(0, report.ExitCode);
        Assert.StartsWith($"vexlab: caution: the store holds {present} of the 12 runs of its sweep: ", report.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Plots_help_shows_that_log_y_takes_a_value_and_the_value_is_taken()
    {
        // The help once gave --log-y as a bare flag while telling the reader to write --log-y false.
        var help = CliRunner.Run("plot", "--help").Stdout;
        Assert.Contains("--log-y <true|false>  ", help, StringComparison.Ordinal);
        foreach (var value in new[] { "false", "true" })
        {
            var plot = CliRunner.Run("plot", P("s.duckdb"), "--x", "seed", "--y", "fault_latency_ns_p99", "--log-y", value, "--out", P("p.svg"));
            Assert.Equal((0, $"vexlab: replay: vexlab plot {P("s.duckdb")} --x seed --y fault_latency_ns_p99 --log-y {value} --out {P("p.svg")}\n"), (plot.ExitCode, plot.Stderr));
        }
    }

    [Fact]
    public void A_report_and_a_plot_of_a_stopped_sweep_say_how_many_runs_the_store_holds()
    {
        // What a sweep killed after its first two seeds leaves: every entry over the same points, so no other caution.
        using (var connection = new DuckDBConnection($"DataSource={P("s.duckdb")}"))
        {
            connection.Open();
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM results WHERE seed > 2";
            delete.ExecuteNonQuery();
        }

        const string Said = "the store holds 6 of the 12 runs of its sweep: the sweep stopped before it finished, so the means are over the runs that did; run the same vexlab sweep run again to finish it";
        var report = CliRunner.Run("report", P("s.duckdb"), "--out", P("r.html"), "--json", P("r.json"));
        Assert.Equal(0, report.ExitCode);
        Assert.Equal($"vexlab: caution: {Said}\nvexlab: replay: vexlab report {P("s.duckdb")} --out {P("r.html")}\n", report.Stderr);
        Assert.Equal($"Caution: {Said}.", (string)JsonNode.Parse(File.ReadAllText(P("r.json")))!["findings"]![0]!);

        var plot = CliRunner.Run("plot", P("s.duckdb"), "--kind", "stacked", "--out", P("p.svg"));
        Assert.Equal(0, plot.ExitCode);
        Assert.Equal($"vexlab: caution: {Said}\nvexlab: replay: vexlab plot {P("s.duckdb")} --kind stacked --out {P("p.svg")}\n", plot.Stderr);
        Assert.Contains("(unfinished sweep)", File.ReadAllText(P("p.svg")), StringComparison.Ordinal);
    }
}
