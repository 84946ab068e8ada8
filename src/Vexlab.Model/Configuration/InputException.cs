namespace Vexlab.Model.Configuration;

/// <summary>
/// Bad input from a person: a malformed or contradictory scenario, an unknown protocol or key,
/// a limit too small. The CLI prints <see cref="Exception.Message"/> as one line and exits 2.
/// </summary>
public sealed class InputException : Exception
{
    public InputException(string message)
        : base(message)
    {
    }

    public InputException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public InputException()
    {
    }

    /// <summary>
    /// This error with <paramref name="context"/> added in parentheses: which of several runs it came from (a sweep's
    /// point, a compare entry), where its place alone names a key of the shared scenario.
    /// </summary>
    public InputException Within(string context) => new($"{Message} ({context})", this);

    /// <summary>Builds the one-line message with the place the problem was found.</summary>
    /// <param name="file">File name, or null for the command line.</param>
    /// <param name="line">1-based line, or 0 when unknown.</param>
    /// <param name="column">1-based column, or 0 when unknown.</param>
    /// <param name="key">Dotted key or field the problem is in, or null.</param>
    /// <param name="problem">What is wrong and what was expected.</param>
    public static InputException At(string? file, int line, int column, string? key, string problem)
    {
        // On the command line an option names its own place ("--x: ..."); "command line" is said only where no
        // option is at fault.
        if (file is null && key is not null && key.StartsWith('-'))
        {
            (file, key) = (key, null);
        }

        var where = file ?? "command line";
        if (line > 0)
        {
            where += column > 0
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $":{line}:{column}")
                : string.Create(System.Globalization.CultureInfo.InvariantCulture, $":{line}");
        }

        // An option that stands for one key (--seed for seed, --duration for duration) names it already.
        var message = key is null || where == "--" + key ? $"{where}: {problem}" : $"{where}: {key}: {problem}";
        return new InputException(message);
    }

    /// <summary>
    /// A file that does not parse as JSON, at the line and column the parser stopped: "FILE:L:C: not JSON: REASON",
    /// the reason being the parser's, without the position it also spells out (its second sentence, when there is
    /// one, says what was expected: "'2' is invalid after a property name. Expected a ':'"). A caller that knows the
    /// cause better gives <paramref name="problem"/>, said at the same place instead.
    /// </summary>
    public static InputException NotJson(string file, System.Text.Json.JsonException error, string? problem = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var line = (int)Math.Clamp((error.LineNumber ?? 0) + 1, 1, int.MaxValue);
        var column = (int)Math.Clamp((error.BytePositionInLine ?? 0) + 1, 1, int.MaxValue);
        if (problem is not null)
        {
            return At(file, line, column, null, problem);
        }

        var reason = error.Message;
        var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        reason = cut > 0 ? reason[..cut] : reason;
        // The reader's internal flag means nothing to a person: "... a valid JSON token, when isFinalBlock is true".
        reason = reason.Replace(", when isFinalBlock is true", string.Empty, StringComparison.Ordinal).ReplaceLineEndings(" ").TrimEnd('.', ' ');
        return At(file, line, column, null, "not JSON: " + reason);
    }
}
