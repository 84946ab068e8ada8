using System.CommandLine;
using Vexlab.Model.Configuration;

namespace Vexlab.Cli.Infrastructure;

/// <summary>Where <c>--json [FILE]</c> sends the result: nowhere, standard output, or a file.</summary>
public readonly record struct JsonTarget(bool Enabled, string? Path)
{
    public static readonly JsonTarget None = new(false, null);

    /// <summary>True when the JSON document takes standard output.</summary>
    public bool IsStdout => Enabled && Path is null;

    /// <summary>The output as <see cref="DistinctFiles.Require"/> takes it: "-" for standard output, the file, or null for none.</summary>
    public (string Option, string? Path) Output => ("--json", IsStdout ? "-" : Path);

    /// <summary>The <c>--json</c> option every command with a result carries.</summary>
    public static Option<string?> CreateOption() => new("--json")
    {
        Description = "Write the result as JSON to FILE (*.json, or a file of an earlier result), or to standard output with no value or '-'",
        Arity = ArgumentArity.ZeroOrOne,
        HelpName = "FILE",
    };

    public static JsonTarget From(ParseResult parse, Option<string?> option)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (parse.GetResult(option) is null)
        {
            return None;
        }

        // The names of standard output are standard output: written to as a file, the document shared it with the
        // table and the replay lines, and stdout no longer held one document.
        var value = parse.GetValue(option);
        if (value is null or "-" || Scenarios.Files.FileKinds.IsStandardOutput(value))
        {
            return new JsonTarget(true, null);
        }

        RefuseSwallowedArgument(parse, value);
        return new JsonTarget(true, value);
    }

    /// <summary>
    /// <c>--json</c> takes an optional value, so the parser gives it the word after it: <c>validate --json s.yaml</c>
    /// would check the built-in default and write its JSON over s.yaml. Refused: a value that is an existing file
    /// holding something other than JSON (a scenario, a store: writing over it destroys it) or another output's JSON (a counterexample, a Perfetto trace), and a value not named
    /// *.json while one of the command's arguments was not given (the word was most likely meant as that argument;
    /// with --builtin, which stands for the argument, the word is still refused, lest a scenario's name decide).
    /// </summary>
    private static void RefuseSwallowedArgument(ParseResult parse, string value)
    {
        // Devices and process files (/dev/stdout, /dev/null) are written through, never replaced.
        var full = System.IO.Path.GetFullPath(value);
        if (Scenarios.Files.FileKinds.IsSystem(full))
        {
            return;
        }

        var named = value.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        // Only a regular file is read: opening a FIFO to look would wait for its writer.
        var existing = Scenarios.Files.FileKinds.Of(full) == Scenarios.Files.FileKind.Regular ? JsonFileKinds.OfFile(value) : null;
        if (!named && existing is JsonFileKind.NotJson)
        {
            throw InputException.At(null, 0, 0, "--json", $"{Scenarios.ErrorText.Quote(value)} is an existing file that holds no JSON; the result would replace it (--json takes an optional FILE: write --json - for standard output, or put --json after the command's arguments)");
        }

        // A counterexample or a Perfetto trace is another output's file, whatever its name (run --trace r.json wrote
        // over a result; --json over a trace did the same). Other JSON is taken as an earlier result, as before.
        if (existing is { } other and (JsonFileKind.Counterexample or JsonFileKind.PerfettoTrace))
        {
            throw InputException.At(null, 0, 0, "--json", $"{Scenarios.ErrorText.Quote(value)} is an existing file that holds {JsonFileKinds.Describe(other)}, not a result; the result would replace it: give a new file name, or remove the file first");
        }

        var missing = parse.CommandResult.Command.Arguments.FirstOrDefault(a => parse.GetResult(a) is not { Tokens.Count: > 0 });
        var builtin = parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--builtin");
        if (!named && missing is not null && builtin is not null && parse.GetResult(builtin) is not null)
        {
            // With --builtin the missing FILE is no mistake, and "FILE was not given" read as a demand for one
            // (run --builtin postcopy --json out.txt): say what --json takes instead.
            throw InputException.At(null, 0, 0, "--json", $"{Scenarios.ErrorText.Quote(value)} is not named *.json; where {missing.Name} is not given (--builtin stands for it here), --json takes a FILE named *.json, or - for standard output, so that it never takes a {missing.Name} meant for the command");
        }

        if (!named && missing is not null)
        {
            throw InputException.At(null, 0, 0, "--json", $"took {Scenarios.ErrorText.Quote(value)} as its FILE, and {missing.Name} was not given: write --json - for standard output, or put --json after the command's arguments (a FILE named *.json is always taken as the JSON file)");
        }

        // A JSON result named like a scenario or model file is one of those meant for the command (run --json
        // other.yaml base.yaml wrote its JSON into other.yaml), as --trace, --out and --db refuse it.
        var extension = System.IO.Path.GetExtension(value).ToLowerInvariant();
        if (extension is ".yaml" or ".yml")
        {
            throw InputException.At(null, 0, 0, "--json", $"{Scenarios.ErrorText.Quote(value)} is named like a scenario or model file ({extension}), not a JSON result; name the JSON file *.json, or write --json - for standard output");
        }
    }
}
