using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;

namespace Vexlab.Results.Tests;

/// <summary>
/// A new store appears whole or not at all: its sweep row and axis columns are set up under a temporary name and the
/// file renamed into place. Built in place, a Ctrl-C in the first second of a sweep left a store with an empty sweep
/// table, a .wal and tables without the axis columns, which results export then wrote as if whole.
/// </summary>
public sealed class StoreCreationTests
{
    [Fact]
    public void A_new_store_holds_the_sweep_row_and_the_axis_columns_before_any_run()
    {
        using var dir = new TempDir();
        var db = dir.File("s.duckdb");
        Assert.True(SweepExecutor.CreateStore(db, Support.Small(), new SweepOptions { Shard = Shard.Parse("2/3") }));

        // Complete on disk, with no log to replay, and nothing else left beside it.
        Assert.Equal(["s.duckdb"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.Equal(Support.Small().ComputeHash(), StoreOperations.Query(db, "SELECT value FROM sweep WHERE key = 'sweep_hash'").Rows[0][0]);
        Assert.Equal("2/3", StoreOperations.Query(db, "SELECT value FROM sweep WHERE key = 'shard'").Rows[0][0]);
        foreach (var table in new[] { "results", "tasks" })
        {
            var columns = StoreOperations.Query(db, $"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'").Rows.Select(r => (string)r[0]!).ToList();
            Assert.Contains("latency", columns);
            Assert.Contains("tasks", columns);
        }

        Assert.Equal(new object?[] { 0L }, StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0]);

        // A store that exists is left to the sweep to open.
        Assert.False(SweepExecutor.CreateStore(db, Support.Small(), new SweepOptions()));
    }

    [Fact]
    public void A_creation_that_fails_part_way_leaves_no_store()
    {
        using var dir = new TempDir();
        var db = dir.File("s.duckdb");
        var e = Assert.Throws<InvalidOperationException>(() => SweepStore.Create(db, store =>
        {
            store.SetMeta("sweep_hash", "half");
            throw new InvalidOperationException("stopped part way");
        }));
        Assert.Equal("stopped part way", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void A_sweep_into_a_store_created_first_runs_as_into_a_new_one()
    {
        using var dir = new TempDir();
        var created = dir.File("created.duckdb");
        Assert.True(SweepExecutor.CreateStore(created, Support.Small(), new SweepOptions()));
        Support.Run(Support.Small(), created);
        Support.Run(Support.Small(), dir.File("plain.duckdb"));
        Assert.Equal(Support.Rows(dir.File("plain.duckdb"), "results").Count, Support.Rows(created, "results").Count);
        const string Meta = "SELECT key || '=' || value FROM sweep ORDER BY key";
        Assert.Equal(StoreOperations.Query(dir.File("plain.duckdb"), Meta).Rows.Select(r => r[0]), StoreOperations.Query(created, Meta).Rows.Select(r => r[0]));
    }
}
