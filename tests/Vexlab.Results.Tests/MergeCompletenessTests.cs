using DuckDB.NET.Data;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>
/// <c>sweep merge</c> counts the runs the sweep has against the runs the stores hold: a missing or
/// unfinished shard is refused before the output exists, unless the merge is told to allow it.
/// </summary>
public sealed class MergeCompletenessTests
{
    [Fact]
    public void Merge_MissingShard_IsRefusedBeforeTheOutputExists_UnlessAllowPartial()
    {
        using var dir = new TempDir();
        var a = Run(Small(), dir.File("s1.duckdb"), new Shard(1, 3));
        var b = Run(Small(), dir.File("s2.duckdb"), new Shard(2, 3));
        Run(Small(), dir.File("s3.duckdb"), new Shard(3, 3));
        var merged = dir.File("m.duckdb");

        var message = Fails(() => StoreOperations.Merge(merged, [dir.File("s1.duckdb"), dir.File("s2.duckdb")]));
        var present = a.Runs + b.Runs;
        Assert.Contains($"the stores hold {present} of the sweep's 72 runs ({72 - present} missing, shard 3/3 not given)", message, StringComparison.Ordinal);
        Assert.Contains($"s1.duckdb: shard 1/3, {a.Runs} of {a.Runs} runs", message, StringComparison.Ordinal);
        Assert.Contains("--allow-partial", message, StringComparison.Ordinal);
        Assert.False(File.Exists(merged), "a refused merge created its output");

        var partial = StoreOperations.Merge(merged, [dir.File("s1.duckdb"), dir.File("s2.duckdb")], allowPartial: true);
        Assert.True(partial.IsPartial);
        Assert.Equal(72, partial.Expected);
        Assert.Equal(present, partial.Present);

        // The last shard completes it; a partial output is not refused as the target of more shards.
        var whole = StoreOperations.Merge(merged, [dir.File("s3.duckdb")]);
        Assert.False(whole.IsPartial);
        Assert.Equal(72, whole.Present);
        Assert.Equal("", StoreOperations.Query(merged, "SELECT string_agg(key, ',') FROM sweep WHERE key IN ('shard', 'shard_runs')").Rows[0][0]?.ToString() ?? "");
    }

    [Fact]
    public void Merge_UnfinishedShard_IsRefusedAndNamed()
    {
        using var dir = new TempDir();
        var first = Run(Small(), dir.File("s1.duckdb"), new Shard(1, 2));
        Run(Small(), dir.File("s2.duckdb"), new Shard(2, 2));

        // A shard stopped half-way: some of its runs never written.
        using (var connection = new DuckDBConnection("Data Source=" + dir.File("s1.duckdb")))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM results WHERE run_key IN (SELECT run_key FROM results ORDER BY run_key LIMIT 5)";
            Assert.Equal(5, command.ExecuteNonQuery());
        }

        var merged = dir.File("m.duckdb");
        var message = Fails(() => StoreOperations.Merge(merged, [dir.File("s1.duckdb"), dir.File("s2.duckdb")]));
        Assert.Contains("the stores hold 67 of the sweep's 72 runs (5 missing)", message, StringComparison.Ordinal);
        Assert.Contains($"s1.duckdb: shard 1/2, {first.Runs - 5} of {first.Runs} runs (unfinished)", message, StringComparison.Ordinal);
        Assert.False(File.Exists(merged));

        // Finishing the shard (the same command again) makes the merge whole.
        Assert.Equal(5, Run(Small(), dir.File("s1.duckdb"), new Shard(1, 2)).Ran);
        Assert.Equal(72, StoreOperations.Merge(merged, [dir.File("s1.duckdb"), dir.File("s2.duckdb")]).Present);
    }

    // The same store named twice would be merged once but counted as two stores: the summary would say
    // "merged 2 stores" while a shard is missing. It is refused whatever the spelling, before the output exists.
    [Fact]
    public void Merge_SameShardTwice_IsRefusedBeforeTheOutputExists()
    {
        using var dir = new TempDir();
        Run(Small(), dir.File("s1.duckdb"), new Shard(1, 2));
        Run(Small(), dir.File("s2.duckdb"), new Shard(2, 2));
        var merged = dir.File("m.duckdb");
        var s1 = dir.File("s1.duckdb");

        var message = Fails(() => StoreOperations.Merge(merged, [s1, s1], allowPartial: true));
        Assert.Equal(s1 + ": is listed twice; name each shard once", message);
        Assert.False(File.Exists(merged), "a refused merge created its output");

        var respelled = Path.Combine(Path.GetDirectoryName(s1)!, ".", "s1.duckdb");
        message = Fails(() => StoreOperations.Merge(merged, [s1, dir.File("s2.duckdb"), respelled]));
        Assert.Equal(respelled + ": is listed twice (also as " + s1 + "); name each shard once", message);
        Assert.False(File.Exists(merged), "a refused merge created its output");

        Assert.Equal(72, StoreOperations.Merge(merged, [s1, dir.File("s2.duckdb")]).Present);
    }
}
