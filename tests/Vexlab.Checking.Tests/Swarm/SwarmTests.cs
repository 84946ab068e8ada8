using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Checking.Swarm;
using Vexlab.Model.Properties;

namespace Vexlab.Checking.Tests.Swarm;

public sealed class SwarmTests
{
    private static readonly string[] s_safety = [.. PropertyNames.Safety, Checker.DeadlockProperty];

    public static TheoryData<string> MatrixModels => new(BuiltinModels.All.Where(m => m.InMatrix).Select(m => m.Name));

    /// <summary>
    /// The swarm split 4 ways, each shard run on its own and the results merged, finds exactly the safety and
    /// deadlock violations the exhaustive search finds, on every built-in model under every protocol.
    /// </summary>
    [Theory]
    [MemberData(nameof(MatrixModels))]
    public void FourShardsMergedFindTheKnownViolations(string model)
    {
        foreach (var protocol in ModelCheck.Protocols)
        {
            var request = new CheckRequest(model, protocol, [], s_safety);
            var exhaustive = ModelCheck.Run(request, new CheckerOptions { Workers = 1 });
            using var system = ModelCheck.BuildSystem(request);
            var shards = new List<SwarmResult>();
            for (var i = 1; i <= 4; i++)
            {
                shards.Add(SwarmSearch.Run(system, Options(i, 4)));
            }

            var merged = SwarmSearch.Merge(shards);
            Assert.Equal(8, merged.Members.Count);
            Assert.Equal(
                exhaustive.Result.Violations.Select(v => v.Property).Order(StringComparer.Ordinal),
                merged.Violations.Select(v => v.Property));

            // A pass needs a member that exhausted the state space; otherwise the swarm says incomplete.
            var verdict = SwarmSearch.VerdictOf(merged);
            Assert.True(verdict == exhaustive.Result.Verdict || (verdict == Verdict.Incomplete && exhaustive.Result.Verdict == Verdict.Pass), $"{model}/{protocol}: swarm {verdict}");

            // Every counterexample is an execution: its indices replay to its actions and end in the violation.
            foreach (var v in merged.Violations)
            {
                Assert.Equal(v.Actions, Checker.ReplayIndices(system, [.. v.ActionIndices]));
                Assert.True(v.Actions.Count >= exhaustive.Result.Violations.Single(e => e.Property == v.Property).Actions.Count);
            }

            // The sketch estimates the distinct states the members saw, which are at most the reachable ones.
            Assert.InRange(merged.Coverage.Estimate(), 0.5, exhaustive.Result.States * 1.05);
        }
    }

    [Fact]
    public void EachMemberIsDeterministicGivenItsSeed()
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest("truncate", "kvm-pf", [], s_safety));
        var all = SwarmSearch.Run(system, Options(1, 1));
        var again = SwarmSearch.Run(system, Options(1, 1) with { Workers = 2 });
        var alone = SwarmSearch.Run(system, Options(1, 1) with { OnlyMember = 5 });
        Assert.Equal(all.Members, again.Members);
        Assert.Equal(all.Coverage.Registers.ToArray(), again.Coverage.Registers.ToArray());
        Assert.Equal(all.Members[5], Assert.Single(alone.Members));

        // Different seeds try actions in different orders.
        Assert.NotEqual(all.Members[0].Seed, all.Members[1].Seed);
        var reseeded = SwarmSearch.Run(system, Options(1, 1) with { Seed = 2 });
        Assert.NotEqual(all.Members.Select(m => m.Transitions), reseeded.Members.Select(m => m.Transitions));
    }

    [Fact]
    public void ShardsPartitionTheMembers()
    {
        var options = new SwarmOptions { Members = 10 };
        var owned = Enumerable.Range(1, 3).SelectMany(i => (options with { ShardIndex = i, ShardCount = 3 }).OwnMembers()).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 10), owned);
    }

    /// <summary>A shard's members, counted and indexed without being listed, are those of the rule m % N == I - 1.</summary>
    [Theory]
    [InlineData(10, 1, 1)]
    [InlineData(10, 3, 3)]
    [InlineData(10, 3, 4)]
    [InlineData(7, 7, 7)]
    [InlineData(7, 8, 8)]
    [InlineData(1, 1, 1000)]
    [InlineData(SwarmOptions.MaxMembers, 1000, 1000)]
    [InlineData(SwarmOptions.MaxMembers, 1, 3)]
    public void A_shards_members_are_computed_not_listed(int members, int shard, int shards)
    {
        var options = new SwarmOptions { Members = members, ShardIndex = shard, ShardCount = shards };
        var rule = Enumerable.Range(0, members).Where(m => m % shards == shard - 1).ToList();
        Assert.Equal(rule.Count, options.OwnMemberCount);
        Assert.Equal(rule, options.OwnMembers());
        Assert.Equal(rule, Enumerable.Range(0, options.OwnMemberCount).Select(options.OwnMember));
        Assert.Equal([3], (options with { Members = 5, OnlyMember = 3 }).OwnMembers());
    }

    /// <summary>
    /// Once the swarm is stopped no member starts, and those that did not start are counted, not listed: a million
    /// members under a 1 s limit were each run and recorded (23 s, 2 GB). The members that ran are the first of the
    /// shard's, in order, whatever the workers.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    public void A_stopped_swarm_starts_no_member_and_lists_only_those_that_ran(int shard, int shards)
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], s_safety));
        var options = new SwarmOptions
        {
            Members = SwarmOptions.MaxMembers,
            ShardIndex = shard,
            ShardCount = shards,
            MaxStatesPerMember = 100_000,
            Workers = 2,
            TimeLimit = TimeSpan.FromMilliseconds(100),
        };
        var result = SwarmSearch.Run(system, options);
        Assert.True(result.Cancelled);
        Assert.InRange(result.Members.Count, 1, 1000);
        Assert.Equal(options.OwnMemberCount, result.Members.Count + result.NotStarted);
        Assert.Equal(options.OwnMembers().Take(result.Members.Count), result.Members.Select(m => m.Index));

        // Stopped before it began (Ctrl-C at once): nothing runs, nothing is listed, every member is counted.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var none = SwarmSearch.Run(system, options with { CancellationToken = cancelled.Token, TimeLimit = null });
        Assert.True(none.Cancelled);
        Assert.Empty(none.Members);
        Assert.Equal(options.OwnMemberCount, none.NotStarted);
    }

    /// <summary>
    /// A stop that comes once every member has ended (a worker back from the last member finds the limit past, or a
    /// Ctrl-C) leaves the swarm whole: nothing was left to start, and no member was cut short.
    /// </summary>
    [Fact]
    public void A_stop_after_the_last_member_ended_leaves_the_swarm_whole()
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest("token-wrap", "kvm-pf-int", [], s_safety));
        using var stop = new CancellationTokenSource();
        var options = new SwarmOptions { Members = 6, MaxStatesPerMember = 200, Workers = 1, CancellationToken = stop.Token };
        var result = SwarmSearch.Run(system, options with
        {
            Progress = p =>
            {
                if (p.MembersDone == p.Members)
                {
                    stop.Cancel();
                }
            },
        });
        Assert.True(stop.IsCancellationRequested);
        Assert.False(result.Cancelled);
        Assert.Equal(0, result.NotStarted);
        Assert.Equal(options.OwnMembers(), result.Members.Select(m => m.Index));
    }

    /// <summary>A swarm that is not stopped runs and lists every member of its shard, in order, and counts none as not started.</summary>
    [Fact]
    public void An_unstopped_swarm_lists_every_member()
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest("token-wrap", "kvm-pf-int", [], s_safety));
        foreach (var workers in new[] { 1, 3 })
        {
            var options = new SwarmOptions { Members = 40, ShardIndex = 2, ShardCount = 3, MaxStatesPerMember = 200, Workers = workers };
            var result = SwarmSearch.Run(system, options);
            Assert.False(result.Cancelled);
            Assert.Equal(0, result.NotStarted);
            Assert.Equal(options.OwnMembers(), result.Members.Select(m => m.Index));
        }
    }

    [Fact]
    public void TheSketchEstimatesDistinctCountsAndMergesAsAUnion()
    {
        var a = new HyperLogLog();
        var b = new HyperLogLog();
        for (ulong i = 0; i < 100_000; i++)
        {
            a.Add(SplitMix64.Mix(i));
            b.Add(SplitMix64.Mix(i + 50_000));
        }

        Assert.InRange(a.Estimate(), 97_000, 103_000);
        a.Merge(b);
        Assert.InRange(a.Estimate(), 145_000, 155_000);
        var small = new HyperLogLog();
        for (ulong i = 0; i < 100; i++)
        {
            small.Add(SplitMix64.Mix(i));
            small.Add(SplitMix64.Mix(i));
        }

        Assert.InRange(small.Estimate(), 98, 102);
    }

    [Fact]
    public void TheMembersThemselvesEndTheSwarmAtItsTimeLimit()
    {
        // No cancellation token, so nothing but the members' own reading of the clock can stop
        // them: bench with bounds past its 14 M states would run for tens of seconds. (A timer's
        // cancellation needs a thread-pool thread, which members busy on every core can hold.)
        using var system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], s_safety));
        var options = new SwarmOptions { Members = 2, MaxDepth = 100_000, MaxStatesPerMember = 100_000_000, TimeLimit = TimeSpan.FromMilliseconds(200) };
        var result = SwarmSearch.Run(system, options);
        Assert.True(result.Cancelled);
        // The bound above is a guard against a hang, not a timing claim: members that never read the clock would
        // exhaust bench's states (tens of seconds), which the last assertion catches on any machine.
        Assert.InRange(result.Elapsed, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));
        Assert.All(result.Members, m => Assert.False(m.Exhausted));
    }

    private static SwarmOptions Options(int shard, int shards) => new()
    {
        Members = 8,
        Seed = 7,
        ShardIndex = shard,
        ShardCount = shards,
        MaxStatesPerMember = 50_000,
        Workers = 1,
    };
}
