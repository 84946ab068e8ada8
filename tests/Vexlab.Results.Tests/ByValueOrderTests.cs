using Vexlab.Results.Documents;
using Vexlab.Results.Plotting;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;

namespace Vexlab.Results.Tests;

/// <summary>
/// <c>--by</c> a numeric column orders the report's columns and a plot's entries by value: ordinal order put the
/// latency sweep's 10000 before 2.154, so <c>report --by latency</c> read 1, 10, 100, 1000, 10000, 2.154, ...
/// </summary>
public sealed class ByValueOrderTests : IDisposable
{
    private const string Sweep = """
        name: order
        scenario: postcopy
        protocols: [sync, ve]
        seeds: 1
        axes:
          - name: latency
            key: host.latency
            unit: us
            values: [2.154, 10, 100, 1000, 21.54]
        """;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(new[] { "10000", "2.154", "1", "21.54" }, new[] { "1", "2.154", "21.54", "10000" })]
    [InlineData(new[] { "ve", "sync", "kvm-pf-int" }, new[] { "kvm-pf-int", "sync", "ve" })]
    [InlineData(new[] { "b", "10", "2", "a" }, new[] { "2", "10", "a", "b" })]
    [InlineData(new[] { "-1", "1e3", "0.5" }, new[] { "-1", "0.5", "1e3" })]
    public void Numbers_by_value_then_text_in_ordinal_order(string[] given, string[] expected) =>
        Assert.Equal(expected, given.Order(ByValueOrder.Instance));

    [Fact]
    public void Report_and_plots_order_a_numeric_by_by_value()
    {
        var sweep = SweepFile.Parse(Sweep, "order.yaml");
        var db = _dir.File("order.duckdb");
        using (var store = SweepStore.Open(db))
        {
            store.Bind(sweep, force: false);
            foreach (var run in SweepPlan.Runs(sweep))
            {
                store.Write(RunRow.From(run, PlotStore.Json(run), "0.0.0"));
            }
        }

        string[] expected = ["2.154", "10", "21.54", "100", "1000"];
        Assert.Equal(expected, RunSummaries.Load(db, "latency").Entries.Select(e => e.Variant));
        Assert.Equal(expected, ResultPlots.LineData(db, "seed", "work_done", "latency").Keys);
    }
}
