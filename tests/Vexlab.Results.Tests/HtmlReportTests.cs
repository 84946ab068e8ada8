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

        // VcpuNs in the order of RunSummary.VcpuParts: guest, host_exit, host_stalled, host_halted, idle, steal.
        var findings = Findings.For([Entry("sync", 100, [10, 0, 90, 0, 0, 0], 5000), Entry("ve", 400, [85, 0, 15, 0, 0, 0], 2000)]);
        Assert.Equal(
            [
                "ve gets the most work done (400 work/s), 4.0x what sync does (100 work/s).",
                "sync: 90.0% of vCPU time is stalled in the host: the vCPU waits for the page (synchronous resolution).",
                "Fault latency p99 ranges from 2.0 us (ve) to 5.0 us (sync).",
            ],
            findings);

        // Under the 20% threshold nothing is said about ve's stalls; an oops is always said.
        var oops = Findings.For([Entry("ve", 400, [85, 0, 15, 0, 0, 0], 2000) with { Outcome = "oops" }]);
        Assert.Equal(["ve does 400 work/s.", "ve: the guest ends oops."], oops);
    }

    // Each vCPU-time part, when it holds most of the time, is named by its own sentence; the last
    // part (steal) once indexed past the end of the sentences and crashed report.
    [Theory]
    [InlineData("host_exit", "in the host handling exits")]
    [InlineData("host_stalled", "stalled in the host")]
    [InlineData("host_halted", "halted in the host")]
    [InlineData("idle", "idle: the guest has nothing runnable")]
    [InlineData("steal", "waiting for a physical CPU (steal)")]
    public void Findings_NameTheVcpuPartThatHoldsTheTime(string part, string expected)
    {
        var k = Array.IndexOf(RunSummary.VcpuParts, part);
        Assert.True(k > 0, part);
        var split = new double[RunSummary.VcpuParts.Length];
        split[0] = 25;
        split[k] = 75;
        var entry = new RunSummary
        {
            Scenario = "s",
            Protocol = "p",
            Variant = "p",
            Seeds = [1],
            WorkDone = 1,
            SimulatedNs = 1e9,
            VcpuNs = split,
        };

        var findings = Findings.For([entry]);
        Assert.Equal(2, findings.Count);
        Assert.StartsWith("p: 75.0% of vCPU time is " + expected, findings[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Findings_HaveASentenceForEveryVcpuPartButGuest()
    {
        foreach (var part in RunSummary.VcpuParts.Skip(1))
        {
            Assert.False(string.IsNullOrEmpty(Findings.WhyNotGuest(part)), part);
        }
    }
}
