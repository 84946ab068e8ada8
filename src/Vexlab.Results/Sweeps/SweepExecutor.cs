using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Results.Store;

namespace Vexlab.Results.Sweeps;

/// <summary>How <see cref="SweepExecutor.Run"/> runs a sweep.</summary>
public sealed record SweepOptions
{
    public const long DefaultMaxPoints = 10_000;

    /// <summary>Runs at once; default: all cores.</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;

    public Shard Shard { get; init; } = Shard.All;

    /// <summary>Accept a changed sweep, and more points than <see cref="MaxPoints"/>.</summary>
    public bool Force { get; init; }

    public long MaxPoints { get; init; } = DefaultMaxPoints;

    /// <summary>The version written into every row.</summary>
    public string VexlabVersion { get; init; } = "0.0.0";
}

/// <summary>Where a sweep stands: runs finished (this time and before) of the runs of the shard.</summary>
public readonly record struct SweepProgress(long Done, long Total);

/// <summary>
/// What a sweep did. <paramref name="Stopped"/>: the caller's cancellation (a signal) stopped it before its last run;
/// <paramref name="Ran"/> then counts the runs finished and written before the stop.
/// </summary>
public sealed record SweepSummary(long Runs, long AlreadyDone, long Ran, long Removed, TimeSpan Elapsed, bool Stopped = false);

/// <summary>Runs the missing runs of a sweep in parallel and writes each into the store as it finishes.</summary>
public static class SweepExecutor
{
    /// <summary>A message's place (<c>FILE:LINE:COLUMN: </c>, or <c>FILE:LINE: </c>) and the rest of it.</summary>
    private static readonly System.Text.RegularExpressions.Regex s_place = new(
        @"^(.+?:\d+(?::\d+)?): (.*)$", System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public static SweepSummary Run(
        SweepDefinition sweep, SweepStore store, RunPoint runner, SweepOptions options,
        IProgress<SweepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(options);
        CheckSize(sweep, options);
        if (options.Jobs < 1)
        {
            throw InputException.At(null, 0, 0, "--jobs", string.Create(CultureInfo.InvariantCulture, $"expected at least 1, got {options.Jobs}"));
        }

        var started = TimeProvider.System.GetTimestamp();
        var (removed, existing, runs) = Prepare(sweep, store, options);
        var todo = runs.Where(r => !existing.Contains(r.RunKey)).ToList();
        var already = runs.Count - todo.Count;
        long done = already;
        progress?.Report(new SweepProgress(done, runs.Count));

        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < options.Jobs + 2)
        {
            // Runners may block; do not wait for the pool to grow one thread at a time.
            ThreadPool.SetMinThreads(options.Jobs + 2, io);
        }

        var gate = new Lock();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Jobs, CancellationToken = failed.Token };
        try
        {
            Parallel.ForEach(todo, parallel, run =>
            {
                var json = runner(run, failed.Token);
                var row = RunRow.From(run, json, options.VexlabVersion);
                lock (gate)
                {
                    store.Write(row);
                }

                progress?.Report(new SweepProgress(Interlocked.Increment(ref done), runs.Count));
            });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped from outside (a signal): every run finished so far is written, and the summary says how many.
            return Stopped();
        }
        catch (AggregateException e)
        {
            var inner = e.Flatten().InnerExceptions;
            var input = inner.OfType<InputException>().FirstOrDefault();
            if (input is not null)
            {
                throw new InputException(input.Message, e);
            }

            if (inner.All(x => x is OperationCanceledException))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return Stopped();
                }

                throw new OperationCanceledException("the sweep was cancelled", e, cancellationToken);
            }

            var first = inner.First(x => x is not OperationCanceledException);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }

        return new SweepSummary(runs.Count, already, todo.Count, removed, TimeProvider.System.GetElapsedTime(started));

        SweepSummary Stopped() =>
            new(runs.Count, already, Interlocked.Read(ref done) - already, removed, TimeProvider.System.GetElapsedTime(started), Stopped: true);
    }

    /// <summary>
    /// Creates the store at <paramref name="path"/> for <paramref name="sweep"/> when there is none, complete before it
    /// appears under that name (<see cref="SweepStore.Create"/>): the sweep row, and the axis columns, which are there
    /// before the first run (docs/sweeps.md). Returns false when the store exists; <see cref="Run"/> then sets it up.
    /// </summary>
    public static bool CreateStore(string path, SweepDefinition sweep, SweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(options);
        return SweepStore.Create(path, store => Prepare(sweep, store, options));
    }

    /// <summary>
    /// Ties the store to the sweep and records what it is (hash, definition, run counts, shard) with its axis columns;
    /// returns the runs removed (--force), the run keys the store holds, and this shard's runs.
    /// </summary>
    private static (long Removed, HashSet<string> Existing, List<SweepRun> Runs) Prepare(SweepDefinition sweep, SweepStore store, SweepOptions options)
    {
        var removed = store.Bind(sweep, options.Force);
        var existing = store.RunKeys();
        var runs = SweepPlan.Runs(sweep, options.Shard).ToList();
        store.DeclareAxisColumns(sweep);
        store.SetMeta(SweepStore.RunsKey, sweep.RunCount.ToString(CultureInfo.InvariantCulture));
        // The store is this shard only while it holds no run of another: shard 1/2 run into a store of 2/2 once
        // recorded "shard 1/2, shard_runs 13" over its 30 runs, and a later merge listed it as 30 of 13 runs.
        var planned = runs.Select(r => r.RunKey).ToHashSet(StringComparer.Ordinal);
        if (existing.All(planned.Contains))
        {
            store.SetMeta(SweepStore.ShardKey, options.Shard.ToString());
            store.SetMeta(SweepStore.ShardRunsKey, runs.Count.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            store.ForgetShard();
        }

        return (removed, existing, runs);
    }

    /// <summary>
    /// Checks the whole input before any output exists: every point of the sweep (all shards, not
    /// only this one) under every protocol entry, for the first seed (a seed changes no input).
    /// A sweep that fails here leaves no store and no rows behind. Returns the runs checked.
    /// </summary>
    public static long Validate(SweepDefinition sweep, CheckPoint check, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(check);
        if (sweep.Seeds.Count == 0)
        {
            return 0;
        }

        var first = sweep.Seeds[0];
        long checkedRuns = 0;
        foreach (var run in SweepPlan.Runs(sweep))
        {
            if (run.Seed != first)
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                check(run);
            }
            catch (InputException e) when (run.Point.Count > 0 && !e.Message.StartsWith(sweep.Source + ":", StringComparison.Ordinal))
            {
                // A value the sweep file holds is named there already; a conflict the point makes in the base
                // scenario (its memory against a region's size) is named in the scenario, a place that is right at
                // every other point. It is said where the sweep file writes the point's value (the value, or the range
                // that makes it; with several axes, the last one's), as docs/sweeps.md promises, with the scenario's
                // place after it. A --set's conflict stays at --set, the place it is given.
                var point = "at the sweep's point " + string.Join(", ", run.Point.Select(p => p.Axis.Name + "=" + p.Value.Text)) + " under " + run.Protocol.Label;
                var origin = run.Point.Select(p => p.Value.Origin).LastOrDefault(o => o is not null);
                var placed = origin is null ? null : s_place.Match(e.Message);
                if (placed is { Success: true } && !placed.Groups[1].Value.StartsWith('-'))
                {
                    throw new InputException($"{origin}: {placed.Groups[2].Value} ({point}; in the scenario at {placed.Groups[1].Value})", e);
                }

                throw e.Within(point);
            }

            checkedRuns++;
        }

        return checkedRuns;
    }

    /// <summary>Refuses a sweep of more than <see cref="SweepOptions.MaxPoints"/> points unless forced.</summary>
    public static void CheckSize(SweepDefinition sweep, SweepOptions options)
    {
        var points = sweep.PointCount;
        if (points > options.MaxPoints && !options.Force)
        {
            throw InputException.At(
                sweep.Source, 0, 0, "axes",
                string.Create(CultureInfo.InvariantCulture, $"the sweep has {points:N0} points ({sweep.RunCount:N0} runs), more than --max-points {options.MaxPoints}; pass --force to run it anyway"));
        }
    }
}
