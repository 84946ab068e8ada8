using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A command that takes no input but <c>--json [FILE]</c> (and at most a selection) and prints a fixed report: tables for
/// people (on stderr when the JSON takes stdout), fitted to the terminal unless <c>--wide</c>, and one JSON document.
/// </summary>
public static class ReportCommand
{
    public static Command Create(CliContext context, string name, string description, Action<IAnsiConsole, int> writeHuman, Func<JsonObject> buildDocument) =>
        Create(context, name, description, selection: null, (console, width, _) => writeHuman(console, width), _ => buildDocument());

    /// <summary>
    /// As above, narrowed by an optional <paramref name="selection"/> argument (null: the whole report). The document
    /// is built first, so that it can refuse a selection that matches nothing before anything is printed.
    /// </summary>
    public static Command Create(
        CliContext context, string name, string description, Argument<string?>? selection, Action<IAnsiConsole, int, string?> writeHuman, Func<string?, JsonObject> buildDocument)
    {
        var json = JsonTarget.CreateOption();
        var command = new Command(name, description);
        var wide = TerminalWidth.CreateOption();
        if (selection is not null)
        {
            command.Arguments.Add(selection);
        }

        command.Options.Add(json);
        command.Options.Add(wide);
        command.SetAction(parse =>
        {
            var selected = selection is null ? null : parse.GetValue(selection);
            var document = buildDocument(selected);
            var target = JsonTarget.From(parse, json);
            var console = context.Human(target);
            var width = context.TableWidth(console, parse.GetValue(wide));
            TerminalWidth.WrapText(console, width, () => writeHuman(console, width, selected));

            ResultDocument.Write(context, target, document);
            return ExitCodes.Done;
        });
        return command;
    }
}
