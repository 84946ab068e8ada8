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
        var command = new Command("plot", "Plot a result store: mean lines with 95% intervals over seeds, or stacked vCPU time bars");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { x, y, by, kind, logX, title, output })
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
            var path = parse.GetValue(output)!;
            ResultPlots.Render(parse.GetValue(file)!, request, path);
            context.Output.WriteLine($"wrote {path}");
            return ExitCodes.Done;
        });
        return command;
    }
}
