using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain backings</c>: each built-in backing store's distribution, in the terms a scenario's backings[] writes.</summary>
public static class ExplainBackingsCommand
{
    public static Command Create(CliContext context) =>
        ReportCommand.Create(context, "backings", "Print the built-in backing stores' latency distributions, as a scenario's backings[] would write them", WriteHuman, BuildDocument);

    internal static JsonObject BuildDocument()
    {
        var doc = ResultDocument.Create();
        var array = new JsonArray();
        foreach (var name in ScenarioSchema.BackingKinds)
        {
            var store = BackingStore.Create(name);
            array.Add(new JsonObject
            {
                ["name"] = store.Name,
                ["latency"] = store.Spec,
                ["mean_ns"] = Math.Round(store.MeanNs),
                ["source"] = store.Source,
            });
        }

        doc["backings"] = array;
        return doc;
    }

    private static void WriteHuman(IAnsiConsole console, int width)
    {
        var table = new FittedTable(TableShape.Records).Column("name").Column("latency").Column("mean");
        foreach (var name in ScenarioSchema.BackingKinds)
        {
            var store = BackingStore.Create(name);
            table.Row(
                store.Name,
                store.Spec,
                store.MeanNs >= 1_000_000
                    ? (store.MeanNs / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "ms"
                    : (store.MeanNs / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "us");
        }

        table.Write(console, width);
        console.WriteLine("A scenario defines its own under backings[] (name, latency) in the same terms, an empirical one from a CSV of samples included; --json adds each built-in's source.");
    }
}
