using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Model.Protocols;
using Vexlab.Results.Reports;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Files;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab run</c>, <c>compare</c>, <c>scenarios</c> and <c>bench</c>: the timed simulator (and <c>validate</c>, listed among them).</summary>
public static class SimulateCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IEnumerable<Command> Create(CliContext context) =>
        [Run(context), Compare(context), ValidateCommand.Create(context), ScenariosCommand(context), Bench(context)];

    private static Command Run(CliContext context)
    {
        var options = new SimulationOptions();
        var protocol = new Option<string>("--protocol") { Description = ProtocolEntryHelp.Describe("the keys in brackets apply to this run after --set"), Required = true, HelpName = "P" };
        var json = JsonTarget.CreateOption();
        var exits = new Option<bool>("--exits") { Description = "Print perf kvm stat report's table of VM exits (time from each exit to the next entry of its vCPU); in JSON as exit_stats" };
        var vcpuOption = new Option<int?>("--vcpu") { Description = "With --exits: only this vCPU's exits (perf kvm stat report --vcpu)", HelpName = "N" };
        var trace = new Option<string?>("--trace") { Description = "Write a trace to FILE", HelpName = "FILE" };
        var format = new Option<string>("--trace-format") { Description = "perfetto (Chrome JSON), ftrace (trace-cmd report -N text) or trace-dat (trace-cmd's trace.dat)", HelpName = "perfetto|ftrace|trace-dat", DefaultValueFactory = _ => "perfetto" };
        format.AcceptOnlyFromAmong("perfetto", "ftrace", "trace-dat");
        var timeline = new Option<string?>("--timeline") { Description = "Write per-interval counters (work per task, faults started and completed, vCPU state, device queue depth) to FILE: .csv or .parquet", HelpName = "FILE" };
        var interval = new Option<string>("--timeline-interval") { Description = "Interval of --timeline rows, a duration such as 1ms or 250us; at most 100,000 rows (the duration over the interval)", DefaultValueFactory = _ => "1ms", HelpName = "DURATION" };
        var wide = TerminalWidth.CreateOption();
        var scenarioHash = new Option<string?>("--scenario-hash") { Description = "Run only a scenario that resolves to this hash (its first 8 to 32 hex digits); a scenario file's replay line carries it, so a file edited since the line was written is refused, not run", HelpName = "HASH" };
        var command = new Command("run", "Run one scenario under one protocol in the timed simulator");
        options.AddTo(command);
        command.Options.Add(protocol);
        command.Options.Add(json);
        command.Options.Add(wide);
        command.Options.Add(exits);
        command.Options.Add(vcpuOption);
        command.Options.Add(trace);
        command.Options.Add(format);
        command.Options.Add(timeline);
        command.Options.Add(interval);
        command.Options.Add(scenarioHash);
        var timeLimit = WallClockLimit.CreateOption();
        command.Options.Add(timeLimit);
        command.SetAction(parse =>
        {
            using var limit = WallClockLimit.Start(parse, timeLimit);
            using var interrupt = new Interruption(limit.Token);
            var timelinePath = parse.GetValue(timeline);
            var intervalNs = TimelineInterval(parse.GetValue(interval)!);

            // Each sets the file of another option: alone it would be silently ignored.
            if (timelinePath is null && parse.Given(interval))
            {
                throw new InputException("--timeline-interval goes with --timeline FILE: it sets the interval of its rows");
            }

            if (parse.GetValue(trace) is null && parse.Given(format))
            {
                throw new InputException("--trace-format goes with --trace FILE: it sets the trace's format");
            }

            if (parse.GetValue(trace) is { } traceName)
            {
                TraceFileName.Check(traceName, parse.GetValue(format)!, "--trace");
                OutputKind.Refuse(parse, "--trace", traceName, OutputKind.Trace(parse.GetValue(format)!));
            }

            if (timelinePath is not null)
            {
                var timelineFormat = Vexlab.Results.Store.TimelineFile.FormatOf(timelinePath);
                OutputKind.Refuse(parse, "--timeline", timelinePath, OutputKind.Timeline(timelineFormat));
                OutputFile.Check(timelinePath, "timeline");
            }

            var (doc, arg) = options.Load(parse);
            var entry = Overrides.ParseProtocol(parse.GetValue(protocol)!, "--protocol", "use compare for several");

            // The entry's knobs are applied after --seed and --duration: ve[seed=5] with --seed 1 ran seed 5, and
            // ve[duration=1ms] with --duration 5ms ran 1 ms, where the options were given to say otherwise.
            RefuseSeedAndDuration([entry], "seed: the run's seed is --seed N", "duration: the run's duration is --duration T");
            var prepared = ScenarioRunner.Prepare(doc, arg, entry, options.Overrides(parse), [entry.Protocol]);
            if (parse.GetValue(scenarioHash) is { } expectedHash)
            {
                RequireScenarioHash(expectedHash, prepared.ScenarioHash, doc.File);
            }

            WriteNotes(context, [prepared]);
            if (timelinePath is not null)
            {
                TimelineRowLimit.Require(prepared.Setup.DurationNs, intervalNs, parse.Given(interval) ? parse.GetValue(interval) : null);
            }

            var vcpu = parse.GetValue(vcpuOption);
            if (vcpu is not null && !parse.GetValue(exits))
            {
                // Without the table it selects for, the option would be silently ignored.
                throw new InputException("--vcpu goes with --exits: it selects the vCPU of the exits table");
            }

            if (vcpu is int only && (only < 0 || only >= prepared.Setup.Machine.Vcpus))
            {
                throw new InputException($"--vcpu: expected 0..{prepared.Setup.Machine.Vcpus - 1}, got {only}");
            }

            var target = JsonTarget.From(parse, json);
            DistinctFiles.Require([("scenario FILE", parse.GetValue(options.File))], [target.Output, ("--trace", parse.GetValue(trace)), ("--timeline", timelinePath)]);
            ReplayLine.Write(context.Error, null, ReplayLine.Seed(prepared.Setup.Seed), prepared.Replay);
            var tracePath = parse.GetValue(trace);
            ITraceSink? sink = null;
            OutputFile? output = null;
            Stream? stream = null;
            StreamWriter? writer = null;
            if (tracePath is not null)
            {
                output = OutputFile.Create(tracePath, "trace");
                stream = output.Stream;

                var machine = new Vexlab.Model.Machine.Machine(prepared.Setup.Machine);
                var workers = machine.WorkCapacity;
                var traceFormat = parse.GetValue(format);
                if (traceFormat == "ftrace")
                {
                    writer = new StreamWriter(stream, leaveOpen: true);
                    sink = new FtraceWriter(writer, new TraceThreads(prepared.Setup.Machine.Vcpus, workers, pcpus: prepared.Setup.Pcpus));
                }
                else if (traceFormat == "trace-dat")
                {
                    sink = new TraceDatWriter(stream, new TraceThreads(prepared.Setup.Machine.Vcpus, workers, pcpus: prepared.Setup.Pcpus));
                }
                else
                {
                    sink = new PerfettoTraceWriter(stream, prepared.Setup.Machine.Vcpus, workers, "guest vm0 (" + prepared.Variant + ")", leaveOpen: true,
                        taskNames: [.. Enumerable.Range(0, machine.TaskCount).Select(machine.TaskName)]);
                }
            }

            var traceSink = sink;
            var recorder = timelinePath is null ? null : TimelineRecorder.For(prepared.Setup, intervalNs);
            if (recorder is not null)
            {
                sink = sink is null ? recorder : new TraceFanout(sink, recorder);
            }

            SimulationResult result;
            try
            {
                result = RunWithProgress(context, prepared, sink, interrupt.Token);
                (traceSink as IDisposable)?.Dispose();
                writer?.Dispose();
                output?.Commit();
            }
            finally
            {
                output?.Dispose();
            }

            if (recorder is not null)
            {
                Vexlab.Results.Store.TimelineFile.Write(timelinePath!, recorder.Columns, recorder.Rows, complete: !result.StoppedEarly, simulatedNs: result.SimulatedNs);
            }

            var human = context.Human(target);
            var width = context.TableWidth(human, parse.GetValue(wide));
            WriteTable(human, width, [prepared], [result], null, result.StoppedEarly ? StoppedHeading.Say(interrupt, prepared.Variant, result.SimulatedNs, prepared.Setup.DurationNs, []) : null);
            var exitRows = result.Tracepoints!.ExitRows(vcpu);
            if (parse.GetValue(exits))
            {
                WriteExits(context.HumanWriter(target), human, width, exitRows, vcpu);
            }

            var document = ResultDocument.Create();
            ResultJson.Build(prepared, result, document);

            // Always there, true or false, as check's "complete" is: run and compare wrote "incomplete": true only
            // when stopped early, so a reader had two names and an absent key for one fact.
            document["complete"] = !result.StoppedEarly;
            document["stop_reason"] = StopReasons.Of(result.StoppedEarly, interrupt);
            if (result.StoppedEarly)
            {
                context.Error.WriteLine(StoppedLine(interrupt, prepared.Variant, result.SimulatedNs));
            }

            if (parse.GetValue(exits))
            {
                document["exit_stats"] = ExitStatsJson(exitRows, vcpu);
            }

            ResultDocument.Write(context, target, document);
            return !result.StoppedEarly ? ExitCodes.Done : interrupt.Signalled ? interrupt.ExitCode : ExitCodes.Limit;
        });
        return command;
    }

    private static long TimelineInterval(string text)
    {
        var parsed = Vexlab.Scenarios.Values.ScalarParsers.ParseDuration(text);
        if (!parsed.IsOk)
        {
            throw new InputException("--timeline-interval: " + parsed.Error);
        }

        if (parsed.Value < 1)
        {
            throw new InputException("--timeline-interval: expected a positive duration, got " + text);
        }

        return parsed.Value;
    }

    /// <summary>perf kvm stat report's table as JSON: scope, then one row per exit reason (times in ns).</summary>
    private static JsonObject ExitStatsJson(IReadOnlyList<ExitTimeRow> rows, int? vcpu)
    {
        var list = new JsonArray();
        long samples = 0;
        long total = 0;
        foreach (var r in ExitsReportWriter.Rows(rows))
        {
            samples += r.Samples;
            total += r.TotalNs;
            list.Add(new JsonObject
            {
                ["reason"] = r.Reason,
                ["samples"] = r.Samples,
                ["samples_pct"] = r.SamplesPercent,
                ["time_pct"] = r.TimePercent,
                ["min_ns"] = r.MinNs,
                ["max_ns"] = r.MaxNs,
                ["avg_ns"] = r.MeanNs,
                ["avg_rel_stddev_pct"] = r.RelStdDevPercent,
                ["total_ns"] = r.TotalNs,
            });
        }

        return new JsonObject
        {
            ["vcpu"] = vcpu is int v ? JsonValue.Create(v) : null,
            ["measure"] = "exit to next VM entry of the same vCPU",
            ["total_samples"] = samples,
            ["total_ns"] = total,
            ["events"] = list,
        };
    }

    /// <summary>
    /// Refuses a run whose scenario does not resolve to the hash a replay line was written with: the file changed since
    /// (or the command line did), and the line would print another scenario's numbers as the row's or column's.
    /// </summary>
    private static void RequireScenarioHash(string expected, string actual, string file)
    {
        if (expected.Length is < 8 or > 32 || !expected.All(char.IsAsciiHexDigitLower))
        {
            throw InputException.At(null, 0, 0, "--scenario-hash", $"expected 8 to 32 lowercase hex digits, got '{expected}'");
        }

        if (!actual.StartsWith(expected, StringComparison.Ordinal))
        {
            throw InputException.At(
                file, 0, 0, "--scenario-hash",
                $"the scenario resolves to {actual[..Math.Max(ScenarioRunner.ReplayHashDigits, expected.Length)]}, not {expected}: the file or the command line changed since this line was written; drop --scenario-hash to run the scenario as it is now");
        }
    }

    private static Command Compare(CliContext context)
    {
        var options = new SimulationOptions();
        var protocols = new Option<string?>("--protocols") { Description = "Comma-separated protocol entries, such as kvm-pf-int,ve,ve[guest.ve.can_continue=user-or-preemptible-kernel] (default: all)", HelpName = "LIST" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per entry (results then hold means and 95% intervals)", DefaultValueFactory = _ => 1, HelpName = "N" };
        var json = JsonTarget.CreateOption();
        var plot = new Option<string?>("--plot") { Description = "Also draw the vCPU time split per protocol entry (.png or .svg)", HelpName = "FILE" };
        var wide = TerminalWidth.CreateOption();
        var command = new Command("compare", "Run one scenario under several protocols and print one table");
        options.AddTo(command);
        command.Options.Add(protocols);
        command.Options.Add(seeds);
        command.Options.Add(json);
        command.Options.Add(wide);
        command.Options.Add(plot);
        var timeLimit = WallClockLimit.CreateOption();
        command.Options.Add(timeLimit);
        command.SetAction(parse =>
        {
            using var limit = WallClockLimit.Start(parse, timeLimit);
            using var interrupt = new Interruption(limit.Token);
            var stopped = false;
            var (doc, arg) = options.Load(parse);
            var text = parse.GetValue(protocols);
            var entries = text is null
                ? ProtocolCatalog.Names.Select(n => new ProtocolEntry(n, n, [])).ToList()
                : [.. Overrides.ParseProtocols(text)];
            var n = parse.GetValue(seeds);
            if (n is < 1 or > 1000)
            {
                throw new InputException(string.Create(CultureInfo.InvariantCulture, $"--seeds: expected 1..1000, got {n}"));
            }

            // An entry's knobs are applied after --seed and each of --seeds' seeds: a seed there ran that entry
            // --seeds times on one seed (an interval of 0) under a table headed with another seed. A duration there
            // ran that column for another time than the table's heading says, and its totals beside the others'.
            RefuseSeedAndDuration(
                entries,
                "seed: the entries share --seed and --seeds; run one entry on its own seed with vexlab run --seed N",
                "duration: the entries run for one duration, the table's; set it for all with --duration T");

            var names = entries.Select(e => e.Protocol).ToArray();
            var target = JsonTarget.From(parse, json);
            if (parse.GetValue(plot) is { } plotOut)
            {
                Vexlab.Results.Plotting.ResultPlots.CheckOutput(plotOut, "--plot");
                OutputKind.Refuse(parse, "--plot", plotOut, OutputKind.Plot(plotOut));
            }

            DistinctFiles.Require([("scenario FILE", parse.GetValue(options.File))], [target.Output, ("--plot", parse.GetValue(plot))]);

            var first = new List<PreparedRun>();
            var firstResults = new List<SimulationResult>();
            var all = new List<List<(PreparedRun Run, SimulationResult Result)>>();

            // Every entry is checked before any runs: a bad last entry used to be found after the others had run.
            var prepared = entries.Select(entry => PrepareEntry(doc, arg, entry, options.Overrides(parse), names)).ToList();
            RefuseSeedsPastLargest(prepared[0].Setup.Seed, n);
            WriteNotes(context, prepared);
            for (var e = 0; e < entries.Count; e++)
            {
                var entry = entries[e];
                var runs = new List<(PreparedRun, SimulationResult)>();
                var basePrep = prepared[e];
                var seed0 = (long)basePrep.Setup.Seed;
                for (var i = 0; i < n; i++)
                {
                    var prep = i == 0 ? basePrep : ScenarioRunner.Prepare(doc, arg, entry, options.Overrides(parse, seed0 + i), names);
                    var result = RunWithProgress(context, prep, null, interrupt.Token);
                    if (result.StoppedEarly)
                    {
                        stopped = true;
                        context.Error.WriteLine(StoppedLine(interrupt, prep.Variant, result.SimulatedNs));
                    }

                    runs.Add((prep, result));
                    if (stopped)
                    {
                        // A signal or the wall-clock limit: the partial result is what ran, no entry is started after it.
                        break;
                    }
                }

                all.Add(runs);
                first.Add(runs[0].Item1);
                firstResults.Add(runs[0].Item2);
                if (stopped)
                {
                    break;
                }
            }

            // One replay line per entry: each entry is its own run (protocol, knobs, seed).
            foreach (var runs in all)
            {
                var seedsText = n > 1 ? string.Create(Inv, $"seeds {runs[0].Run.Setup.Seed}..{runs[^1].Run.Setup.Seed} (this replays seed {runs[0].Run.Setup.Seed})") : ReplayLine.Seed(runs[0].Run.Setup.Seed);
                ReplayLine.Write(context.Error, runs[0].Run.Variant, seedsText, runs[0].Run.Replay);
            }

            var human = context.Human(target);

            // The entries after the one that stopped, never started: the heading names them, and so does the JSON, as
            // report reads a stopped compare's file without its standard output.
            List<string> notRun = [.. prepared.Skip(all.Count).Select(p => p.Variant)];
            var stop = stopped
                ? StoppedHeading.Say(interrupt, all[^1][^1].Run.Variant, all[^1][^1].Result.SimulatedNs, all[^1][^1].Run.Setup.DurationNs, notRun)
                : null;
            WriteTable(human, context.TableWidth(human, parse.GetValue(wide)), first, firstResults, n > 1 ? all : null, stop);
            var results = new JsonArray();
            foreach (var runs in all)
            {
                results.Add(n == 1 ? ResultJson.Build(runs[0].Run, runs[0].Result) : SeedSummary(runs));
            }

            var document = ResultDocument.Create();
            document["results"] = results;
            document["complete"] = !stopped;
            document["stop_reason"] = StopReasons.Of(stopped, interrupt);
            document["not_run"] = new JsonArray([.. notRun.Select(v => (JsonNode?)JsonValue.Create(v))]);

            ResultDocument.Write(context, target, document);
            if (parse.GetValue(plot) is { } plotPath)
            {
                var plotted = Vexlab.Results.Documents.RunSummaries.FromDocument(document, "compare").Entries;
                var seedText = SeedRange.Say(all.SelectMany(r => r.Select(x => (long)x.Run.Setup.Seed))) + (n > 1 ? ", means" : string.Empty);
                // The image travels without the command's stderr: a stopped compare's title says so, as plot's of the
                // same JSON does, or its bars passed for a whole compare of fewer entries.
                Vexlab.Results.Plotting.ResultPlots.RenderSplit(
                    plotted,
                    string.Create(Inv, $"{first[0].Scenario}: vCPU time split and work done by protocol ({seedText}){(stopped ? " (stopped early)" : string.Empty)}"),
                    plotPath);

                // As plot and report say what they wrote: on the human output, standard error when JSON takes stdout.
                context.HumanWriter(target).WriteLine($"wrote {plotPath}");
            }

            return !stopped ? ExitCodes.Done : interrupt.Signalled ? interrupt.ExitCode : ExitCodes.Limit;
        });
        return command;
    }

    private static Command ScenariosCommand(CliContext context)
    {
        var listJson = JsonTarget.CreateOption();
        var list = new Command("list", "List the built-in scenarios");
        list.Options.Add(listJson);
        list.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, listJson);
            var human = context.HumanWriter(target);
            var columns = context.TableWidth(context.Human(target), wide: false);
            var array = new JsonArray();
            foreach (var name in Builtins.Names)
            {
                // The name padded to 16 and one space, as the list has always been laid out.
                TerminalWidth.WriteListEntry(human, columns, name, 15, Builtins.Describe(name));
                array.Add(new JsonObject { ["name"] = name, ["description"] = Builtins.Describe(name), ["default"] = name == Builtins.Default });
            }

            var doc = ResultDocument.Create();
            doc["scenarios"] = array;
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        var name = new Argument<string>("NAME") { Description = "Built-in scenario" };
        var showJson = JsonTarget.CreateOption();
        var show = new Command("show", "Print a built-in scenario's YAML");
        show.Arguments.Add(name);
        show.Options.Add(showJson);
        show.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, showJson);
            var scenario = parse.GetValue(name)!;
            var text = Builtins.Text(scenario);
            context.HumanWriter(target).Write(text);
            var doc = ResultDocument.Create();
            doc["name"] = scenario;
            doc["description"] = Builtins.Describe(scenario);
            doc["yaml"] = text;
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        var command = new Command("scenarios", "The built-in scenarios");
        command.Subcommands.Add(list);
        command.Subcommands.Add(show);
        return command;
    }

    private static Command Bench(CliContext context)
    {
        var json = JsonTarget.CreateOption();
        var protocol = new Option<string>("--protocol") { Description = ProtocolEntryHelp.Describe("the keys in brackets apply to the measured run (not duration: --duration sets it)"), DefaultValueFactory = _ => "kvm-pf-int", HelpName = "P" };
        var duration = new Option<string>("--duration") { Description = "Simulated time of the measured run", DefaultValueFactory = _ => "5s", HelpName = "T" };
        var command = new Command("bench", "Measure simulator throughput on the default scenario (one thread, after a warm-up)");
        var checker = new Option<bool>("--checker") { Description = "Measure the checker on the built-in bench model instead" };
        var workers = new Option<string>("--workers") { Description = "Checker workers measured beside one worker (with --checker): a count, or a comma-separated list for a speedup curve (e.g. 2,4,8); 1: one worker only", DefaultValueFactory = _ => "2", HelpName = "N[,N...]" };
        var maxStates = new Option<long>("--max-states") { Description = "Stop the checker bench after this many states (with --checker)", DefaultValueFactory = _ => int.MaxValue - 1, HelpName = "N" };
        var repeat = new Option<int>("--repeat") { Description = "Measure this many pairs of a one-worker and a parallel run, each kind first in turn, and report the medians (with --checker)", DefaultValueFactory = _ => 1, HelpName = "N" };
        var treeCensus = new Option<bool>("--tree-census") { Description = "Also count what tree compression would store for the states (one more run; with --checker)" };
        command.Options.Add(json);
        command.Options.Add(protocol);
        command.Options.Add(duration);
        command.Options.Add(checker);
        command.Options.Add(workers);
        command.Options.Add(maxStates);
        command.Options.Add(repeat);
        command.Options.Add(treeCensus);
        command.SetAction(parse =>
        {
            // An option of the other bench would be silently ignored: the measurement would not be the one asked for.
            if (parse.GetValue(checker))
            {
                if (parse.FirstGiven([protocol, duration])?.Name is { } simulatorOnly)
                {
                    throw new InputException($"{simulatorOnly} sets the simulator bench; bench --checker measures the checker on the built-in bench model (kvm-pf-int)");
                }

                return BenchChecker(context, JsonTarget.From(parse, json), ParseWorkerCounts(parse.GetValue(workers)!), parse.GetValue(maxStates), parse.GetValue(repeat), parse.GetValue(treeCensus), GivenCommandLine.Replay(parse, json));
            }

            if (parse.GetValue(treeCensus))
            {
                throw new InputException("--tree-census counts the checker's states: it needs --checker");
            }

            if (parse.FirstGiven([workers, maxStates, repeat])?.Name is { } checkerOnly)
            {
                throw new InputException($"{checkerOnly} goes with --checker: the simulator bench runs one thread once");
            }

            var entry = Overrides.ParseProtocol(parse.GetValue(protocol)!, "--protocol", "bench measures one");

            // The entry's keys are applied after the warm-up's duration and --duration: one there would time the
            // measured run other than the report says, as a compare entry's would its column.
            if (entry.Overrides.FirstOrDefault(o => string.Equals(o.Key, "duration", StringComparison.Ordinal)) is { } set)
            {
                throw InputException.At(set.Origin, 0, 0, null, "duration: the measured run's is --duration T");
            }

            var doc = Builtins.Load(Builtins.Default);
            var arg = "--builtin " + Builtins.Default;
            var warm = ScenarioRunner.Prepare(doc, arg, entry, [Overrides.ParseSet("duration=200ms")], [entry.Protocol]);
            for (var i = 0; i < 3; i++)
            {
                ScenarioRunner.Run(warm);
            }

            var prepared = ScenarioRunner.Prepare(doc, arg, entry, [Overrides.ParseSet("duration=" + parse.GetValue(duration), "--duration")], [entry.Protocol]);
            var simulator = new Simulator(prepared.Setup);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var result = simulator.Run();
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            var eps = result.Events * 1e9 / Math.Max(1, result.WallNs);
            var baseline = HeapBaseline.Run(prepared.Setup.Machine.Vcpus * 4, result.Events, 1);
            using var process = Process.GetCurrentProcess();
            var doc2 = ResultDocument.Create();
            doc2["scenario"] = prepared.Scenario;
            doc2["protocol"] = prepared.Protocol;

            // The entry as given (ve[guest.ve.can_continue=always]), as run's result names it: the protocol alone
            // could not tell a bench of a knob entry from one of the plain protocol.
            doc2["variant"] = prepared.Variant;

            // Every result carries its seed and replay line: the measured run's seed (the scenario's), and the
            // command, which measures again rather than reproduces the wall-clock numbers.
            var replay = GivenCommandLine.Replay(parse, json);
            doc2["seed"] = prepared.Setup.Seed;
            doc2["replay"] = replay;
            doc2["events"] = result.Events;
            doc2["simulated_ns"] = result.SimulatedNs;
            doc2["wall_ns"] = result.WallNs;
            doc2["events_per_sec"] = Math.Round(eps);
            doc2["bytes_allocated_per_event"] = Math.Round((double)allocated / Math.Max(1, result.Events), 4);
            doc2["peak_memory_bytes"] = process.PeakWorkingSet64;
            doc2["baseline_events_per_sec"] = Math.Round(baseline.EventsPerSecond);
            doc2["ratio_to_baseline"] = Math.Round(eps / Math.Max(1, baseline.EventsPerSecond), 4);
            doc2["targets"] = new JsonObject { ["events_per_sec"] = 3_000_000, ["bytes_allocated_per_event"] = 1 };
            var target = JsonTarget.From(parse, json);
            ReplayLine.Write(context.Error, null, ReplayLine.Seed(prepared.Setup.Seed), replay);
            var w = context.HumanWriter(target);
            w.WriteLine(string.Create(Inv, $"scenario {prepared.Scenario}, protocol {prepared.Variant}, {result.Events:N0} events in {result.WallNs / 1e6:F1} ms"));
            w.WriteLine(string.Create(Inv, $"events/s          {eps:N0} (target >= 3,000,000)"));
            w.WriteLine(string.Create(Inv, $"bytes/event       {(double)allocated / Math.Max(1, result.Events):F4} (target < 1)"));
            w.WriteLine(string.Create(Inv, $"peak memory       {process.PeakWorkingSet64:N0} bytes"));
            w.WriteLine(string.Create(Inv, $"baseline events/s {baseline.EventsPerSecond:N0} (struct heap); ratio {eps / Math.Max(1, baseline.EventsPerSecond):F3}"));
            ResultDocument.Write(context, target, doc2);
            return ExitCodes.Done;
        });
        return command;
    }

    /// <summary>
    /// One worker, then each count of <paramref name="counts"/> on the same model (the speedup curve), then one worker storing states
    /// compactly, beside the bare table: the targets of the checker (2 M states/s with one worker, 1.7x with two,
    /// at most 12 bytes a state, at most 10 compressed) in one report. With <paramref name="repeats"/> above one that
    /// many pairs of a one-worker and a parallel run are measured (see <see cref="RepeatedPairs"/>).
    /// </summary>
    private static int BenchChecker(CliContext context, JsonTarget target, IReadOnlyList<int> counts, long maxStates, int repeats, bool treeCensus, string replay)
    {
        if (maxStates < 1)
        {
            throw new InputException($"--max-states must be at least 1, got {maxStates}");
        }

        CheckCommand.RefuseMaxStatesAboveMost(maxStates);

        if (repeats is < 1 or > 100)
        {
            throw new InputException($"--repeat: {repeats.ToString(CultureInfo.InvariantCulture)} is not a repeat count (a whole number from 1 to 100)");
        }

        // No seed: the breadth-first search draws nothing at random, as check's.
        ReplayLine.Write(context.Error, null, null, replay);

        // The first count other than one is the parallel run the targets speak of; the others extend the curve.
        int workers = counts.FirstOrDefault(c => c > 1, 1);

        // A short check first, so the measured runs find the search loop compiled at its final tier and none of
        // them (the first, one-worker one above all) pays the JIT's warm-up.
        Vexlab.Checking.CheckerBench.Run(1, Math.Min(maxStates, 200_000), baseline: false);
        var pairs = RepeatedPairs(workers, maxStates, repeats);
        var r = pairs.One;
        var parallel = pairs.Parallel;
        var curve = new List<Vexlab.Checking.CheckerBenchResult>();
        foreach (int count in counts)
        {
            curve.Add(count == 1 ? r : count == workers ? parallel! : Vexlab.Checking.CheckerBench.Run(count, maxStates, baseline: false));
        }
        var compact = Vexlab.Checking.CheckerBench.Run(1, maxStates, Vexlab.Checking.Engine.StateCompression.Compact, baseline: false);
        var sharedPath = pairs.SharedPath;
        var census = treeCensus ? Vexlab.Checking.CheckerBench.RunTreeCensus(maxStates) : null;
        var copy1 = Vexlab.Checking.Engine.MemoryBandwidth.Copy(1);
        int most = counts.Max();
        var copyN = most > 1 ? Vexlab.Checking.Engine.MemoryBandwidth.Copy(most) : copy1;
        double levelTraffic = r.StatesPerSec * r.RecordBytes;
        var doc = ResultDocument.Create();
        doc["model"] = "bench";
        doc["protocol"] = "kvm-pf-int";

        // Every result carries its seed and replay line: the checker's breadth-first search draws nothing at random
        // (no seed, as check's), and the command measures again rather than reproduces the wall-clock numbers.
        doc["seed"] = null;
        doc["replay"] = replay;
        doc["states"] = r.States;
        doc["transitions"] = r.Transitions;
        doc["states_per_sec"] = Math.Round(r.StatesPerSec);
        doc["transitions_per_sec"] = Math.Round(r.TransitionsPerSec);
        doc["branching"] = Math.Round(r.Branching, 3);
        doc["bytes_per_state"] = Math.Round(r.BytesPerState, 2);
        doc["frontier_peak_bytes"] = r.FrontierPeakBytes;
        doc["workers"] = r.Workers;
        doc["baseline_states_per_sec"] = Math.Round(r.BaselineStatesPerSec);
        doc["ratio_to_baseline"] = Math.Round(r.StatesPerSec / Math.Max(1, r.BaselineStatesPerSec), 4);
        doc["wall_ns"] = (long)(r.Elapsed.TotalMilliseconds * 1e6);
        doc["cpu_ns"] = (long)(r.CpuTime.TotalMilliseconds * 1e6);
        doc["states_per_cpu_sec"] = Math.Round(r.StatesPerCpuSecond);
        doc["load_average"] = LoadAverage();
        if (parallel is not null)
        {
            doc["parallel"] = new JsonObject
            {
                ["workers"] = parallel.Workers,
                ["states"] = parallel.States,
                ["states_per_sec"] = Math.Round(parallel.StatesPerSec),
                ["speedup"] = Math.Round(pairs.Speedup, 3),
                ["bytes_per_state"] = Math.Round(parallel.BytesPerState, 2),
                ["wall_ns"] = (long)(parallel.Elapsed.TotalMilliseconds * 1e6),
                ["cpu_ns"] = (long)(parallel.CpuTime.TotalMilliseconds * 1e6),
                ["states_per_cpu_sec"] = Math.Round(parallel.StatesPerCpuSecond),
                ["shared_path_ns"] = (long)(parallel.SharedPathTime.TotalMilliseconds * 1e6),
                ["parallel_phase_ns"] = (long)(parallel.ParallelPhaseTime.TotalMilliseconds * 1e6),
                ["worker_wait_ns"] = (long)(parallel.WorkerWaitTime.TotalMilliseconds * 1e6),
            };
        }

        var curveJson = new JsonArray();
        foreach (var point in curve)
        {
            curveJson.Add(new JsonObject
            {
                ["workers"] = point.Workers,
                ["states_per_sec"] = Math.Round(point.StatesPerSec),
                ["speedup"] = Math.Round(point == parallel ? pairs.Speedup : point.StatesPerSec / Math.Max(1, r.StatesPerSec), 3),
                ["wall_ns"] = (long)(point.Elapsed.TotalMilliseconds * 1e6),
                ["cpu_ns"] = (long)(point.CpuTime.TotalMilliseconds * 1e6),
            });
        }

        doc["speedup_curve"] = curveJson;
        if (repeats > 1)
        {
            var repeated = new JsonObject
            {
                ["runs"] = repeats,
                ["states_per_sec"] = new JsonArray([.. pairs.OneRates.Select(x => JsonValue.Create(Math.Round(x)))]),
            };
            if (parallel is not null)
            {
                repeated["parallel_states_per_sec"] = new JsonArray([.. pairs.ParallelRates.Select(x => JsonValue.Create(Math.Round(x)))]);
                repeated["speedups"] = new JsonArray([.. pairs.Speedups.Select(x => JsonValue.Create(Math.Round(x, 3)))]);
                repeated["first"] = new JsonArray([.. pairs.First.Select(x => JsonValue.Create(x))]);
                repeated["shared_path_states_per_sec"] = new JsonArray([.. pairs.SharedRates.Select(x => JsonValue.Create(Math.Round(x)))]);
                repeated["shared_path_ratios"] = new JsonArray([.. pairs.SharedRatios.Select(x => JsonValue.Create(Math.Round(x, 3)))]);
            }

            doc["repeats"] = repeated;
        }

        doc["cores"] = Environment.ProcessorCount;
        doc["compressed"] = new JsonObject
        {
            ["compression"] = "compact",
            ["workers"] = compact.Workers,
            ["states"] = compact.States,
            ["states_per_sec"] = Math.Round(compact.StatesPerSec),
            ["ratio_to_uncompressed"] = Math.Round(compact.StatesPerSec / Math.Max(1, r.StatesPerSec), 3),
            ["bytes_per_state"] = Math.Round(compact.BytesPerState, 2),
            ["fingerprint_bits"] = compact.FingerprintBits,
            ["collision_probability"] = compact.CollisionProbability,
            ["wall_ns"] = (long)(compact.Elapsed.TotalMilliseconds * 1e6),
            ["cpu_ns"] = (long)(compact.CpuTime.TotalMilliseconds * 1e6),
            ["states_per_cpu_sec"] = Math.Round(compact.StatesPerCpuSecond),
        };
        if (parallel is not null && sharedPath is not null)
        {
            doc["shared_path"] = new JsonObject
            {
                ["states_per_sec"] = Math.Round(sharedPath.StatesPerSec),
                ["ratio_to_serial"] = Math.Round(pairs.SharedRatio, 3),
                ["parallel_speedup"] = Math.Round(pairs.SharedSpeedup, 3),
                ["wall_ns"] = (long)(sharedPath.Elapsed.TotalMilliseconds * 1e6),
                ["cpu_ns"] = (long)(sharedPath.CpuTime.TotalMilliseconds * 1e6),
            };
        }

        if (pairs.SideMedianRepeat is int sideAt and >= 0)
        {
            var sideJson = new JsonObject
            {
                ["checks"] = workers,
                ["states_per_sec"] = Math.Round(pairs.SideRates[sideAt]),
                ["ratio_to_one"] = Math.Round(pairs.SideRatios[sideAt], 3),
                ["each_ratio_to_one"] = new JsonArray([.. pairs.SideEach[sideAt].Select(x => JsonValue.Create(Math.Round(x, 3)))]),
            };
            if (repeats > 1)
            {
                sideJson["ratios"] = new JsonArray([.. pairs.SideRatios.Select(x => JsonValue.Create(Math.Round(x, 3)))]);
            }

            doc["side_by_side"] = sideJson;
        }

        if (census is not null)
        {
            doc["tree_census"] = new JsonObject
            {
                ["states"] = census.States,
                ["roots"] = census.Roots,
                ["nodes"] = census.Nodes,
                ["nodes_per_level"] = new JsonArray([.. census.NodesPerLevel.Select(x => JsonValue.Create(x))]),
                ["least_bytes_per_state"] = Math.Round(census.LeastBytesPerState, 2),
                ["fingerprint_bytes_per_state"] = Math.Round(census.FingerprintBytesPerState, 2),
                ["wall_ns"] = (long)(census.Elapsed.TotalMilliseconds * 1e6),
            };
        }

        doc["memory_copy"] = new JsonObject
        {
            ["bytes_per_sec"] = Math.Round(copy1.BytesPerSecond),
            ["threads"] = copyN.Threads,
            ["bytes_per_sec_threads"] = Math.Round(copyN.BytesPerSecond),
            ["scaling"] = Math.Round(copyN.BytesPerSecond / Math.Max(1, copy1.BytesPerSecond), 3),
            ["record_bytes"] = r.RecordBytes,
            ["full_record_bytes"] = r.FullRecordBytes,
            ["level_bytes_per_sec"] = Math.Round(levelTraffic),
            ["ratio_level_to_copy"] = Math.Round(levelTraffic / Math.Max(1, copy1.BytesPerSecond), 4),
        };
        var growth = new JsonObject
        {
            ["growths"] = r.TableGrowths,
            ["wall_ns"] = (long)(r.TableGrowthTime.TotalMilliseconds * 1e6),
            ["share_of_wall"] = Math.Round(r.TableGrowthShare, 4),
            ["fault_in_ns"] = (long)(r.TableFaultInTime.TotalMilliseconds * 1e6),
            ["fault_in_bytes"] = r.TableFaultInBytes,
        };
        if (parallel is not null)
        {
            growth["parallel_growths"] = parallel.TableGrowths;
            growth["parallel_wall_ns"] = (long)(parallel.TableGrowthTime.TotalMilliseconds * 1e6);
            growth["parallel_share_of_wall"] = Math.Round(parallel.TableGrowthShare, 4);
            growth["parallel_fault_in_ns"] = (long)(parallel.TableFaultInTime.TotalMilliseconds * 1e6);
            growth["parallel_fault_in_bytes"] = parallel.TableFaultInBytes;
        }

        doc["table_growth"] = growth;
        doc["targets"] = new JsonObject { ["states_per_sec"] = 2_000_000, ["speedup_two_workers"] = 1.7, ["bytes_per_state"] = 12, ["bytes_per_state_compressed"] = 10 };
        var w = context.HumanWriter(target);
        w.WriteLine(string.Create(Inv, $"model bench, protocol kvm-pf-int, 1 worker: {r.States:N0} states, {r.Transitions:N0} transitions in {r.Elapsed.TotalSeconds:F1} s"));
        w.WriteLine(string.Create(Inv, $"states/s          {r.StatesPerSec:N0} (target >= 2,000,000)"));
        w.WriteLine(string.Create(Inv, $"transitions/s     {r.TransitionsPerSec:N0}; branching {r.Branching:F2}"));
        w.WriteLine(string.Create(Inv, $"bytes/state       {r.BytesPerState:F1} (target <= 12, parent links included)"));
        w.WriteLine(string.Create(Inv, $"frontier          peak {r.FrontierPeakBytes / 1048576.0:F0} MiB in memory; records {r.RecordBytes:N0} bytes on average against {r.FullRecordBytes:N0} whole (encoded as differences from the initial state)"));
        w.WriteLine(string.Create(Inv, $"baseline states/s {r.BaselineStatesPerSec:N0} (bare fingerprint-table inserts); ratio {r.StatesPerSec / Math.Max(1, r.BaselineStatesPerSec):F3}"));
        w.WriteLine(string.Create(Inv, $"cpu               {r.CpuTime.TotalSeconds:F1} s ({r.StatesPerCpuSecond:N0} states per cpu-second); load average {LoadAverage()}"));
        if (parallel is not null)
        {
            w.WriteLine(string.Create(Inv, $"{parallel.Workers} workers         {parallel.StatesPerSec:N0} states/s in {parallel.Elapsed.TotalSeconds:F1} s; speedup {pairs.Speedup:F2} (target >= 1.7 with 2); bytes/state {parallel.BytesPerState:F1}; cpu {parallel.CpuTime.TotalSeconds:F1} s"));
        }

        if (repeats > 1)
        {
            w.WriteLine(string.Create(Inv, $"repeats           {repeats} pairs, each run first in turn, medians above; 1 worker {Rates(pairs.OneRates)} states/s")
                + (parallel is null ? string.Empty : string.Create(Inv, $"; {parallel.Workers} workers {Rates(pairs.ParallelRates)}; speedups {string.Join(", ", pairs.Speedups.Select(x => x.ToString("F2", Inv)))}")));
        }

        foreach (var point in curve)
        {
            if (point.Workers > 1 && point != parallel)
            {
                w.WriteLine(string.Create(Inv, $"{point.Workers} workers         {point.StatesPerSec:N0} states/s in {point.Elapsed.TotalSeconds:F1} s; speedup {point.StatesPerSec / Math.Max(1, r.StatesPerSec):F2} ({Environment.ProcessorCount} cores); cpu {point.CpuTime.TotalSeconds:F1} s"));
            }
        }

        w.WriteLine(string.Create(Inv, $"compact           {compact.StatesPerSec:N0} states/s ({compact.StatesPerSec / Math.Max(1, r.StatesPerSec):F2} of uncompressed); bytes/state {compact.BytesPerState:F1} (target <= 10); {compact.FingerprintBits}-bit keys, collision probability {compact.CollisionProbability:E1}; cpu {compact.CpuTime.TotalSeconds:F1} s"));
        if (parallel is not null && sharedPath is not null)
        {
            w.WriteLine(string.Create(Inv, $"shared path       {sharedPath.StatesPerSec:N0} states/s with 1 worker ({pairs.SharedRatio:F2} of the serial path); {parallel.Workers} workers run {pairs.SharedSpeedup:F2}x its rate")
                + (repeats > 1 ? string.Create(Inv, $" (medians over the repeats; to the serial path {string.Join(", ", pairs.SharedRatios.Select(x => x.ToString("F2", Inv)))})") : string.Empty));
        }

        if (pairs.SideMedianRepeat is int sideRepeat and >= 0)
        {
            w.WriteLine(string.Create(Inv, $"side by side      {workers} one-worker checks at once: {pairs.SideRates[sideRepeat]:N0} states/s together, {pairs.SideRatios[sideRepeat]:F2}x one alone (each at {string.Join(", ", pairs.SideEach[sideRepeat].Select(x => x.ToString("F2", Inv)))} of it), the most {workers} workers could reach on this machine")
                + (repeats > 1 ? string.Create(Inv, $" (the repeat of median ratio; ratios {string.Join(", ", pairs.SideRatios.Select(x => x.ToString("F2", Inv)))})") : string.Empty));
        }

        w.WriteLine(string.Create(Inv, $"table growth      {r.TableGrowths} growths in {r.TableGrowthTime.TotalSeconds:F1} s ({r.TableGrowthShare:F2} of the 1-worker run)")
            + FaultInClause(r)
            + (parallel is null ? string.Empty : string.Create(Inv, $"; with {parallel.Workers} workers {parallel.TableGrowths} in {parallel.TableGrowthTime.TotalSeconds:F1} s on {parallel.Workers} threads ({parallel.TableGrowthShare:F2} of the run)")));
        if (parallel is not null)
        {
            double phases = parallel.ParallelPhaseTime.TotalSeconds;
            double workerSeconds = phases * parallel.Workers;
            double between = (parallel.SharedPathTime - parallel.ParallelPhaseTime).TotalSeconds;
            w.WriteLine(string.Create(Inv, $"worker time       {parallel.Workers} workers: parallel phases {phases:F1} s of the {parallel.Elapsed.TotalSeconds:F1} s run, waiting at their barriers {parallel.WorkerWaitTime.TotalSeconds:F1} of {workerSeconds:F1} worker-seconds ({parallel.WorkerWaitTime.TotalSeconds / Math.Max(1e-9, workerSeconds):F2}); between the phases {between:F1} s (the table's growths included), outside the blocks {(parallel.Elapsed - parallel.SharedPathTime).TotalSeconds:F1} s"));
        }

        if (census is not null)
        {
            // The levels below the roots, leaves first; the roots are one a state.
            string levels = string.Join(" / ", census.NodesPerLevel.Take(census.NodesPerLevel.Count - 1).Select(x => x.ToString("N0", Inv)));
            w.WriteLine(string.Create(Inv, $"tree census       {census.Nodes:N0} nodes below {census.Roots:N0} roots (leaves first: {levels}): tree compression would take at least {census.LeastBytesPerState:F1} bytes/state in full tables, before parent links; the fingerprint table took {census.FingerprintBytesPerState:F1} with them"));
        }

        w.WriteLine(MemoryCopyLine(copy1.BytesPerSecond, copyN.Threads, copyN.BytesPerSecond));
        w.WriteLine(string.Create(Inv, $"level traffic     {levelTraffic / 1e9:F2} GB/s at the 1-worker rate ({r.RecordBytes:N0}-byte encoded records, each written and read back once): {levelTraffic / Math.Max(1, copy1.BytesPerSecond):F3} of the copy rate"));
        ResultDocument.Write(context, target, doc);
        return ExitCodes.Done;
    }

    /// <summary>
    /// The memory copy rate with one thread and, where the bench ran more workers, with as many threads; with one
    /// worker the second figure was the first again ("with 1 thread, ... with 1 (1.00x)").
    /// </summary>
    internal static string MemoryCopyLine(double oneThread, int threads, double withThreads) => threads > 1
        ? string.Create(Inv, $"memory copy       {oneThread / 1e9:F2} GB/s with 1 thread, {withThreads / 1e9:F2} GB/s with {threads} ({withThreads / Math.Max(1, oneThread):F2}x)")
        : string.Create(Inv, $"memory copy       {oneThread / 1e9:F2} GB/s with 1 thread");

    /// <summary>How much of a run's table growth went to faulting in new slots, when the kernel did that on request.</summary>
    private static string FaultInClause(Vexlab.Checking.CheckerBenchResult run) => run.TableFaultInBytes == 0
        ? string.Empty
        : string.Create(Inv, $", {run.TableFaultInTime.TotalSeconds:F1} s of it faulting in {run.TableFaultInBytes / (double)(1 << 20):N0} MiB of new slots ({run.FaultInBytesPerSecond / 1e9:F2} GB/s)");

    /// <summary>
    /// The one-worker run (with its table baseline) and, with <paramref name="workers"/> above one, the parallel run,
    /// in <paramref name="repeats"/> pairs, so that both see the same machine: on a host whose speed
    /// drifts over minutes (another tenant, a host reclaiming memory) one pair's speedup can be off by a fifth either
    /// way. Reported: the run of median rate of each kind, and the median of the pairs' speedups (each pair's two
    /// runs adjacent in time); with one repeat, the one pair. With a parallel run each repeat also runs one worker
    /// through the multi-worker path, beside the one-worker run, and its ratios to both are the repeat's: a shared-path
    /// run measured once, minutes from the serial runs, had put that ratio anywhere from 0.78 to 0.93.
    /// </summary>
    private static BenchPairs RepeatedPairs(int workers, long maxStates, int repeats)
    {
        var ones = new List<Vexlab.Checking.CheckerBenchResult>();
        var parallels = new List<Vexlab.Checking.CheckerBenchResult>();
        var speedups = new List<double>();
        var first = new List<int>();
        var shared = new List<Vexlab.Checking.CheckerBenchResult>();
        var sharedRatios = new List<double>();
        var sharedSpeedups = new List<double>();
        var sideRates = new List<double>();
        var sideRatios = new List<double>();
        var sideEach = new List<IReadOnlyList<double>>();
        for (int i = 0; i < repeats; i++)
        {
            // The pairs take turns at running first (1 then N, N then 1, ...: ABBA order), so that a host whose speed
            // drifts one way over the pairs, or a run that finds memory its predecessor freed, favours neither kind.
            bool parallelFirst = workers > 1 && i % 2 == 1;
            // The shared-path run goes on the one-worker run's other side (shared, 1, N, then N, 1, shared), so
            // that the pair stays adjacent and the one-worker run lies beside both.
            // As many one-worker checks side by side as the parallel run has workers go on the outside of the
            // repeat (side, shared, 1, N, then N, 1, shared, side).
            var sideFirst = workers > 1 && !parallelFirst ? Vexlab.Checking.CheckerBench.RunSideBySide(workers, maxStates) : null;
            var sharedFirst = workers > 1 && !parallelFirst ? Vexlab.Checking.CheckerBench.RunSharedPath(maxStates) : null;
            var parallel = parallelFirst ? Vexlab.Checking.CheckerBench.Run(workers, maxStates) : null;
            var one = Vexlab.Checking.CheckerBench.Run(1, maxStates);
            if (workers > 1 && !parallelFirst)
            {
                parallel = Vexlab.Checking.CheckerBench.Run(workers, maxStates);
            }

            var sharedPath = parallelFirst ? Vexlab.Checking.CheckerBench.RunSharedPath(maxStates) : sharedFirst;
            var side = parallelFirst ? Vexlab.Checking.CheckerBench.RunSideBySide(workers, maxStates) : sideFirst;

            ones.Add(one);
            first.Add(parallelFirst ? workers : 1);
            if (parallel is not null)
            {
                parallels.Add(parallel);
                speedups.Add(parallel.StatesPerSec / Math.Max(1, one.StatesPerSec));
                shared.Add(sharedPath!);
                sharedRatios.Add(sharedPath!.StatesPerSec / Math.Max(1, one.StatesPerSec));
                sharedSpeedups.Add(parallel.StatesPerSec / Math.Max(1, sharedPath.StatesPerSec));
                double together = Vexlab.Checking.CheckerBench.TogetherRate(side!);
                sideRates.Add(together);
                sideRatios.Add(together / Math.Max(1, one.StatesPerSec));
                sideEach.Add([.. side!.Select(x => x.StatesPerSec / Math.Max(1, one.StatesPerSec))]);
            }
        }

        return new BenchPairs(
            MedianRun(ones),
            parallels.Count == 0 ? null : MedianRun(parallels),
            speedups.Count == 0 ? 1 : Median(speedups),
            [.. ones.Select(x => x.StatesPerSec)],
            [.. parallels.Select(x => x.StatesPerSec)],
            speedups,
            first,
            shared.Count == 0 ? null : MedianRun(shared),
            sharedRatios.Count == 0 ? 1 : Median(sharedRatios),
            sharedSpeedups.Count == 0 ? 1 : Median(sharedSpeedups),
            [.. shared.Select(x => x.StatesPerSec)],
            sharedRatios,
            sideRates,
            sideRatios,
            sideEach);
    }

    private sealed record BenchPairs(
        Vexlab.Checking.CheckerBenchResult One,
        Vexlab.Checking.CheckerBenchResult? Parallel,
        double Speedup,
        IReadOnlyList<double> OneRates,
        IReadOnlyList<double> ParallelRates,
        IReadOnlyList<double> Speedups,
        IReadOnlyList<int> First,
        Vexlab.Checking.CheckerBenchResult? SharedPath,
        double SharedRatio,
        double SharedSpeedup,
        IReadOnlyList<double> SharedRates,
        IReadOnlyList<double> SharedRatios,
        IReadOnlyList<double> SideRates,
        IReadOnlyList<double> SideRatios,
        IReadOnlyList<IReadOnlyList<double>> SideEach)
    {
        /// <summary>The repeat of median side-by-side ratio (-1 without a parallel run).</summary>
        public int SideMedianRepeat => SideRatios.Count == 0 ? -1
            : Enumerable.Range(0, SideRatios.Count).OrderBy(i => SideRatios[i]).ElementAt((SideRatios.Count - 1) / 2);
    }

    /// <summary>The run of median states/s (the lower middle one of an even count).</summary>
    private static Vexlab.Checking.CheckerBenchResult MedianRun(List<Vexlab.Checking.CheckerBenchResult> runs)
        => runs.OrderBy(x => x.StatesPerSec).ElementAt((runs.Count - 1) / 2);

    /// <summary>The median (the mean of the middle two of an even count).</summary>
    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static string Rates(IReadOnlyList<double> rates) => string.Join(", ", rates.Select(x => x.ToString("N0", Inv)));

    /// <summary>The worker counts of <c>bench --checker --workers</c>: one count or a comma-separated list, each at least 1.</summary>
    private static List<int> ParseWorkerCounts(string text)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1 || count > 1024)
            {
                throw new InputException($"--workers: '{part}' is not a worker count (a whole number from 1 to 1024, or a comma-separated list of them)");
            }

            if (!counts.Contains(count))
            {
                counts.Add(count);
            }
        }

        return counts;
    }

    /// <summary>The 1-minute load average (Linux), so a rate measured on a busy machine says so; empty elsewhere.</summary>
    private static string LoadAverage()
    {
        try
        {
            var text = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg") : string.Empty;
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            return space > 0 ? text[..space] : string.Empty;
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    private static SimulationResult RunWithProgress(CliContext context, PreparedRun run, ITraceSink? trace, CancellationToken stop)
    {
        var progress = new ProgressLine(context);
        var result = ScenarioRunner.Run(run, trace, simulated => progress.Report(elapsed =>
        {
            var pct = 100.0 * simulated / Math.Max(1, run.Setup.DurationNs);
            var bar = new string('#', (int)(pct / 5)).PadRight(20, '.');
            return string.Create(Inv, $"{run.Variant} [{bar}] {pct,5:F1}% of {DurationText.Of(run.Setup.DurationNs)} simulated, {elapsed.TotalSeconds:F0} s");
        }), stop);
        progress.Finish();
        return result;
    }

    /// <summary>The line for people when a run stopped early: at the wall-clock limit, or by a signal.</summary>
    private static string StoppedLine(Interruption interrupt, string variant, long simulatedNs) => interrupt.Signalled
        ? string.Create(Inv, $"vexlab: {variant}: stopped by {interrupt.SignalName} after {simulatedNs / 1e6:N3} ms simulated; the result covers that span only")
        : WallClockLimit.StoppedLine(variant, simulatedNs);

    private static JsonObject SeedSummary(List<(PreparedRun Run, SimulationResult Result)> runs)
    {
        var o = new JsonObject
        {
            ["scenario"] = runs[0].Run.Scenario,
            ["protocol"] = runs[0].Run.Protocol,
            ["variant"] = runs[0].Run.Variant,
            ["seeds"] = new JsonArray([.. runs.Select(r => JsonValue.Create(r.Run.Setup.Seed))]),
            ["work_done"] = Stat(runs.Select(r => (double)r.Result.WorkDone)),
        };
        var tasks = new JsonArray();
        foreach (var t in runs[0].Result.Tasks)
        {
            tasks.Add(new JsonObject { ["name"] = t.Name, ["work_done"] = Stat(runs.Select(r => (double)r.Result.Task(t.Name).WorkDone)) });
        }

        o["tasks"] = tasks;
        o["fault_latency_p99_ns"] = SampleStat(runs.Select(r => FaultStat(r.Result, l => l.P99)));
        o["replay"] = runs[0].Run.Replay;
        var metrics = new JsonObject();
        foreach (var metric in Metrics([.. runs.Select(r => r.Result)]))
        {
            metrics[metric.Key] = metric.OfSample
                ? SampleStat(runs.Select(r => metric.Pick(r.Result)))
                : Stat(runs.Select(r => metric.Pick(r.Result) ?? 0));
        }

        // Every row of the table as {mean, ci95}: counts, ns, and percentages (cpu_share, vcpu_pct) in percent.
        o["metrics"] = metrics;
        o["runs"] = new JsonArray([.. runs.Select(r => (JsonNode)ResultJson.Build(r.Run, r.Result))]);
        return o;
    }

    private static JsonObject Stat(IEnumerable<double> values)
    {
        var (mean, ci) = MeanCi(values.ToArray());
        return new JsonObject { ["mean"] = Math.Round(mean, 3), ["ci95"] = Math.Round(ci, 3) };
    }

    /// <summary>
    /// A latency statistic over seeds: the mean and interval over the seeds whose sample was not empty, and
    /// <c>seeds</c>, how many those are; with none, mean and ci95 are null rather than a mean of zeros.
    /// </summary>
    private static JsonObject SampleStat(IEnumerable<double?> values)
    {
        var xs = values.OfType<double>().ToArray();
        if (xs.Length == 0)
        {
            return new JsonObject { ["mean"] = null, ["ci95"] = null, ["seeds"] = 0 };
        }

        var o = Stat(xs);
        o["seeds"] = xs.Length;
        return o;
    }

    /// <summary>A statistic of the run's fault latencies; null when no fault completed (the recorder would say 0).</summary>
    private static double? FaultStat(SimulationResult r, Func<LatencyRecorder, double> stat) =>
        r.FaultLatency.Count == 0 ? null : stat(r.FaultLatency);

    /// <summary>A statistic of a stream's request latencies; null when no request completed.</summary>
    private static double? RequestStat(SimulationResult r, string task, Func<LatencyRecorder, double> stat) =>
        r.Task(task).Requests!.Latency is { Count: > 0 } latency ? stat(latency) : null;

    private static (double Mean, double Ci95) MeanCi(double[] xs)
    {
        var mean = xs.Average();
        if (xs.Length < 2)
        {
            return (mean, 0);
        }

        var sd = Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1));
        return (mean, 1.96 * sd / Math.Sqrt(xs.Length));
    }

    /// <summary>
    /// One numeric row of the results table: its value in one run, and how to show it. With several
    /// seeds the cell is the mean over the seeds and its normal 95% interval (1.96 sd / sqrt(n)).
    /// <paramref name="OfSample"/>: a statistic of a latency sample, null in a run where the sample is empty;
    /// over seeds it is the mean over the seeds with samples, saying how many when not all.
    /// </summary>
    private sealed record Metric(string Name, string Key, Func<SimulationResult, double?> Pick, Func<double, string> Show, bool OfSample = false);

    private static List<Metric> Metrics(List<SimulationResult> results)
    {
        var first = results[0];
        var metrics = new List<Metric>();
        foreach (var t in first.Tasks)
        {
            metrics.Add(new Metric("work: " + t.Name, "work_done." + t.Name, r => r.Task(t.Name).WorkDone, Count));
        }

        metrics.Add(new Metric("work: total", "work_done", r => r.WorkDone, Count));
        foreach (var t in first.Tasks)
        {
            metrics.Add(new Metric("cpu share: " + t.Name, "cpu_share." + t.Name, r => r.Task(t.Name).Share * 100, Percent));
            metrics.Add(new Metric("waiting: " + t.Name, "wait_ns." + t.Name, r => r.Task(t.Name).WaitNs, Ms));
        }

        foreach (var t in first.Tasks)
        {
            if (t.Requests is null)
            {
                continue;
            }

            // An open-loop stream's request latency (arrival to the end of its pass): the SLO's figure.
            metrics.Add(new Metric("requests: " + t.Name, "requests." + t.Name + ".completed", r => r.Task(t.Name).Requests!.Completed, Count));
            metrics.Add(new Metric("request p50: " + t.Name, "requests." + t.Name + ".latency_ns.p50", r => RequestStat(r, t.Name, l => l.P50), Us, OfSample: true));
            metrics.Add(new Metric("request p99: " + t.Name, "requests." + t.Name + ".latency_ns.p99", r => RequestStat(r, t.Name, l => l.P99), Us, OfSample: true));
            metrics.Add(new Metric("request p99.9: " + t.Name, "requests." + t.Name + ".latency_ns.p999", r => RequestStat(r, t.Name, l => l.P999), Us, OfSample: true));
        }

        // Completed faults, the latency sample's size: a fault still waiting at the end is in EPT_VIOLATION and
        // apf_not_present but not here, so the row says which it counts.
        metrics.Add(new Metric("faults completed", "fault_latency_ns.count", r => r.FaultLatency.Count, Count));
        metrics.Add(new Metric("fault min", "fault_latency_ns.min", r => FaultStat(r, l => l.Min), Us, OfSample: true));
        metrics.Add(new Metric("fault mean", "fault_latency_ns.mean", r => FaultStat(r, l => Math.Round(l.Mean)), Us, OfSample: true));
        metrics.Add(new Metric("fault p50", "fault_latency_ns.p50", r => FaultStat(r, l => l.P50), Us, OfSample: true));
        metrics.Add(new Metric("fault p99", "fault_latency_ns.p99", r => FaultStat(r, l => l.P99), Us, OfSample: true));
        metrics.Add(new Metric("fault p99.9", "fault_latency_ns.p999", r => FaultStat(r, l => l.P999), Us, OfSample: true));
        metrics.Add(new Metric("fault max", "fault_latency_ns.max", r => FaultStat(r, l => l.Max), Us, OfSample: true));
        foreach (var f in VcpuTimeFields.All)
        {
            // Steal only where vCPUs share pCPUs (host.pcpus): it is zero otherwise.
            if (f.Key != VcpuTimeFields.Steal || results.Any(r => r.VcpuStealNs != 0))
            {
                metrics.Add(new Metric(f.Label, "vcpu_pct." + f.Key, r => Pct(f.Ns(r), r), Percent));
            }
        }

        var exitNames = first.Counters.Exits.Names;
        for (var k = 0; k < exitNames.Length; k++)
        {
            var kk = k;
            if (results.Any(r => r.Counters.Exits.Snapshot()[kk].Value != 0))
            {
                metrics.Add(new Metric("exits: " + exitNames[k], "exits." + exitNames[k], r => r.Counters.Exits.Snapshot()[kk].Value, Count));
            }
        }

        var injNames = first.Counters.Injections.Names;
        for (var k = 0; k < injNames.Length; k++)
        {
            var kk = k;
            if (results.Any(r => r.Counters.Injections.Snapshot()[kk].Value != 0))
            {
                metrics.Add(new Metric("injected: " + injNames[k], "injected." + injNames[k], r => r.Counters.Injections.Snapshot()[kk].Value, Count));
            }
        }

        metrics.Add(new Metric("error returns", "error_returns", r => r.ErrorReturns, Count));
        return metrics;
    }

    /// <summary>
    /// perf kvm stat report's table. Too wide for <paramref name="width"/>, the event column narrows to the
    /// longest name (older perf printed it 20 wide); still too wide, the rows go into a table that pages.
    /// </summary>
    private static void WriteExits(TextWriter writer, IAnsiConsole console, int width, IReadOnlyList<ExitTimeRow> rows, int? vcpu)
    {
        var scope = ExitsReportWriter.Scope(vcpu);
        var text = ExitsReportWriter.Render(rows, scope: scope);
        if (Widest(text) > width)
        {
            // perf's layout past the event column is fixed: the column takes what the width leaves.
            const int perfKeyWidth = 40;
            var longest = rows.Where(r => r.Times.Count > 0).Select(r => r.Name.Length).DefaultIfEmpty(0).Max();
            var left = width - (Widest(text) - perfKeyWidth);
            text = ExitsReportWriter.Render(rows, scope: scope, keyWidth: Math.Max(left, Math.Max(longest, "VM-EXIT".Length)));
        }

        if (Widest(text) <= width)
        {
            writer.Write(text);
            return;
        }

        writer.Write($"\n\nAnalyze events for {scope}:\n\n");
        var table = new FittedTable(TableShape.Pivot).Column("VM-EXIT").Column("Samples", Justify.Right).Column("Samples%", Justify.Right)
            .Column("Time%", Justify.Right).Column("Min Time", Justify.Right).Column("Max Time", Justify.Right).Column("Avg time", Justify.Right).Column("+-", Justify.Right);
        long samples = 0;
        long total = 0;
        foreach (var r in ExitsReportWriter.Rows(rows))
        {
            samples += r.Samples;
            total += r.TotalNs;
            table.Row(
                r.Reason,
                r.Samples.ToString(Inv),
                string.Create(Inv, $"{r.SamplesPercent:F2}%"),
                string.Create(Inv, $"{r.TimePercent:F2}%"),
                string.Create(Inv, $"{r.MinNs / 1000.0:F2}us"),
                string.Create(Inv, $"{r.MaxNs / 1000.0:F2}us"),
                string.Create(Inv, $"{r.MeanNs / 1000.0:F2}us"),
                string.Create(Inv, $"{r.RelStdDevPercent:F2}%"));
        }

        table.Write(console, width);
        writer.Write(string.Create(Inv, $"\nTotal Samples:{samples}, Total events handled time:{total / 1000.0:F2}us.\n\n"));
    }

    private static int Widest(string text) => text.Split('\n').Max(l => l.TrimEnd().Length);

    private static void WriteTable(IAnsiConsole console, int width, List<PreparedRun> runs, List<SimulationResult> results, List<List<(PreparedRun Run, SimulationResult Result)>>? seeds, string? stopped)
    {
        // Every seed of every entry decides which rows appear, so no entry's rows are hidden.
        var everyRun = seeds is null ? results : [.. seeds.SelectMany(s => s.Select(x => x.Result))];
        IEnumerable<SimulationResult> Runs(int i) => seeds is null ? [results[i]] : seeds[i].Select(s => s.Result);

        // A guest that oopses or hits a VM error ends its run there, and --time-limit stops each entry where it got
        // to: then the entries' spans differ, the heading gives their range and a row "simulated" each one's, so no
        // entry's totals read as if over the first entry's span.
        var shortest = everyRun.Min(r => r.SimulatedNs);
        var longest = everyRun.Max(r => r.SimulatedNs);
        var spans = SimulatedSpans.Heading(shortest, longest);

        // The heading is a line of its own: a table title wraps when it is wider than the table.
        // The seeds as the replay lines on standard error say them: "seed 1, 3 seeds" read as one seed.
        var seedRange = SeedRange.Say(seeds is null ? runs.Select(r => (long)r.Setup.Seed) : seeds.SelectMany(s => s.Select(x => (long)x.Run.Setup.Seed)));
        console.WriteLine($"{runs[0].Scenario}: {spans}, {seedRange}{(seeds is null ? string.Empty : " (mean ± 95%)")}");
        if (stopped is not null)
        {
            console.WriteLine(stopped);
        }

        var table = new FittedTable(TableShape.Pivot).Column("metric");
        foreach (var r in runs)
        {
            table.Column(r.Variant, Justify.Right);
        }

        void Row(string name, Func<int, string> cell)
        {
            var cells = new List<string> { name };
            for (var i = 0; i < runs.Count; i++)
            {
                cells.Add(cell(i));
            }

            table.Row([.. cells]);
        }

        if (shortest != longest)
        {
            Row("simulated", i =>
            {
                var least = Runs(i).Min(r => r.SimulatedNs);
                var most = Runs(i).Max(r => r.SimulatedNs);
                return least == most ? Ms(least) : Ms(least) + " to " + Ms(most);
            });
        }

        foreach (var metric in Metrics(everyRun))
        {
            if (metric.Key == "error_returns")
            {
                Row("signals", i => Tally(Runs(i).SelectMany(r => r.Signals.Select(kv => (kv.Key, (long)kv.Value))), ":"));
            }

            Row(metric.Name, i =>
            {
                // A latency of an empty sample is no number: "-", and over seeds the mean of those with samples.
                if (seeds is null)
                {
                    return metric.Pick(results[i]) is { } value ? metric.Show(value) : "-";
                }

                var values = seeds[i].Select(s => metric.Pick(s.Result)).OfType<double>().ToArray();
                if (values.Length == 0)
                {
                    return "-";
                }

                var (mean, ci) = MeanCi(values);
                var of = values.Length < seeds[i].Count ? string.Create(Inv, $" ({values.Length} of {seeds[i].Count} seeds)") : string.Empty;
                return metric.Show(mean) + " ± " + metric.Show(ci) + of;
            });
            if (metric.Key == "work_done")
            {
                // Not a mean: the latest finish when every seed's task finished.
                foreach (var t in results[0].Tasks)
                {
                    Row("finished: " + t.Name, i =>
                    {
                        var finished = Runs(i).Select(r => r.Task(t.Name).FinishedNs).ToList();
                        return finished.Any(f => f < 0) ? "-" : Ms(finished.Max()) + (seeds is null ? string.Empty : " (latest)");
                    });
                }
            }
        }

        // The outcome of each seed, counted: "running" for one seed, "running x5" for five.
        Row("guest outcome", i => seeds is null
            ? SimulationResult.OutcomeName(results[i].Outcome)
            : Tally(Runs(i).Select(r => (SimulationResult.OutcomeName(r.Outcome), 1L)), " x"));
        table.Write(console, width);
    }

    /// <summary>Totals by name over runs, such as "SIGBUS:3"; "-" for none.</summary>
    private static string Tally(IEnumerable<(string Name, long Count)> items, string separator)
    {
        var totals = items.GroupBy(x => x.Name, StringComparer.Ordinal).Select(g => g.Key + separator + g.Sum(x => x.Count).ToString(Inv)).ToList();
        return totals.Count == 0 ? "-" : string.Join(", ", totals);
    }

    private static string Count(double value) => value.ToString("N0", Inv);

    private static string Percent(double value) => string.Create(Inv, $"{value:F1}%");

    private static double Pct(long part, SimulationResult r)
    {
        return 100.0 * part / Math.Max(1, VcpuTimeFields.Total(r));
    }

    private static string Us(double ns) => string.Create(Inv, $"{ns / 1000.0:N1} us");

    private static string Ms(double ns) => string.Create(Inv, $"{ns / 1e6:N1} ms");

    /// <summary>
    /// Refuses <c>--seeds N</c> whose seeds, <paramref name="first"/> to <paramref name="first"/> + N - 1, pass the
    /// largest seed (<see cref="SeedOption.Largest"/>): the later seeds are made as
    /// <c>seed0 + i</c>, which wrapped to a negative seed, refused only after the first seed had run and blamed
    /// on a <c>--seed</c> the command line may not have given (the seed can come from the scenario file).
    /// </summary>
    private static void RefuseSeedsPastLargest(ulong first, int count)
    {
        var last = (ulong)SeedOption.Largest - (ulong)(count - 1);
        if (first > last)
        {
            throw new InputException(string.Create(
                Inv,
                $"--seeds: {count} seeds from seed {first} pass the largest seed, {SeedOption.Largest}; start at seed {last} or below (--seed)"));
        }
    }

    /// <summary>
    /// Refuses a protocol entry's <c>seed</c> or <c>duration</c>: entry knobs are applied after <c>--seed</c> and
    /// <c>--duration</c>, so the entry's would win over the options silently. The error names the entry.
    /// </summary>
    private static void RefuseSeedAndDuration(IEnumerable<ProtocolEntry> entries, string seedProblem, string durationProblem) =>
        Overrides.RefuseKeys(entries.SelectMany(e => e.Overrides), ("seed", seedProblem), ("duration", durationProblem));

    /// <summary>
    /// Says on standard error what preparing the runs noted (a file's knob no protocol of the command reads), each
    /// note once: compare's entries share the scenario, so each would repeat it.
    /// </summary>
    private static void WriteNotes(CliContext context, IEnumerable<PreparedRun> runs)
    {
        foreach (var note in runs.SelectMany(r => r.Notes).Distinct(StringComparer.Ordinal))
        {
            context.Error.WriteLine("vexlab: note: " + note);
        }
    }

    /// <summary>
    /// Prepares one compare entry; a rule the entry's own keys break across the scenario (its page size against the
    /// scenario's memory) is named at the scenario's key, so the error says which entry too.
    /// </summary>
    private static PreparedRun PrepareEntry(ScenarioDocument doc, string arg, ProtocolEntry entry, IReadOnlyList<Override> sets, IReadOnlyList<string> names)
    {
        try
        {
            return ScenarioRunner.Prepare(doc, arg, entry, sets, names);
        }
        catch (InputException e) when (entry.Overrides.Count > 0 && !e.Message.StartsWith("--protocols ", StringComparison.Ordinal))
        {
            throw e.Within("under the --protocols entry " + entry.Label);
        }
    }
}
