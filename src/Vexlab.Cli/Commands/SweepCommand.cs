using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Rendering;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios.Documents;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab sweep run</c> and <c>vexlab sweep merge</c>: run a sweep into a result store, join shards.</summary>
public static class SweepCommand
{
    public const string DefaultDb = "results.duckdb";

    /// <param name="context">Where to write, and the runner factory (<see cref="CliContext.SweepRunner"/>).</param>
    public static Command Create(CliContext context)
    {
        var sweep = new Command("sweep", "Run a sweep of simulations into a result store, and merge shards");
        sweep.Subcommands.Add(CreateRun(context, context.SweepRunner));
        sweep.Subcommands.Add(CreateMerge(context));
        return sweep;
    }

    private static Command CreateRun(CliContext context, Func<RunPoint> runnerFactory)
    {
        var file = new Argument<string?>("SWEEP") { Description = "The sweep file (YAML)", Arity = ArgumentArity.ZeroOrOne };
        var builtin = new Option<string?>("--builtin") { Description = "Run a built-in sweep (see 'vexlab sweeps list')", HelpName = "NAME" };
        var db = new Option<string>("--db") { Description = "The result store (DuckDB file)", HelpName = "FILE", DefaultValueFactory = _ => DefaultDb };
        // No DefaultValueFactory: the help would print this machine's processor count as if it were a fixed default.
        var jobs = new Option<int?>("--jobs", "-j") { Description = "Runs at once (default: the machine's processor count)", HelpName = "N" };
        var shard = new Option<string?>("--shard") { Description = "Run only shard I of N (by run key), I from 1 to N", HelpName = "I/N" };
        var set = new Option<string[]>("--set") { Description = "Override a key of the base scenario: KEY=VALUE (repeatable)", HelpName = "KEY=VALUE", AllowMultipleArgumentsPerToken = false };
        var force = new Option<bool>("--force") { Description = "Accept a sweep that changed since the store was made (its runs that no longer match are removed and run again), or one over --max-points" };
        var maxPoints = new Option<long>("--max-points") { Description = "Refuse sweeps with more points than this, unless --force", HelpName = "N", DefaultValueFactory = _ => SweepOptions.DefaultMaxPoints };
        var json = JsonTarget.CreateOption();
        var command = new Command("run", "Run every missing run of a sweep, in parallel, writing each into the store as it finishes");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { builtin, db, jobs, shard, set, force, maxPoints, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            // Before the sweep is read: a --db named like the sweep file most likely is the sweep file, typed after --db.
            OutputKind.RefuseScenarioName(parse, "--db", parse.GetValue(db), OutputKind.Store);

            // Before the sweep is read too: a bare --json takes the next word, and `sweep run --json s.yaml` was told
            // to give a sweep file; --json's own refusal says what happened (put --json after the arguments), as validate's does.
            var target = JsonTarget.From(parse, json);
            var definition = LoadSweep(parse.GetValue(file), parse.GetValue(builtin));
            // A key given twice has no one meaning: refused as run, compare and validate refuse it.
            var sets = Overrides.ParseSets(parse.GetValue(set) ?? []);
            SimulationOptions.RequireOnce(sets);
            definition = definition.WithSets(sets);
            var options = new SweepOptions
            {
                Jobs = parse.GetValue(jobs) ?? Environment.ProcessorCount,
                Shard = parse.GetValue(shard) is { } s ? Shard.Parse(s) : Shard.All,
                Force = parse.GetValue(force),
                MaxPoints = parse.GetValue(maxPoints),
                VexlabVersion = ResultDocument.VexlabVersion,
            };
            if (options.Jobs < 1)
            {
                throw InputException.At(null, 0, 0, "--jobs", string.Create(CultureInfo.InvariantCulture, $"expected at least 1, got {options.Jobs}"));
            }

            // A bound below one point refuses every sweep, with a message quoting the bound as if it were one.
            if (options.MaxPoints < 1)
            {
                throw InputException.At(null, 0, 0, "--max-points", string.Create(CultureInfo.InvariantCulture, $"expected at least 1, got {options.MaxPoints}"));
            }

            SweepExecutor.CheckSize(definition, options);
            var runner = runnerFactory();
            var path = parse.GetValue(db)!;
            DistinctFiles.Require([("sweep file SWEEP", parse.GetValue(file))], [("--db", path), target.Output]);

            // The whole input first (every point, every protocol entry), then the store's path:
            // a sweep refused here leaves no store, so the corrected sweep runs without --force.
            // The base scenario on its own first: a fault of the file itself (YAML, a file of another kind) is no
            // point's, and checked per run it was said to be at the sweep's first point.
            CheckInput(context, definition);
            Vexlab.Scenarios.Files.OutputFile.Check(path, "result store");

            // Taken before the store is made: a signal while it is set up then stops the sweep before its first run,
            // with the store whole, where it killed the process part way through.
            using var interrupt = new Interruption();
            try
            {
                // A new store appears complete (sweep row, axis columns) or not at all.
                SweepExecutor.CreateStore(path, definition, options);
            }
            catch (DuckDB.NET.Data.DuckDBException e) when (SweepStore.IsWriteFailure(e))
            {
                throw new Vexlab.Scenarios.Files.OutputFailedException($"{Vexlab.Scenarios.ErrorText.Path(path)}: cannot write the result store: {SweepStore.WriteFailureReason(e)}", e);
            }

            using var store = SweepStore.Open(path);
            SweepSummary summary;
            try
            {
                summary = context.ErrorIsTerminal
                    ? RunWithProgress(context, definition, store, runner, options, interrupt.Token)
                    : SweepExecutor.Run(definition, store, runner, options, LogProgress(context, definition), interrupt.Token);
            }
            catch (DuckDB.NET.Data.DuckDBException e) when (SweepStore.IsWriteFailure(e))
            {
                // A full disk (ENOSPC) refused a write: the disk's fault, EX_IOERR, not a damaged store.
                throw new Vexlab.Scenarios.Files.OutputFailedException($"{Vexlab.Scenarios.ErrorText.Path(path)}: cannot write the result store: {SweepStore.WriteFailureReason(e)}; the runs written before are in it", e);
            }
            catch (DuckDB.NET.Data.DuckDBException e) when (e.Message.StartsWith("IO Error", StringComparison.Ordinal))
            {
                // Resuming on a store damaged on disk: name it; it is bad input, not a fault of vexlab.
                throw InputException.At(path, 0, 0, null, "the result store is damaged: " + e.Message.Split('\n')[0] + "; run the sweep into a new --db");
            }
            catch (OperationCanceledException) when (interrupt.Signalled)
            {
                // Each finished run is already committed: the store is the partial result.
                context.Error.WriteLine($"vexlab: sweep run: stopped by {interrupt.SignalName}; every finished run is in {path}; run the same command again to finish");
                return interrupt.ExitCode;
            }

            if (summary.Stopped)
            {
                // Each finished run is already committed: the store is the partial result, and the JSON says so.
                context.Error.WriteLine($"vexlab: sweep run: stopped by {interrupt.SignalName}; every finished run is in {path}; run the same command again to finish");
            }

            var human = context.HumanWriter(target);
            var seconds = summary.Elapsed.TotalSeconds;

            // Removed before the sweep ran them again: said first, in the order it happened.
            if (summary.Removed > 0)
            {
                human.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Counted(summary.Removed, "run")} no longer {(summary.Removed == 1 ? "matches" : "match")}; removed"));
            }

            human.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"sweep {definition.Name}{(options.Shard.IsAll ? string.Empty : " shard " + options.Shard)}: {Counted(summary.Runs, "run")}, {summary.AlreadyDone:N0} already in {path}, ran {summary.Ran:N0}{(summary.Stopped ? " before " + interrupt.SignalName : string.Empty)} in {seconds:0.0} s ({(seconds > 0 ? summary.Ran / seconds : 0):0.0} runs/s, {Counted(options.Jobs, "job")})"));

            var doc = ResultDocument.Create();
            doc["sweep"] = definition.Name;
            doc["sweep_hash"] = definition.ComputeHash();
            doc["db"] = path;
            doc["shard"] = options.Shard.ToString();
            doc["runs"] = summary.Runs;
            doc["already_done"] = summary.AlreadyDone;
            doc["ran"] = summary.Ran;
            doc["removed"] = summary.Removed;
            doc["jobs"] = options.Jobs;

            // A sweep stopped by a signal is a partial result (the runs it finished are in the store): said as run,
            // compare and check say it, and its exit code is the signal's.
            doc["complete"] = !summary.Stopped;
            doc["stop_reason"] = StopReasons.Of(summary.Stopped, interrupt);
            doc["timing"] = new JsonObject { ["wall_s"] = seconds };

            // Every result carries its seeds and replay line: the sweep's seeds: list (each run's own is in the
            // store's seed column), and the command, which runs what the store still lacks.
            doc["seed"] = new JsonArray([.. definition.Seeds.Select(seed => (JsonNode)seed)]);
            var replay = GivenCommandLine.Replay(parse, json);
            doc["replay"] = replay;
            ReplayLine.Write(context.Error, null, ReplayLine.Seeds(definition.Seeds), replay);
            ResultDocument.Write(context, target, doc);
            return summary.Stopped ? interrupt.ExitCode : ExitCodes.Done;
        });
        return command;
    }

    private static Command CreateMerge(CliContext context)
    {
        var output = new Argument<string>("OUT") { Description = "The merged store (created if missing)" };
        var shards = new Argument<string[]>("SHARD") { Description = "Shard stores of one sweep", Arity = ArgumentArity.OneOrMore };
        var allowPartial = new Option<bool>("--allow-partial") { Description = "Merge even when runs of the sweep are missing (a shard not given or unfinished)" };
        var json = JsonTarget.CreateOption();
        var command = new Command("merge", "Join the stores of a sweep's shards into one; shards of different sweeps, and an incomplete set of shards, are refused");
        command.Arguments.Add(output);
        command.Arguments.Add(shards);
        command.Options.Add(allowPartial);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            OutputKind.RefuseScenarioName(parse, "OUT", parse.GetValue(output), OutputKind.Store);
            var target = JsonTarget.From(parse, json);
            DistinctFiles.Require([.. parse.GetValue(shards)!.Select(f => ("shard", (string?)f))], [target.Output]);
            DistinctFiles.Require([], [("OUT", parse.GetValue(output)), target.Output]);
            var human = context.HumanWriter(target);
            var summary = StoreOperations.Merge(parse.GetValue(output)!, parse.GetValue(shards)!, parse.GetValue(allowPartial));
            human.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"merged {summary.Shards} {(summary.Shards == 1 ? "store" : "stores")} of sweep {summary.SweepHash[..12]} into {parse.GetValue(output)}: {summary.Added} {(summary.Added == 1 ? "run" : "runs")} added, {summary.Duplicates} already there"));
            foreach (var line in summary.Stores)
            {
                human.WriteLine("  " + line);
            }

            human.WriteLine(summary.Expected is { } expected
                ? string.Create(CultureInfo.InvariantCulture, $"runs: {summary.Present} of {expected} expected{(summary.IsPartial ? $", {expected - summary.Present} missing" : string.Empty)}")
                : string.Create(CultureInfo.InvariantCulture, $"runs: {summary.Present} (the stores do not record how many the sweep has)"));
            if (summary.IsPartial)
            {
                context.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"vexlab: sweep merge: partial: {summary.Expected - summary.Present} of the sweep's {summary.Expected} runs are missing (--allow-partial)"));
            }

            var doc = ResultDocument.Create();
            doc["db"] = parse.GetValue(output);
            doc["sweep_hash"] = summary.SweepHash;
            doc["shards"] = summary.Shards;
            doc["added"] = summary.Added;
            doc["duplicates"] = summary.Duplicates;
            doc["present"] = summary.Present;
            doc["expected"] = summary.Expected;
            doc["partial"] = summary.IsPartial;

            // Every result carries its seed and replay line: a merge copies stored runs and draws nothing at random, so
            // it has no seed of its own (null; each run's is in the store's seed column), and its line merges the same
            // shards again, into a new OUT to print the same counts.
            ReplayLine.CarryUnseeded(doc, context.Error, GivenCommandLine.Replay(parse, json));
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        return command;
    }

    internal static SweepDefinition LoadSweep(string? file, string? builtin)
    {
        if ((file is null) == (builtin is null))
        {
            throw new InputException("sweep run: give a sweep file or --builtin NAME (one of them)");
        }

        if (builtin is not null)
        {
            return BuiltinSweeps.Load(builtin);
        }

        BuiltinNameHint.RefuseBuiltinName(file!, BuiltinSweeps.Names, "sweep");
        try
        {
            return SweepFile.Load(file!);
        }
        catch (InputException)
        {
            OtherFileKind.RefuseOtherAsSweep(file!);
            throw;
        }
    }

    private static SweepSummary RunWithProgress(
        CliContext context, SweepDefinition definition, SweepStore store, RunPoint runner, SweepOptions options, CancellationToken ct)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = context.Color ? AnsiSupport.Detect : AnsiSupport.Yes,
            ColorSystem = context.Color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(context.Error),
        });
        // The locale decides Unicode, not the writer's encoding (CliContext): an ASCII bar under LANG=C.
        console.Profile.Capabilities.Unicode = context.Unicode;
        // Spectre sizes the bar by Console.WindowWidth, which asks standard output and input, not standard error:
        // with both redirected an 80-column bar wrapped on a 60-column terminal, and each redraw left a row behind.
        if (context.ProgressWidth is int width)
        {
            console.Profile.Width = width;
        }

        var rate = new RateColumn();
        SweepSummary? summary = null;
        console.Progress()
            .AutoClear(false)
            .Columns(FitColumns(console.Profile.Width, "sweep " + definition.Name, definition.RunCount, rate))
            .Start(progress =>
            {
                var task = progress.AddTask("sweep " + Markup.Escape(definition.Name), maxValue: 1);
                summary = SweepExecutor.Run(definition, store, runner, options, new SyncProgress(p =>
                {
                    rate.Update(p);
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                }), ct);
            });
        return summary!;
    }

    /// <summary>
    /// The bar's columns where they fit in <paramref name="width"/> less one (a row that reaches the last column wraps);
    /// else one line of the description and the rate, cut to fit. Spectre shrinks the bar, then wraps the other
    /// columns' words: at 40 columns each redraw was a block of six rows, the rate a word per row.
    /// </summary>
    private static ProgressColumn[] FitColumns(int width, string description, long runs, RateColumn rate)
    {
        var room = width - 1;
        var digits = runs.ToString(CultureInfo.InvariantCulture).Length;

        // "done/total runs" and the rate as RateColumn writes them, the remaining time (8), a space after each column
        // but the last, and a bar of 10 at least.
        var wanted = description.Length + (2 * digits) + 21 + 8 + 3 + 10;
        return wanted <= room
            ? [new TaskDescriptionColumn(), new ProgressBarColumn(), rate, new RemainingTimeColumn()]
            : [new LineColumn(description, rate, room)];
    }

    /// <summary>Standard error is a log: one line every <see cref="CliContext.ProgressInterval"/>.</summary>
    private static SyncProgress LogProgress(CliContext context, SweepDefinition definition)
    {
        var line = new ProgressLine(context);
        long first = -1;
        return new SyncProgress(p =>
        {
            if (first < 0)
            {
                first = p.Done;
            }

            line.Report(elapsed => string.Create(
                CultureInfo.InvariantCulture,
                $"sweep {definition.Name}: {p.Done:N0}/{p.Total:N0} runs, {(elapsed.TotalSeconds > 0 ? (p.Done - first) / elapsed.TotalSeconds : 0):0.0} runs/s, {elapsed.TotalSeconds:F0} s"));
        });
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the pool and lag).</summary>
    private sealed class SyncProgress(Action<SweepProgress> report) : IProgress<SweepProgress>
    {
        private readonly Lock _gate = new();

        public void Report(SweepProgress value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }

    /// <summary>"done/total runs, rate runs/s", the rate over this invocation's runs only.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        private readonly Lock _gate = new();
        private long _first = -1;
        private long _done;
        private long _total;
        private long _started;

        public void Update(SweepProgress progress)
        {
            lock (_gate)
            {
                if (_first < 0)
                {
                    _first = progress.Done;
                    _started = TimeProvider.System.GetTimestamp();
                }

                _done = progress.Done;
                _total = progress.Total;
            }
        }

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Text(Describe());

        /// <summary>"12/30 runs     2.1 runs/s".</summary>
        public string Describe()
        {
            lock (_gate)
            {
                var seconds = _first < 0 ? 0 : TimeProvider.System.GetElapsedTime(_started).TotalSeconds;
                var rate = seconds > 0 ? (_done - _first) / seconds : 0;
                return string.Create(CultureInfo.InvariantCulture, $"{_done}/{_total} runs  {rate,6:0.0} runs/s");
            }
        }
    }

    /// <summary>The description and the rate on one line cut to <paramref name="room"/>: the bar of a terminal too narrow for the bar's columns.</summary>
    private sealed class LineColumn(string description, RateColumn rate, int room) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            var line = description + "  " + rate.Describe();
            return new Text(line.Length > room ? line[..Math.Max(room, 0)] : line);
        }
    }

    /// <summary>
    /// Checks a sweep's whole input, as <c>sweep run</c> does before it opens the store and <c>validate</c> does
    /// alone: the base scenario on its own, then every point under every protocol entry (notes to stderr).
    /// </summary>
    internal static void CheckInput(CliContext context, SweepDefinition definition)
    {
        SimulatorSweepRunner.Load(definition.Scenario);
        SweepExecutor.Validate(definition, context.SweepCheck(note => context.Error.WriteLine("vexlab: note: " + note)));
    }

    /// <summary>
    /// "1 job", "2 jobs": a count with its noun, singular for one (--jobs 1 printed "1 jobs"); <paramref name="plural"/>
    /// where the plural is not the noun and an s ("protocol entries").
    /// </summary>
    internal static string Counted(long count, string noun, string? plural = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:N0} {(count == 1 ? noun : plural ?? noun + "s")}");
}
