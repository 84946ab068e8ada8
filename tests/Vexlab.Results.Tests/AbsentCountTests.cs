using System.Text.Json.Nodes;
using Vexlab.Results.Documents;
using Vexlab.Results.Plotting;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;

namespace Vexlab.Results.Tests;

/// <summary>
/// A run's JSON lists exits, injected events, signals and the host's async counters only when they are not zero
/// (ResultJson.Counts), so the store holds NULL for a count that was 0 in that run. A line plot's mean over seeds
/// counts such a run as 0, as the report does; it averaged over the runs that had the event (seed 1's 3 VMCALL exits
/// were drawn as a mean of 3, not 1), and dropped an x where no run had it. A latency that is NULL is an empty sample
/// and stays left out.
/// </summary>
public sealed class AbsentCountTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Seed 1 of every point has 3 of each count; seeds 2 and 3 have none and no completed fault.</summary>
    private string Store()
    {
        var db = _dir.File("counts.duckdb");
        using var store = SweepStore.Open(db);
        store.Bind(Support.Small(), force: false);
        foreach (var run in SweepPlan.Runs(Support.Small()))
        {
            var json = PlotStore.Json(run);
            json["exits"] = new JsonObject();
            json["injected"] = new JsonObject();
            json["signals"] = new JsonObject();
            json["host"] = new JsonObject { ["evictions"] = 0, ["async"] = new JsonObject() };
            if (run.Seed == 1)
            {
                json["exits"]!["VMCALL"] = 3;
                json["injected"]!["#VE"] = 3;
                json["signals"]!["SIGBUS"] = 3;
                json["host"]!["async"]!["ve_wakeup"] = 3;
            }
            else
            {
                json["fault_latency_ns"] = new JsonObject { ["count"] = 0, ["p99"] = null, ["cdf"] = new JsonArray() };
            }

            store.Write(RunRow.From(run, json, "0.0.0"));
        }

        return db;
    }

    [Theory]
    [InlineData("exits_VMCALL")]
    [InlineData("injected_#VE")]
    [InlineData("signals_SIGBUS")]
    [InlineData("host_async_ve_wakeup")]
    public void Lines_CountAbsentFromARun_IsZeroInTheMean(string column)
    {
        var lines = ResultPlots.LineData(Store(), "latency", column, "variant", "tasks = 1");
        Assert.Equal(3, lines.Count);
        Assert.All(lines.Values, l => Assert.Equal(4, l.Count));
        Assert.All(lines.Values.SelectMany(l => l), p => Assert.Equal((3, 1.0), (p.N, p.Mean)));
        Assert.True(ColumnMeaning.Of(column, []).AbsentIsZero);
    }

    [Fact]
    public void Lines_CountAbsentFromEveryRunAtAPoint_IsDrawnAsZero()
    {
        var lines = ResultPlots.LineData(Store(), "latency", "exits_VMCALL", "variant", "seed > 1 AND tasks = 1");
        Assert.Equal(3, lines.Count);
        Assert.All(lines.Values.SelectMany(l => l), p => Assert.Equal((2, 0.0), (p.N, p.Mean)));
    }

    [Fact]
    public void Lines_LatencyOfARunWithoutFaults_IsLeftOut()
    {
        var lines = ResultPlots.LineData(Store(), "latency", "fault_latency_ns_p99", "variant", "tasks = 1");
        Assert.All(lines.Values.SelectMany(l => l), p => Assert.Equal(1, p.N));
        Assert.False(ColumnMeaning.Of("fault_latency_ns_p99", []).AbsentIsZero);
    }

    [Fact]
    public void Report_AndPlot_AgreeOnACountsMean()
    {
        var db = Store();
        var set = RunSummaries.Load(db, "variant", "latency = 10 AND tasks = 1");
        var plotted = ResultPlots.LineData(db, "latency", "exits_VMCALL", "variant", "latency = 10 AND tasks = 1");
        Assert.All(set.Entries, e => Assert.Equal(plotted[e.Variant].Single().Mean, e.Exits.Single(x => x.Item1 == "VMCALL").Item2));
    }
}
