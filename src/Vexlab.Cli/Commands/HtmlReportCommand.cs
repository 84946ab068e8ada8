using System.CommandLine;
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
        var command = new Command("report", "Write one self-contained HTML page (inline CSS and SVG, no network) of a run, a compare or a sweep store: findings, comparison table, vCPU time split, latency CDFs, exits, replay commands");
        command.Arguments.Add(file);
        command.Options.Add(by);
        command.Options.Add(where);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var input = parse.GetValue(file)!;
            var path = parse.GetValue(output)!;
            if (!Path.GetExtension(path).Equals(".html", StringComparison.OrdinalIgnoreCase))
            {
                throw InputException.At(null, 0, 0, "--out", $"expected an .html file, got \"{path}\"");
            }

            if (RunSummaries.IsJson(input) && parse.GetValue(where) is not null)
            {
                throw InputException.At(null, 0, 0, "--where", "selects rows of a sweep store; a JSON file has none");
            }

            OutputFile.Check(path, "report");
            var set = RunSummaries.Load(input, parse.GetValue(by)!, parse.GetValue(where));
            OutputFile.WriteAllText(path, "report", HtmlReport.Render(set, ResultDocument.VexlabVersion));
            context.Output.WriteLine($"wrote {path}");
            return ExitCodes.Done;
        });
        return command;
    }
}
