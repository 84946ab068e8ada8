using System.Globalization;
using ScottPlot;
using Vexlab.Model.Configuration;
using Vexlab.Results.Documents;
using Vexlab.Results.Store;
using Vexlab.Scenarios.Files;
using Vexlab.Scenarios.Outputs;

namespace Vexlab.Results.Plotting;

/// <summary>What to plot.</summary>
public sealed record PlotRequest
{
    /// <summary>Lines (mean with a 95% interval over seeds), stacked vCPU time bars, or fault-latency CDFs.</summary>
    public PlotKind Kind { get; init; } = PlotKind.Lines;

    public string? X { get; init; }

    public string? Y { get; init; }

    /// <summary>The column that makes one line (or one bar) each.</summary>
    public string By { get; init; } = "variant";

    /// <summary>Logarithmic x axis.</summary>
    public bool LogX { get; init; }

    /// <summary>Logarithmic y axis; null: on for latencies (they span decades), off otherwise.</summary>
    public bool? LogY { get; init; }

    /// <summary>A SQL condition on the store's rows (<c>latency = 100</c>); stores only.</summary>
    public string? Where { get; init; }

    public int Width { get; init; } = 900;

    public int Height { get; init; } = 560;

    public string? Title { get; init; }
}

public enum PlotKind
{
    Lines,
    Stacked,
    Cdf,
}

/// <summary>One point of a line: the mean of y over seeds at one x, with its 95% interval.</summary>
public sealed record LinePoint(double X, double Mean, double Low, double High, int N);

/// <summary>
/// Plots of results with ScottPlot, written as PNG or SVG by the file's extension. Every plot has
/// units on its axes, its legend in a panel right of or under the data (never over it), and a title,
/// y label and tick labels that fit the image (<see cref="BarLabels"/>), down to --size's smallest.
/// </summary>
public static class ResultPlots
{
    /// <summary>The stacked columns: the vCPU time split.</summary>
    public static readonly string[] VcpuColumns = ["vcpu_ns_guest", "vcpu_ns_host_exit", "vcpu_ns_host_stalled", "vcpu_ns_host_halted", "vcpu_ns_idle", "vcpu_ns_steal"];

    /// <summary>
    /// Renders <paramref name="request"/> from <paramref name="input"/> (a store, or a run or compare JSON) into
    /// <paramref name="output"/>; returns the caution about the entries' points (<see cref="ResultSet.Caution"/>), if any.
    /// </summary>
    public static string? Render(string input, PlotRequest request, string output)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckOutput(output);
        CheckRequest(input, request);
        var plot = Build(input, request, out var caution);
        RequireDataRoom(plot, request.Width, request.Height);
        Save(plot, output, request.Width, request.Height);
        return caution;
    }

    /// <summary>
    /// Refuses options a plot kind would otherwise ignore, before any work: a stacked plot has one
    /// bar per <c>--by</c> value and a CDF one line per value, so neither takes <c>--x</c> or <c>--y</c>.
    /// </summary>
    public static void CheckRequest(string input, PlotRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // The input first: an option that does not suit a file is no help while the file is missing or unreadable.
        if (!File.Exists(input))
        {
            throw InputException.At(input, 0, 0, null, Directory.Exists(input) ? "is a folder, not a run or compare JSON or a sweep store" : "no such file");
        }

        var json = RunSummaries.IsJson(input);
        if (request.Kind != PlotKind.Lines)
        {
            var what = request.Kind == PlotKind.Stacked
                ? "--kind stacked draws one bar of the vCPU time split per --by value"
                : "--kind cdf draws one fault-latency CDF per --by value";
            var extra = request.X is not null ? "--x" : request.Y is not null ? "--y" : request.LogX ? "--log-x" : request.LogY is not null ? "--log-y" : null;
            if (extra is not null)
            {
                // A column was most likely meant to choose rows; an axis scale has no axis of that kind to apply to.
                var hint = extra is not ("--x" or "--y") ? string.Empty
                    : json ? " (a run or compare JSON is drawn whole: leave it out)"
                    : " (pick the rows with --where, such as --where \"latency = 100\")";
                throw InputException.At(null, 0, 0, extra, $"{what}; it takes no {extra}{hint}");
            }
        }
        else if (json)
        {
            // A file that is not a run or compare JSON at all (not JSON, a counterexample) is refused as such first.
            RunSummaries.LoadJson(input);
            throw InputException.At(null, 0, 0, "--kind", "a run or compare JSON has one point per entry: plot it with --kind stacked or --kind cdf (lines need a sweep store)");
        }

        RunSummaries.RefuseRowOptions(input, request.Where, byGiven: false);

        if (request.Width is < 300 or > 8000 || request.Height is < 200 or > 8000)
        {
            throw InputException.At(null, 0, 0, "--size", string.Create(
                CultureInfo.InvariantCulture, $"expected a width of 300..8000 and a height of 200..8000 pixels, got {request.Width}x{request.Height}"));
        }
    }

    /// <summary>
    /// Refuses a plot whose title, labels, key and legend leave the data less than a quarter of the image's
    /// height or a third of its width: nine long entries at 400x300 listed a key that took the whole height
    /// and drew no bar at all.
    /// </summary>
    public static void RequireDataRoom(Plot plot, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(plot);
        plot.RenderInMemory(width, height);
        var data = plot.LastRender.DataRect;
        if (data.Height < height / 4.0 || data.Width < width / 3.0)
        {
            throw InputException.At(null, 0, 0, "--size", string.Create(CultureInfo.InvariantCulture,
                $"at {width}x{height} the title, labels, key and legend leave the data {Math.Max(0, data.Width):F0}x{Math.Max(0, data.Height):F0} pixels; give a larger --size (the default is 900x560) or fewer entries (--where)"));
        }
    }

    /// <summary>Builds the plot <paramref name="request"/> asks for, without writing it.</summary>
    public static Plot Build(string input, PlotRequest request) => Build(input, request, out _);

    private static Plot Build(string input, PlotRequest request, out string? caution)
    {
        ArgumentNullException.ThrowIfNull(request);
        caution = null;
        if (request.Kind == PlotKind.Lines)
        {
            return Lines(input, request);
        }

        var set = RunSummaries.Load(input, request.By, request.Where);
        caution = set.Caution;

        // The image travels without the command's stderr: its own title says that its bars are not like for like.
        var notes = new List<string>();
        if (set.Unfinished is not null)
        {
            notes.Add("unfinished sweep");
        }

        if (set.Stopped is not null)
        {
            notes.Add("stopped early");
        }

        if (set.Caution is not null && set.Caution != set.Unfinished && set.Caution != set.Stopped)
        {
            notes.Add("means over different points");
        }

        if (request.Kind == PlotKind.Cdf && set.Entries.All(e => e.Cdf.Count == 0))
        {
            // Every error names the file it is about; this one said "the input".
            throw InputException.At(input, 0, 0, null, $"no fault-latency CDF{(request.Where is null ? string.Empty : " where " + request.Where)} (fault_latency_ns.cdf is empty: no fault completed in its runs, or an older vexlab wrote them)");
        }

        var where = (notes.Count == 0 ? string.Empty : $" ({string.Join(", ", notes)})") + (request.Where is null ? string.Empty : $", {request.Where}");
        return request.Kind == PlotKind.Stacked
            ? SplitPlot(set.Entries, request.Title ?? SplitTitle(set) + where, request.Width, request.Height)
            : CdfPlot(set.Entries, request.Title ?? $"{set.Name}: fault latency CDF by {request.By}{where}", request.Width, request.Height);
    }

    /// <summary>Stacked bars of the vCPU time split, one per entry, with the work each did above its bar (<c>compare --plot</c>).</summary>
    public static void RenderSplit(IReadOnlyList<RunSummary> entries, string title, string output)
    {
        ArgumentNullException.ThrowIfNull(entries);
        CheckOutput(output, "--plot");
        Save(SplitPlot(entries, title, 900, 560), output, 900, 560);
    }

    /// <summary>
    /// Rejects an output path that is not .png or .svg (before any work is done), blaming <paramref name="option"/>:
    /// plot's <c>--out</c>, compare's <c>--plot</c>.
    /// </summary>
    public static void CheckOutput(string output, string option = "--out")
    {
        var extension = Path.GetExtension(output).ToLowerInvariant();
        if (extension is not (".png" or ".svg"))
        {
            throw InputException.At(null, 0, 0, option, $"expected a .png or .svg file, got \"{output}\"");
        }
    }

    /// <summary>The plot as SVG markup, for pages that inline their images.</summary>
    public static string Svg(Plot plot, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(plot);
        return plot.GetSvgXml(width, height);
    }

    private static void Save(Plot plot, string output, int width, int height)
    {
        // Rendered in memory, then written whole by the one output writer (temp file, fsync, rename).
        var bytes = Path.GetExtension(output).Equals(".png", StringComparison.OrdinalIgnoreCase)
            ? plot.GetImageBytes(width, height, ImageFormat.Png)
            : System.Text.Encoding.UTF8.GetBytes(plot.GetSvgXml(width, height));
        OutputFile.Write(output, "plot", stream => stream.Write(bytes));
    }

    private static string SplitTitle(ResultSet set) => set.Source == ResultSource.Store
        ? $"{set.Name}: vCPU time split (mean over runs)"
        : $"{set.Name}: vCPU time split and work done";

    /// <summary>Groups rows into lines: mean and mean +- 1.96 sd / sqrt(n) over the rows at each x.</summary>
    public static SortedDictionary<string, List<LinePoint>> LineData(string path, string x, string y, string by, string? where = null)
    {
        var columns = ResultColumns.Of(path, where);
        ResultColumns.RequireNumeric(path, columns, x, "--x");
        ResultColumns.RequireNumeric(path, columns, y, "--y");
        ResultColumns.Require(path, columns.Names, by, "--by");
        var meaning = ColumnMeaning.Of(y, []);
        var xValue = Value(x);
        var yValue = Value(y);
        var yExpr = $"CAST({yValue} AS DOUBLE)";
        if (meaning.Quantity == Quantity.WorkRate)
        {
            // Work per simulated second: runs of different durations compare.
            yExpr = $"{yExpr} * 1e9 / NULLIF(CAST(simulated_ns AS DOUBLE), 0)";
        }

        var filter = where is null ? string.Empty : $" AND ({where})";
        var query = $"SELECT CAST({xValue} AS DOUBLE), {yExpr}, {SweepStore.Quote(by)} " +
                    $"FROM {SweepStore.ResultsTable} WHERE {xValue} IS NOT NULL AND {yValue} IS NOT NULL{filter}";
        var result = StoreOperations.Query(path, query);
        var lines = new SortedDictionary<string, List<LinePoint>>(ByValueOrder.Instance);
        // Each line is named as the report names its entry (10, not DuckDB's VARCHAR of a DOUBLE, 10.0).
        foreach (var group in result.Rows.Where(r => r[1] is not null).GroupBy(r => Convert.ToString(r[2], CultureInfo.InvariantCulture) ?? string.Empty))
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

        // A run's JSON leaves out a count that is zero: its NULL is 0 in the mean, as the report reads it, not a
        // run to leave out (which made a mean over the runs that had the event).
        static string Value(string column) =>
            ColumnMeaning.Of(column, []).AbsentIsZero ? $"COALESCE({SweepStore.Quote(column)}, 0)" : SweepStore.Quote(column);
    }

    private static Plot Lines(string path, PlotRequest request)
    {
        if (request.X is null || request.Y is null)
        {
            throw InputException.At(null, 0, 0, request.X is null ? "--x" : "--y", "a line plot needs --x and --y columns");
        }

        var axes = RunSummaries.LoadStore(path, request.By, request.Where).Axes;
        var lines = LineData(path, request.X, request.Y, request.By, request.Where);
        if (lines.Count == 0)
        {
            throw InputException.At(path, 0, 0, null, $"no rows with both {request.X} and {request.Y}");
        }

        var xMeaning = ColumnMeaning.Of(request.X, axes);
        var yMeaning = ColumnMeaning.Of(request.Y, axes);
        var logY = request.LogY ?? yMeaning.IsLatency;
        if (request.LogX && lines.Values.Any(l => l.Any(p => p.X <= 0)))
        {
            throw InputException.At(null, 0, 0, "--log-x", $"{request.X} has values at or below 0");
        }

        if (logY && lines.Values.Any(l => l.Any(p => p.Mean <= 0)))
        {
            throw InputException.At(null, 0, 0, "--log-y", $"{request.Y} has means at or below 0 (pass --log-y false)");
        }

        var largestX = lines.Values.SelectMany(l => l).Max(p => Math.Abs(p.X));
        var largestY = lines.Values.SelectMany(l => l).Max(p => Math.Abs(p.High));
        var (_, xDiv, xMul) = xMeaning.Scale(largestX);
        var (_, yDiv, yMul) = yMeaning.Scale(largestY);
        var smallestY = lines.Values.SelectMany(l => l).Min(p => p.Mean) * yMul / yDiv;
        double Tx(double v) => request.LogX ? Math.Log10(v * xMul / xDiv) : v * xMul / xDiv;

        // A band's low edge can reach 0 or below; on a log axis it stops at half the smallest mean.
        double Ty(double v) => logY ? Math.Log10(Math.Max(v * yMul / yDiv, smallestY / 2)) : v * yMul / yDiv;
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var (name, points) in lines)
        {
            var color = palette.GetColor(index++);
            var xs = points.Select(p => Tx(p.X)).ToArray();
            var band = plot.Add.FillY(xs, points.Select(p => Ty(p.Low)).ToArray(), points.Select(p => Ty(p.High)).ToArray());
            band.FillStyle.Color = color.WithAlpha(0.2);
            band.LineStyle.Width = 0;
            var line = plot.Add.Scatter(xs, points.Select(p => Ty(p.Mean)).ToArray());
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = 5;
            line.LegendText = name;
        }

        if (request.LogX)
        {
            LogTicks(plot.Axes.Bottom);
        }

        if (logY)
        {
            LogTicks(plot.Axes.Left);
        }

        var xLabel = xMeaning.AxisLabel(largestX) + (request.LogX ? ", log scale" : string.Empty);
        var yLabel = yMeaning.AxisLabel(largestY) + (logY ? ", log scale" : string.Empty);
        var where = request.Where is null ? string.Empty : $", {request.Where}";
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        PlaceLegend(plot, request.Width, request.Height);
        FitTitleAndYLabel(plot, request.Title ?? $"{yMeaning.Label} by {xMeaning.Label} (mean, 95% interval over seeds{where})", yLabel, request.Width, request.Height);
        return plot;
    }

    /// <summary>
    /// The vCPU time split as 100% stacked bars, one per entry, with the work each entry did per
    /// simulated second above its bar: what each protocol costs the workload, and what it gets done.
    /// </summary>
    public static Plot SplitPlot(IReadOnlyList<RunSummary> entries, string title, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        for (var i = 0; i < entries.Count; i++)
        {
            double bottom = 0;
            for (var k = 0; k < RunSummary.VcpuParts.Length; k++)
            {
                var share = 100 * entries[i].VcpuShare(k);
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
        for (var k = 0; k < RunSummary.VcpuParts.Length; k++)
        {
            if (k == RunSummary.VcpuParts.Length - 1 && entries.All(e => e.VcpuShare(k) == 0))
            {
                // Steal exists only where vCPUs share pCPUs (host.pcpus).
                continue;
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = VcpuLegend[k], FillColor = palette.GetColor(k) });
        }

        // A share: ticks to 100 only, whatever headroom the work labels take above it.
        plot.Axes.Left.SetTicks([0, 20, 40, 60, 80, 100], ["0", "20", "40", "60", "80", "100"]);
        plot.Axes.SetLimitsY(0, 108);
        plot.Axes.SetLimitsX(-0.5, entries.Count - 0.5);
        const string YLabel = "share of vCPU time (%)";
        plot.YLabel(YLabel);
        PlaceLegend(plot, width, height);
        FitTitleAndYLabel(plot, title, YLabel, width, height);
        var slot = BarTicks(plot, entries.Select(e => e.Variant).ToList(), width, height);

        // The key under the bars moved the data area's middle, where the y label is centred.
        FitTitleAndYLabel(plot, title, YLabel, width, height);
        var labels = new List<ScottPlot.Plottables.Text>();
        for (var i = 0; i < entries.Count; i++)
        {
            labels.Add(WorkAnnotation(plot, entries[i], i, slot));
        }

        MakeRoomAbove(plot, labels, width, height);
        return plot;
    }

    /// <summary>
    /// Raises the y axis's top until the tallest work label fits above the bars, with 4 pixels to spare: the
    /// data area clips what is drawn in it, and at 400x300 a label on two lines lost its number to a fixed 8%
    /// of headroom (12 pixels). The y ticks are fixed, so the data area keeps its place.
    /// </summary>
    private static void MakeRoomAbove(Plot plot, List<ScottPlot.Plottables.Text> labels, int width, int height)
    {
        plot.RenderInMemory(width, height);
        var dataHeight = plot.LastRender.DataRect.Height;
        using var paint = Paint.NewDisposablePaint();
        var tallest = labels.Count == 0 ? 0 : labels.Max(l => l.LabelStyle.Measure(l.LabelText, paint).Size.Height);
        var room = dataHeight - tallest - 4;

        // Label bottoms sit at 101: (top - 101) / top of the data area's height must hold the label.
        var top = room > dataHeight / 4 ? Math.Max(108, 101 * dataHeight / room) : 101 * 4.0 / 3;
        plot.Axes.SetLimitsY(0, top);
    }

    /// <summary>
    /// The legend's names of the split's parts, in <see cref="RunSummary.VcpuParts"/>' order: the tables' labels
    /// (<see cref="VcpuTimeParts"/>) without their "vCPU " prefix, which the axis, "share of vCPU time", already says.
    /// One list, so the plot cannot name a part otherwise than the table beside it (it once said "in guest (work)").
    /// </summary>
    public static IReadOnlyList<string> VcpuLegend { get; } = [.. VcpuTimeParts.All.Select(p => WithoutVcpuPrefix(p.Label))];

    private static string WithoutVcpuPrefix(string label) =>
        label.StartsWith("vCPU ", StringComparison.Ordinal) ? label["vCPU ".Length..] : label;

    /// <summary>
    /// Fault-latency CDFs, one line per entry: latency (log scale, us or ms) against the share of
    /// faults that completed within it. The tail, where protocols differ most, is the right end.
    /// </summary>
    public static Plot CdfPlot(IReadOnlyList<RunSummary> entries, string title, int width = 900, int height = 560)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var withCdf = entries.Where(e => e.Cdf.Count > 0).ToList();
        if (withCdf.Count == 0)
        {
            throw new InputException("no fault-latency CDF in the input (fault_latency_ns.cdf: results of this vexlab version have one; no faults completed, or an older file)");
        }

        var largest = withCdf.Max(e => e.Cdf.Max(p => p.Ns));
        var meaning = ColumnMeaning.Of("fault_latency_ns", []);
        var (_, divisor, _) = meaning.Scale(largest);
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Cdf.Count == 0)
            {
                continue;
            }

            var points = entries[i].Cdf;
            var line = plot.Add.Scatter(
                points.Select(p => Math.Log10(Math.Max(p.Ns, 1) / divisor)).ToArray(),
                points.Select(p => p.Percentile).ToArray());
            line.Color = palette.GetColor(i);
            line.LineWidth = 2;
            line.MarkerSize = 4;
            line.LegendText = entries[i].Variant;
        }

        LogTicks(plot.Axes.Bottom);
        plot.Axes.SetLimitsY(0, 101);
        plot.XLabel(meaning.AxisLabel(largest) + ", log scale");
        const string YLabel = "faults completed within (%)";
        plot.YLabel(YLabel);
        PlaceLegend(plot, width, height);
        FitTitleAndYLabel(plot, title, YLabel, width, height);
        return plot;
    }

    /// <summary>Labelled ticks for an axis whose values are log10 of the data, however few decades it spans.</summary>
    private static void LogTicks(IAxis axis) => axis.TickGenerator = new LogAxisTicks();

    /// <summary>
    /// The legend in a panel beside the data area, so that it never hides a line or a bar: right of it, its
    /// entries wrapped at about 30 characters; or, where that would leave the data less than half the image's
    /// width (at --size 400x300 a long knob entry left it no width at all), under it, its entries side by side
    /// and wrapped to the data area's width.
    /// </summary>
    private static void PlaceLegend(Plot plot, int width, int height)
    {
        var beside = plot.ShowLegend(Edge.Right);
        WrapLegend(plot, text => string.Join('\n', BarLabels.Wrap(text, 30, t => t.Length)));
        RenderTwice(plot, width, height);
        if (plot.LastRender.DataRect.Width >= width / 2.0)
        {
            return;
        }

        plot.Axes.Remove(beside);
        var under = plot.ShowLegend(Edge.Bottom);
        under.Padding = new PixelPadding(6, 6);
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.Legend.TightHorizontalWrapping = true;
        RenderTwice(plot, width, height);

        // An entry's own style, as the legend draws it (the legend's font where it overrides it); the
        // symbol and paddings beside an entry's text take about 60 pixels of its row.
        var font = new LabelStyle();
        font.FontName = plot.Legend.FontName ?? font.FontName;
        font.FontSize = plot.Legend.FontSize ?? font.FontSize;
        var room = plot.LastRender.DataRect.Width - 60;
        WrapLegend(plot, text => string.Join('\n', BarLabels.Wrap(text, room, t => Measure(font, t))));
        RenderTwice(plot, width, height);
    }

    /// <summary>Sets every legend entry's text to <paramref name="wrap"/> of its unwrapped name.</summary>
    private static void WrapLegend(Plot plot, Func<string, string> wrap)
    {
        foreach (var p in plot.GetPlottables().OfType<IHasLegendText>().Where(p => !string.IsNullOrEmpty(p.LegendText)))
        {
            p.LegendText = wrap(BarLabels.Unwrap(p.LegendText));
        }

        foreach (var item in plot.Legend.ManualItems)
        {
            item.LabelText = wrap(BarLabels.Unwrap(item.LabelText));
        }
    }

    /// <summary>
    /// Lays the plot out after a change to its legend: a legend panel takes the size of the legend's last
    /// render, so the first pass draws the new legend and the second lays the panels out around it.
    /// </summary>
    private static void RenderTwice(Plot plot, int width, int height)
    {
        plot.RenderInMemory(width, height);
        plot.RenderInMemory(width, height);
    }

    /// <summary>
    /// Tick labels under the bars, wrapped to their slot's width (or replaced by keys listed under
    /// the axis), measured against the data area of a first layout pass. Returns the slot width in pixels.
    /// </summary>
    private static double BarTicks(Plot plot, List<string> names, int width, int height)
    {
        var positions = Enumerable.Range(0, names.Count).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, [.. names.Select(_ => "x")]);
        plot.RenderInMemory(width, height);
        var dataWidth = plot.LastRender.DataRect.Width;
        var slot = dataWidth / Math.Max(1, names.Count) * 0.92;
        var style = plot.Axes.Bottom.TickLabelStyle;
        var layout = BarLabels.For(names, slot, text => Measure(style, text));
        plot.Axes.Bottom.SetTicks(positions, [.. layout.Ticks]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperCenter;
        if (layout.Key.Count > 0)
        {
            // The key in the tick labels' font, as many entries a line as fit over the data area.
            var label = plot.Axes.Bottom.Label;
            label.FontSize = style.FontSize;
            label.Bold = false;
            var lines = new List<string>();
            var line = string.Empty;
            foreach (var piece in layout.Key.SelectMany(entry => BarLabels.Wrap(entry, dataWidth, text => Measure(label, text))))
            {
                var joined = line.Length == 0 ? piece : line + "    " + piece;
                if (line.Length > 0 && Measure(label, joined) > dataWidth)
                {
                    lines.Add(line);
                    joined = piece;
                }

                line = joined;
            }

            lines.Add(line);
            plot.XLabel(string.Join('\n', lines));
        }

        return slot;
    }

    /// <summary>The work an entry did, above its bar, in a font that fits the bar's slot (on two lines if need be).</summary>
    private static ScottPlot.Plottables.Text WorkAnnotation(Plot plot, RunSummary entry, int position, double slot)
    {
        var number = entry.WorkPerSecond is { } rate
            ? rate.ToString("N0", CultureInfo.InvariantCulture)
            : entry.WorkDone.ToString("N0", CultureInfo.InvariantCulture);
        var unit = entry.WorkPerSecond is null ? "work" : "work/s";
        var text = plot.Add.Text(number + " " + unit, position, 101);
        text.LabelAlignment = Alignment.LowerCenter;
        text.LabelBold = true;
        text.LabelFontSize = 13;
        while (text.LabelFontSize > 8 && Measure(text.LabelStyle, text.LabelText) > slot)
        {
            text.LabelFontSize--;
        }

        if (Measure(text.LabelStyle, text.LabelText) > slot)
        {
            text.LabelText = number + "\n" + unit;
        }

        return text;
    }

    /// <summary>
    /// The title, wrapped to the width the image holds around the data area's centre, where ScottPlot centres
    /// it (a first layout pass finds it): wider than the data area where a legend beside it leaves room, never
    /// past the image's edge.
    /// </summary>
    private static void FitTitle(Plot plot, string title, int width, int height)
    {
        plot.Title(title);
        plot.RenderInMemory(width, height);
        var lines = BarLabels.Wrap(title, Room(plot.LastRender.DataRect.HorizontalCenter, width), text => Measure(plot.Axes.Title.Label, text));
        plot.Title(string.Join('\n', lines.Select(l => l.Trim())));
    }

    /// <summary>
    /// The title and the y label wrapped to the room the image holds for them; the title once more after the
    /// y label, whose wrapping widens the left panel and so moves the data area's centre.
    /// </summary>
    private static void FitTitleAndYLabel(Plot plot, string title, string yLabel, int width, int height)
    {
        FitTitle(plot, title, width, height);
        FitYLabel(plot, yLabel, width, height);
        FitTitle(plot, title, width, height);
    }

    /// <summary>
    /// The y label, wrapped to the height the image holds around the data area's middle, where ScottPlot centres
    /// it: at --size 400x300 "work per second (iterations/s)" ran past the image's bottom edge.
    /// </summary>
    private static void FitYLabel(Plot plot, string yLabel, int width, int height)
    {
        var label = plot.Axes.Left.Label;
        plot.RenderInMemory(width, height);
        var lines = BarLabels.Wrap(yLabel, Room(plot.LastRender.DataRect.VerticalCenter, height), text => Measure(label, text));
        plot.YLabel(string.Join('\n', lines.Select(l => l.Trim())));
    }

    /// <summary>The length of text centred at <paramref name="centre"/> that stays inside 0..<paramref name="extent"/>, less a margin.</summary>
    private static double Room(double centre, int extent) => Math.Max(0, (2 * Math.Min(centre, extent - centre)) - 8);

    private static double Measure(LabelStyle style, string text)
    {
        using var paint = Paint.NewDisposablePaint();
        return style.Measure(text, paint).Width;
    }
}
