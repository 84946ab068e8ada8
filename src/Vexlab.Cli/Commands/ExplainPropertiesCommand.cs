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

    private static void WriteHuman(IAnsiConsole console)
    {
        var table = new Table().AddColumn(new TableColumn("property").NoWrap()).AddColumns("kind", "meaning", "source");
        foreach (var p in PropertyCatalog.All)
        {
            table.AddRow(Markup.Escape(p.Name), Markup.Escape(p.Kind), Markup.Escape(p.Description), Markup.Escape(p.Source));
        }

        console.Write(table);
    }
}
