using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Checking;
using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Values;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab check</c>: exhaustive search of a built-in model under a protocol.</summary>
public static class CheckCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string?>("FILE") { Description = "YAML model file to check (see docs/checking.md, \"Model files\")", Arity = ArgumentArity.ZeroOrOne };
        var builtin = new Option<string?>("--builtin") { Description = "Built-in model to check (see 'vexlab models list')", HelpName = "NAME" };
        var protocol = new Option<string?>("--protocol") { Description = ProtocolEntryHelp.Describe("the knobs in brackets are as if given with --set, after it (they win over a --set of the same knob, as in run and compare)"), HelpName = "P" };
        var property = new Option<string[]>("--property") { Description = "Check only this property (repeatable); default: all", HelpName = "NAME", AllowMultipleArgumentsPerToken = false };
        var set = new Option<string[]>("--set") { Description = "Override a knob (repeatable)", HelpName = "KEY=VALUE" };
        var maxStates = new Option<long?>("--max-states") { Description = "Stop after this many distinct states (default: 2^31 - 2; with --swarm, each member's, default 200000)", HelpName = "N" };
        var maxMemory = new Option<string?>("--max-memory", "--memory") { Description = "Hard memory bound of the search (table, parents, frontier, graph, buffers, fair-cycle search), e.g. 512M, 4G or 4GiB: at it the check stops with exit 3 (and a checkpoint with --checkpoint); default: half the memory", HelpName = "SIZE" };
        var spillDir = new Option<string?>("--spill-dir") { Description = "Folder for frontier spill files (default: the temporary folder)", HelpName = "DIR" };
        var maxSpill = new Option<string?>("--max-spill") { Description = "Disk budget of the frontier spill, e.g. 1G or 1GiB; default: half the free space of the spill folder", HelpName = "SIZE" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Write a checkpoint to DIR periodically and whenever the check stops early (limit, Ctrl-C, SIGTERM)", HelpName = "DIR" };
        var checkpointEvery = new Option<string?>("--checkpoint-every") { Description = "Interval of periodic checkpoints (with --checkpoint) [default: 10m]", HelpName = "DURATION" };
        var resume = new Option<string?>("--resume") { Description = "Continue from the checkpoint in DIR (same model, protocol, settings and properties)", HelpName = "DIR" };
        var maxDepth = new Option<int?>("--max-depth") { Description = "Do not expand states deeper than this", HelpName = "N" };
        var timeLimit = new Option<string?>("--time-limit") { Description = "Wall-clock limit, e.g. 30s, 5m (with --matrix: of each cell)", HelpName = "DURATION" };
        var fingerprintBits = new Option<int?>("--fingerprint-bits") { Description = "Fingerprint width, 64 or 128 (16 bytes a table slot; the reported collision probability follows) [default: 64]", HelpName = "BITS" };
        var compress = new Option<string?>("--compress") { Description = "State storage: none (whole 64/128-bit fingerprints, 8/16 bytes a slot) or compact (compact hashing: 60-bit fingerprints in 6 bytes a slot from 4M slots, the slot's position implying the bits it does not store; the collision probability follows; 64-bit only) [default: none]", HelpName = "none|compact" };
        var workers = new Option<int?>("--workers") { Description = "Worker threads, 1 to 1024 (default: the machine's processor count; results do not depend on it)", HelpName = "N" };
        var matrix = new Option<bool>("--matrix") { Description = "Check every built-in model (except bench) under every protocol" };
        var columns = new Option<string?>("--protocols") { Description = "With --matrix: the protocol entries to check, as for compare (e.g. 've,ve[guest.ve.info_store=args]')", HelpName = "LIST" };
        var markdown = new Option<bool>("--markdown") { Description = "With --matrix: print the verdicts as a Markdown table (the docs' tables are this output)" };
        var transpose = new Option<bool>("--transpose") { Description = "With --matrix: one row per protocol entry, one column per model" };
        var trace = new Option<string?>("--trace") { Description = "Write the first counterexample as replayable JSON", HelpName = "FILE" };
        var symmetry = new Option<bool>("--symmetry") { Description = "Store one state per orbit of interchangeable vCPUs (identical tasks pinned alike) and of tasks with the same program on one vCPU; safety, deadlock and liveness, counterexamples and lassos stay real traces; not with task migration" };
        var swarm = new Option<bool>("--swarm") { Description = "Swarm: many bounded random-order depth-first searches (seeds, depth bounds) instead of one exhaustive search; --max-states and --max-depth bound each member" };
        var members = new Option<int?>("--members") { Description = "With --swarm: members of the whole swarm [default: 16]", HelpName = "N" };
        var seed = SeedOption.Create("With --swarm: the swarm's seed [default: 1]", "S");
        var shard = new Option<string?>("--shard") { Description = "With --swarm: run only shard I of N of the members (I from 1 to N), as sweep run does", HelpName = "I/N" };
        var swarmMember = new Option<int?>("--swarm-member") { Description = "With --swarm: run only member K (a counterexample's replay line names it)", HelpName = "K" };
        var swarmMerge = new Option<string[]>("--swarm-merge") { Description = "Join the JSON results of a swarm's shards (check --swarm --shard I/N --json FILE): shortest counterexamples, coverage; a set with members missing is refused", HelpName = "FILE", AllowMultipleArgumentsPerToken = true };
        var allowPartial = new Option<bool>("--allow-partial") { Description = "With --swarm-merge: merge even when members of the swarm are missing (a shard not given or unfinished); its verdict is then what the shards show: a violation they found, a pass only where one of their members explored every reachable state, else incomplete" };
        var json = JsonTarget.CreateOption();
        var wide = TerminalWidth.CreateOption();
        var command = new Command("check", "Exhaustively check a built-in model or a model file under a protocol");
        command.Arguments.Add(file);
        foreach (var o in new Option[] { builtin, protocol, property, set, maxStates, maxMemory, spillDir, maxSpill, maxDepth, timeLimit, workers, fingerprintBits, compress, checkpoint, checkpointEvery, resume, matrix, columns, markdown, transpose, trace, symmetry, swarm, members, seed, shard, swarmMember, swarmMerge, allowPartial, json, wide })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            DistinctFiles.Require(
                [("model FILE", parse.GetValue(file)), .. (parse.GetValue(swarmMerge) ?? []).Select(f => ("shard", (string?)f))],
                [target.Output, ("--trace", parse.GetValue(trace))]);
            OutputKind.Refuse(parse, "--trace", parse.GetValue(trace), OutputKind.Counterexample);
            if (parse.GetValue(swarmMerge) is { Length: > 0 } shardFiles)
            {
                // The shards carry the model, protocol, knobs and bounds they ran with; any other option would be
                // silently ignored by the merge.
                var other = parse.FirstGiven(command.Options.Where(o => o != swarmMerge && o != allowPartial && o != json && o != wide));
                if (parse.GetValue(file) is not null || other is not null)
                {
                    throw new InputException($"--swarm-merge takes only the shards' JSON files (and --allow-partial, --json, --wide); got {(other is null ? "FILE " + Scenarios.ErrorText.Quote(parse.GetValue(file)!) : other.Name)}");
                }

                return CheckSwarm.Merge(context, target, shardFiles, parse.GetValue(allowPartial), GivenCommandLine.Replay(parse, json, wide));
            }

            if (parse.GetValue(allowPartial))
            {
                throw new InputException("--allow-partial goes with --swarm-merge: it merges a swarm's shards with members missing");
            }

            if (!parse.GetValue(swarm) && (parse.GetValue(members) is not null || parse.GetValue(seed) is not null || parse.GetValue(shard) is not null || parse.GetValue(swarmMember) is not null))
            {
                throw new InputException("--members, --seed, --shard and --swarm-member go with --swarm");
            }

            var options = new CheckerOptions();
            if (parse.GetValue(workers) is { } w)
            {
                // bench --checker takes the same range: beyond it a worker's buffers and threads cost more than any machine has cores.
                options.Workers = w is >= 1 and <= 1024 ? w : throw InputException.At(null, 0, 0, "--workers", string.Create(CultureInfo.InvariantCulture, $"expected a whole number from 1 to 1024, got {w}"));
            }

            if (parse.GetValue(fingerprintBits) is { } bits)
            {
                options.Fingerprint128 = bits switch
                {
                    64 => false,
                    128 => true,
                    _ => throw new InputException(string.Create(CultureInfo.InvariantCulture, $"--fingerprint-bits: expected one of 64, 128; got {bits}")),
                };
            }

            if (parse.GetValue(compress) is { } cz)
            {
                options.Compression = cz switch
                {
                    "none" => StateCompression.None,
                    "compact" => StateCompression.Compact,
                    _ => throw new InputException($"--compress: expected one of none, compact; got {Scenarios.ErrorText.Quote(cz)}"),
                };
                if (options.Compression == StateCompression.Compact && options.Fingerprint128)
                {
                    throw new InputException("--compress compact stores 60-bit fingerprints; it does not go with --fingerprint-bits 128");
                }
            }

            if (parse.GetValue(maxStates) is { } ms)
            {
                RefuseMaxStatesAboveMost(ms);
                options.MaxStates = ms;
            }

            if (parse.GetValue(maxDepth) is { } md)
            {
                options.MaxDepth = md;
            }

            if (parse.GetValue(maxMemory) is { } mem)
            {
                options.MaxMemoryBytes = ParseSize(mem, "--max-memory");
            }

            if (parse.GetValue(maxSpill) is { } spill)
            {
                options.MaxSpillBytes = ParseSize(spill, "--max-spill");
            }

            if (parse.GetValue(spillDir) is { } sd)
            {
                options.SpillDirectory = ExistingFolder(sd, "--spill-dir");
            }

            if (parse.GetValue(timeLimit) is { } tl)
            {
                options.TimeLimit = DurationOption.Parse(tl, "--time-limit");
            }

            // Checked now, created once the whole input has been read and found good.
            var checkpointFolder = parse.GetValue(checkpoint) is { } cp ? CheckFolderPath(cp, "--checkpoint") : null;

            if (parse.GetValue(checkpointEvery) is { } every)
            {
                options.CheckpointInterval = DurationOption.Parse(every, "--checkpoint-every");

                // Without a folder to write to the interval would be silently ignored (--resume only reads one).
                if (checkpointFolder is null)
                {
                    throw new InputException("--checkpoint-every goes with --checkpoint DIR: it sets how often the checkpoint is written there");
                }
            }

            if (parse.GetValue(resume) is { } rs)
            {
                options.ResumeDirectory = ExistingFolder(rs, "--resume");
            }

            var overrides = (parse.GetValue(set) ?? []).Select(t => ParseSetting(t)).ToList();
            // A knob set twice has no one meaning and the later one won unseen, into the check and its replay line; run
            // and compare refuse it by the same rule and in the same words.
            SimulationOptions.RequireOnce([.. overrides.Select(o => new Scenarios.Documents.Override
            {
                Key = o.Key,
                Value = o.Value,
                Origin = Scenarios.Documents.Overrides.SetOption,
                Text = o.Key + "=" + o.Value,
            })]);
            // A property named twice is checked once (MachineSystem selects by name): listed once in the result, its
            // replay line and the checkpoint's identity, which would otherwise differ from the same check's.
            var properties = (parse.GetValue(property) ?? []).Distinct(StringComparer.Ordinal).ToArray();
            var path = parse.GetValue(file);
            if (parse.GetValue(matrix))
            {
                if (path is not null)
                {
                    throw new InputException("--matrix checks the built-in models only; drop FILE");
                }

                if (parse.GetValue(symmetry))
                {
                    throw new InputException("--symmetry checks one model; drop --matrix");
                }

                // The matrix picks its own models and protocols, and runs no swarm, no resumed search and no
                // checkpoints (a cell stopped at a limit is reported incomplete): these would be silently ignored.
                if (parse.FirstGiven([builtin, protocol, swarm, resume, checkpoint]) is { } ignored)
                {
                    throw new InputException($"--matrix checks every built-in model under each --protocols entry; {ignored.Name} does not go with it");
                }

                if (parse.GetValue(trace) is not null)
                {
                    throw new InputException("--trace writes one check's first counterexample; drop --matrix, or check the model and protocol of a failing cell with --builtin and --protocol");
                }

                var entries = parse.GetValue(columns) is { } list
                    ? Scenarios.Documents.Overrides.ParseProtocols(list)
                        .Select(e => new MatrixColumn(e.Label, e.Protocol, EntryKnobs(e)))
                        .ToList()
                    : [.. ModelCheck.Protocols.Select(p => new MatrixColumn(p, p, []))];
                foreach (var e in entries)
                {
                    Model.Protocols.ProtocolCatalog.Create(e.Protocol, ThenEntryKnobs(overrides, [.. e.Overrides]), origin: "--protocols " + e.Label);
                }

                // The whole matrix's replay line (each row's JSON keeps its own cell's): how it is rendered
                // (--markdown, --transpose) does not change the result and is left out.
                var matrixReplay = MatrixReplay(parse.GetValue(columns), overrides, properties, options);
                return RunMatrix(context, target, entries, overrides, properties, options, matrixReplay, parse.GetValue(markdown), parse.GetValue(transpose), parse.GetValue(wide));
            }

            if (parse.GetValue(columns) is not null || parse.GetValue(markdown) || parse.GetValue(transpose))
            {
                throw new InputException("--protocols, --markdown and --transpose go with --matrix");
            }

            var model = parse.GetValue(builtin);
            if (model is not null && path is not null)
            {
                throw InputException.At(null, 0, 0, "--builtin", "give a model FILE or --builtin NAME, not both");
            }

            if (model is null && path is null)
            {
                throw new InputException("a model FILE or --builtin NAME is required (or --matrix); 'vexlab models list' lists the built-in models");
            }

            var entry = Scenarios.Documents.Overrides.ParseProtocol(
                parse.GetValue(protocol) ?? throw new InputException("--protocol is required: one of " + string.Join(", ", ModelCheck.Protocols)),
                "--protocol",
                "check --matrix --protocols LIST checks several");
            var proto = entry.Protocol;

            // As run does: a knob the protocol does not read would change nothing and be reported nowhere.
            foreach (var (key, _) in overrides)
            {
                Model.Protocols.KnobCatalog.RequireUsed(key, [proto], "--set");
            }

            // The entry's knobs are --set values written beside the protocol (a check --matrix row's label), applied
            // after the other --set values, as run and compare apply an entry's.
            overrides = ThenEntryKnobs(overrides, EntryKnobs(entry));

            CheckRequest request;
            if (path is not null)
            {
                BuiltinNameHint.RefuseBuiltinName(path, BuiltinModels.Names, "model");
                ModelFile modelFile;
                try
                {
                    modelFile = ModelFile.Load(path);
                }
                catch (InputException)
                {
                    OtherFileKind.RefuseOtherAsModel(path);
                    throw;
                }

                request = CheckRequest.ForFile(modelFile, proto, overrides, properties);
            }
            else
            {
                request = new CheckRequest(model!, proto, overrides, properties);
                BuiltinModels.Get(model!);
            }

            request = request with { Symmetry = parse.GetValue(symmetry) };
            if (parse.GetValue(swarm))
            {
                if (request.Symmetry || checkpointFolder is not null || options.ResumeDirectory is not null)
                {
                    throw new InputException("--swarm goes without --symmetry, --checkpoint and --resume");
                }

                // A member remembers --max-states states in a set of its own: the exhaustive search's table, memory
                // bound and spill do not exist there, and would be silently ignored.
                if (parse.FirstGiven([maxMemory, fingerprintBits, compress, maxSpill, spillDir]) is { } unused)
                {
                    throw new InputException($"--swarm bounds each member with --max-states and --max-depth; {unused.Name} sets the exhaustive search and does not go with it");
                }

                if (parse.GetValue(shard) is not null && parse.GetValue(swarmMember) is not null)
                {
                    throw new InputException("--swarm-member runs that one member, whatever the shard; drop --shard");
                }

                using (var built = ModelCheck.BuildSystem(request))
                {
                    // A member's search is partial and keeps no graph: it finds safety violations and dead ends, but
                    // proves no liveness property and finds no lasso. A liveness property asked for by name would be
                    // reported as passing unchecked.
                    if (properties.Length > 0 && built.LivenessProperties.Count > 0)
                    {
                        throw new InputException($"--swarm decides safety properties and no-deadlock only; {built.LivenessProperties[0]} is a liveness property: check it without --swarm");
                    }
                }

                var swarmShard = parse.GetValue(shard) is { } sh ? Results.Sweeps.Shard.Parse(sh) : Results.Sweeps.Shard.All;
                var swarmOptions = new Checking.Swarm.SwarmOptions
                {
                    Members = parse.GetValue(members) ?? 16,
                    Seed = (ulong)(parse.GetValue(seed) ?? 1),
                    ShardIndex = swarmShard.Index,
                    ShardCount = swarmShard.Count,
                    OnlyMember = parse.GetValue(swarmMember),
                    MaxDepth = parse.GetValue(maxDepth),
                    Workers = parse.GetValue(workers) ?? Environment.ProcessorCount,
                };
                if (parse.GetValue(maxStates) is { } perMember)
                {
                    swarmOptions = swarmOptions with { MaxStatesPerMember = perMember };
                }

                RefuseSwarmOptions(swarmOptions);

                return CheckSwarm.Run(context, target, request, swarmOptions, parse.GetValue(trace), options.TimeLimit);
            }

            // The whole input (model, protocol, knobs, properties) before any output exists.
            using (ModelCheck.BuildSystem(request))
            {
            }

            options.CheckpointDirectory = CreateFolder(checkpointFolder, "--checkpoint");

            // A resumed check's replay line is the check's own, from the start: the checkpoint folder may be gone.
            var replay = ModelCheck.ReplayCheck(request, ResultFlags(options));

            // On a terminal a live line; otherwise (a log) one line every 10 s.
            options.Progress = new Progress(context);
            options.ProgressInterval = context.ErrorIsTerminal ? TimeSpan.FromSeconds(1) : context.ProgressInterval;

            ModelCheckResult outcome;
            int? signalExit = null;
            string? signal = null;
            using (var interrupt = new Interruption())
            {
                options.CancellationToken = interrupt.Token;

                // The whole result's replay line first, as run's, once Ctrl-C is handled (a script waits for a first
                // line to know that) and the engine has taken the options and the checkpoint (a refused input is one
                // line): a check stopped by a signal or a limit has said how to rerun it.
                options.Started = () => ReplayLine.Write(context.Error, null, null, replay);
                outcome = Run(request, options);
                if (interrupt.Signalled && outcome.Result.StopReason == StopReason.Cancelled)
                {
                    signalExit = interrupt.ExitCode;
                    signal = interrupt.SignalName;
                    context.Error.WriteLine($"vexlab: check: stopped by {signal}; the result below covers the states explored so far");
                }
            }

            WriteHuman(context.HumanWriter(target), outcome, signal);
            WriteReplayLines(context.Error, outcome);
            WriteStopAdvice(context.Error, outcome.Result, signal);
            ResultDocument.Write(context, target, BuildDocument(outcome, replay, signal));
            if (parse.GetValue(trace) is { } traceFile)
            {
                if (outcome.Violations.Count > 0)
                {
                    WriteTrace(context, traceFile, outcome, outcome.Violations[0]);
                }
                else
                {
                    // Said, so that a script does not take a trace left from an earlier run for this one's.
                    context.Error.WriteLine($"vexlab: no counterexample, so no trace written to {traceFile}");
                }
            }

            return signalExit ?? ExitCode(outcome.Result);
        });
        return command;
    }

    internal static int ExitCode(CheckResult result) => result.StopReason == StopReason.Cancelled ? ExitCodes.Limit : result.Verdict switch
    {
        Verdict.Violation => ExitCodes.Found,
        Verdict.Incomplete => ExitCodes.Limit,
        _ => ExitCodes.Done,
    };

    private static ModelCheckResult Run(CheckRequest request, CheckerOptions options)
    {
        try
        {
            return ModelCheck.Run(request, options);
        }
        catch (CheckpointException e)
        {
            throw InputException.At(null, 0, 0, "--resume", e.Message);
        }
        catch (CheckerLimitException e)
        {
            // The engine names its options; people typed the command-line flags, and an option leads its message
            // ("--max-states: must allow the initial state"), as everywhere on the command line.
            var message = e.Message.Split(" (Parameter", 2)[0].TrimEnd('.');
            foreach (var (name, flag) in (ReadOnlySpan<(string, string)>)[("MaxMemoryBytes", "--max-memory"), ("MaxStates", "--max-states"), ("MaxDepth", "--max-depth")])
            {
                if (message.StartsWith(name + " ", StringComparison.Ordinal))
                {
                    throw InputException.At(null, 0, 0, flag, message[(name.Length + 1)..]);
                }
            }

            throw new InputException(message);
        }
    }

    /// <summary>One column of the matrix: a protocol entry as for <c>compare --protocols</c>.</summary>
    private sealed record MatrixColumn(string Label, string Protocol, IReadOnlyList<KeyValuePair<string, string>> Overrides);

    private static int RunMatrix(
        CliContext context,
        JsonTarget target,
        IReadOnlyList<MatrixColumn> entries,
        List<KeyValuePair<string, string>> overrides,
        string[] properties,
        CheckerOptions template,
        string replay,
        bool markdown,
        bool transpose,
        bool wide)
    {
        var models = BuiltinModels.All.Where(m => m.InMatrix).ToList();
        var rows = new JsonArray();

        // A cell left null never ran: a signal stopped the matrix before it.
        var cells = new string?[models.Count, entries.Count];
        // Each value that departs from KVM on x86, with the models whose cells ran with it, in first-seen order.
        var departures = new List<(KnobDeparture Departure, List<string> Models)>();
        // A violation in any cell is the matrix's exit 1, whatever cells a limit stopped: as a single check that finds
        // one before its limit exits 1, since a script that reads 3 as "no violation" would miss it (--max-states 100
        // found nmi-window's and trace-window's under kvm-pf and exited 3). Else a cell stopped at a limit is 3.
        var found = false;
        var limited = false;
        int? signalExit = null;
        string? signal = null;
        string? stoppedLine = null;

        // Ctrl-C and SIGTERM stop the cell that runs and start no other, as they stop a single check: the cells done
        // so far and the stopped one are the result, printed and written whole (a matrix used to die with nothing).
        using (var interrupt = new Interruption())
        {
            for (var mi = 0; mi < models.Count && signal is null; mi++)
            {
                var model = models[mi];
                for (var ci = 0; ci < entries.Count && signal is null; ci++)
                {
                    var entry = entries[ci];
                    var options = template.Copy();
                    options.CancellationToken = interrupt.Token;

                    // The whole matrix's replay line once the first cell's search has taken the options (a
                    // refused option, a --max-memory below the model's least, is one line) and Ctrl-C is handled.
                    options.Started = mi == 0 && ci == 0 ? () => ReplayLine.Write(context.Error, null, null, replay) : null;
                    var request = new CheckRequest(model.Name, entry.Protocol, ThenEntryKnobs(overrides, [.. entry.Overrides]), properties);
                    var outcome = Run(request, options);
                    var r = outcome.Result;
                    var cellSignal = interrupt.Signalled && r.StopReason == StopReason.Cancelled ? interrupt.SignalName : null;
                    var violated = r.Violations.Select(v => v.Property).ToList();
                    cells[mi, ci] = CellText(r, violated);
                    found |= ExitCode(r) == ExitCodes.Found;
                    limited |= ExitCode(r) == ExitCodes.Limit;
                    foreach (var d in KnobCatalog.Departures(outcome.Knobs))
                    {
                        var i = departures.FindIndex(x => x.Departure == d);
                        if (i < 0)
                        {
                            departures.Add((d, [model.Name]));
                        }
                        else if (!departures[i].Models.Contains(model.Name))
                        {
                            departures[i].Models.Add(model.Name);
                        }
                    }

                    rows.Add(new JsonObject
                    {
                        ["model"] = model.Name,
                        ["protocol"] = entry.Label,
                        ["departures"] = DeparturesNode(outcome.Knobs),
                        ["verdict"] = VerdictName(r.Verdict),
                        ["states"] = r.States,
                        ["violated"] = new JsonArray([.. violated.Select(v => (JsonNode)v)]),
                        ["complete"] = r.Complete,
                        ["stop_reason"] = StopReasonName(r.StopReason, cellSignal),
                        ["replay"] = ModelCheck.ReplayCheck(request, ResultFlags(options)),
                    });
                    if (cellSignal is not null)
                    {
                        signal = cellSignal;
                        signalExit = interrupt.ExitCode;
                        var neverRan = (models.Count * entries.Count) - rows.Count;
                        stoppedLine = string.Create(
                            CultureInfo.InvariantCulture,
                            $"stopped by {signal}: {model.Name} under {entry.Label} at {r.States:N0} states{(neverRan == 0 ? string.Empty : $"; never ran: {neverRan:N0} cells, marked not run")}");
                        context.Error.WriteLine($"vexlab: check --matrix: stopped by {signal} in {model.Name} under {entry.Label}; the result below covers the cells checked so far");
                    }
                }
            }
        }

        // The cells a signal left unstarted, in the order they would have run: with the matrix's rows, every cell.
        var notRun = new JsonArray();
        for (var mi = 0; mi < models.Count; mi++)
        {
            for (var ci = 0; ci < entries.Count; ci++)
            {
                if (cells[mi, ci] is null)
                {
                    cells[mi, ci] = "not run";
                    notRun.Add(new JsonObject { ["model"] = models[mi].Name, ["protocol"] = entries[ci].Label });
                }
            }
        }

        // One grid, two renderings: the docs paste the Markdown one.
        var corner = transpose ? "protocol" : "model";
        var header = transpose ? models.Select(m => m.Name).ToList() : entries.Select(e => e.Label).ToList();
        var lines = new List<List<string>>();
        var outer = transpose ? entries.Count : models.Count;
        var inner = transpose ? models.Count : entries.Count;
        for (var i = 0; i < outer; i++)
        {
            var line = new List<string> { transpose ? entries[i].Label : models[i].Name };
            for (var j = 0; j < inner; j++)
            {
                line.Add((transpose ? cells[j, i] : cells[i, j])!);
            }

            lines.Add(line);
        }

        if (markdown)
        {
            var w = context.HumanWriter(target);

            // Above the table, as compare's heading says its stop; a blank line keeps it out of the table.
            if (stoppedLine is not null)
            {
                w.WriteLine(stoppedLine);
                w.WriteLine();
            }

            w.WriteLine("| " + string.Join(" | ", [corner, .. header]) + " |");
            w.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", header.Count + 1)));
            foreach (var line in lines)
            {
                w.WriteLine("| " + string.Join(" | ", line) + " |");
            }
        }
        else
        {
            var table = new FittedTable(TableShape.Pivot, "Verdicts (violated properties)").Column(corner);
            foreach (var h in header)
            {
                table.Column(h);
            }

            foreach (var line in lines)
            {
                table.Row([.. line]);
            }

            var human = context.Human(target);
            var width = context.TableWidth(human, wide);
            if (stoppedLine is not null)
            {
                TerminalWidth.WrapText(human, width, () => human.WriteLine(stoppedLine));
            }

            table.Write(human, width);

            // A verdict under a value no x86 host runs with is a possible execution only of a host that does
            // what it says; the lines wrap at the table's width, as the text around other tables does.
            TerminalWidth.WrapText(human, width, () =>
            {
                foreach (var (d, names) in departures)
                {
                    human.WriteLine(DepartureLine(d, names));
                }
            });
        }

        // In Markdown a line right after the table would be read as one more row: a blank line, then a list.
        if (markdown && departures.Count > 0)
        {
            var w = context.HumanWriter(target);
            w.WriteLine();
            foreach (var (d, names) in departures)
            {
                w.WriteLine("- " + DepartureLine(d, names));
            }
        }

        var doc = ResultDocument.Create();

        // As a single check's "complete": every cell ran and reached its verdict (none stopped at a limit or a signal).
        doc["complete"] = notRun.Count == 0 && rows.All(row => row!["complete"]!.GetValue<bool>());

        // Why the matrix stopped before its last cell, as compare's stop_reason: a signal, or null when every cell
        // ran (each cell's own stop_reason says why its search ended).
        doc["stop_reason"] = signal is null ? null : StopReasonName(StopReason.Cancelled, signal);
        doc["not_run"] = notRun;

        // Every result carries its seed and replay line: the matrix's is the whole grid's command, and the
        // exhaustive search has no seed.
        doc["replay"] = replay;
        doc["seed"] = null;
        doc["matrix"] = rows;
        ResultDocument.Write(context, target, doc);
        return signalExit ?? (found ? ExitCodes.Found : limited ? ExitCodes.Limit : ExitCodes.Done);
    }

    /// <summary>
    /// A matrix cell: pass, the violated properties, or incomplete. A cell stopped before its verdict says so after the
    /// properties it found (as a single check's "violation (stopped at --max-states)"): with --max-states 1000 the
    /// reenable/kvm-pf cell read "one-node-per-token", as if that were the whole verdict, where the complete check
    /// also finds no-stale-dummies.
    /// </summary>
    private static string CellText(CheckResult r, List<string> violated) => r.Verdict switch
    {
        Verdict.Pass => "pass",
        Verdict.Violation => string.Join(", ", violated) + (r.Complete ? string.Empty : " (incomplete)"),
        _ => "incomplete" + (violated.Count > 0 ? ": " + string.Join(", ", violated) : string.Empty),
    };

    /// <summary>
    /// The command that reruns the whole matrix: its entries, knobs, properties and the options that change a cell's
    /// result, each a shell word.
    /// </summary>
    private static string MatrixReplay(string? columns, List<KeyValuePair<string, string>> overrides, string[] properties, CheckerOptions options)
    {
        var parts = new List<string> { "vexlab check --matrix" };
        if (columns is not null)
        {
            parts.AddRange(["--protocols", Scenarios.ShellWord.Of(columns)]);
        }

        foreach (var (key, value) in overrides)
        {
            parts.AddRange(["--set", Scenarios.ShellWord.Of(key + "=" + value)]);
        }

        foreach (var p in properties)
        {
            parts.AddRange(["--property", Scenarios.ShellWord.Of(p)]);
        }

        parts.AddRange(ResultFlags(options));
        return string.Join(' ', parts);
    }

    internal static string VerdictName(Verdict v) => v switch
    {
        Verdict.Pass => "pass",
        Verdict.Violation => "violation",
        _ => "incomplete",
    };

    /// <summary>"vCPUs {0,1}", "tasks {a,b}", or both: the classes whose members are interchangeable.</summary>
    private static string SymmetryClassesText(SymmetryReport sym)
    {
        var parts = new List<string>();
        if (sym.Classes.Count > 0)
        {
            parts.Add("vCPUs " + string.Join(" ", sym.Classes.Select(c => "{" + string.Join(",", c) + "}")));
        }

        if (sym.TaskClasses.Count > 0)
        {
            parts.Add("tasks " + string.Join(" ", sym.TaskClasses.Select(c => "{" + string.Join(",", c) + "}")));
        }

        return string.Join(" and ", parts);
    }

    private static void WriteHuman(TextWriter w, ModelCheckResult outcome, string? signal = null)
    {
        var r = outcome.Result;
        var req = outcome.Request;
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(inv, $"model {req.Model} under {req.Protocol}{KnobText(outcome)}"));
        foreach (var d in KnobCatalog.Departures(outcome.Knobs))
        {
            w.WriteLine(DepartureLine(d));
        }

        w.WriteLine(string.Create(inv, $"verdict: {VerdictName(r.Verdict)} ({StopText(r.StopReason, signal)})"));
        w.WriteLine(string.Create(inv, $"states: {r.States:N0}  transitions: {r.Transitions:N0}  depth: {r.Depth:N0}  bytes/state: {r.BytesPerState:F1}  collision probability: {r.CollisionProbability:E1}"));
        w.WriteLine(string.Create(inv, $"time: {r.Elapsed.TotalSeconds:F2} s ({r.States / Math.Max(1e-9, r.Elapsed.TotalSeconds):N0} states/s)"));
        var taken = r.Coverage.Where(c => c.Transitions > 0).Select(c => string.Create(inv, $"{c.Kind} {c.Transitions:N0} ({c.NewStates:N0} new)")).ToList();

        // A check stopped at the initial state (--max-depth 0) took no transition: say so rather than print nothing.
        w.WriteLine("coverage: " + (taken.Count > 0 ? string.Join(", ", taken) : "no transition taken"));
        if (outcome.Symmetry is { } sym)
        {
            w.WriteLine(sym.Unavailable is { } why
                ? "symmetry: none (" + why + "); every state stored"
                : string.Create(inv, $"symmetry: {SymmetryClassesText(sym)} interchangeable ({sym.Order:N0} permutations), host work items sorted: one state stored per orbit"));
            if (sym.LivenessNotChecked.Count > 0)
            {
                w.WriteLine("symmetry: liveness not checked (" + string.Join(", ", sym.LivenessNotChecked) + "); run without --symmetry for it");
            }
        }

        foreach (var note in r.Notes)
        {
            w.WriteLine("note: " + note);
        }

        foreach (var v in outcome.Violations)
        {
            w.WriteLine();
            var kind = v.Violation.Kind == ViolationKind.Lasso ? "lasso" : "safety";
            w.WriteLine(string.Create(inv, $"VIOLATION {v.Violation.Property} ({kind}, {v.Steps.Count:N0} steps)"));
            TraceDescriber.Write(w, v.Steps, v.Violation.Kind == ViolationKind.Lasso ? v.Violation.LoopStart : -1);
        }
    }

    /// <summary>
    /// One replay line per counterexample, on stderr as run's and compare's: standard output holds the report or the
    /// JSON document alone. The exhaustive search has no seed to give.
    /// </summary>
    private static void WriteReplayLines(TextWriter error, ModelCheckResult outcome)
    {
        foreach (var v in outcome.Violations)
        {
            ReplayLine.Write(error, v.Violation.Property, null, v.Replay);
        }
    }

    private static string KnobText(ModelCheckResult outcome) =>
        outcome.Knobs.Count == 0 ? string.Empty : " [" + string.Join(", ", outcome.Knobs.Select(k => k.Key + "=" + k.Value)) + "]";

    /// <summary>Why the search stopped, for people; <paramref name="signal"/> names the signal that cancelled it.</summary>
    private static string StopText(StopReason reason, string? signal = null) => reason switch
    {
        StopReason.Exhausted => "every reachable state explored",
        StopReason.AllPropertiesDecided => "every property decided",
        StopReason.MaxStates => "stopped at --max-states",
        StopReason.MaxMemory => "stopped at --max-memory",
        StopReason.MaxDepth => "stopped at --max-depth",
        StopReason.TimeLimit => "stopped at --time-limit",
        StopReason.MaxSpill => "stopped at --max-spill",
        _ => signal is null ? "cancelled" : "stopped by " + signal,
    };

    /// <summary>
    /// The JSON's <c>stop_reason</c>: the engine's reason in the kebab-case of the JSON's other values (<c>verdict</c>'s
    /// <c>incomplete</c>, <c>compression</c>'s <c>none</c>) and of the flag that set a limit (<c>max-states</c> for
    /// --max-states), except that a search cancelled by a signal says which: <c>interrupted</c> (SIGINT, Ctrl-C, exit
    /// 130) or <c>terminated</c> (SIGTERM, exit 143), as run's and compare's <c>stop_reason</c> do.
    /// <c>cancelled</c> is left for a cancellation without a signal, which the command line does not make.
    /// </summary>
    internal static string StopReasonName(StopReason reason, string? signal) => (reason, signal) switch
    {
        (StopReason.Cancelled, "SIGINT") => StopReasons.Interrupted,
        (StopReason.Cancelled, "SIGTERM") => StopReasons.Terminated,
        (StopReason.Exhausted, _) => "exhausted",
        (StopReason.AllPropertiesDecided, _) => "all-properties-decided",
        (StopReason.MaxStates, _) => "max-states",
        (StopReason.MaxMemory, _) => "max-memory",
        (StopReason.MaxDepth, _) => "max-depth",
        (StopReason.TimeLimit, _) => StopReasons.TimeLimit,
        (StopReason.MaxSpill, _) => "max-spill",
        _ => "cancelled",
    };

    /// <summary>
    /// The options that change a check's result, as flags: the state and depth bounds, the fingerprint width and the
    /// compression. The wall clock and memory bounds are left out: where they stop a check depends on the machine.
    /// </summary>
    internal static List<string> ResultFlags(CheckerOptions options)
    {
        var flags = new List<string>();
        var defaults = new CheckerOptions();
        if (options.MaxStates != defaults.MaxStates)
        {
            flags.AddRange(["--max-states", options.MaxStates.ToString(CultureInfo.InvariantCulture)]);
        }

        if (options.MaxDepth != defaults.MaxDepth)
        {
            flags.AddRange(["--max-depth", options.MaxDepth.ToString(CultureInfo.InvariantCulture)]);
        }

        if (options.Fingerprint128)
        {
            flags.AddRange(["--fingerprint-bits", "128"]);
        }

        if (options.Compression == StateCompression.Compact)
        {
            flags.AddRange(["--compress", "compact"]);
        }

        return flags;
    }

    internal static JsonObject BuildDocument(ModelCheckResult outcome, string replay, string? signal = null)
    {
        var r = outcome.Result;
        var doc = ResultDocument.Create();
        doc["model"] = outcome.Request.Model;
        if (outcome.Request.File is { } modelFile)
        {
            doc["model_file"] = modelFile.Path;
        }

        doc["protocol"] = outcome.Request.Protocol;
        doc["knobs"] = KnobsNode(outcome);
        doc["departures"] = DeparturesNode(outcome.Knobs);
        doc["bounds"] = BoundsNode(outcome.Config);
        doc["properties"] = new JsonArray([
            .. outcome.Request.Properties.Count == 0
                ? MachineSystem.AllPropertyNames.Concat(outcome.Request.File?.Invariants.Select(i => i.Name) ?? []).Select(p => (JsonNode)p)
                : outcome.Request.Properties.Select(p => (JsonNode)p)]);
        doc["replay"] = replay;

        // Every result carries its seed beside its replay line; the exhaustive search draws nothing at random, so it
        // has none (null), where a swarm's is its --seed.
        doc["seed"] = null;
        if (outcome.Symmetry is { } sym)
        {
            doc["symmetry"] = new JsonObject
            {
                ["vcpu_classes"] = new JsonArray([.. sym.Classes.Select(c => (JsonNode)new JsonArray([.. c.Select(v => (JsonNode)v)]))]),
                ["task_classes"] = new JsonArray([.. sym.TaskClasses.Select(c => (JsonNode)new JsonArray([.. c.Select(t => (JsonNode)t)]))]),
                ["group_order"] = sym.Order,
                ["unavailable"] = sym.Unavailable,
                ["liveness_not_checked"] = new JsonArray([.. sym.LivenessNotChecked.Select(p => (JsonNode)p)]),
            };
        }

        doc["verdict"] = VerdictName(r.Verdict);
        doc["complete"] = r.Complete;
        doc["stop_reason"] = StopReasonName(r.StopReason, signal);
        if (r.Checkpoint is { } checkpointFolder)
        {
            doc["checkpoint"] = checkpointFolder;
        }

        doc["states"] = r.States;
        doc["transitions"] = r.Transitions;
        doc["depth"] = r.Depth;
        doc["bytes_per_state"] = Math.Round(r.BytesPerState, 2);
        doc["frontier_peak_bytes"] = r.FrontierPeakBytes;
        doc["fingerprint_bits"] = r.FingerprintBits;
        doc["compression"] = r.Compression == StateCompression.Compact ? "compact" : "none";
        doc["collision_probability"] = r.CollisionProbability;
        doc["liveness_incomplete"] = r.LivenessIncomplete;
        var coverage = new JsonObject();
        foreach (var c in r.Coverage)
        {
            coverage[c.Kind] = new JsonObject { ["transitions"] = c.Transitions, ["new_states"] = c.NewStates };
        }

        doc["coverage"] = coverage;
        var violations = new JsonArray();
        foreach (var v in outcome.Violations)
        {
            violations.Add(ViolationNode(v));
        }

        doc["violations"] = violations;
        doc["notes"] = new JsonArray([.. r.Notes.Select(n => (JsonNode)n)]);
        var seconds = Math.Max(1e-9, r.Elapsed.TotalSeconds);
        doc["timing"] = new JsonObject
        {
            ["elapsed_s"] = Math.Round(r.Elapsed.TotalSeconds, 3),
            ["states_per_sec"] = Math.Round(r.States / seconds),
            ["transitions_per_sec"] = Math.Round(r.Transitions / seconds),
            ["peak_rss_bytes"] = PeakResidentBytes(),
        };
        return doc;
    }

    /// <summary>A counterexample as the JSON results carry it: property, kind, the described steps and the replay line.</summary>
    internal static JsonObject ViolationNode(DescribedViolation v)
    {
        var steps = new JsonArray();
        foreach (var s in v.Steps)
        {
            steps.Add(new JsonObject
            {
                ["step"] = s.Number,
                ["action"] = s.Action,
                ["text"] = s.Text,
                ["events"] = new JsonArray([.. s.Events.Select(e => (JsonNode)e)]),
                ["changes"] = new JsonArray([.. s.Changes.Select(e => (JsonNode)e)]),
                ["loop"] = s.InLoop,
            });
        }

        return new JsonObject
        {
            ["property"] = v.Violation.Property,
            ["kind"] = v.Violation.Kind == ViolationKind.Lasso ? "lasso" : "safety",
            ["loop_start"] = v.Violation.Kind == ViolationKind.Lasso ? v.Violation.LoopStart : null,
            ["trace"] = steps,
            ["replay"] = v.Replay,
        };
    }

    private static JsonObject KnobsNode(ModelCheckResult outcome) => KnobsNode(outcome.Config);

    /// <summary>
    /// The line that names a knob value no KVM host on x86 runs with, under a check's model line (or, with the models
    /// whose cells ran with it, under the matrix).
    /// </summary>
    internal static string DepartureLine(KnobDeparture d, IReadOnlyList<string>? models = null) =>
        $"not KVM on x86: {d.Key}={d.Value}{(models is null ? string.Empty : " (" + string.Join(", ", models) + ")")}: {d.Why}";

    /// <summary>The knob values no KVM host on x86 runs with, each with what it changes.</summary>
    internal static JsonArray DeparturesNode(IReadOnlyDictionary<string, string> knobs) =>
        new([.. KnobCatalog.Departures(knobs).Select(d => (JsonNode)new JsonObject { ["knob"] = d.Key, ["value"] = d.Value, ["why"] = d.Why })]);

    internal static JsonObject KnobsNode(MachineConfig config)
    {
        var knobs = new JsonObject();
        foreach (var (k, v) in config.Protocol.Knobs.Overrides)
        {
            knobs[k] = v;
        }

        return knobs;
    }

    internal static JsonObject BoundsNode(MachineConfig c) => new()
    {
        ["vcpus"] = c.Vcpus,
        ["tasks"] = c.Tasks.Count,
        ["pages"] = c.Pages,
        ["nmis"] = c.Bounds.Nmis,
        ["ticks"] = c.Bounds.Ticks,
        ["truncations"] = c.Bounds.Truncations,
        ["reenables"] = c.Bounds.Reenables,
        ["smis"] = c.Bounds.Smis,
        ["inits"] = c.Bounds.Inits,
        ["teardowns"] = c.Bounds.Teardowns,
        ["migrations"] = c.Bounds.Migrations,
        ["host_exits"] = c.Bounds.HostExits,
    };

    private static void WriteTrace(CliContext context, string file, ModelCheckResult outcome, DescribedViolation v) =>
        WriteTrace(context, file, outcome.Request, outcome.Config, v);

    /// <summary>
    /// Writes <paramref name="v"/> as a counterexample file that <c>vexlab replay</c> runs, with the seed of the search
    /// that found it beside its replay line (<paramref name="seed"/>: a swarm's; null for the exhaustive search, which
    /// draws nothing at random).
    /// </summary>
    internal static void WriteTrace(CliContext context, string file, CheckRequest request, MachineConfig config, DescribedViolation v, ulong? seed = null)
    {
        var doc = ResultDocument.Create();
        doc["model"] = request.Model;
        if (request.File is { } modelFile)
        {
            doc["model_file"] = modelFile.Path;
            doc["model_source"] = modelFile.Source;
        }

        doc["protocol"] = request.Protocol;
        doc["knobs"] = KnobsNode(config);
        doc["overrides"] = new JsonArray([.. request.Overrides.Select(kv => (JsonNode)(kv.Key + "=" + kv.Value))]);
        doc["bounds"] = BoundsNode(config);
        doc["property"] = v.Violation.Property;
        doc["kind"] = v.Violation.Kind == ViolationKind.Lasso ? "lasso" : "safety";
        doc["loop_start"] = v.Violation.Kind == ViolationKind.Lasso ? v.Violation.LoopStart : null;
        doc["actions"] = new JsonArray([.. v.Violation.Actions.Select(a => (JsonNode)(uint)a)]);
        doc["seed"] = seed;
        doc["replay"] = v.Replay;

        // Named as the check before the work names it (UsageErrors' "trace"): a full disk under the trace was said to
        // be the JSON result's.
        ResultDocument.Write(context, new JsonTarget(true, file), doc, "trace");
    }

    private static KeyValuePair<string, string> ParseSetting(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw InputException.At(null, 0, 0, "--set", $"expected key=value such as host.apf.token_never_zero=false, got {Scenarios.ErrorText.Quote(text)}");
        }

        var key = text[..eq].Trim();
        RequireModelKey(key, "--set");
        return new(key, text[(eq + 1)..].Trim());
    }

    /// <summary>
    /// Refuses a <c>--max-states</c> above what the engine numbers, for check and bench --checker alike: the engine numbers
    /// states with 31-bit ids, so a larger bound was capped in silence while the replay line and the JSON echoed the
    /// number given.
    /// </summary>
    internal static void RefuseMaxStatesAboveMost(long maxStates)
    {
        var most = new CheckerOptions().MaxStates;
        if (maxStates > most)
        {
            throw InputException.At(null, 0, 0, "--max-states", string.Create(CultureInfo.InvariantCulture, $"at most {most} (2^31 - 2, the most states a check numbers), got {maxStates}"));
        }
    }

    /// <summary>
    /// The <c>--set</c> values, then a protocol entry's knobs, which win over a <c>--set</c> of the same knob: the entry is
    /// the more particular of the two (one column of a matrix, where <c>--set</c> is every column's), and run and compare
    /// apply an entry's keys after <c>--set</c> too. A knob set in both is listed once, so the replay line sets it once.
    /// </summary>
    private static List<KeyValuePair<string, string>> ThenEntryKnobs(List<KeyValuePair<string, string>> overrides, List<KeyValuePair<string, string>> entryKnobs)
    {
        var knobs = overrides.Where(o => !entryKnobs.Exists(e => string.Equals(e.Key, o.Key, StringComparison.Ordinal))).ToList();
        knobs.AddRange(entryKnobs);
        return knobs;
    }

    /// <summary>
    /// The knobs of a <c>--protocol</c> entry (<c>ve[guest.ve.clear_busy=after-hypercall]</c>), refused as
    /// <c>--set</c> refuses them (a simulator key, an unknown knob, a bad value), each naming the entry.
    /// </summary>
    private static List<KeyValuePair<string, string>> EntryKnobs(Scenarios.Documents.ProtocolEntry entry)
    {
        var knobs = new List<KeyValuePair<string, string>>();
        foreach (var o in entry.Overrides)
        {
            RequireModelKey(o.Key, o.Origin);
            KeyValuePair<string, string> knob = new(o.Key, o.Value);
            Model.Protocols.KnobSet.Create(entry.Protocol, [knob], o.Origin);
            knobs.Add(knob);
        }

        return knobs;
    }

    /// <summary>
    /// Refuses a simulator key where a model knob goes. A cost or another simulator key times a run; the checker's
    /// states have no clock, so it would change nothing here. Said as such rather than "unknown knob", which left the
    /// key's right place to be guessed; the command named takes the key (<see cref="ReplaySettings.Takes"/>), so the
    /// advice is not refused in turn.
    /// </summary>
    private static void RequireModelKey(string key, string origin)
    {
        if (Model.Protocols.KnobCatalog.Find(key) is null && Simulation.Scenarios.ScenarioSchema.Instance.TryGetKey(key, out _))
        {
            var where = ReplaySettings.Takes(key)
                ? "vexlab replay --set takes it for a counterexample (check --trace FILE), vexlab run --set for a scenario"
                : "vexlab run --set takes it for a scenario (a counterexample's replay does not: the model sets its machine, its steps the time of every event)";
            throw InputException.At(null, 0, 0, origin, $"{key}: a simulator key, not a model knob (the checked model sets its machine, and its states have no clock); {where}");
        }
    }

    /// <summary>
    /// A size option: the units of scenario files (4GiB, 512MiB, 1.5GB: KB, MB and GB are decimal) and, as GNU tools
    /// and this option always took them, a bare K, M, G or T for KiB, MiB, GiB or TiB (512M, 4G); 1 byte to 2^62.
    /// </summary>
    internal static long ParseSize(string text, string flag)
    {
        var t = text.Trim();
        if (t.Length > 1 && char.IsAsciiDigit(t[^2]) && "kKmMgGtT".Contains(t[^1], StringComparison.Ordinal))
        {
            t = string.Concat(t.AsSpan(0, t.Length - 1), char.ToUpperInvariant(t[^1]) == 'K' ? "KiB" : char.ToUpperInvariant(t[^1]) + "iB");
        }

        var parsed = ScalarParsers.ParseSize(t);
        if (!parsed.IsOk || parsed.Value <= 0 || parsed.Value > 1L << 62)
        {
            throw InputException.At(null, 0, 0, flag, $"expected a size from 1 byte to 4096PiB (2^62 bytes) such as 512M, 4G or 4GiB (units B, KiB, MiB, GiB, TiB, PiB, KB, MB, GB, TB, PB; K, M, G, T for KiB to TiB), got {Scenarios.ErrorText.Quote(text)}");
        }

        return parsed.Value;
    }

    private static string ExistingFolder(string path, string flag)
    {
        if (path.Length == 0 || !Directory.Exists(path))
        {
            throw InputException.At(null, 0, 0, flag, FileOnPath(path) is { } file
                ? $"{Scenarios.ErrorText.Quote(file)} is a file, not a folder"
                : $"no such folder {Scenarios.ErrorText.Quote(path)}");
        }

        return path;
    }

    /// <summary>The path itself or the first of its parents that is a regular file, which no folder can be under.</summary>
    private static string? FileOnPath(string path)
    {
        for (var at = path; !string.IsNullOrEmpty(at); at = Path.GetDirectoryName(at))
        {
            if (File.Exists(at))
            {
                return at;
            }
        }

        return null;
    }

    /// <summary>Refuses, before any work, a checkpoint path that cannot be a folder: empty, '-', a file, or under a folder that does not exist.</summary>
    private static string CheckFolderPath(string path, string flag)
    {
        // As for every output but --json: '-' would be a folder named '-' in the current one.
        if (path == "-")
        {
            throw InputException.At(null, 0, 0, flag, "'-' (standard output) goes with --json only; give a folder name");
        }

        if (path.Length == 0 || File.Exists(path))
        {
            throw InputException.At(null, 0, 0, flag, $"expected a folder, got {(path.Length == 0 ? "an empty path" : "the file " + Scenarios.ErrorText.Quote(path))}");
        }

        // The checkpoint folder is created, but not the folders above it: as --json and --trace refuse a file in a
        // folder that does not exist, a typo (/nonexistent/ck) is refused rather than made into a tree of folders.
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        if (parent is not null && !Directory.Exists(parent))
        {
            throw InputException.At(null, 0, 0, flag, FileOnPath(parent) is { } file
                ? $"cannot create the folder {Scenarios.ErrorText.Quote(path)}: {Scenarios.ErrorText.Quote(file)} is a file, not a folder"
                : $"cannot create the folder {Scenarios.ErrorText.Quote(path)}: the folder {Scenarios.ErrorText.Quote(parent)} does not exist");
        }

        return path;
    }

    /// <summary>One line for the first swarm option out of range, naming it and its value.</summary>
    private static void RefuseSwarmOptions(Checking.Swarm.SwarmOptions swarm)
    {
        string? error = swarm switch
        {
            { Members: < 1 } => $"--members: must be at least 1, got {swarm.Members}",
            { Members: > Checking.Swarm.SwarmOptions.MaxMembers } => string.Create(
                CultureInfo.InvariantCulture,
                $"--members: must be at most {Checking.Swarm.SwarmOptions.MaxMembers:N0} (a result lists every member that ran, and a merge holds every shard's: 1,000 shards of 1,000 members), got {swarm.Members}"),
            { OnlyMember: { } k } when k < 0 || k >= swarm.Members => $"--swarm-member: must be from 0 to {swarm.Members - 1} (members are numbered from 0 below --members {swarm.Members}), got {k}",
            { MaxDepth: < 1 } => $"--max-depth: must be at least 1 with --swarm, got {swarm.MaxDepth}",
            { MaxStatesPerMember: < 1 } => $"--max-states: must be at least 1 with --swarm, got {swarm.MaxStatesPerMember}",

            // Shard I of N runs the members m with m % N == I - 1: none when I - 1 is not below --members.
            { ShardIndex: var i, ShardCount: > 1 } when i > swarm.Members => $"--shard: shard {i}/{swarm.ShardCount} holds no member of --members {swarm.Members} (members m with m % {swarm.ShardCount} == {i - 1}); use at most {swarm.Members} shards",
            _ => null,
        };
        if (error is not null)
        {
            throw new InputException(error);
        }
    }

    /// <summary>Creates the checkpoint folder once the input is known good, so a bad path still fails before the work.</summary>
    private static string? CreateFolder(string? path, string flag)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw InputException.At(null, 0, 0, flag, FileOnPath(path) is { } file
                ? $"cannot create the folder {Scenarios.ErrorText.Quote(path)}: {Scenarios.ErrorText.Quote(file)} is a file, not a folder"
                : $"cannot create the folder {Scenarios.ErrorText.Quote(path)} ({e.Message})");
        }

        return path;
    }

    internal static void WriteStopAdvice(TextWriter error, CheckResult r, string? signal = null)
    {
        // A depth bound is a limit as the others are: the level at the bound is kept in a checkpoint and a deeper bound
        // resumes it (b885afb), so a stop there says how to keep the work, as a stop at --max-states does.
        if (r.Complete)
        {
            return;
        }

        if (r.StopReason is StopReason.Exhausted or StopReason.AllPropertiesDecided)
        {
            // Every state was explored, but the liveness graph or the fair-cycle search did not fit (the notes say
            // which): a checkpoint would not help, more memory does.
            error.WriteLine("vexlab: liveness undecided within --max-memory (see the notes); run again with a larger --max-memory");
            return;
        }

        // A limit that stopped it must be raised to go further; a signal stopped nothing that a resume would hit again.
        var raise = r.StopReason switch
        {
            StopReason.MaxStates => " and a larger --max-states",
            StopReason.MaxMemory => " and a larger --max-memory",
            StopReason.MaxSpill => " and a larger --max-spill",
            StopReason.MaxDepth => " and a larger --max-depth",
            StopReason.TimeLimit => " and a longer --time-limit (or none)",
            _ => string.Empty,
        };
        error.WriteLine(r.Checkpoint is { } folder
            ? $"vexlab: {StopText(r.StopReason, signal)}; checkpoint in {folder}: run the same command with --resume {folder}{raise} to continue"
            : $"vexlab: {StopText(r.StopReason, signal)}; add --checkpoint DIR to keep the work for --resume");
    }

    /// <summary>The process's peak resident set (VmHWM) where the system reports it; 0 elsewhere.</summary>
    private static long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }

        return 0;
    }

    /// <summary>The progress line: spill only while the frontier's spill files hold bytes (docs/checking.md).</summary>
    internal sealed class Progress(CliContext context) : IProgress<CheckProgress>
    {
        public void Report(CheckProgress value)
        {
            var spill = value.SpillBytes > 0 ? string.Create(CultureInfo.InvariantCulture, $", spill {value.SpillBytes >> 20:N0} MiB") : string.Empty;
            var line = string.Create(
                CultureInfo.InvariantCulture,
                $"check: {value.States:N0} states, depth {value.Depth:N0}, frontier {value.FrontierStates:N0}, {value.StatesPerSecond:N0} states/s, {value.MemoryBytes >> 20:N0} MiB{spill}, {value.Elapsed.TotalSeconds:F0} s");
            if (context.ErrorIsTerminal)
            {
                // One line redrawn in place; the final sample ends it.
                context.Error.Write("\r" + context.FitToTerminal(line) + "\u001b[K" + (value.Final ? "\n" : string.Empty));
            }
            else if (!value.Final)
            {
                context.Error.WriteLine(line);
            }
        }
    }
}
