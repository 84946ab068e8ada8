using System.Globalization;
using ScottPlot;
using Vexlab.Results.Plotting;

namespace Vexlab.Results.Tests;

/// <summary>
/// A log axis can be read whatever span its data has: at least two labelled ticks inside the axis, each label the
/// value at its place. Ticks at powers of ten alone left p99s of 200 to 600 us (one store point) with no label on
/// the y axis, and a CDF over 30 to 630 us with one.
/// </summary>
public sealed class LogAxisTicksTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<double, double> Spans => new()
    {
        { 1, 10_000 },     // four decades: powers of ten
        { 30, 630 },       // crosses one power of ten
        { 243, 404 },      // inside one decade
        { 243, 260 },      // narrower than its 1-to-9 ticks
        { 0.0012, 0.0019 },
        { 99.99, 100.01 },
    };

    [Theory]
    [MemberData(nameof(Spans))]
    public void Every_span_gets_two_labels_that_name_their_place(double low, double high)
    {
        var ticks = LogAxisTicks.For(Math.Log10(low), Math.Log10(high));
        var labelled = ticks.Where(t => t.IsMajor && t.Label.Length > 0).ToList();
        Assert.True(labelled.Count >= LogAxisTicks.FewestLabels, $"{labelled.Count} labels over {low}..{high}");
        Assert.All(ticks, t => Assert.InRange(t.Position, Math.Log10(low), Math.Log10(high)));
        Assert.All(labelled, t => Assert.Equal(Math.Pow(10, t.Position), double.Parse(t.Label, CultureInfo.InvariantCulture), Math.Pow(10, t.Position) * 1e-5));
        Assert.Equal(labelled.Count, labelled.Select(t => t.Label).Distinct().Count());
    }

    [Fact]
    public void Decades_are_labelled_at_powers_of_ten_only()
    {
        var ticks = LogAxisTicks.For(0, 4);
        Assert.Equal(["1", "10", "100", "1000", "10000"], ticks.Where(t => t.IsMajor).Select(t => t.Label));
        Assert.Equal(4 * 8, ticks.Count(t => !t.IsMajor));
    }

    [Theory]
    [InlineData("lines")]
    [InlineData("cdf")]
    public void A_plot_within_a_decade_labels_its_log_axis(string kind)
    {
        // At latency 10 the three entries' p99s are 200, 400 and 600 us; ve's CDF runs from 20 to 420 us.
        var db = PlotStore.Create(_dir);
        var plot = kind == "lines"
            ? ResultPlots.Build(db, new PlotRequest { X = "tasks", Y = "fault_latency_ns_p99", Where = "latency = 10" })
            : ResultPlots.Build(db, new PlotRequest { Kind = PlotKind.Cdf, Where = "latency = 10 AND variant = 've'" });
        using var image = PlotImage.Render(plot, 900, 560);
        IAxis axis = kind == "lines" ? plot.Axes.Left : plot.Axes.Bottom;
        var range = axis.Range;
        var shown = axis.TickGenerator.Ticks.Where(t => t.IsMajor && t.Label.Length > 0 && t.Position >= range.Min && t.Position <= range.Max);
        Assert.True(shown.Count() >= LogAxisTicks.FewestLabels, $"labels {string.Join(", ", shown.Select(t => t.Label))} over {range}");
    }
}
