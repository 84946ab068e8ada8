using ScottPlot;
using Vexlab.Model.Configuration;
using Vexlab.Results.Documents;
using Vexlab.Results.Plotting;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios.Outputs;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>
/// Plots people can read, checked on rendered images: the legend never covers data, nothing is cut
/// at the image's edge, the data area is not blank, axes carry units, long protocol entries stay
/// identifiable, and options a plot kind cannot honour are refused.
/// </summary>
public sealed class PlotTests : IDisposable
{
    private const string LongEntry = "ve[guest.ve.can_continue=user-or-preemptible-kernel]";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Kinds => new() { "lines", "lines-log", "stacked", "cdf", "stacked-crowded" };

    private static Plot Build(string kind, string db, int width = 900, int height = 560) => kind switch
    {
        "lines" => ResultPlots.Build(db, new PlotRequest { X = "latency", Y = "work_done", LogX = true, Width = width, Height = height }),
        "lines-log" => ResultPlots.Build(db, new PlotRequest { X = "latency", Y = "fault_latency_ns_p99", LogX = true, Width = width, Height = height }),
        "stacked" => ResultPlots.Build(db, new PlotRequest { Kind = PlotKind.Stacked, Width = width, Height = height }),
        "cdf" => ResultPlots.Build(db, new PlotRequest { Kind = PlotKind.Cdf, Where = "latency = 10", Width = width, Height = height }),
        _ => ResultPlots.SplitPlot(Crowded(), "crowded", width, height),
    };

    /// <summary>Nine entries, five of them long knob sets: the case that clipped labels before.</summary>
    private static List<RunSummary> Crowded() =>
        [.. Enumerable.Range(0, 9).Select(i => new RunSummary
        {
            Scenario = "kernel-heavy",
            Protocol = "ve",
            Variant = i % 2 == 0 ? $"ve[guest.ve.can_continue=user-or-preemptible-kernel,guest.ve.info_store=pv-page-{i}]" : $"kvm-pf-int-{i}",
            Seeds = [1],
            VcpuNs = [i + 1, 9 - i, 1, 0, 0],
            WorkDone = 1000 * (i + 1),
            SimulatedNs = 3e8,
        })];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Legend_NeverCoversTheData(string kind)
    {
        var db = PlotStore.Create(_dir);
        var plot = Build(kind, db);
        using var withLegend = PlotImage.Render(plot, 900, 560);

        // The same layout without the legend: every pixel of the data area must be the same.
        plot.HideLegend();
        plot.Layout.Fixed(withLegend.DataRect);
        using var without = PlotImage.Render(plot, 900, 560);
        Assert.Equal(withLegend.DataRect, without.DataRect);
        Assert.Equal(0, withLegend.DifferingPixels(without, withLegend.DataRect));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Rendered_HasItsSize_DataInk_AndNothingCutAtTheEdge(string kind)
    {
        var db = PlotStore.Create(_dir);
        using var image = PlotImage.Render(Build(kind, db), 900, 560);
        Assert.Equal((900, 560), (image.Width, image.Height));
        var data = image.DataRect;
        Assert.True(data.Width > 300 && data.Height > 200, $"data area {data}");
        Assert.InRange(image.InkedShare((int)data.Left + 2, (int)data.Top + 2, (int)data.Right - 2, (int)data.Bottom - 2), 0.02, 1.0);

        // Labels live between the data area and the image's edge; none may reach the edge (a cut label does).
        Assert.Equal(0, image.InkOnBorder());
        Assert.True(image.InkedShare(0, (int)data.Bottom + 4, image.Width, image.Height) > 0.001, "no tick labels under the data");
    }

    [Fact]
    public void An_axis_column_for_stacked_bars_of_a_store_points_to_where()
    {
        // A store has rows to choose; a run or compare JSON is drawn whole (ReplayCommandTests has its message).
        var db = PlotStore.Create(_dir);
        var output = _dir.File("x.png");
        var e = Assert.Throws<InputException>(() => ResultPlots.Render(db, new PlotRequest { Kind = PlotKind.Stacked, X = "latency", Width = 900, Height = 560 }, output));
        Assert.False(File.Exists(output));
        Assert.Contains("it takes no --x (pick the rows with --where, such as --where \"latency = 100\")", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lines")]
    [InlineData("lines-log")]
    [InlineData("stacked")]
    [InlineData("cdf")]
    public void Smallest_size_keeps_a_data_area_with_data_and_cuts_nothing(string kind)
    {
        // A small size with a long knob entry in the legend: the legend once took the whole width,
        // the title wrapped to the few pixels left (a letter a line) and the y label ran past the image's edge.
        const int Width = 400;
        const int Height = 300;
        var db = PlotStore.Create(_dir);
        var plot = Build(kind, db, Width, Height);
        ResultPlots.RequireDataRoom(plot, Width, Height);
        using var image = PlotImage.Render(plot, Width, Height);
        var data = image.DataRect;
        Assert.True(data.Width >= 0.4 * Width && data.Height >= 0.35 * Height, $"data area {data}");
        Assert.InRange(image.InkedShare((int)data.Left + 2, (int)data.Top + 2, (int)data.Right - 2, (int)data.Bottom - 2), 0.02, 1.0);
        Assert.Equal(0, image.InkOnBorder());
    }

    [Fact]
    public void BarLabels_WrapLongEntries_EveryLineFitsItsSlot_NamesRecoverable()
    {
        static double Measure(string s) => s.Length * 7.0;
        var layout = BarLabels.For(["kvm-pf-int", "ve", LongEntry], 180, Measure);
        Assert.Empty(layout.Key);
        Assert.Equal(["kvm-pf-int", "ve", LongEntry], layout.Ticks.Select(BarLabels.Unwrap));
        Assert.All(layout.Ticks.SelectMany(t => t.Split('\n')), line => Assert.True(Measure(line) <= 180, line));
        Assert.Contains('\n', layout.Ticks[2]);
    }

    [Fact]
    public void BarLabels_TooNarrowToWrap_UseKeysListedInFull()
    {
        var names = new[] { LongEntry, LongEntry + "x", "sync" };
        var layout = BarLabels.For(names, 30, s => s.Length * 7.0);
        Assert.Equal(["A", "B", "C"], layout.Ticks);
        Assert.Equal([$"A = {LongEntry}", $"B = {LongEntry}x", "C = sync"], layout.Key);
    }

    [Fact]
    public void SplitPlot_CrowdedLongEntries_TicksAreUniqueAndNamesAreShown()
    {
        var plot = ResultPlots.SplitPlot(Crowded(), "crowded", 900, 560);
        plot.RenderInMemory(900, 560);
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Select(t => t.Label).ToList();
        Assert.Equal(9, ticks.Count);
        Assert.Equal(9, ticks.Distinct().Count());

        // Either every wrapped tick reads back as its entry, or the axis label keys each tick to it.
        var names = Crowded().Select(e => e.Variant).ToList();
        var keyed = ticks.All(t => t.Length <= 2);
        Assert.True(keyed
            ? names.All(n => plot.Axes.Bottom.Label.Text.Replace("\n", string.Empty, StringComparison.Ordinal).Contains(n, StringComparison.Ordinal))
            : names.SequenceEqual(ticks.Select(BarLabels.Unwrap)));
    }

    [Theory]
    [InlineData("stacked", 900, 560)]
    [InlineData("stacked", 400, 300)]
    [InlineData("stacked-crowded", 900, 560)]
    public void SplitPlot_WorkAboveEachBar_FitsInTheDataArea(string kind, int width, int height)
    {
        // The data area clips what is drawn in it: at 400x300 a work label set on two lines had its number
        // cut off at the top, the 8% of headroom above the bars being 12 pixels.
        var db = PlotStore.Create(_dir);
        var plot = Build(kind, db, width, height);
        plot.RenderInMemory(width, height);
        var data = plot.LastRender.DataRect;
        var labels = plot.GetPlottables().OfType<ScottPlot.Plottables.Text>().ToList();
        Assert.NotEmpty(labels);
        using var paint = Paint.NewDisposablePaint();
        foreach (var label in labels)
        {
            var bottom = plot.GetPixel(label.Location).Y;
            var size = label.LabelStyle.Measure(label.LabelText, paint).Size;
            Assert.True(bottom - size.Height >= data.Top, $"\"{label.LabelText}\" is {size.Height:F0} px tall from {bottom:F0}, above the data area's top {data.Top:F0}");
        }

        // The axis is a share: no tick past 100%.
        Assert.All(plot.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor), t => Assert.InRange(t.Position, 0, 100));
    }

    [Fact]
    public void A_size_that_leaves_the_data_no_room_is_refused()
    {
        // Nine long entries at 400x300: the key under the axis took the whole height and no bar was drawn.
        var plot = ResultPlots.SplitPlot(Crowded(), "crowded", 400, 300);
        var e = Assert.Throws<InputException>(() => ResultPlots.RequireDataRoom(plot, 400, 300));
        Assert.StartsWith("--size: at 400x300 the title, labels, key and legend leave the data ", e.Message, StringComparison.Ordinal);
        ResultPlots.RequireDataRoom(ResultPlots.SplitPlot(Crowded(), "crowded", 900, 560), 900, 560);

        // --size's smallest, 300x200, with a long knob entry in the legend: every kind drew an empty frame.
        var db = PlotStore.Create(_dir);
        var output = Path.Combine(_dir.Path, "small.png");
        e = Assert.Throws<InputException>(() => ResultPlots.Render(db, new PlotRequest { Kind = PlotKind.Cdf, Where = "latency = 10", Width = 300, Height = 200 }, output));
        Assert.StartsWith("--size: at 300x200 ", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData(0.0, 5)]
    [InlineData(2.0, 6)]
    public void SplitPlot_Legend_NamesThePartsAsTheTablesDo(double steal, int shown)
    {
        var entry = new RunSummary
        {
            Scenario = "postcopy",
            Protocol = "kvm-pf-int",
            Variant = "kvm-pf-int",
            Seeds = [1],
            VcpuNs = [4, 1, 1, 1, 1, steal],
            WorkDone = 1000,
            SimulatedNs = 3e8,
        };

        var legend = ResultPlots.SplitPlot([entry], "split", 900, 560).Legend.ManualItems.Select(i => i.LabelText);

        // compare's and the report's labels, less the "vCPU " the axis ("share of vCPU time") already says;
        // steal only where some vCPU waited for a pCPU.
        Assert.Equal(VcpuTimeParts.All.Take(shown).Select(p => p.Label), legend.Select(l => "vCPU " + l));
    }

    [Theory]
    [InlineData("fault_latency_ns_p99", 2e6, "fault latency p99 (us)", true)]
    [InlineData("fault_latency_ns_p99", 5e7, "fault latency p99 (ms)", true)]
    [InlineData("vcpu_ns_host_stalled", 2e8, "vCPU host stalled (ms)", false)]
    [InlineData("work_done", 1e5, "work per second (iterations/s)", false)]
    [InlineData("latency", 1000, "latency (us)", false)]
    [InlineData("exits_HLT", 10, "HLT exits (per run)", false)]
    [InlineData("guest_tasks_0_share", 0.5, "guest tasks 0 share (%)", false)]
    [InlineData("seed", 3, "seed", false)]
    public void ColumnMeaning_LabelsCarryUnits(string column, double largest, string label, bool latency)
    {
        var meaning = ColumnMeaning.Of(column, [("latency", "us")]);
        Assert.Equal(label, meaning.AxisLabel(largest));
        Assert.Equal(latency, meaning.IsLatency);
    }

    [Fact]
    public void Lines_LatencyDefaultsToLogY_WorkIsPerSecond()
    {
        var db = PlotStore.Create(_dir);
        var latency = ResultPlots.Build(db, new PlotRequest { X = "latency", Y = "fault_latency_ns_p99" });
        Assert.Equal("fault latency p99 (ms), log scale", latency.Axes.Left.Label.Text);
        Assert.Equal("latency (us)", latency.Axes.Bottom.Label.Text);
        var linear = ResultPlots.Build(db, new PlotRequest { X = "latency", Y = "fault_latency_ns_p99", LogY = false });
        Assert.Equal("fault latency p99 (ms)", linear.Axes.Left.Label.Text);
        var work = ResultPlots.Build(db, new PlotRequest { X = "latency", Y = "work_done" });
        Assert.Equal("work per second (iterations/s)", work.Axes.Left.Label.Text);

        // sync's 33,333 iterations in 300 ms are 111,111 per second.
        var data = ResultPlots.LineData(db, "latency", "work_done", "variant");
        Assert.All(data["sync"], p => Assert.Equal(33_333 / 0.3, p.Mean, 3));
    }

    [Theory]
    [InlineData(PlotKind.Stacked, "latency", null, "--x")]
    [InlineData(PlotKind.Stacked, null, "work_done", "--y")]
    [InlineData(PlotKind.Cdf, "latency", null, "--x")]
    public void StackedAndCdf_RefuseColumnsTheyCannotHonour(PlotKind kind, string? x, string? y, string option)
    {
        var db = PlotStore.Create(_dir);
        var message = Fails(() => ResultPlots.Render(db, new PlotRequest { Kind = kind, X = x, Y = y }, _dir.File("p.png")));
        Assert.StartsWith($"{option}: --kind", message);
        Assert.False(File.Exists(_dir.File("p.png")));
    }

    // A CDF's y axis is a fraction: a logarithmic one was accepted and silently not drawn.
    [Theory]
    [InlineData(PlotKind.Cdf)]
    [InlineData(PlotKind.Stacked)]
    public void StackedAndCdf_RefuseLogY(PlotKind kind)
    {
        var db = PlotStore.Create(_dir);
        var message = Fails(() => ResultPlots.Render(db, new PlotRequest { Kind = kind, LogY = true }, _dir.File("p.png")));
        Assert.StartsWith("--log-y: --kind ", message);
        Assert.EndsWith("; it takes no --log-y", message);
    }

    [Fact]
    public void Cdf_FromStore_OneLinePerEntry_MeansOfPercentiles()
    {
        var db = PlotStore.Create(_dir);
        var set = RunSummaries.Load(db, "variant", "latency = 10 AND tasks = 1");
        Assert.Equal(["sync", "ve", LongEntry], set.Entries.Select(e => e.Variant));
        var sync = set.Entries[0];
        Assert.Equal(3, sync.Runs);

        // Seeds 1..3 add 1..3 ns to a 30,000 ns base: the mean min is 30,002.
        Assert.Equal((0.0, 30_002.0), sync.Cdf[0]);
        Assert.Equal(7, sync.Cdf.Count);
        Assert.Equal([("latency", "us"), ("tasks", string.Empty)], set.Axes);
        ResultPlots.Render(db, new PlotRequest { Kind = PlotKind.Cdf, Where = "latency = 10" }, _dir.File("cdf.svg"));
        Assert.Contains("<svg", File.ReadAllText(_dir.File("cdf.svg")), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_Lines_AreRefused_WhereIsRefused()
    {
        var json = _dir.File("r.json");
        File.WriteAllText(json, PlotStore.Json(SweepPlan.Runs(Small()).First()).ToJsonString());
        Assert.StartsWith("--kind:", Fails(() => ResultPlots.Render(json, new PlotRequest { X = "a", Y = "b" }, _dir.File("p.png"))));
        Assert.StartsWith("--where:", Fails(() => ResultPlots.Render(json, new PlotRequest { Kind = PlotKind.Cdf, Where = "seed = 1" }, _dir.File("p.png"))));
        File.WriteAllText(json, "{}");
        Assert.StartsWith(json + ":1:1:", Fails(() => ResultPlots.Render(json, new PlotRequest { Kind = PlotKind.Cdf }, _dir.File("p.png"))));
        File.WriteAllText(json, "{\n  \"results\": [1,\n");
        Assert.StartsWith(json + ":3:", Fails(() => RunSummaries.Load(json)));
    }

    // The file is the first thing wrong when it is missing, empty or no run or compare at all: the plot kind's
    // default (lines, which a JSON cannot take) or a --where was blamed before the file was read.
    [Theory]
    [InlineData(null, PlotKind.Lines, null, ": no such file")]
    [InlineData("", PlotKind.Lines, null, ":1:1: not JSON")]
    [InlineData("{}", PlotKind.Lines, null, ":1:1: expected the JSON of `vexlab run --json`")]
    [InlineData(null, PlotKind.Cdf, "seed = 1", ": no such file")]
    public void Json_FileFaults_AreNamedBeforeOptionFaults(string? content, PlotKind kind, string? where, string expected)
    {
        var json = _dir.File("faulty.json");
        if (content is not null)
        {
            File.WriteAllText(json, content);
        }

        Assert.StartsWith(json + expected, Fails(() => ResultPlots.Render(json, new PlotRequest { Kind = kind, Where = where }, _dir.File("p.png"))));
    }

    // A shard's store, or a --where that keeps other points for each entry, gives means over different points: the
    // report said "ve ... 1.9x what kvm-halt does" of them all the same. Now it cautions first; a store whose entries
    // share their points (every sweep run whole, or the same points chosen) has no caution.
    [Theory]
    [InlineData(null, false)]
    [InlineData("latency = 10", false)]
    [InlineData("tasks = 1", false)]
    [InlineData("(variant = 'sync' AND tasks = 1) OR (variant <> 'sync' AND tasks = 4)", true)]
    [InlineData("NOT (variant = 've' AND seed = 2)", true)]
    public void Entries_over_different_points_are_cautioned(string? where, bool cautioned)
    {
        var db = PlotStore.Create(_dir);
        var set = RunSummaries.Load(db, "variant", where);
        Assert.Equal(cautioned, set.Caution is not null);
        Assert.DoesNotContain(" 1 runs", set.Caution ?? string.Empty, StringComparison.Ordinal);
        var findings = Vexlab.Results.Reports.HtmlReport.Build(set, "0.0.0").Findings;
        Assert.Equal(cautioned, findings[0].StartsWith("Caution: the entries' means are over different points of the sweep", StringComparison.Ordinal));
        var caution = ResultPlots.Render(db, new PlotRequest { Kind = PlotKind.Stacked, Where = where }, _dir.File("s.svg"));
        Assert.Equal(set.Caution, caution);
        var title = ResultPlots.Build(db, new PlotRequest { Kind = PlotKind.Stacked, Where = where }).Axes.Title.Label.Text;
        Assert.Equal(cautioned, title.ReplaceLineEndings(" ").Contains("(means over different points)", StringComparison.Ordinal));
    }

    // A run with no completed fault has an empty CDF: the refusal said "the input", where every other names the file.
    [Fact]
    public void A_cdf_without_faults_names_its_input()
    {
        var json = _dir.File("nofaults.json");
        var run = PlotStore.Json(SweepPlan.Runs(Small()).First());
        run["fault_latency_ns"] = new System.Text.Json.Nodes.JsonObject { ["count"] = 0, ["cdf"] = new System.Text.Json.Nodes.JsonArray() };
        File.WriteAllText(json, run.ToJsonString());
        var message = Fails(() => ResultPlots.Render(json, new PlotRequest { Kind = PlotKind.Cdf }, _dir.File("p.png")));
        Assert.StartsWith(json + ": no fault-latency CDF (", message);
        Assert.False(File.Exists(_dir.File("p.png")));
    }

    [Fact]
    public void A_folder_is_named_as_a_folder()
    {
        var folder = _dir.File("results");
        Directory.CreateDirectory(folder);
        const string expected = ": is a folder, not a run or compare JSON or a sweep store";
        Assert.Equal(folder + expected, Fails(() => ResultPlots.Render(folder, new PlotRequest { Kind = PlotKind.Stacked }, _dir.File("p.png"))));
        Assert.Equal(folder + expected, Fails(() => RunSummaries.Load(folder)));
    }
}
