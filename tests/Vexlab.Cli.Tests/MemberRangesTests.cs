using Vexlab.Cli.Commands;

namespace Vexlab.Cli.Tests;

/// <summary>swarm.members_missing: the members a merge lacks as runs of the shards' step, each member once.</summary>
public sealed class MemberRangesTests
{
    /// <summary>Members (x: missing), the period, and the runs as their text.</summary>
    public static TheoryData<string, int, string> Cases => new()
    {
        { "........", 1, string.Empty },
        { "xxxxxxxx", 1, "0..7" },
        { "..xx..xx", 1, "2..3, 6..7" },
        // Shards 3/4 and 4/4 not given: one run each.
        { "..xx..xx", 4, "2..6 step 4, 3..7 step 4" },
        // Shard 2/2 not given.
        { ".x.x.x.x", 2, "1..7 step 2" },
        // Shard 1/2 stopped after its second member, shard 2/2 after its first: each one's unstarted suffix.
        { "...xxxxx", 2, "3..7 step 2, 4..6 step 2" },
        // A lone member is itself, whatever the step.
        { ".....x..", 4, "5" },
        { "x.......", 1, "0" },
        // Members 1 and 6 run alone (--swarm-member): each shard's run stops at them.
        { "x.xxxx.x", 2, "0..4 step 2, 3..7 step 2" },
        // A period larger than the swarm.
        { "x.x", 8, "0, 2" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Runs_cover_exactly_the_missing_members(string members, int period, string expected)
    {
        var present = members.Select(c => c != 'x').ToArray();
        var runs = MemberRanges.Missing(present, period);

        Assert.Equal(expected, string.Join(", ", runs));
        var expanded = runs.SelectMany(r => Enumerable.Range(0, r.Count).Select(k => r.First + (k * r.Step))).Order();
        Assert.Equal(Enumerable.Range(0, members.Length).Where(m => !present[m]), expanded);
        Assert.All(runs, r => Assert.True(r.Last >= r.First && (r.Last - r.First) % r.Step == 0));
    }
}
