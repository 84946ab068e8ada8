using System.Text.Json.Nodes;
using Vexlab.Results.Documents;
using Vexlab.Results.Reports;

namespace Vexlab.Results.Tests;

/// <summary>
/// Runs with no completed fault have no fault latency: means over runs leave them out, rather than averaging
/// in the 0 an older vexlab wrote, and say over how many runs they are.
/// </summary>
public sealed class EmptyLatencyTests
{
    // Round-tripped through text, as a file is read.
    private static RunValues Run(long count, long? p99) => RunValues.FromJson(JsonNode.Parse(new JsonObject
    {
        ["scenario"] = "s",
        ["protocol"] = "sync",
        ["variant"] = "sync",
        ["seed"] = count,
        ["vcpu_ns"] = new JsonObject { ["guest"] = 1, ["host_stalled"] = 0, ["host_halted"] = 0, ["idle"] = 0, ["steal"] = 0 },
        ["fault_latency_ns"] = new JsonObject { ["count"] = count, ["min"] = p99, ["mean"] = p99, ["p50"] = p99, ["p99"] = p99, ["p999"] = p99, ["max"] = p99 },
    }.ToJsonString())!.AsObject());

    [Fact]
    public void Latency_means_are_over_the_runs_with_faults()
    {
        // Two runs with faults, one without (null, as written now) and one from an older store (0 with count 0).
        var entry = RunSummaries.Summarize([Run(4, 1000), Run(2, 3000), Run(0, null), Run(0, 0)], "sync");
        Assert.Equal(1.5, entry.FaultLatency["count"]);
        Assert.Equal(2000, entry.FaultLatency["p99"]);
        Assert.Equal(2000, entry.FaultLatency["min"]);
        Assert.Equal(2, entry.FaultRuns);
        Assert.Equal(4, entry.Runs);

        var html = HtmlReport.Render(new ResultSet("s.duckdb", ResultSource.Store, [entry]) { Name = "s" }, "0.0.0");
        Assert.Contains("<tr data-metric=\"fault_latency_ns_p99\"><th>fault p99 (us)</th><td class=\"n\">2.0 (2 of 4 runs)</td></tr>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_any_fault_there_is_no_latency()
    {
        var entry = RunSummaries.Summarize([Run(0, null), Run(0, 0)], "sync");
        Assert.Equal(0, entry.FaultLatency["count"]);
        Assert.False(entry.FaultLatency.ContainsKey("p99"));
        Assert.Equal(0, entry.FaultRuns);

        var html = HtmlReport.Render(new ResultSet("s.duckdb", ResultSource.Store, [entry]) { Name = "s" }, "0.0.0");
        Assert.Contains("<tr data-metric=\"fault_latency_ns_p99\"><th>fault p99 (us)</th><td class=\"n\">-</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<tr data-metric=\"fault_latency_ns_count\"><th>faults completed</th><td class=\"n\">0</td></tr>", html, StringComparison.Ordinal);
    }
}
