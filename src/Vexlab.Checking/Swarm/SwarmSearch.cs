using System.IO.Hashing;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Swarm;

/// <summary>Settings of a swarm: how many members, from which seed, which share of them this process runs.</summary>
public sealed record SwarmOptions
{
    /// <summary>Depth bounds members take in turn (member m: <c>DepthLadder[m % length]</c>) unless <see cref="MaxDepth"/> is set.</summary>
    public static readonly IReadOnlyList<int> DepthLadder = [25, 50, 100, 200, 400, 800, 1600, 3200];

    /// <summary>
    /// The most members a swarm may have: a Slurm array of 1,000 shards (its default MaxArraySize, 1001, allows 0 to
    /// 1000) of 1,000 members each. Every member that runs is a record in its shard's result and in the merge's, which
    /// holds them all in memory (about 170 bytes each in the JSON: a million members wrote 168 MB).
    /// </summary>
    public const int MaxMembers = 1_000_000;

    /// <summary>Members of the whole swarm (over every shard), at most <see cref="MaxMembers"/>.</summary>
    public int Members { get; init; } = 16;

    /// <summary>The swarm's seed; member m searches with a seed derived from it and m.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>This process runs the members m with m % ShardCount == ShardIndex - 1.</summary>
    public int ShardIndex { get; init; } = 1;

    public int ShardCount { get; init; } = 1;

    /// <summary>Run only this member (to reproduce one member's counterexample); null for the shard's members.</summary>
    public int? OnlyMember { get; init; }

    /// <summary>Every member's depth bound; null for the ladder.</summary>
    public int? MaxDepth { get; init; }

    /// <summary>Distinct states a member remembers; at the bound it stops (its memory: about 30 bytes a state).</summary>
    public long MaxStatesPerMember { get; init; } = 200_000;

    /// <summary>Members run at once (results do not depend on it).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Report reachable non-final states without enabled actions ("no-deadlock").</summary>
    public bool CheckDeadlock { get; init; } = true;

    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Wall-clock bound of the whole swarm (<c>--time-limit</c>), read by the members themselves:
    /// a timer's cancellation needs a thread-pool thread, which members busy on every core may
    /// hold for seconds (a 300 ms limit once ended a two-member swarm after 13 s).
    /// </summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Called from the members' threads every few thousand transitions and as each member ends.</summary>
    public Action<SwarmProgress>? Progress { get; init; }

    /// <summary>
    /// How many members this process runs: <c>--swarm-member</c>'s one, or the shard's, the members m below
    /// <see cref="Members"/> with m % ShardCount == ShardIndex - 1.
    /// </summary>
    public int OwnMemberCount =>
        OnlyMember is not null ? 1 : ShardIndex - 1 < Members ? ((Members - ShardIndex) / ShardCount) + 1 : 0;

    /// <summary>The member this process runs <paramref name="position"/>th (from 0), in order; computed, not listed, so that a shard of a million members costs nothing until they run.</summary>
    public int OwnMember(int position) => OnlyMember ?? (ShardIndex - 1 + (int)((long)position * ShardCount));

    /// <summary>The members this process runs, in order, one at a time.</summary>
    public IEnumerable<int> OwnMembers()
    {
        for (var position = 0; position < OwnMemberCount; position++)
        {
            yield return OwnMember(position);
        }
    }

    /// <summary>Member <paramref name="member"/>'s seed: SplitMix64 of the swarm seed and the member index.</summary>
    public ulong MemberSeed(int member) => SplitMix64.Mix(Seed + (0x9E3779B97F4A7C15UL * (ulong)(member + 1)));

    public int DepthBound(int member) => MaxDepth ?? DepthLadder[member % DepthLadder.Count];
}

/// <summary>
/// What one member did. <paramref name="Stopped"/>: a stop (the time limit, Ctrl-C, SIGTERM) cut it short, before its
/// bounds or the end of the space, at a point the wall clock chose; a member not stopped reruns alike from its seed.
/// </summary>
public sealed record SwarmMember(int Index, ulong Seed, int DepthBound, long States, long Transitions, bool Exhausted, bool Stopped = false);

/// <summary>A counterexample a member found: actions from the initial state, and their indices in each state's action list.</summary>
public sealed record SwarmViolation(string Property, int Member, ulong MemberSeed, int DepthBound, IReadOnlyList<ulong> Actions, IReadOnlyList<int> ActionIndices);

/// <summary>
/// A swarm's (or shard's) result. <paramref name="Members"/> are the members that ran, by index;
/// <paramref name="NotStarted"/> counts those a stop (the time limit, Ctrl-C, SIGTERM) came before: they did no work,
/// so they are not listed one by one, and a merge counts them missing, as a shard not given.
/// </summary>
public sealed record SwarmResult(
    IReadOnlyList<SwarmMember> Members,
    IReadOnlyList<SwarmViolation> Violations,
    HyperLogLog Coverage,
    bool Cancelled,
    TimeSpan Elapsed,
    int NotStarted = 0);

/// <summary>
/// Swarm verification (Holzmann, Joshi, Groce, "Swarm Verification Techniques", IEEE TSE 2011): many
/// small depth-first searches, each with its own seed (the order in which it tries a state's actions)
/// and depth bound, each remembering a bounded number of states. None covers a state space too large for
/// memory, together they reach far into it; each is deterministic given its seed. Safety properties and
/// deadlocks only: a member's partial search decides no liveness property.
/// </summary>
public static class SwarmSearch
{
    public static SwarmResult Run(ITransitionSystem system, SwarmOptions options)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var deadline = options.TimeLimit is { } limit
            ? started + (long)(limit.TotalSeconds * System.Diagnostics.Stopwatch.Frequency)
            : long.MaxValue;
        var count = options.OwnMemberCount;
        var ran = new List<(SwarmMember Member, List<SwarmViolation> Found)>();
        var cancelled = false;
        var progress = new SwarmProgress(count);

        // Each member's sketch joins the coverage as the member ends (register maxima: the order does not matter), so
        // that a swarm of many members holds one sketch a worker, not 16 KiB for every member until the end.
        var coverage = new HyperLogLog();

        // Workers take the shard's members in order from one counter, each looking at the stop before it takes the
        // next: the members started are a prefix of the shard's, and once stopped no member starts. Members that each
        // did nothing cost nothing: 1,000,000 members under a 1 s limit were each run and listed (23 s, 2 GB, a 168 MB
        // result), and 100,000,000 ran far past it.
        var next = -1;
        var workers = (int)Math.Min(Math.Max(1, options.Workers), Math.Max(1, count));
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            while (true)
            {
                // Stopped: no member starts (the stop is the swarm's only if a member is left unstarted, below).
                if (Stop(options, deadline))
                {
                    return;
                }

                var position = Interlocked.Increment(ref next);
                if (position >= count)
                {
                    return;
                }

                var (member, found, sketch, stopped) = RunMember(system, options, options.OwnMember(position), progress, deadline);
                lock (coverage)
                {
                    coverage.Merge(sketch);
                    ran.Add((member, found));
                }

                progress.MemberDone();
                options.Progress?.Invoke(progress);
                if (stopped)
                {
                    cancelled = true;
                }
            }
        });

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        var members = ran.Select(r => r.Member).OrderBy(m => m.Index).ToList();

        // A swarm whose every member ended is not stopped, whenever its last worker came back to find the limit past;
        // one with a member unstarted, or a member the stop cut short, is.
        cancelled |= members.Count < count;
        return new SwarmResult(members, Shortest(ran.SelectMany(r => r.Found)), coverage, cancelled, elapsed, count - members.Count);
    }

    /// <summary>Joins the results of a swarm's shards: every member, the shortest counterexamples, the union of the coverage sketches.</summary>
    public static SwarmResult Merge(IReadOnlyList<SwarmResult> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var coverage = new HyperLogLog();
        foreach (var p in parts)
        {
            coverage.Merge(p.Coverage);
        }

        return new SwarmResult(
            [.. parts.SelectMany(p => p.Members).OrderBy(m => m.Index)],
            Shortest(parts.SelectMany(p => p.Violations)),
            coverage,
            parts.Any(p => p.Cancelled),
            TimeSpan.FromTicks(parts.Sum(p => p.Elapsed.Ticks)),
            parts.Sum(p => p.NotStarted));
    }

    /// <summary>
    /// Pass when some member explored everything it reached without meeting its depth or state bound (a
    /// complete depth-first search); violation when any member found one; otherwise incomplete.
    /// </summary>
    public static Verdict VerdictOf(SwarmResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Violations.Count > 0 ? Verdict.Violation : result.Members.Any(m => m.Exhausted) ? Verdict.Pass : Verdict.Incomplete;
    }

    /// <summary>One counterexample per property: the shortest, then the lowest member.</summary>
    public static IReadOnlyList<SwarmViolation> Shortest(IEnumerable<SwarmViolation> violations) =>
        [.. violations
            .GroupBy(v => v.Property, StringComparer.Ordinal)
            .Select(g => g.OrderBy(v => v.Actions.Count).ThenBy(v => v.Member).First())
            .OrderBy(v => v.Property, StringComparer.Ordinal)];

    /// <summary>Ctrl-C, SIGTERM, or the time limit: the members stop where they are.</summary>
    private static bool Stop(SwarmOptions options, long deadline) =>
        options.CancellationToken.IsCancellationRequested || System.Diagnostics.Stopwatch.GetTimestamp() >= deadline;

    private static (SwarmMember, List<SwarmViolation>, HyperLogLog, bool) RunMember(ITransitionSystem system, SwarmOptions options, int member, SwarmProgress progress, long deadline)
    {
        var size = system.StateSize;
        var seed = options.MemberSeed(member);
        var bound = options.DepthBound(member);
        var rng = new SplitMix64(seed);
        var maxActions = Math.Max(1, system.MaxActions);
        var sketch = new HyperLogLog();
        var visited = new HashSet<ulong>();
        var violations = new Dictionary<string, SwarmViolation>(StringComparer.Ordinal);

        // The DFS stack: per depth the state, its shuffled action indices, how many were tried, the action taken into it.
        var states = new byte[(bound + 1) * size];
        var actions = new ulong[(bound + 1) * maxActions];
        var order = new int[(bound + 1) * maxActions];
        var counts = new int[bound + 1];
        var tried = new int[bound + 1];
        var takenIndex = new int[bound + 1];
        var child = new byte[size];
        long transitions = 0;
        long reportedStates = 0, reportedTransitions = 0;
        var exhausted = true;
        var stopped = false;

        system.WriteInitialState(states.AsSpan(0, size));
        var h0 = XxHash3.HashToUInt64(states.AsSpan(0, size));
        visited.Add(h0);
        sketch.Add(h0);
        var depth = 0;
        counts[0] = -1;
        while (depth >= 0)
        {
            var state = states.AsSpan(depth * size, size);
            if (counts[depth] < 0)
            {
                var n = system.ListActions(state, actions.AsSpan(depth * maxActions, maxActions));
                if (n == 0 && options.CheckDeadlock && !system.IsValidEnd(state))
                {
                    Record(violations, Checker.DeadlockProperty, member, seed, bound, actions, takenIndex, depth, maxActions, -1, 0);
                }

                for (var k = 0; k < n; k++)
                {
                    order[(depth * maxActions) + k] = k;
                }

                // Fisher-Yates: this member's order of trying the actions.
                for (var k = n - 1; k > 0; k--)
                {
                    var j = (int)(rng.Next() % (ulong)(k + 1));
                    (order[(depth * maxActions) + k], order[(depth * maxActions) + j]) = (order[(depth * maxActions) + j], order[(depth * maxActions) + k]);
                }

                counts[depth] = depth >= bound ? 0 : n;
                tried[depth] = 0;
                if (depth >= bound && n > 0)
                {
                    exhausted = false;
                }
            }

            if (tried[depth] >= counts[depth])
            {
                depth--;
                continue;
            }

            var index = order[(depth * maxActions) + tried[depth]++];
            var action = actions[(depth * maxActions) + index];
            var bits = system.Apply(state, action, child);
            transitions++;
            while (bits != 0)
            {
                var p = System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                Record(violations, system.SafetyProperties[p], member, seed, bound, actions, takenIndex, depth, maxActions, index, action);
            }

            if ((transitions & 4095) == 0)
            {
                progress.Add(visited.Count - reportedStates, transitions - reportedTransitions);
                (reportedStates, reportedTransitions) = (visited.Count, transitions);
                options.Progress?.Invoke(progress);
            }

            var h = XxHash3.HashToUInt64(child);
            sketch.Add(h);
            if (visited.Contains(h))
            {
                // A time limit or Ctrl-C stops a member in a region it has seen too, where no new state comes to stop at.
                if ((transitions & 1023) == 0 && Stop(options, deadline))
                {
                    exhausted = false;
                    stopped = true;
                    break;
                }

                continue;
            }

            var stop = (transitions & 1023) == 0 && Stop(options, deadline);
            if (visited.Count >= options.MaxStatesPerMember || stop || options.CancellationToken.IsCancellationRequested)
            {
                // A member at its state bound ended there whatever else stopped: a rerun ends at the same state.
                exhausted = false;
                stopped = visited.Count < options.MaxStatesPerMember && (stop || options.CancellationToken.IsCancellationRequested);
                break;
            }

            visited.Add(h);
            depth++;
            takenIndex[depth] = index;
            child.CopyTo(states.AsSpan(depth * size, size));
            counts[depth] = -1;
        }

        progress.Add(visited.Count - reportedStates, transitions - reportedTransitions);
        return (new SwarmMember(member, seed, bound, visited.Count, transitions, exhausted, stopped), [.. violations.Values], sketch, stopped);
    }

    /// <summary>Keeps the shortest counterexample per property: the path to the state at <paramref name="depth"/>, plus the violating action when there is one.</summary>
    private static void Record(
        Dictionary<string, SwarmViolation> violations,
        string property,
        int member,
        ulong seed,
        int bound,
        ulong[] actions,
        int[] takenIndex,
        int depth,
        int maxActions,
        int lastIndex,
        ulong lastAction)
    {
        var length = depth + (lastIndex >= 0 ? 1 : 0);
        if (violations.TryGetValue(property, out var known) && known.Actions.Count <= length)
        {
            return;
        }

        var path = new ulong[length];
        var indices = new int[length];
        for (var d = 1; d <= depth; d++)
        {
            indices[d - 1] = takenIndex[d];
            path[d - 1] = actions[((d - 1) * maxActions) + takenIndex[d]];
        }

        if (lastIndex >= 0)
        {
            indices[length - 1] = lastIndex;
            path[length - 1] = lastAction;
        }

        violations[property] = new SwarmViolation(property, member, seed, bound, path, indices);
    }
}
