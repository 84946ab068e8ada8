using System.Globalization;
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

        // The store's seeds, as compare's heading names them.
        Assert.Contains("ms simulated, seeds 1..3; vexlab 0.0.0", html, StringComparison.Ordinal);
        Assert.Contains("vexlab run --builtin postcopy --protocol sync --seed 3", html, StringComparison.Ordinal);
    }

    // Grouped by an axis, the entries' names are its values: "1 gets the most work done ..., 5.4x what 10000 does" and
    // "p99 ranges from 40.0 us (1) to ..." named no column; the findings now say latency=1.
    [Fact]
    public void Findings_of_entries_grouped_by_a_column_name_the_column()
    {
        var db = PlotStore.Create(_dir);
        var set = RunSummaries.Load(db, "latency", null);
        Assert.Equal("latency", set.By);
        var page = HtmlReport.Build(set, "0.0.0");
        Assert.Contains("Fault latency p99 ranges from 40.0 us (latency=1) to 40,000.0 us (latency=1000) (means over each entry's runs with faults).", page.Findings);
        Assert.Contains(page.Findings, f => f.StartsWith("latency=10: ", StringComparison.Ordinal));
        Assert.DoesNotContain(page.Findings, f => System.Text.RegularExpressions.Regex.IsMatch(f, @"^\d"));

        var byVariant = HtmlReport.Build(RunSummaries.Load(db, "variant", null), "0.0.0");
        Assert.DoesNotContain(byVariant.Findings, f => f.Contains("variant=", StringComparison.Ordinal));
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
                "ve gets the most work done per simulated second (400 work/s), 4.0x what sync does (100 work/s).",
                "sync: 90.0% of vCPU time is stalled in the host: the vCPU waits for the page (synchronous resolution).",
                "Fault latency p99 ranges from 2.0 us (ve) to 5.0 us (sync).",
            ],
            findings);

        // Under the 20% threshold nothing is said about ve's stalls; an oops is always said.
        var oops = Findings.For([Entry("ve", 400, [85, 0, 15, 0, 0, 0], 2000) with { Outcome = "oops" }]);
        Assert.Equal(["ve does 400 work/s.", "ve: the guest ends oops."], oops);
    }

    // Entries as variant:work:ms:outcome. The ranking once ordered by iterations and divided them while printing
    // rates: a compare whose sync stopped at 25 ms (vm-error), kvm-pf at 10 ms (oops) and kvm-halt at 50 ms called
    // sync best at "21.9x" kvm-pf, a ratio of totals beside rates whose ratio was 8.8; and --time-limit, which stops
    // each entry where it got to, gave "2.4x" for rates 1.09 apart. A guest that crashed is never named best.
    [Theory]
    [InlineData(
        "sync:1510:25:vm-error kvm-halt:1000:50:running kvm-pf:69:10:oops ve:3000:50:running",
        "ve gets the most work done per simulated second (60,000 work/s), 3.0x what kvm-halt does (20,000 work/s).|"
        + "sync is left out of that ranking: its guest ends vm-error at 25.0 ms (60,400 work/s until then).|"
        + "kvm-pf is left out of that ranking: its guest ends oops at 10.0 ms (6,900 work/s until then).|"
        + "The entries cover different simulated spans (sync 25.0 ms, kvm-pf 10.0 ms, the others 50.0 ms), so work is compared per simulated second, not by iterations.")]
    [InlineData(
        "sync:2400:2000:running kvm-pf:1100:1000:running",
        "sync gets the most work done per simulated second (1,200 work/s), 1.1x what kvm-pf does (1,100 work/s).|"
        + "The entries cover different simulated spans (kvm-pf 1,000.0 ms, the other 2,000.0 ms), so work is compared per simulated second, not by iterations.")]
    [InlineData(
        "sync:500:100:running ve:2000:100:finished",
        "ve gets the most work done per simulated second (20,000 work/s), 4.0x what sync does (5,000 work/s).")]
    [InlineData(
        "sync:500:100:running ve:2000:50:oops",
        "sync is the only entry whose guest ran without an oops or a VM error; it does 5,000 work/s.|"
        + "ve is left out of that ranking: its guest ends oops at 50.0 ms (40,000 work/s until then).|"
        + "The entries cover different simulated spans (ve 50.0 ms, the other 100.0 ms), so work is compared per simulated second, not by iterations.")]
    [InlineData(
        "sync:500:100:vm-error ve:2000:50:oops",
        "ve gets the most work done per simulated second (40,000 work/s), 8.0x what sync does (5,000 work/s).|"
        + "No entry's guest ran without an oops or a VM error: a run that ended early counts only the time before it ended.|"
        + "The entries cover different simulated spans (ve 50.0 ms, the other 100.0 ms), so work is compared per simulated second, not by iterations.")]
    public void Findings_RankByWorkPerSimulatedSecond_NeverNameACrashBest(string table, string expected)
    {
        var entries = table.Split(' ').Select(spec => spec.Split(':')).Select(f => new RunSummary
        {
            Scenario = "s",
            Protocol = f[0],
            Variant = f[0],
            Seeds = [1],
            WorkDone = double.Parse(f[1], CultureInfo.InvariantCulture),
            SimulatedNs = double.Parse(f[2], CultureInfo.InvariantCulture) * 1e6,
            VcpuNs = [1, 0, 0, 0, 0, 0],
            Outcome = f[3],
        }).ToList();

        // The outcome sentences after the ranking are another test's.
        var ranking = Findings.For(entries).Where(s => !s.Contains(": the guest ends ", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Split('|'), ranking);
    }

    // A guest whose tasks all finished ended normally; the check once let "running" and "completed" through, and no
    // outcome is called completed (SimulationResult.OutcomeName), so "sync: the guest ends finished." was a finding.
    [Theory]
    // Over runs whose outcomes differ, the sentence says which abnormal ones some runs had.
    [InlineData("running", null)]
    [InlineData("finished", null)]
    [InlineData("oops", "p: the guest ends oops.")]
    [InlineData("vm-error", "p: the guest ends vm-error.")]
    [InlineData("running/oops", "p: the guest ends oops in some runs (outcomes running/oops).")]
    [InlineData("oops/vm-error", "p: the guest ends oops or vm-error by run (outcomes oops/vm-error).")]
    public void Findings_SayEveryAbnormalOutcome_AndOnlyThose(string outcome, string? expected)
    {
        var entry = new RunSummary { Scenario = "s", Protocol = "p", Variant = "p", Seeds = [1], WorkDone = 1, SimulatedNs = 1e9, VcpuNs = [1, 0, 0, 0, 0, 0], Outcome = outcome };
        var said = Findings.For([entry]).Where(f => f.StartsWith("p: the guest ends", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected is null ? [] : [expected], said);
    }

    // Each vCPU-time part, when it holds most of the time, is named by its own sentence; the last
    // part (steal) once indexed past the end of the sentences and crashed report.
    [Theory]
    [InlineData("host_exit", "in the host handling exits")]
    [InlineData("host_stalled", "stalled in the host")]
    [InlineData("host_halted", "halted in the host: KVM's artificial halt")]
    [InlineData("idle", "idle: the guest has nothing runnable on that vCPU")]
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
