using Vexlab.Results.Documents;
using Vexlab.Results.Reports;

namespace Vexlab.Results.Tests;

/// <summary>The report of a sweep store, and findings that follow from the numbers (never fixed prose).</summary>
public sealed class HtmlReportTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Report_OfAStore_MeansPerEntry_TwoInlinePlots_Replays()
    {
        var db = PlotStore.Create(_dir);
        var set = RunSummaries.Load(db, "variant", "latency = 10");
        var html = HtmlReport.Render(set, "0.0.0");
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", html, StringComparison.Ordinal);
        Assert.Equal(2, html.Split("<svg ").Length - 1);

        // sync: 33,333 iterations in each of its 6 runs at this latency.
        Assert.Contains("<tr data-metric=\"work_done\"><th>work done (iterations)</th><td class=\"n\">33,333</td><td class=\"n\">50,000</td><td class=\"n\">100,000</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("sweep store (18 runs, means per entry)", html, StringComparison.Ordinal);
        Assert.Contains("vexlab run --builtin postcopy --protocol sync --seed 3", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Findings_FollowTheNumbers()
    {
        static RunSummary Entry(string name, double work, double[] split, double p99) => new()
        {
            Scenario = "s",
            Protocol = name,
            Variant = name,
            Seeds = [1],
            WorkDone = work,
            SimulatedNs = 1e9,
            VcpuNs = split,
            FaultLatency = new Dictionary<string, double> { ["count"] = 10, ["p99"] = p99 },
        };

        var findings = Findings.For([Entry("sync", 100, [10, 90, 0, 0, 0], 5000), Entry("ve", 400, [85, 15, 0, 0, 0], 2000)]);
        Assert.Equal(
            [
                "ve gets the most work done (400 work/s), 4.0x what sync does (100 work/s).",
                "sync: 90.0% of vCPU time is stalled in the host: the vCPU waits for the page (synchronous resolution).",
                "Fault latency p99 ranges from 2.0 us (ve) to 5.0 us (sync).",
            ],
            findings);

        // Under the 20% threshold nothing is said about ve's stalls; an oops is always said.
        var oops = Findings.For([Entry("ve", 400, [85, 15, 0, 0, 0], 2000) with { Outcome = "oops" }]);
        Assert.Equal(["ve does 400 work/s.", "ve: the guest ends oops."], oops);
    }
}
