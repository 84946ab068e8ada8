using System.Globalization;
using System.Text;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// A <c>perf kvm stat report</c>-shaped table (tools/perf/builtin-kvm.c print_result): one row per event
/// class, sorted by sample count (descending, then name), with Samples, Samples%, Time%, Min, Max and Avg
/// time in microseconds and the relative standard deviation of the mean ("( +- x% )", perf's stddev_stats).
/// An exit's time runs from kvm_exit to the next kvm_entry of that vCPU, as perf kvm stat measures it
/// (tools/perf/arch/x86/util/kvm-stat.c exit_event_begin/exit_event_end), so stalls and halts in the host count.
/// </summary>
public static class ExitsReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="rows">Event classes with their handling times.</param>
    /// <param name="eventClass">Header of the key column: <c>VM-EXIT</c>, <c>MMIO Access</c>, ...</param>
    /// <param name="scope">Scope line, e.g. "all VMs, all VCPUs".</param>
    /// <param name="keyWidth">Key column width (perf's KVM_EVENT_NAME_LEN: 40 in current perf, 20 in older).</param>
    public static string Render(IReadOnlyList<ExitTimeRow> rows, string eventClass = "VM-EXIT", string scope = "all VMs, all VCPUs", int keyWidth = 40)
    {
        ArgumentNullException.ThrowIfNull(rows);
        long totalCount = 0;
        long totalTime = 0;
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
            var relStd = t.RelStdDevPercent;
            sb.Append(Pad(r.Name, keyWidth)).Append(' ');
            sb.Append(Inv, $"{n,10} {samplesPct,8:F2}% {timePct,8:F2}% {t.Min / 1000.0,9:F2}us {t.Max / 1000.0,9:F2}us {meanUs,9:F2}us ( +-{relStd,7:F2}% )\n");
        }

        sb.Append(Inv, $"\nTotal Samples:{totalCount}, Total events handled time:{totalTimeD / 1000.0:F2}us.\n\n");
        return sb.ToString();
    }

    /// <summary>perf's scope line: all VCPUs, or one with --vcpu.</summary>
    public static string Scope(int? vcpu) =>
        vcpu is int v ? string.Create(Inv, $"all VMs, VCPU {v}") : "all VMs, all VCPUs";

    /// <summary>The rows as JSON-ready values: name, samples, samples and time percentages, min, max, mean (ns) and perf's +- %.</summary>
    public static IReadOnlyList<ExitReportRow> Rows(IReadOnlyList<ExitTimeRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        long count = 0;
        long time = 0;
        foreach (var r in rows)
        {
            count += r.Times.Count;
            time += r.Times.Sum;
        }

        return [.. rows.Where(r => r.Times.Count > 0)
            .OrderByDescending(r => r.Times.Count)
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => new ExitReportRow(
                r.Name,
                r.Times.Count,
                count == 0 ? 0 : Math.Round(100.0 * r.Times.Count / count, 2),
                time == 0 ? 0 : Math.Round(100.0 * r.Times.Sum / time, 2),
                r.Times.Min,
                r.Times.Max,
                r.Times.Sum,
                Math.Round(r.Times.Mean, 1),
                Math.Round(r.Times.RelStdDevPercent, 2)))];
    }

    private static string Pad(string s, int width) => s.Length >= width ? s : new string(' ', width - s.Length) + s;
}

/// <summary>One exit reason's line of the report, for JSON.</summary>
public sealed record ExitReportRow(string Reason, long Samples, double SamplesPercent, double TimePercent, long MinNs, long MaxNs, long TotalNs, double MeanNs, double RelStdDevPercent);
