using System.Globalization;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The line that gives people a result's or a counterexample's seed and the one command that replays it:
/// <c>vexlab: [WHAT: ][seed S; ]replay: COMMAND</c>. Every command writes it to standard error, never to standard
/// output, so that standard output holds the report, or the one JSON document, and nothing else; the JSON carries
/// the same command in its <c>replay</c> field.
/// </summary>
public static class ReplayLine
{
    /// <param name="error">Standard error (<see cref="CliContext.Error"/>).</param>
    /// <param name="what">
    /// What the command replays, where a command reports several (a compare entry, a violated property); null for
    /// the one result of a run.
    /// </param>
    /// <param name="seeds">
    /// The seed text (<see cref="Seed"/>, or a range of seeds); null where the result has no seed, as the exhaustive
    /// search, which draws nothing at random.
    /// </param>
    /// <param name="command">The one-line command (quoted for bash where it names a file).</param>
    public static void Write(TextWriter error, string? what, string? seeds, string command)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(command);
        error.WriteLine(Format(what, seeds, command));
    }

    /// <summary>
    /// The seed and replay of a result made from stored results, drawing nothing at random (a plot, a report, a merge):
    /// <paramref name="doc"/>'s <c>seed</c> null and its <c>replay</c> <paramref name="command"/>, and the line on
    /// <paramref name="error"/> without a seed.
    /// </summary>
    public static void CarryUnseeded(System.Text.Json.Nodes.JsonObject doc, TextWriter error, string command)
    {
        ArgumentNullException.ThrowIfNull(doc);
        doc["seed"] = null;
        doc["replay"] = command;
        Write(error, null, null, command);
    }

    /// <summary>The line <see cref="Write"/> writes, without its line end.</summary>
    public static string Format(string? what, string? seeds, string command) =>
        "vexlab: " + (what is null ? string.Empty : what + ": ") + (seeds is null ? string.Empty : seeds + "; ") + "replay: " + command;

    /// <summary>The seed text of one seed: <c>seed 7</c>.</summary>
    public static string Seed(ulong seed) => "seed " + seed.ToString(CultureInfo.InvariantCulture);

    /// <summary>A sweep's seeds for its replay line: <c>seeds 1..5</c> when they run on by one, else each of them.</summary>
    public static string? Seeds(IReadOnlyList<long> seeds)
    {
        if (seeds.Count == 0)
        {
            return null;
        }

        var consecutive = true;
        for (var i = 1; i < seeds.Count; i++)
        {
            consecutive &= seeds[i] == seeds[i - 1] + 1;
        }

        return seeds.Count == 1 ? "seed " + seeds[0].ToString(CultureInfo.InvariantCulture)
            : consecutive ? string.Create(CultureInfo.InvariantCulture, $"seeds {seeds[0]}..{seeds[^1]}")
            : "seeds " + string.Join(", ", seeds.Select(x => x.ToString(CultureInfo.InvariantCulture)));
    }
}
