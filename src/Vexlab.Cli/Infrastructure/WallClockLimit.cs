using System.CommandLine;
using System.Globalization;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// <c>--time-limit</c> for the simulator's commands: a wall-clock bound on a run whose simulated
/// <c>--duration</c> may be as long as 2^63-1 ns. The run stops at the simulated time it reached,
/// the result says so, and the command exits 3.
/// </summary>
public static class WallClockLimit
{
    public static Option<string?> CreateOption() => new("--time-limit")
    {
        Description = "Wall-clock limit, e.g. 30s, 5m; the run stops there and the command exits 3",
        HelpName = "DURATION",
    };

    /// <summary>A token cancelled when the limit passes; never cancelled without a limit.</summary>
    public static WallClockDeadline Start(System.CommandLine.ParseResult parse, Option<string?> option)
    {
        var text = parse.GetValue(option);
        return WallClockDeadline.After(text is null ? null : DurationOption.Parse(text, "--time-limit"));
    }

    /// <summary>The line for people when a run stopped at the limit.</summary>
    public static string StoppedLine(string variant, long simulatedNs) => string.Create(
        CultureInfo.InvariantCulture,
        $"vexlab: {variant}: stopped at --time-limit after {simulatedNs / 1e6:N3} ms simulated; the result covers that span only");
}
