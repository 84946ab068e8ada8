using System.Globalization;
using System.Text.Json.Nodes;
using Vexlab.Model.Protocols;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The sweep runner backed by the timed simulator: one run is exactly <c>vexlab run</c> of the
/// run's scenario with its overrides, protocol entry and seed, and returns the same JSON.
/// </summary>
public static class SimulatorSweepRunner
{
    public static RunPoint Create() => Run;

    private static JsonObject Run(SweepRun run, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (document, arg) = run.Scenario.Path is { } path
            ? (ScenarioDocument.Load(path), path)
            : (Builtins.Load(run.Scenario.Name!), "--builtin " + run.Scenario.Name);
        var sets = new List<Override>(run.AllOverrides)
        {
            Overrides.ParseSet("seed=" + run.Seed.ToString(CultureInfo.InvariantCulture), "sweep"),
        };
        var prepared = ScenarioRunner.Prepare(document, arg, run.Protocol, sets, ProtocolCatalog.Names);
        // A stopped run would be stored as if whole: runs are cancelled between runs only.
        var result = ScenarioRunner.Run(prepared, null, null, CancellationToken.None);
        var json = new JsonObject();
        ResultJson.Build(prepared, result, json);
        return json;
    }
}
