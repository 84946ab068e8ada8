using System.Text.Json.Nodes;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>--time-limit</c> takes 1 ns to a year. One timer waits at most 2^32-2 ms (about 49.7 days): a limit of 1194h or
/// more was an internal error (exit 70) in run, compare and check --swarm, which armed one timer with it.
/// </summary>
public sealed class LongTimeLimitTests
{
    [Theory]
    [InlineData("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms")]
    [InlineData("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", "1ms")]
    [InlineData("check", "--builtin", "wake-race", "--protocol", "kvm-pf", "--swarm", "--members", "2", "--max-depth", "20")]
    [InlineData("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int")]
    public void A_limit_of_a_year_lets_the_work_finish(params string[] args)
    {
        var unlimited = CliRunner.Run([.. args, "--json"]);
        var expected = JsonNode.Parse(unlimited.Stdout)!;
        foreach (var limit in new[] { "1193h", "1194h", "8760h" })
        {
            var r = CliRunner.Run([.. args, "--time-limit", limit, "--json"]);
            Assert.True(r.ExitCode == unlimited.ExitCode, $"{limit}: exit {r.ExitCode}: {r.Stderr}");
            var doc = JsonNode.Parse(r.Stdout)!;
            Assert.Equal((bool?)expected["complete"], (bool?)doc["complete"]);
            Assert.Equal((string?)expected["stop_reason"], (string?)doc["stop_reason"]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1193)]
    [InlineData(1194)]
    [InlineData(2 * 1193 + 5)]
    [InlineData(8760)]
    public void The_token_is_cancelled_when_the_limit_passes_and_not_before(int hours)
    {
        var clock = new ManualClock();
        var span = TimeSpan.FromHours(hours);
        using var deadline = new WallClockDeadline(span, clock);

        clock.Advance(span - TimeSpan.FromMilliseconds(1));
        Assert.False(deadline.Token.IsCancellationRequested);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(deadline.Token.IsCancellationRequested);
    }

    [Fact]
    public void Without_a_limit_the_token_is_never_cancelled()
    {
        var clock = new ManualClock();
        using var deadline = new WallClockDeadline(null, clock);
        clock.Advance(TimeSpan.FromDays(3650));
        Assert.False(deadline.Token.IsCancellationRequested);
    }
}
