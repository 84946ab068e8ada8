using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A run in which no fault completed has no fault latency: its JSON says null beside <c>count</c> 0, and the
/// tables and the report show "-", where they used to show 0.0 us.
/// </summary>
public sealed class EmptyLatencyTests : IDisposable
{
    private static readonly string[] LatencyRows = ["fault min", "fault mean", "fault p50", "fault p99", "fault p99.9", "fault max"];

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-empty-latency-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Run_without_faults_writes_null_latencies_and_shows_dashes()
    {
        var result = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "1us", "--json");
        Assert.Equal(0, result.ExitCode);
        var latency = JsonNode.Parse(result.Stdout)!["fault_latency_ns"]!.AsObject();
        Assert.Equal(0, (long)latency["count"]!);
        foreach (var stat in new[] { "min", "mean", "p50", "p99", "p999", "max" })
        {
            Assert.True(latency.ContainsKey(stat), stat);
            Assert.Null(latency[stat]);
        }

        Assert.Empty(latency["cdf"]!.AsArray());
        foreach (var row in LatencyRows)
        {
            Assert.Equal(["-"], Cells(result.Stderr, row));
        }

        // The row counts completed faults (the latency sample), and says so.
        Assert.Equal(["0"], Cells(result.Stderr, "faults completed"));
    }

    [Fact]
    public void Run_with_faults_keeps_its_numbers()
    {
        var result = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "2ms", "--json");
        Assert.Equal(0, result.ExitCode);
        var latency = JsonNode.Parse(result.Stdout)!["fault_latency_ns"]!;
        Assert.True((long)latency["count"]! > 0);
        Assert.Equal((long)latency["p99"]! / 1000.0, double.Parse(Cells(result.Stderr, "fault p99")[0].Replace(" us", string.Empty, StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture), 1);
    }

    [Fact]
    public void Compare_seeds_without_faults_has_no_mean_and_says_over_no_seed()
    {
        var result = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", "1us", "--seeds", "2", "--json");
        Assert.Equal(0, result.ExitCode);
        foreach (var entry in JsonNode.Parse(result.Stdout)!["results"]!.AsArray())
        {
            var p99 = entry!["fault_latency_p99_ns"]!;
            Assert.Null(p99["mean"]);
            Assert.Null(p99["ci95"]);
            Assert.Equal(0, (int)p99["seeds"]!);
            var metrics = entry["metrics"]!;
            foreach (var stat in new[] { "min", "mean", "p50", "p99", "p999", "max" })
            {
                Assert.Null(metrics["fault_latency_ns." + stat]!["mean"]);
                Assert.Equal(0, (int)metrics["fault_latency_ns." + stat]!["seeds"]!);
            }

            // A count is a count: 0 faults over the seeds is a mean of 0.
            Assert.Equal(0, (double)metrics["fault_latency_ns.count"]!["mean"]!);
            Assert.Null(metrics["fault_latency_ns.count"]!["seeds"]);
        }

        foreach (var row in LatencyRows)
        {
            Assert.Equal(["-", "-"], Cells(result.Stderr, row));
        }
    }

    [Fact]
    public void Compare_seeds_with_faults_averages_them_and_counts_the_seeds()
    {
        var result = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "sync", "--duration", "2ms", "--seeds", "2", "--json");
        Assert.Equal(0, result.ExitCode);
        var entry = JsonNode.Parse(result.Stdout)!["results"]![0]!;
        var runs = entry["runs"]!.AsArray();
        Assert.All(runs, r => Assert.True((long)r!["fault_latency_ns"]!["count"]! > 0));
        Assert.Equal(2, (int)entry["fault_latency_p99_ns"]!["seeds"]!);
        Assert.Equal(Math.Round(runs.Average(r => (double)r!["fault_latency_ns"]!["p99"]!), 3), (double)entry["fault_latency_p99_ns"]!["mean"]!, 3);
        Assert.DoesNotContain(" of 2 seeds)", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_seeds_where_some_have_faults_averages_those_and_says_how_many()
    {
        // 100us of postcopy: one of the six seeds completes a fault, so the mean is its p99 alone, not a sixth of it.
        var result = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "sync", "--duration", "100us", "--seeds", "6", "--json");
        Assert.Equal(0, result.ExitCode);
        var entry = JsonNode.Parse(result.Stdout)!["results"]![0]!;
        var withFaults = entry["runs"]!.AsArray().Where(r => (long)r!["fault_latency_ns"]!["count"]! > 0).ToList();
        Assert.Single(withFaults);
        var p99 = (double)withFaults[0]!["fault_latency_ns"]!["p99"]!;
        Assert.Equal(1, (int)entry["fault_latency_p99_ns"]!["seeds"]!);
        Assert.Equal(p99, (double)entry["fault_latency_p99_ns"]!["mean"]!);
        Assert.Equal(p99, (double)entry["metrics"]!["fault_latency_ns.p99"]!["mean"]!);
        Assert.Equal(1, (int)entry["metrics"]!["fault_latency_ns.p99"]!["seeds"]!);
        Assert.EndsWith(" (1 of 6 seeds)", Cells(result.Stderr, "fault p99")[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Report_of_runs_without_faults_shows_dashes()
    {
        var json = Path.Combine(_dir, "c.json");
        var html = Path.Combine(_dir, "c.html");
        Assert.Equal(0, CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", "1us", "--json", json).ExitCode);
        Assert.Equal(0, CliRunner.Run("report", json, "--out", html).ExitCode);
        var text = File.ReadAllText(html);
        foreach (var stat in new[] { "min", "mean", "p50", "p99", "p999", "max" })
        {
            var row = Regex.Match(text, "<tr data-metric=\"fault_latency_ns_" + stat + "\">(.*?)</tr>");
            Assert.True(row.Success, stat);
            Assert.Equal(["-", "-"], Regex.Matches(row.Groups[1].Value, "<td class=\"n\">([^<]*)</td>").Select(m => m.Groups[1].Value));
        }
    }

    [Fact]
    public void Requests_none_completed_have_no_latency()
    {
        // An open-loop stream in a microsecond: nothing arrives, so its request latency is null and shown "-".
        var scenario = Path.Combine(_dir, "req.yaml");
        File.WriteAllText(scenario, "guest:\n  vcpus: 1\ntasks:\n  - name: a\n    arrivals: poisson 1000/s\n    loop: compute\n");
        var result = CliRunner.Run("run", scenario, "--protocol", "sync", "--duration", "1us", "--json");
        Assert.Equal(0, result.ExitCode);
        var requests = JsonNode.Parse(result.Stdout)!["guest"]!["tasks"]![0]!["requests"]!;
        Assert.Equal(0, (long)requests["completed"]!);
        foreach (var stat in new[] { "min", "mean", "p50", "p99", "p999", "max" })
        {
            Assert.True(requests["latency_ns"]!.AsObject().ContainsKey(stat), stat);
            Assert.Null(requests["latency_ns"]![stat]);
        }

        foreach (var row in new[] { "request p50: a", "request p99: a", "request p99.9: a" })
        {
            Assert.Equal(["-"], Cells(result.Stderr, row));
        }
    }

    [Fact]
    public void Store_of_runs_without_faults_has_null_latency_columns()
    {
        // No run of this sweep completes a fault: the latency columns still exist, NULL, and avg() is NULL, not 0.
        var sweep = Path.Combine(_dir, "s.yaml");
        var db = Path.Combine(_dir, "s.duckdb");
        File.WriteAllText(sweep, """
            name: tiny
            scenario: postcopy
            set:
              duration: 1us
            protocols: [sync]
            seeds: 2
            axes:
              - name: latency
                key: host.latency
                unit: us
                values: [10, 100]
            """);
        Assert.Equal(0, CliRunner.Run("sweep", "run", sweep, "--db", db).ExitCode);
        var query = CliRunner.Run("results", "query", db, "SELECT count(*) AS n, sum(fault_latency_ns_count) AS faults, count(fault_latency_ns_p99) AS with_p99, avg(fault_latency_ns_mean) AS mean FROM results", "--format", "csv");
        Assert.Equal(0, query.ExitCode);
        Assert.Equal("n,faults,with_p99,mean\n4,0,0,\n", query.Stdout.Replace("\r", string.Empty, StringComparison.Ordinal));
    }

    /// <summary>The cells of the table row named <paramref name="name"/>, after the name.</summary>
    private static List<string> Cells(string text, string name)
    {
        var line = text.Split('\n').Single(l => l.StartsWith("│ " + name + " ", StringComparison.Ordinal) && l.Split('│')[1].Trim() == name);
        return [.. line.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1..]];
    }
}
