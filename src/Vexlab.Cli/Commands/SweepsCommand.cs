using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Results.Sweeps;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab sweeps list</c> and <c>vexlab sweeps show NAME</c>: the built-in sweeps.</summary>
public static class SweepsCommand
{
    public static Command Create(CliContext context)
    {
        var sweeps = new Command("sweeps", "List and show the built-in sweeps");
        var json = JsonTarget.CreateOption();
        var wide = TerminalWidth.CreateOption();
        var list = new Command("list", "List the built-in sweeps");
        list.Options.Add(json);
        list.Options.Add(wide);
        list.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            var table = new FittedTable(TableShape.Records).Column("name").Column("scenario").Column("axes")
                .Column("points", Justify.Right).Column("runs", Justify.Right).Column("description");
            var array = new JsonArray();
            foreach (var name in BuiltinSweeps.Names)
            {
                var sweep = BuiltinSweeps.Load(name);
                var axes = string.Join(", ", sweep.Axes.Select(a => $"{a.Name} ({a.Key})"));
                table.Row(
                    name, sweep.Scenario.ToString(), axes,
                    sweep.PointCount.ToString(CultureInfo.InvariantCulture), sweep.RunCount.ToString(CultureInfo.InvariantCulture),
                    sweep.Description);
                array.Add(new JsonObject
                {
                    ["name"] = name,
                    ["scenario"] = sweep.Scenario.ToString(),
                    ["axes"] = new JsonArray(sweep.Axes.Select(a => (JsonNode?)new JsonObject { ["name"] = a.Name, ["key"] = a.Key }).ToArray()),
                    ["points"] = sweep.PointCount,
                    ["runs"] = sweep.RunCount,
                    ["description"] = sweep.Description,
                });
            }

            var human = context.Human(target);
            table.Write(human, context.TableWidth(human, parse.GetValue(wide)));
            var doc = ResultDocument.Create();
            doc["sweeps"] = array;
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });

        var name = new Argument<string>("NAME") { Description = "A built-in sweep: " + string.Join(", ", BuiltinSweeps.Names) };
        var showJson = JsonTarget.CreateOption();
        var show = new Command("show", "Print a built-in sweep as a sweep file, with its values");
        show.Arguments.Add(name);
        show.Options.Add(showJson);
        show.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, showJson);
            var human = context.HumanWriter(target);
            var sweepName = parse.GetValue(name)!;
            var text = BuiltinSweeps.Text(sweepName);
            var sweep = BuiltinSweeps.Load(sweepName);
            human.WriteLine(text);
            var axes = new JsonArray();
            foreach (var axis in sweep.Axes)
            {
                human.WriteLine($"# {axis.Name}: {string.Join(", ", axis.Values.Select(v => v.Text + axis.Unit))}");
                axes.Add(new JsonObject
                {
                    ["name"] = axis.Name,
                    ["key"] = axis.Key,
                    ["unit"] = axis.Unit,
                    ["values"] = new JsonArray([.. axis.Values.Select(v => (JsonNode)v.Text)]),
                });
            }

            human.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# {sweep.PointCount:N0} points x {sweep.Seeds.Count:N0} seeds x {sweep.Protocols.Count:N0} protocol entries = {sweep.RunCount:N0} runs"));
            var doc = ResultDocument.Create();
            doc["name"] = sweepName;
            doc["scenario"] = sweep.Scenario.ToString();
            doc["description"] = sweep.Description;
            doc["sweep_hash"] = sweep.ComputeHash();
            doc["protocols"] = new JsonArray([.. sweep.Protocols.Select(p => (JsonNode)p.Label)]);
            doc["seeds"] = new JsonArray([.. sweep.Seeds.Select(s => (JsonNode)s)]);
            doc["axes"] = axes;
            doc["points"] = sweep.PointCount;
            doc["runs"] = sweep.RunCount;
            doc["yaml"] = text;
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        sweeps.Subcommands.Add(list);
        sweeps.Subcommands.Add(show);
        return sweeps;
    }
}
