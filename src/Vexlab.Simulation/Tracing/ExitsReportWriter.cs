using System.Globalization;
using System.Text;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// A <c>perf kvm stat report</c>-shaped table (tools/perf/builtin-kvm.c print_result): one row per event
/// class, sorted by sample count (descending, then name), with Samples, Samples%, Time%, Min, Max and Avg
/// time in microseconds and the relative standard deviation of the mean ("( +- x% )", perf's stddev_stats).
/// </summary>
public static class ExitsReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="rows">Event classes with their handling times.</param>
    /// <param name="eventClass">Header of the key column: <c>VM-EXIT</c>, <c>MMIO Access</c>, ...</param>
    /// <param name="scope">Scope line, e.g. "all VMs, all VCPUs".</param>
    /// <param name="keyWidth">Key column width (perf's KVM_EVENT_NAME_LEN: 40 in current perf, 20 in older).</param>
    public static string Render(IReadOnlyList<ExitStat> rows, string eventClass = "VM-EXIT", string scope = "all VMs, all VCPUs", int keyWidth = 40)
    {
        ArgumentNullException.ThrowIfNull(rows);
        long totalCount = 0;
        Int128 totalTime = 0;
        foreach (var r in rows)
        {
            totalCount += r.Times.Count;
            totalTime += r.Times.Sum;
        }

        var sorted = rows.Where(r => r.Times.Count > 0)
            .OrderByDescending(r => r.Times.Count)
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .ToList();

        var sb = new StringBuilder();
        sb.Append(Inv, $"\n\nAnalyze events for {scope}:\n\n");
        sb.Append(Pad(eventClass, keyWidth)).Append(' ');
        sb.Append(Inv, $"{"Samples",10} {"Samples%",9} {"Time%",9} {"Min Time",11} {"Max Time",11} {"Avg time",16} \n\n");
        var totalTimeD = (double)totalTime;
        foreach (var r in sorted)
        {
            var t = r.Times;
            var n = t.Count;
            var samplesPct = totalCount == 0 ? 0.0 : 100.0 * n / totalCount;
            var timePct = totalTimeD == 0 ? 0.0 : 100.0 * (double)t.Sum / totalTimeD;
            var meanUs = t.Mean / 1000.0;
            var stddevOfMean = n > 1 ? t.StdDev / Math.Sqrt(n) : 0.0;
            var relStd = t.Mean == 0 ? 0.0 : 100.0 * stddevOfMean / t.Mean;
            sb.Append(Pad(r.Name, keyWidth)).Append(' ');
            sb.Append(Inv, $"{n,10} {samplesPct,8:F2}% {timePct,8:F2}% {t.Min / 1000.0,9:F2}us {t.Max / 1000.0,9:F2}us {meanUs,9:F2}us ( +-{relStd,7:F2}% )\n");
        }

        sb.Append(Inv, $"\nTotal Samples:{totalCount}, Total events handled time:{totalTimeD / 1000.0:F2}us.\n\n");
        return sb.ToString();
    }

    private static string Pad(string s, int width) => s.Length >= width ? s : new string(' ', width - s.Length) + s;
}
