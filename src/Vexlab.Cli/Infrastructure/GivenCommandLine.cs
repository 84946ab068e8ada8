using System.CommandLine;
using System.CommandLine.Parsing;
using Vexlab.Scenarios;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The replay command of a result that is not one scenario's or model's (a bench, a sweep run, a plot, a report):
/// the command line as it was given, each value one shell word (<see cref="ShellWord.Of"/>), less the options that
/// only say where or how the result is shown, as run's and check's replay lines leave out <c>--json</c>.
/// </summary>
public static class GivenCommandLine
{
    /// <summary>The command line of <paramref name="parse"/> without <paramref name="leftOut"/>.</summary>
    public static string Replay(ParseResult parse, params Option[] leftOut)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var words = new List<string>();
        for (var command = parse.CommandResult; command.Parent is CommandResult parent; command = parent)
        {
            words.Insert(0, command.Command.Name);
        }

        words.Insert(0, "vexlab");
        foreach (var child in parse.CommandResult.Children)
        {
            switch (child)
            {
                case ArgumentResult argument:
                    words.AddRange(argument.Tokens.Select(t => ShellWord.Of(t.Value)));
                    break;
                case OptionResult { Implicit: false } option when Array.IndexOf(leftOut, option.Option) < 0:
                    if (option.Tokens.Count == 0)
                    {
                        // A flag: --checker, a bare --log-y.
                        words.Add(option.Option.Name);
                    }

                    foreach (var token in option.Tokens)
                    {
                        words.Add(option.Option.Name);
                        words.Add(ShellWord.Of(token.Value));
                    }

                    break;
            }
        }

        return string.Join(' ', words);
    }
}
