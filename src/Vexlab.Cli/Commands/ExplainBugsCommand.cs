using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Protocols;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain bugs</c>: the known bugs, the knob that brings each back, and what is out of scope.</summary>
public static class ExplainBugsCommand
{
    public static Command Create(CliContext context) =>
        ReportCommand.Create(context, "bugs", "Print the known APF bugs the model reproduces, with their knobs and checker models", WriteHuman, BuildDocument);

    internal static JsonObject BuildDocument()
    {
        var doc = ResultDocument.Create();
        var bugs = new JsonArray();
        foreach (var bug in BugCatalog.All)
        {
            var with = new JsonArray();
            foreach (var w in bug.With)
            {
                with.Add(w);
            }

            bugs.Add(new JsonObject
            {
                ["id"] = bug.Id,
                ["commit"] = bug.Commit,
                ["subject"] = bug.Subject,
                ["knob"] = bug.Knob,
                ["buggy_value"] = bug.BuggyValue,
                ["default"] = KnobCatalog.Find(bug.Knob)?.DefaultFor(bug.Protocol),
                ["default_is_buggy"] = KnobCatalog.Find(bug.Knob)?.DefaultFor(bug.Protocol) == bug.BuggyValue,
                ["with"] = with,
                ["protocol"] = bug.Protocol,
                ["model"] = bug.CheckerModel,
                ["property"] = bug.Property,
            });
        }

        doc["bugs"] = bugs;
        var outOfScope = new JsonArray();
        foreach (var bug in BugCatalog.OutOfScope)
        {
            outOfScope.Add(new JsonObject
            {
                ["id"] = bug.Id,
                ["commit"] = bug.Commit,
                ["subject"] = bug.Subject,
                ["reason"] = bug.Reason,
            });
        }

        doc["out_of_scope"] = outOfScope;
        var open = new JsonArray();
        foreach (var w in BugCatalog.OpenWindows)
        {
            open.Add(new JsonObject
            {
                ["id"] = w.Id,
                ["subject"] = w.Subject,
                ["mitigation"] = w.Mitigation,
                ["residual"] = w.Residual,
                ["protocol"] = w.Protocol,
                ["model"] = w.CheckerModel,
                ["property"] = w.Property,
            });
        }

        doc["open_windows"] = open;
        return doc;
    }

    private static void WriteHuman(IAnsiConsole console)
    {
        var table = new Table()
            .Title("Known bugs: the knob value that brings each back")
            .AddColumn("id")
            .AddColumn("commit")
            .AddColumn("subject")
            .AddColumn("knob = buggy value")
            .AddColumn("protocol")
            .AddColumn("model")
            .AddColumn("breaks");
        foreach (var bug in BugCatalog.All)
        {
            var knob = $"{bug.Knob}={bug.BuggyValue}";
            if (bug.With.Length > 0)
            {
                knob += " (with " + string.Join(", ", bug.With) + ")";
            }

            table.AddRow(
                Markup.Escape(bug.Id),
                Markup.Escape(bug.Commit),
                Markup.Escape(bug.Subject),
                Markup.Escape(knob),
                Markup.Escape(bug.Protocol),
                Markup.Escape(bug.CheckerModel),
                Markup.Escape(bug.Property));
        }

        console.Write(table);
        console.WriteLine();
        var outOfScope = new Table()
            .Title("Out of scope for now")
            .AddColumn("id")
            .AddColumn("commit")
            .AddColumn("subject")
            .AddColumn("why");
        foreach (var bug in BugCatalog.OutOfScope)
        {
            outOfScope.AddRow(Markup.Escape(bug.Id), Markup.Escape(bug.Commit), Markup.Escape(bug.Subject), Markup.Escape(bug.Reason));
        }

        console.Write(outOfScope);
        console.WriteLine();
        var windows = new Table()
            .Title("Never fixed: windows that were only narrowed")
            .AddColumn("id")
            .AddColumn("window")
            .AddColumn("mitigated by")
            .AddColumn("what is left")
            .AddColumn("check");
        foreach (var w in BugCatalog.OpenWindows)
        {
            windows.AddRow(
                Markup.Escape(w.Id),
                Markup.Escape(w.Subject),
                Markup.Escape(w.Mitigation),
                Markup.Escape(w.Residual),
                Markup.Escape($"{w.CheckerModel} under {w.Protocol}: {w.Property}"));
        }

        console.Write(windows);
    }
}
