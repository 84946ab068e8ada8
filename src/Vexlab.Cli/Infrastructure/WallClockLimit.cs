using System.CommandLine;
using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Values;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// <c>--time-limit</c> for the simulator's commands: a wall-clock bound on a run whose simulated
/// <c>--duration</c> may be as long as 2^63-1 ns. The run stops at the simulated time it reached,
/// the result says so, and the command exits 3.
/// </summary>
public static class WallClockLimit
{
    /// <summary>The longest limit accepted: a year, far past any run anyone waits for.</summary>
    private const long MaxNs = 365L * 24 * 3600 * 1_000_000_000;

    public static Option<string?> CreateOption() => new("--time-limit")
    {
        Description = "Wall-clock limit, e.g. 30s, 5m; the run stops there and the command exits 3",
        HelpName = "DURATION",
    };

    /// <summary>A token cancelled when the limit passes; never cancelled without a limit.</summary>
    public static CancellationTokenSource Start(System.CommandLine.ParseResult parse, Option<string?> option)
    {
        var text = parse.GetValue(option);
        if (text is null)
        {
            return new CancellationTokenSource();
        }

        var parsed = ScalarParsers.ParseDuration(text);
        if (!parsed.IsOk || parsed.Value <= 0 || parsed.Value > MaxNs)
        {
            throw InputException.At(
                null, 0, 0, "--time-limit",
                "expected a duration from 1ns to a year such as 30s or 5m, got " + ErrorText.Quote(text));
        }

        return new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(1, parsed.Value / 100)));
    }

    /// <summary>The line for people when a run stopped at the limit.</summary>
    public static string StoppedLine(string variant, long simulatedNs) => string.Create(
        CultureInfo.InvariantCulture,
        $"vexlab: {variant}: stopped at --time-limit after {simulatedNs / 1e6:F3} ms simulated; the result covers that span only");
}
