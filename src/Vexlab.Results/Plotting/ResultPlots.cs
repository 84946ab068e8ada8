using System.Globalization;
using ScottPlot;
using Vexlab.Model.Configuration;
using Vexlab.Results.Store;
using Vexlab.Scenarios.Files;

namespace Vexlab.Results.Plotting;

/// <summary>What to plot.</summary>
public sealed record PlotRequest
{
    /// <summary>Lines (mean with a 95% interval over seeds) or stacked vCPU time bars.</summary>
    public PlotKind Kind { get; init; } = PlotKind.Lines;

    public string? X { get; init; }

    public string? Y { get; init; }

    /// <summary>The column that makes one line (or one bar) each.</summary>
    public string By { get; init; } = "variant";

    /// <summary>Logarithmic x axis.</summary>
    public bool LogX { get; init; }

    public int Width { get; init; } = 900;

    public int Height { get; init; } = 560;

    public string? Title { get; init; }
}

public enum PlotKind
{
    Lines,
    Stacked,
}

/// <summary>One point of a line: the mean of y over seeds at one x, with its 95% interval.</summary>
public sealed record LinePoint(double X, double Mean, double Low, double High, int N);

/// <summary>Plots of a result store with ScottPlot, written as PNG or SVG by the file's extension.</summary>
public static class ResultPlots
{
    /// <summary>The stacked columns: the vCPU time split.</summary>
    public static readonly string[] VcpuColumns = ["vcpu_ns_guest", "vcpu_ns_host_stalled", "vcpu_ns_host_halted", "vcpu_ns_idle"];

    /// <summary>Renders <paramref name="request"/> from the store at <paramref name="path"/> into <paramref name="output"/>.</summary>
    public static void Render(string path, PlotRequest request, string output)
    {
        CheckOutput(output);
        var plot = request.Kind == PlotKind.Lines ? Lines(path, request) : Stacked(path, request);
        Save(plot, output, request.Width, request.Height);
    }

    /// <summary>
    /// Stacked bars of the vCPU time split, one per label (<c>compare --plot</c>): each row holds
    /// the nanoseconds of <see cref="VcpuColumns"/> in that order.
    /// </summary>
    public static void RenderSplit(IReadOnlyList<(string Label, double[] VcpuNs)> rows, string title, string output)
    {
        ArgumentNullException.ThrowIfNull(rows);
        CheckOutput(output);
        Save(SplitPlot(rows, title), output, 900, 560);
    }

    /// <summary>Rejects an output path that is not .png or .svg (before any work is done).</summary>
    public static void CheckOutput(string output)
    {
        var extension = Path.GetExtension(output).ToLowerInvariant();
        if (extension is not (".png" or ".svg"))
        {
            throw InputException.At(null, 0, 0, "--out", $"expected a .png or .svg file, got \"{output}\"");
        }
    }

    private static void Save(Plot plot, string output, int width, int height)
    {
        // Rendered in memory, then written whole by the one output writer (temp file, fsync, rename).
        var bytes = Path.GetExtension(output).Equals(".png", StringComparison.OrdinalIgnoreCase)
            ? plot.GetImageBytes(width, height, ImageFormat.Png)
            : System.Text.Encoding.UTF8.GetBytes(plot.GetSvgXml(width, height));
        OutputFile.Write(output, "plot", stream => stream.Write(bytes));
    }

    /// <summary>Groups rows into lines: mean and mean +- 1.96 sd / sqrt(n) over the rows at each x.</summary>
    public static SortedDictionary<string, List<LinePoint>> LineData(string path, string x, string y, string by)
    {
        var query = $"SELECT CAST({SweepStore.Quote(x)} AS DOUBLE), CAST({SweepStore.Quote(y)} AS DOUBLE), CAST({SweepStore.Quote(by)} AS VARCHAR) " +
                    $"FROM {SweepStore.ResultsTable} WHERE {SweepStore.Quote(x)} IS NOT NULL AND {SweepStore.Quote(y)} IS NOT NULL";
        var result = StoreOperations.Query(path, query);
        var lines = new SortedDictionary<string, List<LinePoint>>(StringComparer.Ordinal);
        foreach (var group in result.Rows.GroupBy(r => (string?)r[2] ?? string.Empty))
        {
            var points = new List<LinePoint>();
            foreach (var atX in group.GroupBy(r => (double)r[0]!).OrderBy(g => g.Key))
            {
                var values = atX.Select(r => (double)r[1]!).ToArray();
                var mean = values.Average();
                var sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
                var half = 1.96 * sd / Math.Sqrt(values.Length);
                points.Add(new LinePoint(atX.Key, mean, mean - half, mean + half, values.Length));
            }

            lines[group.Key] = points;
        }

        return lines;
    }

    private static Plot Lines(string path, PlotRequest request)
    {
        if (request.X is null || request.Y is null)
        {
            throw InputException.At(null, 0, 0, request.X is null ? "--x" : "--y", "a line plot needs --x and --y columns");
        }

        var lines = LineData(path, request.X, request.Y, request.By);
        if (lines.Count == 0)
        {
            throw InputException.At(path, 0, 0, null, $"no rows with both {request.X} and {request.Y}");
        }

        if (request.LogX && lines.Values.Any(l => l.Any(p => p.X <= 0)))
        {
            throw InputException.At(null, 0, 0, "--log-x", $"{request.X} has values at or below 0");
        }

        double Tx(double v) => request.LogX ? Math.Log10(v) : v;
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var (name, points) in lines)
        {
            var color = palette.GetColor(index++);
            var xs = points.Select(p => Tx(p.X)).ToArray();
            var band = plot.Add.FillY(xs, points.Select(p => p.Low).ToArray(), points.Select(p => p.High).ToArray());
            band.FillStyle.Color = color.WithAlpha(0.2);
            band.LineStyle.Width = 0;
            var line = plot.Add.Scatter(xs, points.Select(p => p.Mean).ToArray());
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = 5;
            line.LegendText = name;
        }

        if (request.LogX)
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = v => Math.Pow(10, v).ToString("G6", CultureInfo.InvariantCulture),
            };
        }

        plot.Title(request.Title ?? $"{request.Y} by {request.X} (mean, 95% interval over seeds)");
        plot.XLabel(request.X + (request.LogX ? " (log)" : string.Empty));
        plot.YLabel(request.Y);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot Stacked(string path, PlotRequest request)
    {
        var by = SweepStore.Quote(request.By);
        var means = string.Join(", ", VcpuColumns.Select(c => $"avg(CAST({SweepStore.Quote(c)} AS DOUBLE))"));
        var result = StoreOperations.Query(
            path, $"SELECT CAST({by} AS VARCHAR) AS g, {means} FROM {SweepStore.ResultsTable} GROUP BY g ORDER BY g");
        if (result.Rows.Count == 0)
        {
            throw InputException.At(path, 0, 0, null, "no results to plot");
        }

        var rows = new List<(string Label, double[] VcpuNs)>();
        foreach (var row in result.Rows)
        {
            var values = new double[VcpuColumns.Length];
            for (var k = 0; k < VcpuColumns.Length; k++)
            {
                values[k] = row[k + 1] is double d ? d : 0;
            }

            rows.Add(((string?)row[0] ?? string.Empty, values));
        }

        return SplitPlot(rows, request.Title ?? $"vCPU time split by {request.By} (mean over runs)");
    }

    private static Plot SplitPlot(IReadOnlyList<(string Label, double[] VcpuNs)> rows, string title)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        for (var i = 0; i < rows.Count; i++)
        {
            var values = rows[i].VcpuNs;
            var total = values.Sum();
            double bottom = 0;
            for (var k = 0; k < VcpuColumns.Length; k++)
            {
                var share = total > 0 ? 100 * values[k] / total : 0;
                bars.Add(new Bar
                {
                    Position = i,
                    ValueBase = bottom,
                    Value = bottom + share,
                    FillColor = palette.GetColor(k),
                    LineWidth = 0,
                });
                bottom += share;
            }
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(
            Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray(),
            rows.Select(r => r.Label).ToArray());
        var crowded = rows.Count > 6 || rows.Any(r => r.Label.Length > 24);
        plot.Axes.Bottom.TickLabelStyle.Rotation = crowded ? 20 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = crowded ? Alignment.MiddleLeft : Alignment.UpperCenter;
        for (var k = 0; k < VcpuColumns.Length; k++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = VcpuColumns[k]["vcpu_ns_".Length..], FillColor = palette.GetColor(k) });
        }

        plot.Axes.SetLimitsY(0, 112);
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.Title(title);
        plot.YLabel("share of vCPU time (%)");
        plot.ShowLegend(Alignment.UpperCenter);
        return plot;
    }
}
