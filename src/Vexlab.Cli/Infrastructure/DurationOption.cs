using Vexlab.Model.Configuration;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Values;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A wall-clock duration typed on the command line (<c>--time-limit</c>, <c>--checkpoint-every</c>): the units of
/// scenario files (250us, 1.5ms, 30s, 5m, 2h), from 1 ns to a year, far past any run anyone waits for.
/// </summary>
public static class DurationOption
{
    private const long MaxNs = 365L * 24 * 3600 * 1_000_000_000;

    /// <summary>The duration in nanoseconds, or one line naming <paramref name="option"/> and the text.</summary>
    public static long ParseNs(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parsed = ScalarParsers.ParseDuration(text.Trim());
        if (!parsed.IsOk || parsed.Value <= 0 || parsed.Value > MaxNs)
        {
            throw InputException.At(
                null, 0, 0, option,
                "expected a duration from 1ns to a year such as 30s or 5m (units ns, us, ms, s, m, h), got " + ErrorText.Quote(text));
        }

        return parsed.Value;
    }

    /// <summary>As <see cref="ParseNs"/>, to the tick (100 ns) and at least one.</summary>
    public static TimeSpan Parse(string text, string option)
        => TimeSpan.FromTicks(Math.Max(1, ParseNs(text, option) / TimeSpan.NanosecondsPerTick));
}
