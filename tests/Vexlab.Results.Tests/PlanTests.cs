using Vexlab.Model.Configuration;
using Vexlab.Results.Sweeps;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

public sealed class PlanTests
{
    [Fact]
    public void Runs_AreTheCartesianProductTimesSeedsTimesProtocols()
    {
        var sweep = Small();
        var runs = SweepPlan.Runs(sweep).ToList();
        Assert.Equal(72, runs.Count);
        Assert.Equal(72, runs.Select(r => r.RunKey).Distinct().Count());
        var points = runs.Select(r => string.Join(',', r.Point.Select(p => p.Value.Text))).Distinct().ToList();
        Assert.Equal(["1,1", "1,4", "10,1", "10,4", "100,1", "100,4", "1000,1", "1000,4"], points);
        var first = runs[0];
        Assert.Equal(["host.latency=1us", "tasks[0].count=1"], first.AllOverrides.Select(o => o.Key + "=" + o.Value));
        Assert.Equal(3, runs.Count(r => r.Point[0].Value.Text == "1" && r.Point[1].Value.Text == "1" && r.Protocol.Label == "ve"));
    }

    [Fact]
    public void RunKeys_AreStable()
    {
        var a = SweepPlan.Runs(Small()).Select(r => r.RunKey).ToList();
        var b = SweepPlan.Runs(Small()).Select(r => r.RunKey).ToList();
        Assert.Equal(a, b);
        Assert.All(a, k => Assert.Matches("^[0-9a-f]{32}$", k));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Shards_AreDisjointAndCoverEveryRun(int count)
    {
        var sweep = Small();
        var all = SweepPlan.Runs(sweep).Select(r => r.RunKey).ToHashSet();
        var seen = new HashSet<string>();
        for (var i = 1; i <= count; i++)
        {
            foreach (var run in SweepPlan.Runs(sweep, new Shard(i, count)))
            {
                Assert.True(seen.Add(run.RunKey), "a run is in two shards");
            }
        }

        Assert.Equal(all, seen);
        Assert.Equal(
            SweepPlan.Runs(sweep, new Shard(2, count)).Select(r => r.RunKey),
            SweepPlan.Runs(sweep, new Shard(2, count)).Select(r => r.RunKey));
    }

    [Theory]
    [InlineData("0/2")]
    [InlineData("3/2")]
    [InlineData("1/0")]
    [InlineData("a/b")]
    [InlineData("2")]
    public void Shard_Parse_RefusesBadText(string text) =>
        Assert.StartsWith("--shard: expected I/N", Fails(() => Shard.Parse(text)));

    [Fact]
    public void TooManyPoints_NeedForce()
    {
        var sweep = Small();
        var message = Fails(() => SweepExecutor.CheckSize(sweep, new SweepOptions { MaxPoints = 5 }));
        Assert.Contains("8 points (72 runs), more than --max-points 5", message);
        SweepExecutor.CheckSize(sweep, new SweepOptions { MaxPoints = 5, Force = true });
    }

    [Fact]
    public void RunnerInputErrors_AreInputErrors()
    {
        using var dir = new TempDir();
        RunPoint bad = (_, _) => throw new InputException("builtin:postcopy: host.latency: unknown key");
        Assert.Equal("builtin:postcopy: host.latency: unknown key", Fails(() => Run(Small(), dir.File("x.duckdb"), runner: bad)));
    }
}
