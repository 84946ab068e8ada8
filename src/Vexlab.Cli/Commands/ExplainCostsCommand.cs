using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Simulation.Costs;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain costs</c>: every simulator cost default with its source (a docs/costs.md row).</summary>
public static class ExplainCostsCommand
{
    public static Command Create(CliContext context) =>
        ReportCommand.Create(context, "costs", "Print the simulator's cost defaults, each with the measurement it comes from", WriteHuman, BuildDocument);

    internal static JsonObject BuildDocument()
    {
        var doc = ResultDocument.Create();
        var array = new JsonArray();
        foreach (var d in CostModel.Defaults)
        {
            array.Add(new JsonObject
            {
                ["key"] = d.Key,
                ["ns"] = d.Nanoseconds,
                ["range_low_ns"] = d.RangeLowNs,
                ["range_high_ns"] = d.RangeHighNs,
                ["source"] = d.Source,
            });
        }

        doc["costs"] = array;
        return doc;
    }

    private static void WriteHuman(IAnsiConsole console, int width)
    {
        var table = new FittedTable(TableShape.Records).Column("key").Column("default").Column("range").Column("source");
        foreach (var d in CostModel.Defaults)
        {
            table.Row(d.Key, Ns(d.Nanoseconds), $"{Ns(d.RangeLowNs)}..{Ns(d.RangeHighNs)}", d.Source);
        }

        table.Write(console, width);
        console.WriteLine("Each key is a scenario key: --set cost.vm_exit_entry=800ns, a compare entry such as sync[cost.vm_exit_entry=800ns], or a sweep axis.");
    }

    private static string Ns(long ns) => ns >= 1000
        ? (ns / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + "us"
        : ns.ToString(CultureInfo.InvariantCulture) + "ns";
}
