using System.CommandLine;
using System.Text.Json.Nodes;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Results.Documents;
using Vexlab.Results.Reports;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab report</c>: one self-contained HTML page of a run, a compare or a sweep store.</summary>
public static class HtmlReportCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "The JSON of run --json or compare --json, or a sweep store" };
        var by = new Option<string>("--by") { Description = "Store: one entry per value of this column", HelpName = "COLUMN", DefaultValueFactory = _ => "variant" };
        var where = new Option<string?>("--where") { Description = "Store: only the rows matching this SQL condition, such as \"latency = 100\"", HelpName = "SQL" };
        var output = new Option<string>("--out") { Description = "The HTML file", HelpName = "FILE", DefaultValueFactory = _ => "report.html" };
        var json = JsonTarget.CreateOption();
        var command = new Command("report", "Write one self-contained HTML page (inline CSS and SVG, no network) of a run, a compare or a sweep store: findings, comparison table, vCPU time split, latency CDFs, exits, replay commands");
        command.Arguments.Add(file);
        command.Options.Add(by);
        command.Options.Add(where);
        command.Options.Add(output);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var input = parse.GetValue(file)!;
            var path = parse.GetValue(output)!;
            if (!Path.GetExtension(path).Equals(".html", StringComparison.OrdinalIgnoreCase))
            {
                throw InputException.At(null, 0, 0, "--out", $"expected an .html file, got \"{path}\"");
            }

            RunSummaries.RefuseRowOptions(input, parse.GetValue(where), parse.Given(by));

            var target = JsonTarget.From(parse, json);
            DistinctFiles.Require([("input FILE", input)], [("--out", path), target.Output]);
            if (target.Path is not null)
            {
                OutputFile.Check(target.Path, "JSON result");
            }

            OutputKind.Refuse(parse, "--out", path, OutputKind.Report);
            OutputFile.Check(path, "report");
            var set = RunSummaries.Load(input, parse.GetValue(by)!, parse.GetValue(where));
            if (set.Caution is { } caution)
            {
                context.Error.WriteLine("vexlab: caution: " + caution);
            }

            var page = HtmlReport.Build(set, ResultDocument.VexlabVersion);
            OutputFile.WriteAllText(path, "report", page.Html);
            context.HumanWriter(target).WriteLine($"wrote {path}");

            var doc = ResultDocument.Create();
            doc["input"] = input;
            doc["source"] = set.Source switch { ResultSource.Run => "run", ResultSource.Compare => "compare", _ => "store" };
            doc["by"] = set.Source == ResultSource.Store ? parse.GetValue(by) : null;
            doc["where"] = parse.GetValue(where);
            doc["out"] = path;
            doc["bytes"] = new FileInfo(path).Length;
            doc["entries"] = new JsonArray([.. set.Entries.Select(e => (JsonNode?)JsonValue.Create(e.Variant))]);
            doc["sections"] = new JsonArray([.. page.Sections.Select(x => (JsonNode?)JsonValue.Create(x))]);
            doc["findings"] = new JsonArray([.. page.Findings.Select(x => (JsonNode?)JsonValue.Create(x))]);

            // Every result carries its seed and replay line: a report draws stored results and nothing at random, so
            // it has no seed (null); the replay keeps --out, the page that is the result.
            ReplayLine.CarryUnseeded(doc, context.Error, GivenCommandLine.Replay(parse, json));
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        return command;
    }
}
