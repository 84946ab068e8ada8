using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Properties;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain properties</c>: what the checker proves, and where each rule comes from.</summary>
public static class ExplainPropertiesCommand
{
    public static Command Create(CliContext context) =>
        ReportCommand.Create(context, "properties", "Print every property the checker judges, with its source", WriteHuman, BuildDocument);

    internal static JsonObject BuildDocument()
    {
        var doc = ResultDocument.Create();
        var array = new JsonArray();
        foreach (var p in PropertyCatalog.All)
        {
            array.Add(new JsonObject { ["name"] = p.Name, ["kind"] = p.Kind, ["description"] = p.Description, ["source"] = p.Source });
        }

        doc["properties"] = array;
        return doc;
    }

    private static void WriteHuman(IAnsiConsole console, int width)
    {
        var table = new FittedTable(TableShape.Records).Column("property").Column("kind").Column("meaning").Column("source");
        foreach (var p in PropertyCatalog.All)
        {
            table.Row(p.Name, p.Kind, p.Description, p.Source);
        }

        table.Write(console, width);
    }
}
