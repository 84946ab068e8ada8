using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>
/// A store's <c>shard</c> and <c>shard_runs</c> say which shard's runs it holds, or are absent when it holds runs of
/// several, whichever way those came in: merged into shard 1/2's store, shard 2/2 left it saying
/// <c>shard 1/2, shard_runs 36</c> over 72 runs (a later merge listed it as "72 of 36 runs"), and so did
/// <c>sweep run --shard 1/2</c> into a store of shard 2/2.
/// </summary>
public sealed class ShardMetadataTests
{
    private static (string? Shard, string? Runs) ShardMeta(string db)
    {
        var rows = StoreOperations.Query(db, "SELECT (SELECT value FROM sweep WHERE key = 'shard'), (SELECT value FROM sweep WHERE key = 'shard_runs')").Rows;
        return (rows[0][0] as string, rows[0][1] as string);
    }

    private static long Held(string db) => Convert.ToInt64(StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0][0], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_shard_store_merged_into_records_no_shard_and_a_later_merge_says_what_it_holds()
    {
        using var dir = new TempDir();
        var s1 = dir.File("s1.duckdb");
        var first = Run(Small(), s1, new Shard(1, 2));
        Run(Small(), dir.File("s2.duckdb"), new Shard(2, 2));
        Assert.Equal(("1/2", first.Runs.ToString(System.Globalization.CultureInfo.InvariantCulture)), ShardMeta(s1));

        Assert.Equal(72, StoreOperations.Merge(s1, [dir.File("s2.duckdb")]).Present);
        Assert.Equal((null, null), ShardMeta(s1));

        var again = StoreOperations.Merge(dir.File("m.duckdb"), [s1]);
        Assert.False(again.IsPartial);
        Assert.Equal([$"{s1}: a merged store, 72 runs"], again.Stores);
    }

    [Fact]
    public void A_shard_run_into_a_store_of_another_records_no_shard_and_the_same_shard_again_keeps_it()
    {
        using var dir = new TempDir();
        var db = dir.File("s.duckdb");
        var second = Run(Small(), db, new Shard(2, 2));
        var count = second.Runs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(("2/2", count), ShardMeta(db));

        // Resuming the shard it holds is still that shard.
        Run(Small(), db, new Shard(2, 2));
        Assert.Equal(("2/2", count), ShardMeta(db));

        Run(Small(), db, new Shard(1, 2));
        Assert.Equal(72, Held(db));
        Assert.Equal((null, null), ShardMeta(db));
        Assert.Equal(72, StoreOperations.Merge(dir.File("m.duckdb"), [db]).Present);
    }
}
