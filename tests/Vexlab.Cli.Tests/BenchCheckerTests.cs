using System.Text.Json;

namespace Vexlab.Cli.Tests;

/// <summary><c>bench --checker --workers</c>: a list of counts gives a speedup curve; a bad count is refused.</summary>
public sealed class BenchCheckerTests
{
    [Fact]
    public void A_list_of_worker_counts_gives_one_curve_point_each()
    {
        var r = CliRunner.Run("bench", "--checker", "--workers", "1,2,3", "--max-states", "20000", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var curve = doc.RootElement.GetProperty("speedup_curve");
        Assert.Equal([1, 2, 3], curve.EnumerateArray().Select(p => p.GetProperty("workers").GetInt32()));

        // Every point checks the same model to the same bound; the one-worker point is the run speedups are over.
        Assert.Equal(1.0, curve[0].GetProperty("speedup").GetDouble());
        Assert.Equal(2, doc.RootElement.GetProperty("parallel").GetProperty("workers").GetInt32());
        Assert.Equal(3, doc.RootElement.GetProperty("memory_copy").GetProperty("threads").GetInt32());
        Assert.Equal(doc.RootElement.GetProperty("states").GetInt64(), doc.RootElement.GetProperty("parallel").GetProperty("states").GetInt64());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("2,x")]
    [InlineData("-1")]
    public void A_bad_worker_count_is_refused_with_exit_2(string workers)
    {
        var r = CliRunner.Run("bench", "--checker", "--workers", workers, "--max-states", "1000");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--workers", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }
}
