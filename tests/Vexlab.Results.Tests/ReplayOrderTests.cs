using Vexlab.Results.Documents;
using Vexlab.Results.Reports;

namespace Vexlab.Results.Tests;

/// <summary>
/// A report lists each entry's replay lines with numbers in order: the store gives runs in run-key order (a hash), so
/// one entry's seeds and points came out shuffled.
/// </summary>
public sealed class ReplayOrderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("--seed 2", "--seed 10")]
    [InlineData("host.latency=2.154us", "host.latency=10us")]
    [InlineData("host.latency=10us --seed 1", "host.latency=10us --seed 3")]
    [InlineData("a 007", "a 8")]
    [InlineData("a 07", "a 7")]
    [InlineData("ve --seed 1", "ve[x] --seed 1")]
    [InlineData("x=0.25", "x=0.5")]
    [InlineData("host.latency=1.25us", "host.latency=1.5us")]
    [InlineData("x=0.05", "x=0.5")]
    [InlineData("x=2.75us", "x=10.25us")]
    [InlineData("x=1.5us --seed 2", "x=1.50us --seed 10")]
    public void Numbers_in_the_text_compare_by_value(string before, string after)
    {
        Assert.True(ReplayOrder.Instance.Compare(before, after) < 0);
        Assert.True(ReplayOrder.Instance.Compare(after, before) > 0);
        Assert.Equal(0, ReplayOrder.Instance.Compare(before, before));
    }

    [Fact]
    public void Replay_lines_put_axis_values_in_the_order_of_the_reports_columns()
    {
        // The replay lines of a report and its --by columns name the same values; both must go by value.
        string[] values = ["10000", "0.5", "2.154", "0.25", "1", "1.25", "100", "0.05", "21.54", "1.5"];
        var columns = values.Order(ByValueOrder.Instance).ToList();
        var lines = values.Select(v => $"vexlab run s.yaml --set host.latency={v}us --seed 1").Order(ReplayOrder.Instance).ToList();
        Assert.Equal(columns.Select(v => $"vexlab run s.yaml --set host.latency={v}us --seed 1"), lines);
    }

    [Fact]
    public void A_store_reports_each_entrys_replays_seed_by_seed()
    {
        var db = PlotStore.Create(_dir);
        var set = RunSummaries.Load(db, "variant", null);
        foreach (var entry in set.Entries)
        {
            Assert.True(entry.Replays.Count >= 3, $"{entry.Variant}: {entry.Replays.Count} replay lines");
            Assert.Equal(entry.Replays.Order(ReplayOrder.Instance), entry.Replays);
            var seeds = entry.Replays.Select(r => int.Parse(r.Split("--seed ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(seeds.Order(), seeds);
        }

        var html = HtmlReport.Render(set, "0.0.0");
        var block = html[(html.IndexOf("<pre id=\"replays\">", StringComparison.Ordinal) + "<pre id=\"replays\">".Length)..];
        var lines = block[..block.IndexOf("</pre>", StringComparison.Ordinal)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(set.Entries.SelectMany(e => e.Replays).Distinct().Count(), lines.Length);
    }
}
