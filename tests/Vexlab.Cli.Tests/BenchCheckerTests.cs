using System.Text.Json;

namespace Vexlab.Cli.Tests;

/// <summary><c>bench --checker --workers</c>: a list of counts gives a speedup curve; a bad count is refused.</summary>
public sealed class BenchCheckerTests
{
    /// <summary>The JSON of <c>bench --checker</c> to 20,000 states with the given <c>--workers</c>, which must exit 0.</summary>
    private static JsonDocument BenchJson(string workers)
    {
        var r = CliRunner.Run("bench", "--checker", "--workers", workers, "--max-states", "20000", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout);
    }

    /// <summary>
    /// The memory copy line gives the rate with N threads only where the bench ran N workers: with one it said
    /// "with 1 thread, ... with 1 (1.00x)", the same figure twice.
    /// </summary>
    [Theory]
    [InlineData("1", @"^memory copy +\d+\.\d\d GB/s with 1 thread$")]
    [InlineData("2", @"^memory copy +\d+\.\d\d GB/s with 1 thread, \d+\.\d\d GB/s with 2 \(\d+\.\d\dx\)$")]
    public void The_memory_copy_line_names_a_thread_count_once(string workers, string pattern)
    {
        var r = CliRunner.Run("bench", "--checker", "--workers", workers, "--max-states", "20000");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var line = Assert.Single(r.Stdout.Split('\n'), l => l.StartsWith("memory copy", StringComparison.Ordinal));
        Assert.Matches(pattern, line);
    }

    [Fact]
    public void A_list_of_worker_counts_gives_one_curve_point_each()
    {
        using var doc = BenchJson("1,2,3");
        var curve = doc.RootElement.GetProperty("speedup_curve");
        Assert.Equal([1, 2, 3], curve.EnumerateArray().Select(p => p.GetProperty("workers").GetInt32()));

        // Every point checks the same model to the same bound; the one-worker point is the run speedups are over.
        Assert.Equal(1.0, curve[0].GetProperty("speedup").GetDouble());
        Assert.Equal(2, doc.RootElement.GetProperty("parallel").GetProperty("workers").GetInt32());
        Assert.Equal(3, doc.RootElement.GetProperty("memory_copy").GetProperty("threads").GetInt32());
        Assert.Equal(doc.RootElement.GetProperty("states").GetInt64(), doc.RootElement.GetProperty("parallel").GetProperty("states").GetInt64());
    }

    /// <summary>
    /// The table's growths, timed in the same runs: 20,000 states outgrow the first table of 1,024 slots (7/8 of it
    /// holds 896 keys) many times over, and the growths take part of each run's wall clock, never more. The table
    /// grows by an eighth, by 1,024 slots at least, whenever 7/8 of it is full; the parallel run may grow ahead of a
    /// block's worst case, so at least as often.
    /// </summary>
    [Fact]
    public void Table_growths_are_counted_and_timed_within_each_run()
    {
        using var doc = BenchJson("2");
        var growth = doc.RootElement.GetProperty("table_growth");
        long states = doc.RootElement.GetProperty("states").GetInt64();
        int needed = 0;
        for (long capacity = 1024; capacity / 8 * 7 < states; capacity += Math.Max(1024, capacity / 8))
        {
            needed++;
        }

        Assert.InRange(growth.GetProperty("growths").GetInt32(), needed, needed + 2);
        Assert.InRange(growth.GetProperty("parallel_growths").GetInt32(), needed, needed + 20);
        foreach (var (wall, share, run) in new[]
        {
            ("wall_ns", "share_of_wall", doc.RootElement),
            ("parallel_wall_ns", "parallel_share_of_wall", doc.RootElement.GetProperty("parallel")),
        })
        {
            long growthNs = growth.GetProperty(wall).GetInt64();
            long runNs = run.GetProperty("wall_ns").GetInt64();
            Assert.InRange(growthNs, 1, runNs);
            Assert.Equal((double)growthNs / runNs, growth.GetProperty(share).GetDouble(), 0.0002);

            // Faulting in new slots is part of the growths' time; a table this small never asks the kernel to.
            string prefix = wall == "wall_ns" ? string.Empty : "parallel_";
            Assert.InRange(growth.GetProperty(prefix + "fault_in_ns").GetInt64(), 0, growthNs);
            Assert.Equal(0, growth.GetProperty(prefix + "fault_in_bytes").GetInt64());
        }

        Assert.Contains("table growth", CliRunner.Run("bench", "--checker", "--workers", "2", "--max-states", "20000").Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>--repeat 3</c>: three pairs of a one-worker and a two-worker run, each kind running first in turn; the report gives every rate in
    /// run order, each pair's speedup (its two rates' ratio), and reports the runs of median rate and the median of
    /// the pairs' speedups, so one pair measured while the host slowed does not decide the figure.
    /// </summary>
    [Fact]
    public void Repeated_runs_alternate_and_report_their_medians()
    {
        var r = CliRunner.Run("bench", "--checker", "--workers", "2", "--max-states", "20000", "--repeat", "3", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        var repeats = root.GetProperty("repeats");
        Assert.Equal(3, repeats.GetProperty("runs").GetInt32());
        double[] ones = [.. repeats.GetProperty("states_per_sec").EnumerateArray().Select(x => x.GetDouble())];
        double[] twos = [.. repeats.GetProperty("parallel_states_per_sec").EnumerateArray().Select(x => x.GetDouble())];
        double[] speedups = [.. repeats.GetProperty("speedups").EnumerateArray().Select(x => x.GetDouble())];
        Assert.Equal(3, ones.Length);
        Assert.Equal(3, twos.Length);
        Assert.Equal(3, speedups.Length);

        // The pairs take turns at running first: one worker, then two, then one.
        Assert.Equal([1, 2, 1], repeats.GetProperty("first").EnumerateArray().Select(x => x.GetInt32()));
        for (int i = 0; i < 3; i++)
        {
            // Rates are printed whole and speedups to three places: a tolerance, not a rounding to two places,
            // which can round the two sides of 1.385 apart.
            Assert.Equal(twos[i] / ones[i], speedups[i], 0.002);
        }

        Assert.Equal(ones.Order().ElementAt(1), root.GetProperty("states_per_sec").GetDouble());
        Assert.Equal(twos.Order().ElementAt(1), root.GetProperty("parallel").GetProperty("states_per_sec").GetDouble());
        Assert.Equal(speedups.Order().ElementAt(1), root.GetProperty("parallel").GetProperty("speedup").GetDouble(), 1e-9);

        // Each repeat also runs one worker through the multi-worker path beside its one-worker run: the shared path's
        // ratio to the serial one is the median of the repeats' ratios, and its rate the run of median rate.
        double[] sharedRates = [.. repeats.GetProperty("shared_path_states_per_sec").EnumerateArray().Select(x => x.GetDouble())];
        double[] sharedRatios = [.. repeats.GetProperty("shared_path_ratios").EnumerateArray().Select(x => x.GetDouble())];
        Assert.Equal(3, sharedRates.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(sharedRates[i] / ones[i], sharedRatios[i], 0.002);
        }

        var sharedPath = root.GetProperty("shared_path");
        Assert.Equal(sharedRatios.Order().ElementAt(1), sharedPath.GetProperty("ratio_to_serial").GetDouble(), 1e-9);
        Assert.Equal(sharedRates.Order().ElementAt(1), sharedPath.GetProperty("states_per_sec").GetDouble());

        // One repeat (the default) prints no repeats and keeps the one pair's ratio.
        using var once = BenchJson("2");
        Assert.False(once.RootElement.TryGetProperty("repeats", out _));
        Assert.Equal(
            once.RootElement.GetProperty("parallel").GetProperty("states_per_sec").GetDouble() / once.RootElement.GetProperty("states_per_sec").GetDouble(),
            once.RootElement.GetProperty("parallel").GetProperty("speedup").GetDouble(),
            0.002);
        Assert.Equal(
            once.RootElement.GetProperty("shared_path").GetProperty("states_per_sec").GetDouble() / once.RootElement.GetProperty("states_per_sec").GetDouble(),
            once.RootElement.GetProperty("shared_path").GetProperty("ratio_to_serial").GetDouble(),
            0.002);
    }

    /// <summary>
    /// As many one-worker checks as the parallel run has workers, run at once on threads of their own: each explores the
    /// whole model, so their rate together (all their states over the longest one's wall clock) is as many times the
    /// slowest one's: its ratio to the one-worker run is twice the lower of their ratios. With one
    /// worker there is no parallel run and no side-by-side line.
    /// </summary>
    [Fact]
    public void Side_by_side_checks_measure_what_the_machine_lets_the_workers_reach()
    {
        using var doc = BenchJson("2");
        var root = doc.RootElement;
        var side = root.GetProperty("side_by_side");
        Assert.Equal(2, side.GetProperty("checks").GetInt32());
        double[] each = [.. side.GetProperty("each_ratio_to_one").EnumerateArray().Select(x => x.GetDouble())];
        Assert.Equal(2, each.Length);
        Assert.All(each, x => Assert.True(x > 0, $"ratio {x}"));
        double ratio = side.GetProperty("ratio_to_one").GetDouble();
        Assert.Equal(2 * each.Min(), ratio, 0.005);
        Assert.Equal(side.GetProperty("states_per_sec").GetDouble() / root.GetProperty("states_per_sec").GetDouble(), ratio, 0.002);

        using var single = BenchJson("1");
        Assert.False(single.RootElement.TryGetProperty("side_by_side", out _));

        var r = CliRunner.Run("bench", "--checker", "--workers", "2", "--max-states", "20000");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var line = Assert.Single(r.Stdout.Split('\n'), l => l.StartsWith("side by side", StringComparison.Ordinal));
        Assert.Matches(@"^side by side +2 one-worker checks at once: [\d,]+ states/s together, \d+\.\d\dx one alone \(each at \d+\.\d\d, \d+\.\d\d of it\)", line);
    }

    /// <summary>
    /// The parallel run's wall clock, split: the multi-worker blocks lie within the run, their parallel phases within
    /// the blocks, and the worker time those phases left idle (workers waiting at a barrier for the slowest) within the
    /// worker time they had (the phases' wall clock times the workers).
    /// </summary>
    [Fact]
    public void The_parallel_run_says_where_its_wall_clock_went()
    {
        using var doc = BenchJson("2");
        var parallel = doc.RootElement.GetProperty("parallel");
        long wall = parallel.GetProperty("wall_ns").GetInt64();
        long shared = parallel.GetProperty("shared_path_ns").GetInt64();
        long phases = parallel.GetProperty("parallel_phase_ns").GetInt64();
        long wait = parallel.GetProperty("worker_wait_ns").GetInt64();
        Assert.InRange(shared, 1, wall);
        Assert.InRange(phases, 1, shared);
        Assert.InRange(wait, 0, 2 * phases);
        Assert.Contains("worker time", CliRunner.Run("bench", "--checker", "--workers", "2", "--max-states", "20000").Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>--tree-census</c>: one more run counts what tree compression would store. Its search is the one-worker run's
    /// (same states, so the same fingerprint bytes a state), one root a state, the nodes the levels below the roots,
    /// and the bound two 32-bit indices a node and a root. Without the flag no census runs; without --checker the flag
    /// is refused.
    /// </summary>
    [Fact]
    public void The_tree_census_counts_a_root_a_state_and_the_nodes_below()
    {
        var r = CliRunner.Run("bench", "--checker", "--workers", "1", "--max-states", "20000", "--tree-census", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var census = doc.RootElement.GetProperty("tree_census");
        long states = census.GetProperty("states").GetInt64();
        long roots = census.GetProperty("roots").GetInt64();
        long nodes = census.GetProperty("nodes").GetInt64();
        long[] levels = [.. census.GetProperty("nodes_per_level").EnumerateArray().Select(x => x.GetInt64())];
        Assert.InRange(states, 1000, doc.RootElement.GetProperty("states").GetInt64());
        Assert.Equal(states, roots);
        Assert.Equal(roots, levels[^1]);
        Assert.Equal(levels[..^1].Sum(), nodes);

        // 791-byte states: 99 words, seven levels of pairs above the leaves'.
        Assert.Equal(8, levels.Length);
        Assert.Equal((nodes + roots) * 8.0 / states, census.GetProperty("least_bytes_per_state").GetDouble(), 0.006);
        Assert.Equal(doc.RootElement.GetProperty("bytes_per_state").GetDouble(), census.GetProperty("fingerprint_bytes_per_state").GetDouble());

        Assert.False(BenchJson("1").RootElement.TryGetProperty("tree_census", out _));
        var refused = CliRunner.Run("bench", "--tree-census");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--checker", refused.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--repeat", "0")]
    [InlineData("--repeat", "101")]
    [InlineData("--repeat", "x")]
    [InlineData("--workers", "0")]
    [InlineData("--workers", "2,x")]
    [InlineData("--workers", "-1")]
    [InlineData("--max-states", "0")]
    public void A_bad_count_is_refused_with_exit_2(string option, string value)
    {
        var r = CliRunner.Run(option == "--max-states" ? ["bench", "--checker", option, value] : ["bench", "--checker", option, value, "--max-states", "1000"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(option, r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        if (option == "--max-states")
        {
            Assert.Equal("vexlab: --max-states must be at least 1, got 0\n", r.Stderr);
        }
    }
}
