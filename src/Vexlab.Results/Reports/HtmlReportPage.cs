namespace Vexlab.Results.Reports;

/// <summary>
/// A rendered report: the HTML, the ids of the sections it holds in page order (<c>findings</c>,
/// <c>comparison</c>, <c>split</c>, <c>latency</c> when a CDF exists, <c>exits</c>,
/// <c>exit-stats</c> with perf kvm stat's table, <c>replay</c>) and the findings it states.
/// </summary>
public sealed record HtmlReportPage(string Html, IReadOnlyList<string> Sections, IReadOnlyList<string> Findings);
