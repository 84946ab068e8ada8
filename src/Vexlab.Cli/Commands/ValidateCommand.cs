using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Vexlab.Checking;
using Vexlab.Checking.Models;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Model.Protocols;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Commands;

/// <summary>
/// <c>vexlab validate</c>: checks an input file without running it. A simulator scenario is prepared under every
/// protocol; a sweep file is read with its base scenario and every point prepared under every protocol entry, as
/// <c>sweep run</c> does before it opens the store; a checker model file is built under every protocol, as
/// <c>check</c> does before it searches. Each fault is the one those commands would report, with exit 2.
/// </summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var options = new SimulationOptions();
        var json = JsonTarget.CreateOption();
        var command = new Command("validate", "Check a scenario, sweep or checker model file (for every protocol) without running it");
        options.AddTo(command);
        options.File.Description = "Scenario, sweep or checker model YAML file";
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            var file = parse.GetValue(options.File);
            DistinctFiles.Require([("FILE", file)], [target.Output]);
            var kind = file is not null && parse.GetValue(options.Builtin) is null ? OtherFileKind.Classify(file) : InputFileKind.Scenario;
            var result = ResultDocument.Create();
            result["file"] = file ?? "--builtin " + (parse.GetValue(options.Builtin) ?? Builtins.Default);
            result["kind"] = kind switch { InputFileKind.Sweep => "sweep", InputFileKind.Model => "model", _ => "scenario" };
            result["ok"] = true;
            var line = kind switch
            {
                InputFileKind.Sweep => Sweep(context, parse, options, file!, result),
                InputFileKind.Model => CheckerModel(parse, options, file!, result),
                _ => Scenario(parse, options, result),
            };
            context.HumanWriter(target).WriteLine(line);
            ResultDocument.Write(context, target, result);
            return ExitCodes.Done;
        });
        return command;
    }

    /// <summary>A simulator scenario, prepared under every protocol: its hash and replay line for each.</summary>
    private static string Scenario(ParseResult parse, SimulationOptions options, JsonObject result)
    {
        var (doc, arg) = options.Load(parse);
        var sets = options.Overrides(parse);
        var protocols = new JsonArray();
        foreach (var p in ProtocolCatalog.Names)
        {
            var prepared = ScenarioRunner.Prepare(doc, arg, new ProtocolEntry(p, p, []), sets, ProtocolCatalog.Names);
            protocols.Add(new JsonObject { ["protocol"] = p, ["scenario_hash"] = prepared.ScenarioHash, ["replay"] = prepared.Replay });
        }

        result["file"] = doc.File;
        result["protocols"] = protocols;
        return $"{doc.File}: ok";
    }

    /// <summary>
    /// A sweep file: its base scenario, then every point under every protocol entry, with the command line's --set and
    /// --duration after the sweep's own set: (as <c>sweep run --set</c>). A sweep's seeds are its own.
    /// </summary>
    private static string Sweep(CliContext context, ParseResult parse, SimulationOptions options, string file, JsonObject result)
    {
        if (parse.GetValue(options.Seed) is not null)
        {
            throw InputException.At(null, 0, 0, "--seed", "a sweep runs the seeds its seeds: key lists; --seed goes with a scenario file");
        }

        var definition = SweepCommand.LoadSweep(file, null).WithSets(options.Overrides(parse));
        SweepCommand.CheckInput(context, definition);
        result["sweep"] = definition.Name;
        result["sweep_hash"] = definition.ComputeHash();
        result["points"] = definition.PointCount;
        result["runs"] = definition.RunCount;
        result["protocols"] = new JsonArray([.. definition.Protocols.Select(p => (JsonNode)new JsonObject { ["protocol"] = p.Label })]);
        if (definition.PointCount > SweepOptions.DefaultMaxPoints)
        {
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vexlab: note: sweep run refuses more than {SweepOptions.DefaultMaxPoints:N0} points unless --force (or --max-points N); this sweep has {definition.PointCount:N0}"));
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"{ErrorText.Path(file)}: ok (sweep {ErrorText.Escape(definition.Name)}: {SweepCommand.Counted(definition.PointCount, "point")} x {SweepCommand.Counted(definition.Protocols.Count, "protocol entry", "protocol entries")} x {SweepCommand.Counted(definition.Seeds.Count, "seed")} = {SweepCommand.Counted(definition.RunCount, "run")})");
    }

    /// <summary>A checker model file, built under every protocol as <c>check FILE --protocol P</c> builds it.</summary>
    private static string CheckerModel(ParseResult parse, SimulationOptions options, string file, JsonObject result)
    {
        // A model file's knobs go with the protocol that reads them (check --protocol P --set); under every protocol
        // at once most of them would be refused by the protocols that do not read them. --seed and --duration are no
        // knobs: each is said as what it is to a checker model.
        var fileArgument = ScenarioRunner.FileArgument(file);
        if (parse.Given(options.Seed))
        {
            throw InputException.At(null, 0, 0, "--seed", $"a checker model file has no seed: the exhaustive search draws nothing at random, and a swarm's seed goes with its check: vexlab check {fileArgument} --protocol P --swarm --seed S");
        }

        if (parse.Given(options.Duration))
        {
            throw InputException.At(null, 0, 0, "--duration", "a checker model file has no duration: the checker explores every state it reaches, not a span of simulated time; --duration goes with a scenario file");
        }

        if (parse.Given(options.Set))
        {
            throw InputException.At(null, 0, 0, "--set", $"a checker model file is validated as written, under every protocol; knobs go with one protocol's check: vexlab check {fileArgument} --protocol P --set KEY=VALUE");
        }

        var model = ModelFile.Load(file);
        foreach (var p in ModelCheck.Protocols)
        {
            using var system = ModelCheck.BuildSystem(CheckRequest.ForFile(model, p, [], []));
        }

        result["model"] = model.Model.Name;
        result["protocols"] = new JsonArray([.. ModelCheck.Protocols.Select(p => (JsonNode)new JsonObject { ["protocol"] = p })]);
        return $"{ErrorText.Path(file)}: ok (checker model {ErrorText.Escape(model.Model.Name)}, under every protocol)";
    }
}
