using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Checking.Models;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Cli.Commands;

/// <summary>
/// <c>vexlab replay FILE</c>: re-executes a checker counterexample (written by <c>check --trace</c>)
/// in the timed simulator and writes its Perfetto or ftrace timeline.
/// </summary>
public static class ReplayCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "A counterexample written by vexlab check --trace" };
        var output = new Option<string?>("--out") { Description = "Write the replay's timeline to this file", HelpName = "FILE" };
        var format = new Option<string>("--trace-format") { Description = "perfetto (Chrome JSON), ftrace (trace-cmd report -N text) or trace-dat (trace-cmd's trace.dat)", DefaultValueFactory = _ => "perfetto" };
        var json = JsonTarget.CreateOption();
        var command = new Command("replay", "Re-execute a checker counterexample in the simulator and write its timeline");
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(format);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var traceFormat = parse.GetValue(format)!;
            if (traceFormat is not ("perfetto" or "ftrace" or "trace-dat"))
            {
                throw new InputException($"--trace-format: expected perfetto, ftrace or trace-dat, got '{traceFormat}'");
            }

            var trace = Load(path);
            var config = BuiltinModels.Get(trace.Model).Build(trace.Protocol, trace.Overrides);
            var names = new List<string>();
            var groupOf = new List<int>();
            for (var i = 0; i < config.Tasks.Count; i++)
            {
                names.Add(config.Tasks[i].Name);
                groupOf.Add(i);
            }

            var setup = new SimulationSetup
            {
                Machine = config,
                Backings = [BackingStore.Create("swap-nvme")],
                DurationNs = long.MaxValue,
                TaskGroups = names,
                TaskGroupOf = groupOf,
            };
            var replay = RunReplay(setup, trace.Actions, parse.GetValue(output), traceFormat, config.Vcpus);
            var target = JsonTarget.From(parse, json);
            var w = context.HumanWriter(target);
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{trace.Model} under {trace.Protocol}: {replay.Applied} of {trace.Actions.Count} steps replayed, {replay.Result.SimulatedNs / 1000.0:F1} us simulated"));
            foreach (var (step, property) in replay.Violations)
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step}: {PropertyNames.Of((SafetyProperty)property)} violated"));
            }

            if (replay.Divergence is not null)
            {
                w.WriteLine("diverged at " + replay.Divergence);
            }

            var doc = ResultDocument.Create();
            doc["model"] = trace.Model;
            doc["protocol"] = trace.Protocol;
            doc["property"] = trace.Property;
            doc["steps"] = trace.Actions.Count;
            doc["applied"] = replay.Applied;
            doc["diverged"] = replay.Divergence;
            doc["simulated_ns"] = replay.Result.SimulatedNs;
            doc["violations"] = new JsonArray([.. replay.Violations.Select(v => (JsonNode)new JsonObject
            {
                ["step"] = v.Step,
                ["property"] = PropertyNames.Of((SafetyProperty)v.Property),
            })]);
            doc["guest_outcome"] = replay.Result.Outcome.ToString().ToLowerInvariant();
            ResultDocument.Write(context, target, doc);
            return replay.Divergence is null ? ExitCodes.Done : ExitCodes.Found;
        });
        return command;
    }

    private sealed record TraceFile(string Model, string Protocol, string? Property, List<KeyValuePair<string, string>> Overrides, List<MachineAction> Actions);

    private static ReplayResult RunReplay(SimulationSetup setup, List<MachineAction> actions, string? outPath, string format, int vcpus)
    {
        if (outPath is null)
        {
            return new Simulator(setup).Replay(actions);
        }

        Stream stream;
        try
        {
            stream = File.Create(outPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{outPath}: cannot write the trace: {e.Message}");
        }

        using (stream)
        {
            var workers = new Machine(setup.Machine).WorkCapacity;
            if (format == "ftrace")
            {
                using var writer = new StreamWriter(stream);
                var ftrace = new FtraceWriter(writer, vcpus, workers);
                return new Simulator(setup, ftrace).Replay(actions);
            }

            if (format == "trace-dat")
            {
                return new Simulator(setup, new TraceDatWriter(stream, new TraceThreads(vcpus, workers))).Replay(actions);
            }

            using var perfetto = new PerfettoTraceWriter(stream, vcpus, workers, "replay", leaveOpen: true);
            return new Simulator(setup, perfetto).Replay(actions);
        }
    }

    private static TraceFile Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read: {e.Message}");
        }
        catch (JsonException e)
        {
            throw new InputException($"{path}:{e.LineNumber + 1}: not JSON: {FirstLine(e.Message)}");
        }

        if (root is not JsonObject o)
        {
            throw new InputException($"{path}: expected a JSON object written by vexlab check --trace");
        }

        string Text(string key) => o[key]?.GetValue<string>() ?? throw new InputException($"{path}: {key}: missing");
        var overrides = new List<KeyValuePair<string, string>>();
        foreach (var node in o["overrides"]?.AsArray() ?? [])
        {
            var text = node?.GetValue<string>() ?? string.Empty;
            var eq = text.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new InputException($"{path}: overrides: expected KEY=VALUE, got '{text}'");
            }

            overrides.Add(new(text[..eq], text[(eq + 1)..]));
        }

        var actions = new List<MachineAction>();
        foreach (var node in o["actions"]?.AsArray() ?? throw new InputException($"{path}: actions: missing"))
        {
            actions.Add(MachineAction.Unpack(node!.GetValue<uint>()));
        }

        var model = Text("model");
        if (!BuiltinModels.All.Any(m => m.Name == model))
        {
            throw new InputException($"{path}: model: unknown built-in model '{model}'");
        }

        return new TraceFile(model, Text("protocol"), o["property"]?.GetValue<string>(), overrides, actions);
    }

    private static string FirstLine(string text)
    {
        var i = text.IndexOf('\n', StringComparison.Ordinal);
        return i < 0 ? text : text[..i];
    }
}
