using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Checking;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;

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
                ["check"] = CheckLine(bug),
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
                ["check"] = CheckLine(w),
            });
        }

        doc["open_windows"] = open;
        return doc;
    }

    private static void WriteHuman(IAnsiConsole console, int width)
    {
        // The ids are one numbering: those missing here are out of scope, and the title says where they went.
        var skipped = BugCatalog.OutOfScope.Select(b => b.Id).ToList();
        var skippedText = skipped.Count switch
        {
            0 => string.Empty,
            1 => $" ({skipped[0]} is out of scope, below)",
            _ => $" ({string.Join(", ", skipped.Take(skipped.Count - 1))} and {skipped[^1]} are out of scope, below)",
        };
        var table = new FittedTable(TableShape.Records, "Known bugs: the knob value that brings each back" + skippedText)
            .Column("id")
            .Column("commit")
            .Column("subject")
            .Column("knob = buggy value")
            .Column("protocol")
            .Column("model")
            .Column("breaks")
            .Column("reproduce");
        foreach (var bug in BugCatalog.All)
        {
            var knob = $"{bug.Knob}={bug.BuggyValue}";
            if (bug.With.Length > 0)
            {
                knob += " (with " + string.Join(", ", bug.With) + ")";
            }

            table.Row(bug.Id, bug.Commit, bug.Subject, knob, bug.Protocol, bug.CheckerModel, bug.Property, CheckLine(bug));
        }

        table.Write(console, width);
        console.WriteLine();
        var outOfScope = new FittedTable(TableShape.Records, "Out of scope for now")
            .Column("id")
            .Column("commit")
            .Column("subject")
            .Column("why");
        foreach (var bug in BugCatalog.OutOfScope)
        {
            outOfScope.Row(bug.Id, bug.Commit, bug.Subject, bug.Reason);
        }

        outOfScope.Write(console, width);
        console.WriteLine();
        var windows = new FittedTable(TableShape.Records, "Never fixed: windows that were only narrowed")
            .Column("id")
            .Column("window")
            .Column("mitigated by")
            .Column("what is left")
            .Column("check");
        foreach (var w in BugCatalog.OpenWindows)
        {
            windows.Row(w.Id, w.Subject, w.Mitigation, w.Residual, CheckLine(w));
        }

        windows.Write(console, width);
    }

    /// <summary>The check that finds the bug: its model and protocol, the knobs it needs, then its buggy value, and the property it breaks.</summary>
    private static string CheckLine(BugInfo bug) =>
        CheckLine(bug.CheckerModel, bug.Protocol, [.. bug.With, $"{bug.Knob}={bug.BuggyValue}"], bug.Property);

    /// <summary>The check that finds the open window, with default knobs.</summary>
    private static string CheckLine(OpenWindow window) => CheckLine(window.CheckerModel, window.Protocol, [], window.Property);

    private static string CheckLine(string model, string protocol, IEnumerable<string> sets, string property)
    {
        var overrides = sets.Select(set => Overrides.ParseSet(set)).Select(o => new KeyValuePair<string, string>(o.Key, o.Value)).ToList();
        return ModelCheck.ReplayCheck(new CheckRequest(model, protocol, overrides, [property]), []);
    }
}
