using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;

namespace Vexlab.Cli.Commands;

/// <summary>
/// <c>vexlab explain protocol NAME</c>: the delivery matrix, computed by driving the model, never
/// written by hand.
/// </summary>
public static class ExplainProtocolCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = ProtocolEntryHelp.Describe("the knobs in brackets are set, before --set") };
        var set = new Option<string[]>("--set") { Description = "Set a knob: KEY=VALUE (repeatable)", HelpName = "KEY=VALUE", AllowMultipleArgumentsPerToken = false };
        var steps = new Option<bool>("--steps") { Description = "Also print the step sequence behind every cell (with --json, as each row's not_present_steps and ready_steps)" };
        var json = JsonTarget.CreateOption();
        var wide = TerminalWidth.CreateOption();
        var command = new Command("protocol", "Print a protocol's delivery matrix, computed by driving the model");
        command.Arguments.Add(name);
        command.Options.Add(set);
        command.Options.Add(steps);
        command.Options.Add(json);
        command.Options.Add(wide);
        command.SetAction(parse =>
        {
            var protocol = Build(parse.GetValue(name)!, parse.GetValue(set) ?? []);
            var rows = DeliveryMatrix.Compute(protocol);
            var target = JsonTarget.From(parse, json);
            var human = context.Human(target);
            var width = context.TableWidth(human, parse.GetValue(wide));
            TerminalWidth.WrapText(human, width, () => WriteHuman(human, width, protocol, rows, parse.GetValue(steps)));
            ResultDocument.Write(context, target, BuildDocument(protocol, rows, parse.GetValue(steps)));
            return ExitCodes.Done;
        });
        return command;
    }

    internal static ProtocolSpec Build(string name, string[] sets)
    {
        var entry = Overrides.ParseProtocol(name, origin: null, "explain protocol takes one");
        var overrides = new List<KeyValuePair<string, string>>();
        foreach (var o in entry.Overrides)
        {
            // Each knob of the entry on its own, so that an unknown one or a bad value names the entry, not --set.
            ProtocolCatalog.Create(entry.Protocol, [new(o.Key, o.Value)], origin: o.Origin);
            overrides.Add(new(o.Key, o.Value));
        }

        // A knob given twice has no one meaning: refused as run and check refuse it.
        var parsed = Overrides.ParseSets(sets);
        SimulationOptions.RequireOnce(parsed);
        foreach (var o in parsed)
        {
            KnobCatalog.RequireUsed(o.Key, [entry.Protocol], "--set");

            overrides.Add(new(o.Key, o.Value));
        }

        return ProtocolCatalog.Create(entry.Protocol, overrides, origin: "--set");
    }

    /// <summary>The matrix as JSON; each row carries its step sequences only with <c>--steps</c>, as the table does.</summary>
    internal static JsonObject BuildDocument(ProtocolSpec protocol, IReadOnlyList<MatrixRow> rows, bool steps)
    {
        var doc = ResultDocument.Create();
        doc["protocol"] = protocol.Name;
        doc["variant"] = protocol.Label;
        var knobs = new JsonObject();
        foreach (var (key, value) in protocol.Knobs.Overrides)
        {
            knobs[key] = value;
        }

        doc["knobs"] = knobs;
        var array = new JsonArray();
        foreach (var row in rows)
        {
            var cell = new JsonObject
            {
                ["context"] = row.Context,
                ["not_present"] = row.NotPresent,
                ["ready"] = row.Ready,
            };
            if (steps)
            {
                cell["not_present_steps"] = new JsonArray([.. row.NotPresentSteps.Select(s => (JsonNode)JsonValue.Create(s)!)]);
                cell["ready_steps"] = new JsonArray([.. row.ReadySteps.Select(s => (JsonNode)JsonValue.Create(s)!)]);
            }

            array.Add(cell);
        }

        doc["rows"] = array;
        return doc;
    }

    private static void WriteHuman(IAnsiConsole console, int width, ProtocolSpec protocol, IReadOnlyList<MatrixRow> rows, bool steps)
    {
        console.WriteLine($"{protocol.Label}: {ProtocolCatalog.Describe(protocol.Name)}");
        var table = new FittedTable(TableShape.Records).Column("context").Column("not_present").Column("ready");
        foreach (var row in rows)
        {
            table.Row(row.Context, row.NotPresent, row.Ready);
        }

        table.Write(console, width);
        if (!steps)
        {
            return;
        }

        foreach (var row in rows)
        {
            console.WriteLine($"{row.Context}, not_present = {row.NotPresent}:");
            foreach (var s in row.NotPresentSteps)
            {
                console.WriteLine("  " + s);
            }

            console.WriteLine($"{row.Context}, ready = {row.Ready}:");
            foreach (var s in row.ReadySteps)
            {
                console.WriteLine("  " + s);
            }
        }
    }
}
