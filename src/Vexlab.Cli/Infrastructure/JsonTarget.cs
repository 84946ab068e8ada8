using System.CommandLine;

namespace Vexlab.Cli.Infrastructure;

/// <summary>Where <c>--json [FILE]</c> sends the result: nowhere, standard output, or a file.</summary>
public readonly record struct JsonTarget(bool Enabled, string? Path)
{
    public static readonly JsonTarget None = new(false, null);

    /// <summary>True when the JSON document takes standard output.</summary>
    public bool IsStdout => Enabled && Path is null;

    /// <summary>The <c>--json</c> option every command with a result carries.</summary>
    public static Option<string?> CreateOption() => new("--json")
    {
        Description = "Write the result as JSON to FILE, or to standard output with no value or '-'",
        Arity = ArgumentArity.ZeroOrOne,
        HelpName = "FILE",
    };

    public static JsonTarget From(ParseResult parse, Option<string?> option)
    {
        if (parse.GetResult(option) is null)
        {
            return None;
        }

        var value = parse.GetValue(option);
        return value is null or "-" ? new JsonTarget(true, null) : new JsonTarget(true, value);
    }
}
