using System.Globalization;
using Vexlab.Results.Documents;

namespace Vexlab.Results.Reports;

/// <summary>
/// The statements a result supports, computed from its numbers: which entry gets the most work
/// done, where each entry's vCPU time goes when it is not running guest code, the fault-latency
/// tail, and guest outcomes other than running. A statement is made only when its threshold is met.
/// </summary>
public static class Findings
{
    /// <summary>A part of the vCPU time worth naming: at least this share.</summary>
    public const double NotableShare = 0.2;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// What a vCPU-time part other than guest means, keyed by its name in <see cref="RunSummary.VcpuParts"/>
    /// (by name, not position, so a part added to that list cannot shift the sentences).
    /// </summary>
    public static string WhyNotGuest(string part) => part switch
    {
        "host_exit" => "in the host handling exits",
        "host_stalled" => "stalled in the host: the vCPU waits for the page (synchronous resolution)",
        "host_halted" => "halted in the host: the guest has nothing else to run while the page comes",
        "idle" => "idle: the guest has nothing runnable",
        "steal" => "waiting for a physical CPU (steal)",
        _ => throw new ArgumentOutOfRangeException(nameof(part), part, "not a vCPU-time part other than guest"),
    };

    public static IReadOnlyList<string> For(IReadOnlyList<RunSummary> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var found = new List<string>();
        if (entries.Count == 0)
        {
            return found;
        }

        if (entries.Count > 1)
        {
            var byWork = entries.OrderByDescending(e => e.WorkDone).ToList();
            var best = byWork[0];
            var worst = byWork[^1];
            found.Add(worst.WorkDone > 0
                ? string.Create(Inv, $"{best.Variant} gets the most work done ({Work(best)}), {best.WorkDone / worst.WorkDone:F1}x what {worst.Variant} does ({Work(worst)}).")
                : string.Create(Inv, $"{best.Variant} gets the most work done ({Work(best)}); {worst.Variant} does none."));
        }
        else
        {
            found.Add(string.Create(Inv, $"{entries[0].Variant} does {Work(entries[0])}."));
        }

        foreach (var e in entries)
        {
            for (var k = 1; k < RunSummary.VcpuParts.Length; k++)
            {
                if (e.VcpuShare(k) >= NotableShare)
                {
                    found.Add(string.Create(Inv, $"{e.Variant}: {e.VcpuShare(k) * 100:F1}% of vCPU time is {WhyNotGuest(RunSummary.VcpuParts[k])}."));
                }
            }
        }

        var withTail = entries.Where(e => e.FaultLatency.ContainsKey("p99") && e.FaultLatency.GetValueOrDefault("count") > 0).ToList();
        if (withTail.Count > 1)
        {
            var low = withTail.MinBy(e => e.FaultLatency["p99"])!;
            var high = withTail.MaxBy(e => e.FaultLatency["p99"])!;
            if (high.FaultLatency["p99"] > low.FaultLatency["p99"])
            {
                found.Add(string.Create(Inv, $"Fault latency p99 ranges from {Us(low.FaultLatency["p99"])} ({low.Variant}) to {Us(high.FaultLatency["p99"])} ({high.Variant})."));
            }
        }

        foreach (var e in entries)
        {
            if (e.Outcome is not ("running" or "completed"))
            {
                found.Add($"{e.Variant}: the guest ends {e.Outcome}.");
            }

            if (e.Signals.Count > 0)
            {
                found.Add($"{e.Variant}: tasks receive {string.Join(", ", e.Signals.Select(s => string.Create(Inv, $"{s.Name} x{s.Count:N0}")))}.");
            }

            if (e.ErrorReturns > 0)
            {
                found.Add(string.Create(Inv, $"{e.Variant}: {e.ErrorReturns:N0} kernel copies return -EFAULT."));
            }
        }

        return found;
    }

    public static string Work(RunSummary e) => e.WorkPerSecond is { } rate
        ? rate.ToString("N0", Inv) + " work/s"
        : e.WorkDone.ToString("N0", Inv) + " iterations";

    public static string Us(double ns) => (ns / 1000).ToString("N1", Inv) + " us";
}
