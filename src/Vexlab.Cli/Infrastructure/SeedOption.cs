using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Vexlab.Scenarios;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The <c>--seed</c> of <c>run</c>, <c>compare</c>, <c>validate</c> and <c>check --swarm</c>: one range of seeds,
/// 0 to <see cref="Largest"/>, so a seed one command takes every other takes too. It is the range of a scenario's
/// <c>seed</c> key and of a sweep's <c>seeds:</c> (signed 64-bit whole numbers), which the replay lines
/// (<c>--seed N</c>, <c>--set seed=N</c>) and the result store's BIGINT <c>seed</c> column carry as written;
/// a swarm seed above it had a replay line no scenario or store could hold. A swarm member's own seed is still a
/// full 64-bit value: it is SplitMix64 of the swarm seed and the member index (SwarmOptions.MemberSeed).
/// </summary>
public static class SeedOption
{
    /// <summary>The largest seed.</summary>
    public const long Largest = long.MaxValue;

    /// <summary>A <c>--seed</c> option that refuses, in one line naming the range, a value that is not a seed.</summary>
    public static Option<long?> Create(string description, string helpName) => new("--seed")
    {
        Description = description,
        HelpName = helpName,
        CustomParser = Parse,
    };

    /// <summary>The problem with <paramref name="text"/> as a seed, or null when it is one.</summary>
    public static string? Problem(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"--seed: expected a seed, a whole number from 0 to {Largest}, got {ErrorText.Quote(text)}");

    private static long? Parse(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (Problem(text) is { } problem)
        {
            result.AddError(problem);
            return null;
        }

        return long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
