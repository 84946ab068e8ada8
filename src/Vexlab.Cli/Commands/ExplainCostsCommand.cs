using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Simulation.Costs;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain costs</c>: every simulator cost default with its calibration source.</summary>
public static class ExplainCostsCommand
{
    public static Command Create(CliContext context)
    {
        var json = JsonTarget.CreateOption();
        var command = new Command("costs", "Print the simulator's cost defaults, each with the measurement it comes from");
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            var entries = CostModel.Default.Describe();
            var console = context.Human(target);
            var table = new Table().AddColumns("key", "default", "range", "source");
            var ranges = CostModel.Defaults;
            for (var i = 0; i < entries.Count; i++)
            {
                var e = entries[i];
                var d = ranges[i];
                table.AddRow(
                    Markup.Escape(e.Key),
                    Markup.Escape(Ns(e.Nanoseconds)),
                    Markup.Escape($"{Ns(d.RangeLowNs)}..{Ns(d.RangeHighNs)}"),
                    Markup.Escape(e.Source));
            }

            console.Write(table);
            var doc = ResultDocument.Create();
            var array = new JsonArray();
            for (var i = 0; i < entries.Count; i++)
            {
                array.Add(new JsonObject
                {
                    ["key"] = entries[i].Key,
                    ["ns"] = entries[i].Nanoseconds,
                    ["range_low_ns"] = ranges[i].RangeLowNs,
                    ["range_high_ns"] = ranges[i].RangeHighNs,
                    ["source"] = entries[i].Source,
                });
            }

            doc["costs"] = array;
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        return command;
    }

    private static string Ns(long ns) => ns >= 1000
        ? (ns / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + "us"
        : ns.ToString(CultureInfo.InvariantCulture) + "ns";
}
