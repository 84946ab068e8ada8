using Vexlab.Cli.Infrastructure;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A sweep's runs compute from the scenario file's text as the sweep read it, the text its run keys and sweep hash
/// cover: a file edited while the sweep runs would otherwise be stored under the keys of the text before the edit,
/// and a later run of that text would take those rows for its own.
/// </summary>
public sealed class EditedScenarioFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vexlab-edited-" + Guid.NewGuid().ToString("N"));

    public EditedScenarioFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static string Scenario(string duration) =>
        Builtins.Text("postcopy").Replace("\nduration: 300ms\n", $"\nduration: {duration}\n", StringComparison.Ordinal);

    [Fact]
    public void Runs_use_the_text_the_sweep_read_though_the_file_changes_under_them()
    {
        File.WriteAllText(P("s.yaml"), Scenario("1ms"));
        Assert.Contains("\nduration: 1ms\n", File.ReadAllText(P("s.yaml")), StringComparison.Ordinal);
        File.WriteAllText(P("sweep.yaml"), """
            name: edited
            scenario: s.yaml
            protocols: [sync, ve]
            axes:
              - {name: latency, key: host.latency, unit: us, values: [1, 10]}
            """);
        var sweep = SweepFile.Load(P("sweep.yaml"));
        var simulate = SimulatorSweepRunner.Create();

        // Each run edits the file before it simulates, as an editor would while a long sweep runs.
        var edits = 0;
        System.Text.Json.Nodes.JsonObject Edited(SweepRun run, CancellationToken ct)
        {
            File.WriteAllText(P("s.yaml"), Scenario($"{2 + Interlocked.Increment(ref edits)}ms"));
            return simulate(run, ct);
        }

        var db = P("s.duckdb");
        using (var store = SweepStore.Open(db))
        {
            SweepExecutor.Run(sweep, store, Edited, new SweepOptions { Jobs = 1 });
        }

        Assert.Equal(4, edits);
        Assert.Equal(new object?[] { 4L, 1_000_000L, 1_000_000L }, StoreOperations.Query(db, "SELECT count(*), min(simulated_ns), max(simulated_ns) FROM results").Rows[0]);
    }
}
