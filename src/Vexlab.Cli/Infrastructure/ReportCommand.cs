using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A command that takes no input but <c>--json [FILE]</c> and prints a fixed report: tables for
/// people (on stderr when the JSON takes stdout) and one JSON document.
/// </summary>
public static class ReportCommand
{
    public static Command Create(CliContext context, string name, string description, Action<IAnsiConsole> writeHuman, Func<JsonObject> buildDocument)
    {
        var json = JsonTarget.CreateOption();
        var command = new Command(name, description);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            writeHuman(context.Human(target));
            ResultDocument.Write(context, target, buildDocument());
            return ExitCodes.Done;
        });
        return command;
    }
}
