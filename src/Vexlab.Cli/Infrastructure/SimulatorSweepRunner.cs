using System.Globalization;
using System.Text.Json.Nodes;
using Vexlab.Model.Protocols;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios;
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

    /// <summary>
    /// The check behind <see cref="SweepExecutor.Validate"/>: resolves and builds the run exactly as
    /// <see cref="Create"/>'s runner does, without simulating. The base scenario is read once, and each of
    /// the runs' notes (a scenario file's knob none of the sweep's protocols reads) goes to <paramref name="note"/> once.
    /// </summary>
    public static CheckPoint CreateCheck(Action<string> note)
    {
        ArgumentNullException.ThrowIfNull(note);
        var documents = new Dictionary<ScenarioRef, (ScenarioDocument Document, string Arg)>();
        var said = new HashSet<string>(StringComparer.Ordinal);
        return run =>
        {
            if (!documents.TryGetValue(run.Scenario, out var loaded))
            {
                loaded = Load(run.Scenario);
                documents[run.Scenario] = loaded;
            }

            foreach (var text in Prepare(run, loaded.Document, loaded.Arg).Notes)
            {
                if (said.Add(text))
                {
                    note(text);
                }
            }
        };
    }

    private static JsonObject Run(SweepRun run, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (document, arg) = Load(run.Scenario);
        var prepared = Prepare(run, document, arg);
        // The signal stops the run in progress too, within 4,096 events: a shard that finished its runs first outlived
        // a scheduler's grace period before SIGKILL. A stopped run covers part of its duration only, so it is thrown
        // away rather than returned, where it would be stored as a whole one; the resume runs it again.
        var result = ScenarioRunner.Run(prepared, null, null, cancellationToken);
        if (result.StoppedEarly)
        {
            throw new OperationCanceledException("the run was stopped before its duration", cancellationToken);
        }

        var json = new JsonObject();
        ResultJson.Build(prepared, result, json);
        return json;
    }

    /// <summary>
    /// Reads the sweep's base scenario and the argument its runs' replay lines name it by. A file of another kind is
    /// named as what it is, as <c>run</c> and <c>validate</c> name it: a sweep file as the scenario of another sweep
    /// said "scenario: unknown key".
    /// </summary>
    internal static (ScenarioDocument Document, string Arg) Load(ScenarioRef scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Path is { } path)
        {
            // The text the run key hashes, as ScenarioDocument.Load parses a file; the file may have changed since.
            var document = scenario.Text is { } text
                ? ScenarioDocument.Parse(text, ErrorText.Path(path), allowEmpty: false)
                : ScenarioDocument.Load(path);
            OtherFileKind.RefuseOtherAsScenario(document, path);
            return (document, ScenarioRunner.FileArgument(path));
        }

        if (!Builtins.Names.Contains(scenario.Name, StringComparer.Ordinal))
        {
            // The sweep file names the scenario: say where (x.yaml:2:11), as for any value in it.
            throw new Model.Configuration.InputException(
                $"{scenario.Origin ?? "sweep"}: scenario: {Model.Configuration.NearestName.Unknown("built-in scenario", scenario.Name ?? string.Empty, Builtins.Names)}");
        }

        return (Builtins.Load(scenario.Name!), "--builtin " + scenario.Name);
    }

    private static PreparedRun Prepare(SweepRun run, ScenarioDocument document, string arg)
    {
        var protocols = run.SweepProtocols.Count > 0 ? run.SweepProtocols : ProtocolCatalog.Names;
        var sets = new List<Override>(run.AllOverrides)
        {
            Overrides.ParseSet("seed=" + run.Seed.ToString(CultureInfo.InvariantCulture), "sweep"),
        };
        // Prepare refuses a knob none of the sweep's protocols uses, as compare's does for its entries.
        return ScenarioRunner.Prepare(document, arg, run.Protocol, sets, protocols);
    }
}
