using System.CommandLine;
using Vexlab.Cli.Infrastructure;
using Vexlab.Results.Plotting;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab plot</c>: lines with 95% intervals over seeds, or stacked vCPU time bars.</summary>
public static class PlotCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "The result store" };
        var x = new Option<string?>("--x") { Description = "The x column (such as an axis: latency)", HelpName = "COLUMN" };
        var y = new Option<string?>("--y") { Description = "The y column (such as fault_latency_ns_p99)", HelpName = "COLUMN" };
        var by = new Option<string>("--by") { Description = "One line (or bar) per value of this column", HelpName = "COLUMN", DefaultValueFactory = _ => "variant" };
        var kind = new Option<string>("--kind") { Description = "lines, or stacked (the vCPU time split)", DefaultValueFactory = _ => "lines" };
        kind.AcceptOnlyFromAmong("lines", "stacked");
        var logX = new Option<bool>("--log-x") { Description = "Logarithmic x axis" };
        var title = new Option<string?>("--title") { Description = "The plot title" };
        var output = new Option<string>("--out") { Description = "The image: .png or .svg", HelpName = "FILE", DefaultValueFactory = _ => "plot.png" };
        var json = JsonTarget.CreateOption();
        var command = new Command("plot", "Plot a result store: mean lines with 95% intervals over seeds, or stacked vCPU time bars");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { x, y, by, kind, logX, title, output, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var request = new PlotRequest
            {
                Kind = parse.GetValue(kind) == "stacked" ? PlotKind.Stacked : PlotKind.Lines,
                X = parse.GetValue(x),
                Y = parse.GetValue(y),
                By = parse.GetValue(by)!,
                LogX = parse.GetValue(logX),
                Title = parse.GetValue(title),
            };
            var target = JsonTarget.From(parse, json);
            var path = parse.GetValue(output)!;
            ResultPlots.Render(parse.GetValue(file)!, request, path);
            context.HumanWriter(target).WriteLine($"wrote {path}");
            var doc = ResultDocument.Create();
            doc["db"] = parse.GetValue(file);
            doc["kind"] = parse.GetValue(kind);
            doc["x"] = request.X;
            doc["y"] = request.Y;
            doc["by"] = request.By;
            doc["log_x"] = request.LogX;
            doc["out"] = path;
            doc["bytes"] = new FileInfo(path).Length;
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        return command;
    }
}
