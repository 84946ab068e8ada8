using System.CommandLine;
using System.Globalization;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Results.Plotting;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab plot</c>: lines with 95% intervals over seeds, stacked vCPU time bars, or fault-latency CDFs.</summary>
public static class PlotCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "A sweep store, or the JSON of run --json or compare --json (stacked and cdf only)" };
        var x = new Option<string?>("--x") { Description = "The x column (such as an axis: latency); lines only", HelpName = "COLUMN" };
        var y = new Option<string?>("--y") { Description = "The y column (such as fault_latency_ns_p99); lines only", HelpName = "COLUMN" };
        var by = new Option<string>("--by") { Description = "One line (or bar) per value of this column", HelpName = "COLUMN", DefaultValueFactory = _ => "variant" };
        var kind = new Option<string>("--kind") { Description = "lines, stacked (the vCPU time split and work done) or cdf (fault latency)", DefaultValueFactory = _ => "lines" };
        kind.AcceptOnlyFromAmong("lines", "stacked", "cdf");
        var logX = new Option<bool>("--log-x") { Description = "Logarithmic x axis" };
        var logY = new Option<bool?>("--log-y") { Description = "Logarithmic y axis: --log-y (or --log-y true) turns it on, --log-y false off; without it, on for latencies and off otherwise", HelpName = "true|false", Arity = ArgumentArity.ZeroOrOne };
        var where = new Option<string?>("--where") { Description = "Plot only the store's rows matching this SQL condition, such as \"latency = 100\"", HelpName = "SQL" };
        var size = new Option<string>("--size") { Description = "Image size in pixels", HelpName = "WxH", DefaultValueFactory = _ => "900x560" };
        var title = new Option<string?>("--title") { Description = "The plot title", HelpName = "TEXT" };
        var output = new Option<string>("--out") { Description = "The image: .png or .svg", HelpName = "FILE", DefaultValueFactory = _ => "plot.png" };
        var json = JsonTarget.CreateOption();
        var command = new Command("plot", "Plot results: mean lines with 95% intervals over seeds, stacked vCPU time bars with the work done, or fault-latency CDFs");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { x, y, by, kind, logX, logY, where, size, title, output, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var (width, height) = ParseSize(parse.GetValue(size)!);
            var logYResult = parse.GetResult(logY);
            var request = new PlotRequest
            {
                Kind = parse.GetValue(kind) switch { "stacked" => PlotKind.Stacked, "cdf" => PlotKind.Cdf, _ => PlotKind.Lines },
                X = parse.GetValue(x),
                Y = parse.GetValue(y),
                By = parse.GetValue(by)!,
                LogX = parse.GetValue(logX),

                // A bare --log-y means on.
                LogY = logYResult is null ? null : parse.GetValue(logY) ?? true,
                Where = parse.GetValue(where),
                Width = width,
                Height = height,
                Title = parse.GetValue(title),
            };
            var target = JsonTarget.From(parse, json);
            var path = parse.GetValue(output)!;
            DistinctFiles.Require([("input FILE", parse.GetValue(file))], [("--out", path), target.Output]);
            Results.Plotting.ResultPlots.CheckOutput(path);
            OutputKind.Refuse(parse, "--out", path, OutputKind.Plot(path));
            // Once the file is there (a missing one is named first, by the plot itself); --where is the plot's to refuse.
            if (File.Exists(parse.GetValue(file)))
            {
                Results.Documents.RunSummaries.RefuseRowOptions(parse.GetValue(file)!, where: null, parse.Given(by));
            }

            if (ResultPlots.Render(parse.GetValue(file)!, request, path) is { } caution)
            {
                context.Error.WriteLine("vexlab: caution: " + caution);
            }

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

            // Every result carries its seed and replay line: a plot draws stored results and nothing at random, so it
            // has no seed (null); the replay keeps --out, whose extension chooses the image's format.
            ReplayLine.CarryUnseeded(doc, context.Error, GivenCommandLine.Replay(parse, json));
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });
        return command;
    }

    private static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.Split('x', 'X');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h))
        {
            return (w, h);
        }

        throw InputException.At(null, 0, 0, "--size", $"expected WIDTHxHEIGHT in pixels, such as 900x560, got \"{text}\"");
    }
}
