using Vexlab.Model.Configuration;
using Vexlab.Results.Store;
using Vexlab.FakeSweep;
using Vexlab.Results.Sweeps;

namespace Vexlab.Results.Tests;

/// <summary>A temporary folder deleted after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vexlab-results-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public static class Support
{
    public const string SmallSweep = """
        name: small
        scenario: postcopy
        protocols: [sync, ve, "ve[guest.ve.can_continue=user-or-preemptible-kernel]"]
        seeds: 3
        axes:
          - name: latency
            key: host.latency
            unit: us
            log: {from: 1, to: 1000, points: 4}
          - name: tasks
            key: tasks[0].count
            values: [1, 4]
        """;

    public static SweepDefinition Small() => SweepFile.Parse(SmallSweep, "small.yaml");

    public static string Fails(Action action) => Assert.Throws<InputException>(action).Message;

    /// <summary>Every row of a table, outside timing columns, as sorted text lines.</summary>
    public static List<string> Rows(string db, string table)
    {
        var columns = StoreOperations.Query(db, $"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'")
            .Rows.Select(r => (string)r[0]!)
            .Where(c => !c.StartsWith("timing_", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        var order = table == "tasks" ? "run_key, task" : "run_key";
        var result = StoreOperations.Query(db, $"SELECT {string.Join(", ", columns.Select(SweepStore.Quote))} FROM {table} ORDER BY {order}");
        return result.Rows.Select(r => string.Join('|', columns.Zip(r, (c, v) => c + "=" + QueryResult.FormatValue(v)))).ToList();
    }

    public static SweepSummary Run(SweepDefinition sweep, string db, Shard? shard = null, int jobs = 2, RunPoint? runner = null)
    {
        using var store = SweepStore.Open(db);
        return SweepExecutor.Run(sweep, store, runner ?? FakeRunner.Create(), new SweepOptions { Jobs = jobs, Shard = shard ?? Shard.All });
    }
}
