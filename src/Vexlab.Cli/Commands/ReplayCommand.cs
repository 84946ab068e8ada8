using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Vexlab.Checking;
using Vexlab.Checking.Models;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tracing;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

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
        var format = new Option<string>("--trace-format") { Description = "perfetto (Chrome JSON), ftrace (trace-cmd report -N text) or trace-dat (trace-cmd's trace.dat)", HelpName = "perfetto|ftrace|trace-dat", DefaultValueFactory = _ => "perfetto" };
        var json = JsonTarget.CreateOption();
        var set = new Option<string[]>("--set")
        {
            Description = "Set a cost (cost.*), host.backing, host.latency, host.swap.queue_depth, host.swap.bandwidth, seed, or a knob of the trace's protocol: key=value (repeatable)",
            HelpName = "KEY=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("replay", "Re-execute a checker counterexample in the simulator, confirm it still breaks its property (exit 1 if not), and write its timeline");
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(format);
        command.Options.Add(json);
        command.Options.Add(set);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            // Before --json's own check, which would call the counterexample another output's file: it is the input.
            // The files first, as every command checks them (a bare --json is standard output, "-").
            DistinctFiles.Require([("counterexample FILE", path)], [("--out", parse.GetValue(output)), ("--json", parse.GetResult(json) is null ? null : parse.GetValue(json) ?? "-")]);
            var target = JsonTarget.From(parse, json);
            var traceFormat = parse.GetValue(format)!;
            if (traceFormat is not ("perfetto" or "ftrace" or "trace-dat"))
            {
                throw new InputException($"--trace-format: expected perfetto, ftrace or trace-dat, got '{traceFormat}'");
            }

            if (parse.GetValue(output) is null && parse.Given(format))
            {
                throw new InputException("--trace-format goes with --out FILE: it sets the timeline's format");
            }

            if (parse.GetValue(output) is { } outName)
            {
                TraceFileName.Check(outName, traceFormat, "--out");
                OutputKind.Refuse(parse, "--out", outName, OutputKind.Trace(traceFormat));
            }

            var trace = CounterexampleFile.Load(path);
            var (model, invariants) = ResolveModel(trace, path);
            RequireKnownProperty(trace, invariants, path);
            MachineConfig config;
            try
            {
                config = model.Build(trace.Protocol, trace.Overrides);
            }
            catch (InputException e)
            {
                // The protocol and knobs come from the trace, not the command line: name their place in it.
                const string commandLine = "command line: ";
                var problem = e.Message.StartsWith(commandLine, StringComparison.Ordinal) ? e.Message[commandLine.Length..] : e.Message;
                var field = problem.Contains("unknown protocol", StringComparison.Ordinal) ? "protocol" : "overrides";
                throw new InputException(trace.PlaceOf(field, ErrorText.Path(path)) + ": " + problem);
            }

            RecordedModel.Require(trace, config, path);

            // Knobs given here go on top of the trace's own (a later value wins): the replay then says where the
            // changed model stops following the steps, or confirms that the steps still break the property under it.
            var settings = ReplaySettings.Parse(parse.GetValue(set) ?? [], trace.Protocol);
            if (settings.Knobs.Count > 0)
            {
                config = model.Build(trace.Protocol, [.. trace.Overrides, .. settings.Knobs], Scenarios.Documents.Overrides.SetOption);
            }

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
                Backings = [settings.Backing],
                Costs = settings.Costs,
                Seed = settings.Seed,
                SwapQueueDepth = settings.SwapQueueDepth,
                SwapBandwidthBytesPerSecond = settings.SwapBandwidthBytesPerSecond,
                DurationNs = long.MaxValue,
                TaskGroups = names,
                TaskGroupOf = groupOf,
            };
            var claim = trace.HasKind && trace.Property is { } broken ? new ReplayClaim(broken, trace.LoopStart) : null;
            var stepNames = parse.GetValue(output) is null ? null : StepNames(config, trace);
            // The command that gives this JSON again: the file and every setting, not --out, which changes no number.
            var line = new StringBuilder("vexlab replay ").Append(ScenarioRunner.FileArgument(path));
            foreach (var (key, value) in settings.Given)
            {
                line.Append(" --set ").Append(ScenarioRunner.FileArgument(key + "=" + value));
            }

            ReplayLine.Write(context.Error, null, ReplayLine.Seed(settings.Seed), line.ToString());
            var replay = RunReplay(setup, [.. trace.Actions], claim, stepNames, parse.GetValue(output), traceFormat, config.Vcpus);
            var w = context.HumanWriter(target);
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ErrorText.Escape(trace.Model)} under {ErrorText.Escape(trace.Protocol)}: {replay.Applied} of {trace.Actions.Count} steps replayed, {replay.Result.SimulatedNs / 1000.0:F1} us simulated"));
            foreach (var (step, property) in replay.Violations)
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step}: {PropertyNames.Of((SafetyProperty)property)} violated"));
            }

            // Said by what is known: a knob given here changed the model; else nothing tells an edited trace from a
            // changed model ("the model differs from the one that wrote the trace" blamed the model for both).
            var divergence = replay.Divergence is null ? null : replay.Divergence + (settings.Knobs.Count > 0
                ? " (the --set changed the model the trace was written for)"
                : " (the trace's step is not possible in this model)");
            if (divergence is not null)
            {
                w.WriteLine("diverged at " + divergence);
            }

            // What the trace claims, checked on the checker's own transition system: a trace cut short or edited
            // replays without diverging and shows nothing, and that is said rather than left to the reader.
            Confirmation? confirmation = null;
            if (replay.Divergence is null && trace.HasKind && trace.Property is { } claimed)
            {
                using var system = new MachineSystem(config, properties: null, invariants);
                confirmation = CounterexampleCheck.Confirm(system, [.. trace.Actions.Select(a => (ulong)a.Pack())], claimed, trace.LoopStart);
                w.WriteLine((confirmation.Holds ? "confirmed: " : "not confirmed: ") + confirmation.Reason);
            }

            WriteVcpuTime(context.Human(target), context.TableWidth(context.Human(target), wide: false), replay.Result, config.Vcpus);
            var doc = ResultDocument.Create();
            doc["model"] = trace.Model;
            doc["protocol"] = trace.Protocol;
            doc["property"] = trace.Property;
            doc["seed"] = settings.Seed;
            doc["settings"] = new JsonObject([.. settings.Given.Select(g => new KeyValuePair<string, JsonNode?>(g.Key, g.Value))]);
            doc["replay"] = line.ToString();
            doc["steps"] = trace.Actions.Count;
            doc["applied"] = replay.Applied;
            doc["diverged"] = divergence;
            doc["simulated_ns"] = replay.Result.SimulatedNs;
            doc["vcpu_ns"] = ResultJson.VcpuNs(replay.Result);
            doc["violations"] = new JsonArray([.. replay.Violations.Select(v => (JsonNode)new JsonObject
            {
                ["step"] = v.Step,
                ["property"] = PropertyNames.Of((SafetyProperty)v.Property),
            })]);
            doc["guest_outcome"] = replay.Result.Outcome.ToString().ToLowerInvariant();
            doc["confirmed"] = confirmation?.Holds;
            doc["confirmation"] = confirmation?.Reason;
            ResultDocument.Write(context, target, doc);
            return replay.Divergence is null && confirmation?.Holds != false ? ExitCodes.Done : ExitCodes.Found;
        });
        return command;
    }

    /// <summary>
    /// The vCPUs' time split for people, as <c>run</c> prints it: the JSON's <c>vcpu_ns</c>, field by field, in ns (the
    /// same numbers) and as a share of the vCPUs' time.
    /// </summary>
    private static void WriteVcpuTime(Spectre.Console.IAnsiConsole console, int width, SimulationResult r, int vcpus)
    {
        var total = VcpuTimeFields.Total(r);
        var title = string.Create(CultureInfo.InvariantCulture, $"vCPU time (vcpu_ns), summed over {vcpus} vCPU{(vcpus == 1 ? "" : "s")}");
        var table = new FittedTable(TableShape.Records, title)
            .Column("metric").Column("vcpu_ns").Column("ns", Spectre.Console.Justify.Right).Column("share", Spectre.Console.Justify.Right);
        foreach (var f in VcpuTimeFields.All)
        {
            var ns = f.Ns(r);
            table.Row(f.Label, f.Key, ns.ToString("N0", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{100.0 * ns / Math.Max(1, total):F1}%"));
        }

        table.Write(console, width);
    }

    /// <summary>
    /// The model the trace was found on: a built-in one by name, or a model file, read from the
    /// YAML the trace embeds (so the replay needs no file and cannot pick up a later edit), or from
    /// the recorded path for traces written before the text was embedded.
    /// </summary>
    private static (BuiltinModel Model, IReadOnlyList<UserInvariant>? Invariants) ResolveModel(CounterexampleFile trace, string path)
    {
        if (trace.ModelSource is { } source)
        {
            // The path as messages print it, as ModelFile.Load labels a file: the label also names a model that gives no
            // name, and a trace from before a file name with control characters was refused recorded that name escaped.
            var embedded = ModelFile.Parse(source, ErrorText.Path(trace.ModelFilePath ?? path) + " (as embedded in the trace)");
            return (embedded.Model, embedded.Invariants);
        }

        if (trace.ModelFilePath is { } modelFile)
        {
            if (!File.Exists(modelFile))
            {
                throw new InputException(trace.PlaceOf("model_file", ErrorText.Path(path)) + ": model_file: no such model file " + ErrorText.Quote(modelFile));
            }

            var file = ModelFile.Load(modelFile);
            return (file.Model, file.Invariants);
        }

        if (!BuiltinModels.All.Any(m => m.Name == trace.Model))
        {
            throw new InputException(trace.PlaceOf("model", ErrorText.Path(path)) + ": model: unknown built-in model " + ErrorText.Quote(trace.Model));
        }

        return (BuiltinModels.Get(trace.Model), null);
    }

    /// <summary>
    /// Refuses a trace whose <c>property</c> the checker does not know, or that gives a kind but no property: the
    /// confirmation judges that property, and would otherwise say "not confirmed" (exit 1), as for a trace cut short,
    /// or confirm nothing and pass (exit 0), when it is the file that is wrong.
    /// </summary>
    private static void RequireKnownProperty(CounterexampleFile trace, IReadOnlyList<UserInvariant>? invariants, string path)
    {
        var names = MachineSystem.AllPropertyNames.Concat((invariants ?? []).Select(i => i.Name)).ToList();
        if (trace.Property is { } named && !names.Contains(named, StringComparer.Ordinal))
        {
            throw new InputException(trace.PlaceOf("property", ErrorText.Path(path)) + ": property: " + NearestName.Unknown("property", named, names));
        }

        if (trace.HasKind && trace.Property is null)
        {
            throw new InputException(trace.PlaceOf("property", ErrorText.Path(path)) + ": property: a trace that gives its kind names the property it breaks; got none");
        }
    }

    /// <summary>
    /// Each step as <c>check</c> writes it (<see cref="TraceDescriber"/>), for the timeline to name; null for a trace that
    /// names a vCPU the model lacks or takes an action that is not enabled: the replay says where it diverges instead.
    /// </summary>
    private static List<string>? StepNames(MachineConfig config, CounterexampleFile trace)
    {
        if (trace.Actions.Any(a => a.Vcpu >= config.Vcpus || (a.Kind == ActionKind.Dequeue && a.Arg >= config.Vcpus)))
        {
            return null;
        }

        try
        {
            var steps = TraceDescriber.Describe(new Machine(config), [.. trace.Actions.Select(a => (ulong)a.Pack())]);
            return [.. steps.Select(s => s.Events.Count > 0 ? s.Text + ": " + string.Join("; ", s.Events) : s.Text)];
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static ReplayResult RunReplay(SimulationSetup setup, List<MachineAction> actions, ReplayClaim? claim, IReadOnlyList<string>? stepNames, string? outPath, string format, int vcpus)
    {
        if (outPath is null)
        {
            return new Simulator(setup).Replay(actions, claim, stepNames);
        }

        using var output = OutputFile.Create(outPath, "replay trace");
        var machine = new Machine(setup.Machine);
        var workers = machine.WorkCapacity;
        ReplayResult result;
        if (format == "ftrace")
        {
            using (var writer = new StreamWriter(output.Stream, leaveOpen: true))
            {
                var ftrace = new FtraceWriter(writer, vcpus, workers);
                result = new Simulator(setup, ftrace).Replay(actions, claim, stepNames);
            }
        }
        else if (format == "trace-dat")
        {
            result = new Simulator(setup, new TraceDatWriter(output.Stream, new TraceThreads(vcpus, workers))).Replay(actions, claim, stepNames);
        }
        else
        {
            using var perfetto = new PerfettoTraceWriter(output.Stream, vcpus, workers, "replay", leaveOpen: true,
                taskNames: [.. Enumerable.Range(0, machine.TaskCount).Select(machine.TaskName)]);
            result = new Simulator(setup, perfetto).Replay(actions, claim, stepNames);
        }

        output.Commit();
        return result;
    }
}
