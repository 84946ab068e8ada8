using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary><c>compare --seeds N</c>: every metric the table labels "mean ± 95%" is one, and each entry has its replay line.</summary>
public sealed class CompareSeedsTests
{
    [Fact]
    public void Every_numeric_row_is_a_mean_with_an_interval_over_the_seeds()
    {
        var result = CliRunner.Run("compare", "--builtin", "swap-overcommit", "--protocols", "sync,ve", "--duration", "10ms", "--seeds", "3", "--json");
        Assert.Equal(0, result.ExitCode);
        // The table goes to stderr when JSON takes stdout.
        var rows = result.Stderr.Split('\n').Where(l => l.StartsWith("│ ", StringComparison.Ordinal) && !l.StartsWith("│ metric", StringComparison.Ordinal)).ToList();
        // The heading names the seeds as the replay lines do ("seeds 1..3"); "seed 1, 3 seeds" read as one seed.
        Assert.Contains("swap-overcommit: 10.0 ms simulated, seeds 1..3 (mean ± 95%)\n", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("seeds 1..3 (this replays seed 1)", result.Stderr, StringComparison.Ordinal);
        Assert.True(rows.Count > 20);
        foreach (var row in rows)
        {
            var cells = row.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var name = cells[0];
            if (name.StartsWith("finished:", StringComparison.Ordinal) || name is "signals" or "guest outcome")
            {
                continue;
            }

            Assert.All(cells[1..], c => Assert.Contains(" ± ", c, StringComparison.Ordinal));
        }

        Assert.Contains(rows, r => r.StartsWith("│ guest outcome", StringComparison.Ordinal) && r.Contains("running x3", StringComparison.Ordinal));

        var doc = JsonNode.Parse(result.Stdout)!;
        foreach (var entry in doc["results"]!.AsArray())
        {
            var runs = entry!["runs"]!.AsArray();
            Assert.Equal(3, runs.Count);
            // The mean in the JSON is the mean of the seeds' own p99s.
            var p99 = runs.Average(r => (double)r!["fault_latency_ns"]!["p99"]!);
            Assert.Equal(Math.Round(p99, 3), (double)entry["metrics"]!["fault_latency_ns.p99"]!["mean"]!, 3);
            Assert.StartsWith("vexlab run --builtin swap-overcommit --protocol " + (string?)entry["variant"], (string?)entry["replay"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Compare_prints_one_replay_line_per_entry()
    {
        var result = CliRunner.Run("compare", "--builtin", "swap-overcommit", "--protocols", "sync,kvm-pf,ve[guest.ve.can_continue=user-or-preemptible-kernel]", "--duration", "5ms");
        Assert.Equal(0, result.ExitCode);
        var replays = result.Stderr.Split('\n').Where(l => l.Contains("; replay: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, replays.Count);
        Assert.Contains(replays, l => l.Contains("--protocol sync ", StringComparison.Ordinal));
        Assert.Contains(replays, l => l.Contains("--protocol kvm-pf ", StringComparison.Ordinal));
        Assert.Contains(replays, l => l.Contains("guest.ve.can_continue=user-or-preemptible-kernel", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("9223372036854775807", "2")]
    [InlineData("9223372036854775800", "9")]
    public void Seeds_past_the_largest_seed_are_refused_before_any_run(string seed, string seeds)
    {
        // seed + i for the i-th of --seeds' seeds wrapped to a negative seed, refused only after the
        // first seed had run, and blamed on a --seed the command line never gave.
        var result = CliRunner.Run("compare", "--builtin", "swap-overcommit", "--protocols", "sync,ve", "--duration", "1ms", "--seed", seed, "--seeds", seeds);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: --seeds: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("9223372036854775807", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("-9223372036854775808", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void Seeds_up_to_the_largest_seed_run()
    {
        var result = CliRunner.Run("compare", "--builtin", "swap-overcommit", "--protocols", "sync", "--duration", "1ms", "--seed", "9223372036854775806", "--seeds", "2", "--json");
        Assert.Equal(0, result.ExitCode);
        var seeds = JsonNode.Parse(result.Stdout)!["results"]![0]!["seeds"]!.AsArray().Select(s => (long)s!).ToArray();
        Assert.Equal([9223372036854775806L, long.MaxValue], seeds);
    }
}
