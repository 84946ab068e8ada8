using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A command that takes no input but <c>--json [FILE]</c> and prints a fixed report: tables for
/// people (on stderr when the JSON takes stdout), fitted to the terminal unless <c>--wide</c>, and one JSON document.
/// </summary>
public static class ReportCommand
{
    public static Command Create(CliContext context, string name, string description, Action<IAnsiConsole, int> writeHuman, Func<JsonObject> buildDocument)
    {
        var json = JsonTarget.CreateOption();
        var command = new Command(name, description);
        var wide = TerminalWidth.CreateOption();
        command.Options.Add(json);
        command.Options.Add(wide);
        command.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            var console = context.Human(target);
            var width = context.TableWidth(console, parse.GetValue(wide));
            TerminalWidth.WrapText(console, width, () => writeHuman(console, width));

            ResultDocument.Write(context, target, buildDocument());
            return ExitCodes.Done;
        });
        return command;
    }
}
