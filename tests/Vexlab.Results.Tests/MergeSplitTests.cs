using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>
/// <c>sweep merge</c> refuses shards of two splits (1/3 and 2/2): they overlap and leave runs out. Merged, such a set
/// was said to hold "19 of 30 runs (11 missing)", and with --allow-partial it merged, counting runs of both as added.
/// </summary>
public sealed class MergeSplitTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Shards_of_different_splits_are_refused_by_name(bool allowPartial)
    {
        using var dir = new TempDir();
        Run(Small(), dir.File("s1of3.duckdb"), new Shard(1, 3));
        Run(Small(), dir.File("s2of2.duckdb"), new Shard(2, 2));
        var merged = dir.File("m.duckdb");

        var message = Fails(() => StoreOperations.Merge(merged, [dir.File("s1of3.duckdb"), dir.File("s2of2.duckdb")], allowPartial));
        Assert.Equal(
            $"{dir.File("s2of2.duckdb")}: is shard 2/2 and {dir.File("s1of3.duckdb")} shard 1/3: shards of different splits (of 3 and of 2) overlap and leave runs out; merge the shards of one --shard I/N split",
            message);
        Assert.False(File.Exists(merged), "a refused merge created its output");
    }

    [Fact]
    public void A_merged_store_goes_with_shards_of_any_split()
    {
        using var dir = new TempDir();
        Run(Small(), dir.File("s1.duckdb"), new Shard(1, 2));
        Run(Small(), dir.File("s2.duckdb"), new Shard(2, 2));
        StoreOperations.Merge(dir.File("m.duckdb"), [dir.File("s1.duckdb"), dir.File("s2.duckdb")]);
        Run(Small(), dir.File("t3.duckdb"), new Shard(3, 3));

        // A merged store records no shard: it is no split's, and adds to any.
        var summary = StoreOperations.Merge(dir.File("all.duckdb"), [dir.File("m.duckdb"), dir.File("t3.duckdb")]);
        Assert.False(summary.IsPartial);
    }
}
