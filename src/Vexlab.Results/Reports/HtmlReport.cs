using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Vexlab.Results.Documents;
using Vexlab.Results.Plotting;
using Vexlab.Scenarios.Outputs;

namespace Vexlab.Results.Reports;

/// <summary>
/// One self-contained HTML page of a result: findings, the comparison table, the vCPU time split,
/// fault-latency CDFs, exits and replay commands. CSS and SVG are inline and a Content-Security-Policy
/// forbids every fetch, so the page opens offline and loads nothing.
/// </summary>
public static partial class HtmlReport
{
    private const int PlotWidth = 900;
    private const int PlotHeight = 500;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1a1a1a;background:#fff}
        h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
        .meta{color:#555;margin-top:0}table{border-collapse:collapse;margin:.5rem 0;font-variant-numeric:tabular-nums}
        th,td{border:1px solid #ccc;padding:.25rem .6rem}th{background:#f3f3f3;text-align:left}td.n{text-align:right}
        th.v{max-width:16rem;overflow-wrap:anywhere}figure{margin:.5rem 0}figure svg{width:100%;height:auto;max-width:900px}
        pre{background:#f6f6f6;padding:.6rem;overflow-x:auto}ul.findings li{margin:.3rem 0}.note{color:#555;font-size:.9rem}
        """;

    /// <summary>The page for <paramref name="set"/>, made by vexlab <paramref name="version"/>.</summary>
    public static string Render(ResultSet set, string version) => Build(set, version).Html;

    /// <summary>
    /// The page for <paramref name="set"/> with what it holds: the ids of its sections, in page
    /// order, and the findings it states.
    /// </summary>
    public static HtmlReportPage Build(ResultSet set, string version)
    {
        ArgumentNullException.ThrowIfNull(set);
        var entries = set.Entries;
        var sections = new List<string> { "findings", "comparison", "split" };
        // A caution about what the means are over comes before any finding drawn from them. Grouped by another column
        // (--by latency), an entry is named with it: "latency=1 gets the most work done", not "1 gets".
        IReadOnlyList<RunSummary> named = set.By == "variant" ? entries : [.. entries.Select(e => e with { Variant = set.By + "=" + e.Variant })];
        IReadOnlyList<string> findings = set.Caution is { } caution ? ["Caution: " + caution + ".", .. Findings.For(named)] : Findings.For(named);
        var html = new StringBuilder();
        var title = $"vexlab report: {set.Name}";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(E(title)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n")
            .Append("<h1>").Append(E(title)).Append("</h1>\n")
            .Append("<p class=\"meta\">").Append(E(Describe(set, version))).Append("</p>\n");

        html.Append("<h2 id=\"findings\">Findings</h2>\n<ul class=\"findings\">\n");
        foreach (var finding in findings)
        {
            html.Append("<li>").Append(E(finding)).Append("</li>\n");
        }

        html.Append("</ul>\n");
        Comparison(html, entries);

        html.Append("<h2 id=\"split\">vCPU time split</h2>\n<figure>")
            .Append(InlineSvg(ResultPlots.SplitPlot(entries, "vCPU time split and work done", PlotWidth, PlotHeight), "split", "vCPU time split per protocol entry"))
            .Append("</figure>\n");
        if (entries.Any(e => e.Cdf.Count > 0))
        {
            sections.Add("latency");
            html.Append("<h2 id=\"latency\">Fault latency</h2>\n<figure>")
                .Append(InlineSvg(ResultPlots.CdfPlot(entries, "fault latency CDF", PlotWidth, PlotHeight), "cdf", "fault latency CDF per protocol entry"))
                .Append("</figure>\n");
        }

        sections.Add("exits");
        if (entries.Any(e => e.ExitStats.Count > 0))
        {
            sections.Add("exit-stats");
        }

        Exits(html, entries);
        sections.Add("replay");
        html.Append("<h2 id=\"replay\">Replay</h2>\n<pre id=\"replays\">");
        foreach (var line in entries.SelectMany(e => e.Replays).Distinct(StringComparer.Ordinal))
        {
            html.Append(E(line)).Append('\n');
        }

        html.Append("</pre>\n</body>\n</html>\n");
        return new HtmlReportPage(html.ToString(), sections, findings);
    }

    private static string Describe(ResultSet set, string version)
    {
        var first = set.Entries[0];
        var runs = set.Entries.Sum(e => e.Runs);
        var source = set.Source switch
        {
            ResultSource.Run => "vexlab run",
            ResultSource.Compare => "vexlab compare",
            _ => $"sweep store ({runs} {(runs == 1 ? "run" : "runs")}, means per entry)",
        };
        var seeds = SeedRange.Say(set.Entries.SelectMany(e => e.Seeds));
        var spans = SimulatedSpans.Heading(set.Entries.Min(e => e.SimulatedNs), set.Entries.Max(e => e.SimulatedNs));
        return string.Create(Inv, $"{Path.GetFileName(set.Path)} from {source}; scenario {first.Scenario}, {spans}, {seeds}; vexlab {version}");
    }

    private static void Comparison(StringBuilder html, IReadOnlyList<RunSummary> entries)
    {
        html.Append("<h2 id=\"comparison-heading\">Comparison</h2>\n<table id=\"comparison\">\n<thead><tr><th>metric</th>");
        foreach (var e in entries)
        {
            html.Append("<th class=\"v\">").Append(E(e.Variant)).Append("</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        void Row(string key, string name, Func<RunSummary, string> cell)
        {
            html.Append("<tr data-metric=\"").Append(E(key)).Append("\"><th>").Append(E(name)).Append("</th>");
            foreach (var e in entries)
            {
                html.Append("<td class=\"n\">").Append(E(cell(e))).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        // A guest that oopses or hits a VM error ends its run there, and --time-limit stops each entry where it got to:
        // then each entry's span is a row, since the header cannot give one for all.
        if (entries.Select(e => e.SimulatedNs).Distinct().Count() > 1)
        {
            Row("simulated_ns", "simulated (ms)", e => (e.SimulatedNs / 1e6).ToString("N1", Inv));
        }

        Row("work_per_second", "work per second", e => e.WorkPerSecond is { } r ? r.ToString("N0", Inv) : "-");
        Row("work_done", "work done (iterations)", e => e.WorkDone.ToString("N0", Inv));
        var tasks = entries[0].Tasks.Select(t => t.Name).ToList();
        for (var t = 0; t < tasks.Count; t++)
        {
            var index = t;
            Row("task_work_done:" + tasks[t], "work: " + tasks[t], e => index < e.Tasks.Count ? e.Tasks[index].WorkDone.ToString("N0", Inv) : "-");
        }

        // compare's table's per-task rows, in its order: the processor share each group got and how long its tasks
        // waited for a vCPU, which say whether a protocol's work went to one group at another's cost.
        for (var t = 0; t < tasks.Count; t++)
        {
            var index = t;
            Row("task_share:" + tasks[t], "cpu share: " + tasks[t] + " (%)", e => index < e.Tasks.Count && e.Tasks[index].Share is { } s ? (s * 100).ToString("F1", Inv) : "-");
            Row("task_wait_ns:" + tasks[t], "waiting: " + tasks[t] + " (ms)", e => index < e.Tasks.Count && e.Tasks[index].WaitNs is { } w ? (w / 1e6).ToString("N1", Inv) : "-");
        }

        Row("fault_latency_ns_count", "faults completed", e => e.FaultLatency.TryGetValue("count", out var c) ? c.ToString("N0", Inv) : "-");
        foreach (var stat in new[] { "min", "mean", "p50", "p99", "p999", "max" })
        {
            // Absent when no run completed a fault; over runs, a mean over those with faults, which says how many.
            Row("fault_latency_ns_" + stat, $"fault {(stat == "p999" ? "p99.9" : stat)} (us)", e => !e.FaultLatency.TryGetValue(stat, out var v)
                ? "-"
                : (v / 1000).ToString("N1", Inv) + (e.FaultRuns > 0 && e.FaultRuns < e.Runs ? string.Create(Inv, $" ({e.FaultRuns} of {e.Runs} runs)") : string.Empty));
        }

        for (var k = 0; k < RunSummary.VcpuParts.Length; k++)
        {
            var part = k;
            if (k == RunSummary.VcpuParts.Length - 1 && entries.All(e => e.VcpuShare(part) == 0))
            {
                continue;
            }

            // compare's table's label (VcpuTimeParts), with the unit the cells here leave out.
            Row("vcpu_ns_" + RunSummary.VcpuParts[k], VcpuTimeParts.All[k].Label + " (%)", e => (e.VcpuShare(part) * 100).ToString("F1", Inv));
        }

        Row("signals", "signals", e => e.Signals.Count == 0 ? "-" : string.Join(", ", e.Signals.Select(s => string.Create(Inv, $"{s.Name}:{s.Count:N0}"))));
        Row("guest_error_returns", "error returns", e => e.ErrorReturns.ToString("N0", Inv));
        Row("guest_outcome", "guest outcome", e => e.Outcome);
        html.Append("</tbody>\n</table>\n");
        if (entries.Any(e => e.Runs > 1))
        {
            html.Append("<p class=\"note\">Numbers are means over each entry's runs.</p>\n");
        }
    }

    private static void Exits(StringBuilder html, IReadOnlyList<RunSummary> entries)
    {
        html.Append("<h2 id=\"exits-heading\">Exits and injected events</h2>\n<table id=\"exits\">\n<thead><tr><th>event</th>");
        foreach (var e in entries)
        {
            html.Append("<th class=\"v\">").Append(E(e.Variant)).Append("</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        // Each entry names only its nonzero counts, so the rows take compare's table's order (EventOrder), not the
        // order in which the entries first name them.
        foreach (var (prefix, pick, order) in new (string, Func<RunSummary, IReadOnlyList<(string Name, double Count)>>, System.Collections.Immutable.ImmutableArray<string>)[]
        {
            ("exits", e => e.Exits, EventOrder.ExitReasons),
            ("injected", e => e.Injected, EventOrder.Injections),
        })
        {
            var names = EventOrder.Sort(entries.SelectMany(pick).Select(c => c.Name), order);
            foreach (var name in names)
            {
                html.Append("<tr data-metric=\"").Append(E(prefix + "_" + name)).Append("\"><th>").Append(E(prefix + ": " + name)).Append("</th>");
                foreach (var e in entries)
                {
                    var count = pick(e).Where(c => c.Name == name).Select(c => c.Count).FirstOrDefault();
                    html.Append("<td class=\"n\">").Append(E(count.ToString(count == Math.Floor(count) ? "N0" : "N1", Inv))).Append("</td>");
                }

                html.Append("</tr>\n");
            }
        }

        html.Append("</tbody>\n</table>\n");
        foreach (var e in entries.Where(e => e.ExitStats.Count > 0))
        {
            html.Append("<h3>").Append(E(e.Variant)).Append(": time from exit to the next entry (perf kvm stat report)</h3>\n")
                .Append("<table class=\"exit-stats\">\n<thead><tr><th>reason</th><th>samples</th><th>samples %</th><th>time %</th><th>avg (us)</th></tr></thead>\n<tbody>\n");
            foreach (var s in e.ExitStats)
            {
                html.Append(string.Create(Inv, $"<tr data-metric=\"exit_stats_{E(s.Reason)}\"><th>{E(s.Reason)}</th><td class=\"n\">{s.Samples:N0}</td><td class=\"n\">{s.SamplesPct:F2}</td><td class=\"n\">{s.TimePct:F2}</td><td class=\"n\">{s.AvgNs / 1000:N2}</td></tr>\n"));
            }

            html.Append("</tbody>\n</table>\n");
        }
    }

    /// <summary>
    /// ScottPlot's SVG as an inline element: no XML prologue, no namespace attributes (the HTML
    /// parser puts &lt;svg&gt; in the SVG namespace itself), scaled by its view box.
    /// </summary>
    private static string InlineSvg(ScottPlot.Plot plot, string prefix, string label)
    {
        var svg = ResultPlots.Svg(plot, PlotWidth, PlotHeight);
        svg = svg[svg.IndexOf("<svg", StringComparison.Ordinal)..];
        svg = Namespaces().Replace(svg, string.Empty);
        var open = svg.IndexOf('>', StringComparison.Ordinal);
        var head = string.Create(Inv, $"<svg viewBox=\"0 0 {PlotWidth} {PlotHeight}\" role=\"img\" aria-label=\"{E(label)}\"");

        // Ids are per document: each plot's clip paths get the plot's own prefix, or the second
        // plot would clip to the first one's rectangles.
        svg = Ids().Replace(svg[open..], m => m.Groups[1].Value + prefix + "-" + m.Groups[2].Value);
        return head + svg;
    }

    [GeneratedRegex("(id=\"|url\\(#|href=\"#)([A-Za-z_][\\w-]*)")]
    private static partial Regex Ids();

    [GeneratedRegex(" xmlns(:[a-z]+)?=\"[^\"]*\"")]
    private static partial Regex Namespaces();

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
