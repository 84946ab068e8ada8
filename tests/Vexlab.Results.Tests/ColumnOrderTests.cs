using System.Text.Json.Nodes;
using Vexlab.FakeSweep;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>
/// The <c>results</c> and <c>tasks</c> tables have one column order whatever order runs finish in:
/// two identical sweeps export byte-identical CSV.
/// </summary>
public sealed class ColumnOrderTests
{
    /// <summary>
    /// The fake runner without wall-clock fields, plus an exit reason only some runs see, as the
    /// simulator's runs bring exit reasons the first time they happen: which run finishes first
    /// decides which columns arrive first.
    /// </summary>
    private static JsonObject Deterministic(SweepRun run, CancellationToken ct)
    {
        var json = FakeRunner.Run(run, FakeRunnerMode.Fast, ct);
        json.Remove("timing");
        if (run.Seed == 2 && json["exits"] is JsonObject exits)
        {
            exits["AAA_RARE_EXIT"] = run.Seed;
        }

        if (run.Protocol.Protocol == "ve")
        {
            json["signals"] = new JsonObject { ["SIGBUS"] = 1L };
        }

        return json;
    }

    [Fact]
    public void TwoIdenticalSweeps_InOppositeFinishingOrders_ExportByteIdenticalCsv()
    {
        using var dir = new TempDir();
        var forward = dir.File("forward.duckdb");
        var backward = dir.File("backward.duckdb");
        var sweep = Small();
        WriteInOrder(sweep, forward, SweepPlan.Runs(sweep).ToList());
        WriteInOrder(sweep, backward, SweepPlan.Runs(sweep).Reverse().ToList());

        foreach (var table in new[] { "results", "tasks" })
        {
            StoreOperations.Export(forward, table, "csv", dir.File("f.csv"));
            StoreOperations.Export(backward, table, "csv", dir.File("b.csv"));
            var f = File.ReadAllBytes(dir.File("f.csv"));
            Assert.True(f.AsSpan().SequenceEqual(File.ReadAllBytes(dir.File("b.csv"))), table + ": the exports differ");
            var header = System.Text.Encoding.UTF8.GetString(f).Split('\n')[0].Split(',');
            Assert.Equal(SweepStore.FixedOrder(table, header, ["latency", "tasks"]), header);
        }

        StoreOperations.Export(forward, "results", "csv", dir.File("r.csv"));
        var columns = File.ReadAllText(dir.File("r.csv")).Split('\n')[0].Split(',');
        Assert.Equal(["run_key", "latency", "tasks", "protocol", "variant", "seed", "scenario_hash", "vexlab_version"], columns[..8]);
        Assert.Contains("exits_AAA_RARE_EXIT", columns);
        Assert.Contains("signals_SIGBUS", columns);
    }

    [Fact]
    public void MergedShards_InEitherOrder_HaveTheColumnOrderOfOneRun()
    {
        using var dir = new TempDir();
        var sweep = Small();
        Run(sweep, dir.File("whole.duckdb"), runner: Deterministic, jobs: 1);
        Run(sweep, dir.File("s1.duckdb"), new Shard(1, 2), runner: Deterministic);
        Run(sweep, dir.File("s2.duckdb"), new Shard(2, 2), runner: Deterministic);
        StoreOperations.Merge(dir.File("m12.duckdb"), [dir.File("s1.duckdb"), dir.File("s2.duckdb")]);
        StoreOperations.Merge(dir.File("m21.duckdb"), [dir.File("s2.duckdb"), dir.File("s1.duckdb")]);
        StoreOperations.Export(dir.File("whole.duckdb"), "results", "csv", dir.File("whole.csv"));
        foreach (var merged in new[] { "m12", "m21" })
        {
            StoreOperations.Export(dir.File(merged + ".duckdb"), "results", "csv", dir.File(merged + ".csv"));
            Assert.Equal(File.ReadAllText(dir.File("whole.csv")), File.ReadAllText(dir.File(merged + ".csv")));
        }
    }

    private static void WriteInOrder(SweepDefinition sweep, string db, List<SweepRun> runs)
    {
        using var store = SweepStore.Open(db);
        store.Bind(sweep, force: false);
        foreach (var run in runs)
        {
            store.Write(RunRow.From(run, Deterministic(run, default), "0.0.0"));
        }
    }
}
