using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// What is wrong with a command line, said in the tool's words: an unknown option is named as
/// one (not taken for the FILE argument), a value that does not parse says what was expected (not
/// a .NET type name), and output paths are checked before any work starts.
/// </summary>
public static partial class UsageErrors
{
    /// <summary>Options that name a file the command writes.</summary>
    private static readonly string[] s_outputOptions = ["--json", "--trace", "--out", "--plot"];

    /// <summary>The message for the first parse error, in one line.</summary>
    public static string Describe(ParseResult parse)
    {
        // A word where a command's subcommand goes that names none ("vexlab chek"): System.CommandLine says that no
        // command was given, or blames the first option after it.
        var command = parse.CommandResult.Command;
        if (command.Subcommands.Count > 0 && command.Arguments.Count == 0
            && parse.UnmatchedTokens.Count > 0 && parse.UnmatchedTokens[0] is { Length: > 0 } word && word[0] != '-')
        {
            return NearestName.Unknown("command", word, Subcommands(command));
        }

        if (command.Subcommands.Count > 0 && parse.Errors[0].Message.StartsWith("Required command was not provided", StringComparison.Ordinal))
        {
            return $"a command is needed: one of {string.Join(", ", Subcommands(command))}";
        }

        foreach (var token in parse.UnmatchedTokens)
        {
            if (token.Length > 1 && token[0] == '-')
            {
                return "unknown option " + ErrorText.Quote(token);
            }
        }

        // An unknown option before the FILE argument is taken as FILE, and its value then reads as an unexpected
        // argument: name the option, the mistake made.
        if (!AfterSeparator(parse))
        {
            foreach (var child in parse.CommandResult.Children)
            {
                if (child is ArgumentResult argument && OptionLike(argument) is { } option)
                {
                    return "unknown option " + ErrorText.Quote(option);
                }
            }
        }

        var message = parse.Errors[0].Message;
        var typed = CannotParse().Match(message);
        if (typed.Success)
        {
            var (option, type, value) = (typed.Groups["option"].Value, typed.Groups["type"].Value, typed.Groups["value"].Value);

            // Digits that did not parse are a whole number out of the type's range. The type's range is not the
            // option's (--seeds takes 1 to 1000, --seed no negative seed): naming it would promise values the option
            // then refuses, so the message says which way the number is out; the option's own check gives its range.
            var digits = value.StartsWith('-') ? value[1..] : value;
            if (digits.Length > 0 && digits.All(char.IsAsciiDigit) && type.Contains("Int", StringComparison.Ordinal))
            {
                return $"{option}: {ErrorText.Quote(value)} is too {(value.StartsWith('-') ? "small" : "large")} a number";
            }

            return $"{option}: expected {Expected(type)}, got {ErrorText.Quote(value)}";
        }

        // A value outside an option's fixed set (AcceptOnlyFromAmong) comes as "Argument 'x' not recognized. Must be
        // one of:" and the values on lines of their own: say it on one line, as a scenario's enum values are.
        var notAmong = NotAmong().Match(message);
        if (notAmong.Success)
        {
            var value = notAmong.Groups["value"].Value;
            var choices = Quoted().Matches(notAmong.Groups["values"].Value).Select(m => m.Groups["text"].Value).ToList();
            var problem = $"expected one of {string.Join(", ", choices)}; got {ErrorText.Quote(value)}{NearestName.Aside(value, choices)}";
            return OptionOf(parse.Errors[0].SymbolResult) is { } option ? $"{option}: {problem}" : problem;
        }

        var unrecognized = Unrecognized().Match(message);
        if (unrecognized.Success)
        {
            var token = unrecognized.Groups["token"].Value;

            // A true/false option takes its value only when it reads as one, so "--log-y maybe" left "maybe" over.
            return SwitchBefore(parse, token) is { } flag
                ? $"{flag}: expected true or false, got {ErrorText.Quote(token)}"
                : "unexpected argument " + ErrorText.Quote(token);
        }

        return ErrorText.Escape(message);
    }

    /// <summary>The true/false option written just before the left-over word <paramref name="token"/>, or null.</summary>
    private static string? SwitchBefore(ParseResult parse, string token)
    {
        var tokens = parse.Tokens;
        for (var i = 1; i < tokens.Count; i++)
        {
            if (tokens[i].Value != token || tokens[i - 1].Type != TokenType.Option)
            {
                continue;
            }

            var name = tokens[i - 1].Value;
            foreach (var option in parse.CommandResult.Command.Options)
            {
                if ((option.Name == name || option.Aliases.Contains(name)) && (option.ValueType == typeof(bool) || option.ValueType == typeof(bool?)))
                {
                    return name;
                }
            }
        }

        return null;
    }

    /// <summary>The first option-looking word the parser took as <paramref name="argument"/>'s value, or null.</summary>
    private static string? OptionLike(ArgumentResult argument)
    {
        foreach (var token in argument.Tokens)
        {
            if (token.Value.Length > 1 && token.Value[0] == '-')
            {
                return token.Value;
            }
        }

        return null;
    }

    private static IEnumerable<string> Subcommands(Command command) => command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);

    /// <summary>The option a parse error belongs to (its own result or its argument's), or null.</summary>
    private static string? OptionOf(SymbolResult? result) => result switch
    {
        OptionResult option => option.Option.Name,
        ArgumentResult { Parent: OptionResult option } => option.Option.Name,
        _ => null,
    };

    /// <summary>Whether the command line has a <c>--</c>: the words after it are arguments, whatever they look like.</summary>
    private static bool AfterSeparator(ParseResult parse) => parse.Tokens.Any(t => t.Type == TokenType.DoubleDash);

    /// <summary>
    /// Refuses what the parser accepted but the tool cannot: an option-looking word taken as a
    /// positional argument, an empty file name, an output path that cannot be written.
    /// </summary>
    public static void CheckBeforeWork(ParseResult parse)
    {
        var afterSeparator = AfterSeparator(parse);
        for (var result = parse.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            foreach (var child in result.Children)
            {
                switch (child)
                {
                    case ArgumentResult argument when !afterSeparator && OptionLike(argument) is { } word:
                        throw new InputException("unknown option " + ErrorText.Quote(word));
                    case OptionResult option when !option.Implicit:
                        CheckOption(option);
                        break;
                }
            }
        }
    }

    private static void CheckOption(OptionResult option)
    {
        var name = option.Option.Name;
        foreach (var token in option.Tokens)
        {
            if (token.Value.Length == 0)
            {
                throw new InputException($"{name}: the value is empty");
            }

            RefuseOptionAsValue(option, token.Value);
        }

        if (Array.IndexOf(s_outputOptions, name) < 0 || option.Tokens.Count == 0)
        {
            return;
        }

        var path = option.Tokens[^1].Value;
        if (path == "-" && name == "--json")
        {
            return;
        }

        OutputFile.Check(path, name switch
        {
            "--json" => "JSON result",
            "--trace" => "trace",
            "--plot" => "plot",
            _ => "output",
        });
    }

    /// <summary>
    /// Refuses an option's name taken as another option's value. An option that needs a value takes the word after
    /// it, whatever it looks like (System.CommandLine): <c>check --trace --json</c> wrote the trace to a file named
    /// "--json" and never saw --json, and <c>--swarm-merge --json s1.json</c> answered "--json: no such file". Said as
    /// what happened and what to write; a file of that name that exists is still taken, as asked.
    /// </summary>
    private static void RefuseOptionAsValue(OptionResult option, string word)
    {
        if (word.Length < 2 || word[0] != '-' || File.Exists(word))
        {
            return;
        }

        for (var command = option.Parent as CommandResult; command is not null; command = command.Parent as CommandResult)
        {
            if (command.Command.Options.Any(o => o.Name == word || o.Aliases.Contains(word)))
            {
                var name = option.Option.Name;
                var value = string.IsNullOrEmpty(option.Option.HelpName) ? "VALUE" : option.Option.HelpName;
                throw new InputException(option.Option.AllowMultipleArgumentsPerToken
                    ? $"{name}: took {ErrorText.Quote(word)} as one of its values, since the words right after {name} are its values even when they name an option; give its values first: {name} {value}... {word}"
                    : $"{name}: took {ErrorText.Quote(word)} as its value, since the word right after {name} is its value even when it names an option; give it its value: {name} {value} {word}");
            }
        }
    }

    private static string Expected(string type) => type switch
    {
        _ when type.Contains("Int64", StringComparison.Ordinal) || type.Contains("Int32", StringComparison.Ordinal)
            || type.Contains("UInt", StringComparison.Ordinal) => "a whole number",
        _ when type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal)
            || type.Contains("Decimal", StringComparison.Ordinal) => "a number",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ => "a different value",
    };

    [GeneratedRegex("^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']*)' as expected type '(?<type>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex CannotParse();

    [GeneratedRegex("^Argument '(?<value>.*)' not recognized\\. Must be one of:(?<values>.*)$", RegexOptions.Singleline)]
    private static partial Regex NotAmong();

    [GeneratedRegex("'(?<text>[^']*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex("^Unrecognized command or argument '(?<token>.*)'", RegexOptions.Singleline)]
    private static partial Regex Unrecognized();
}
