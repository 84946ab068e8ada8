using System.Globalization;
using Vexlab.Results.Documents;

namespace Vexlab.Results.Reports;

/// <summary>
/// The statements a result supports, computed from its numbers: which entry gets the most work
/// done per simulated second, where each entry's vCPU time goes when it is not running guest code, the fault-latency
/// tail, and guest outcomes other than running or finished. A statement is made only when its threshold is met.
/// </summary>
public static class Findings
{
    /// <summary>A part of the vCPU time worth naming: at least this share.</summary>
    public const double NotableShare = 0.2;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// What a vCPU-time part other than guest means, keyed by its name in <see cref="RunSummary.VcpuParts"/>
    /// (by name, not position, so a part added to that list cannot shift the sentences). Only what the part is by
    /// definition: what it cost the tasks is measured apart (<see cref="WhileParted"/>). An artificial halt is KVM's
    /// (KVM_REQ_APF_HALT, <c>vcpu->arch.apf.halted</c>), taken where the guest is not told of the fault: kvm-halt's
    /// guest never enabled async PF, and under kvm-pf and kvm-pf-int where none can be delivered (kernel mode without
    /// SEND_ALWAYS, IF=0); the vCPU runs nothing while it lasts, whether or not the guest has other tasks to run.
    /// </summary>
    public static string WhyNotGuest(string part) => part switch
    {
        "host_exit" => "in the host handling exits",
        "host_stalled" => "stalled in the host: the vCPU waits for the page (synchronous resolution)",
        "host_halted" => "halted in the host: KVM's artificial halt (the guest could not be told of the fault), in which the vCPU runs nothing",
        "idle" => "idle: the guest has nothing runnable on that vCPU",
        "steal" => "waiting for a physical CPU (steal)",
        _ => throw new ArgumentOutOfRangeException(nameof(part), part, "not a vCPU-time part other than guest"),
    };

    /// <summary>
    /// What the tasks' wait says beside a part, or empty: a stall or an artificial halt keeps the vCPU from running
    /// anything, so the time runnable tasks waited for a vCPU is the cost to them (or, at zero, that there was none);
    /// idle time beside waiting tasks means the work sat on other vCPUs' runqueues or came at other times. The wait
    /// is over the whole run (guest.tasks[].wait_ns), not only the time in the part, and the sentence says so.
    /// </summary>
    public static string WhileParted(RunSummary entry, string part)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.TaskWaitNs is not { } wait)
        {
            return string.Empty;
        }

        var over = entry.Runs > 1 ? "per run (mean)" : "over the run";
        return part switch
        {
            "host_stalled" or "host_halted" when wait > 0 => $"; runnable tasks waited {Ms(wait)} for a vCPU {over}, summed over tasks",
            "host_stalled" or "host_halted" => $"; no task waited for a vCPU {over}",
            "idle" when wait > 0 => $"; yet runnable tasks waited {Ms(wait)} for a vCPU {over}, summed over tasks: on other vCPUs, or at other times",
            _ => string.Empty,
        };
    }

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
            found.AddRange(Ranking(entries));
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
                    found.Add(string.Create(Inv, $"{e.Variant}: {e.VcpuShare(k) * 100:F1}% of vCPU time is {WhyNotGuest(RunSummary.VcpuParts[k])}{WhileParted(e, RunSummary.VcpuParts[k])}."));
                }
            }
        }

        // Over runs, each entry's p99 is the mean of its runs' p99s (those with faults), and the sentence says so.
        var withTail = entries.Where(e => e.FaultLatency.ContainsKey("p99") && e.FaultLatency.GetValueOrDefault("count") > 0).ToList();
        if (withTail.Count > 1)
        {
            var low = withTail.MinBy(e => e.FaultLatency["p99"])!;
            var high = withTail.MaxBy(e => e.FaultLatency["p99"])!;
            if (high.FaultLatency["p99"] > low.FaultLatency["p99"])
            {
                var means = withTail.Any(e => e.FaultRuns > 1) ? " (means over each entry's runs with faults)" : string.Empty;
                found.Add(string.Create(Inv, $"Fault latency p99 ranges from {Us(low.FaultLatency["p99"])} ({low.Variant}) to {Us(high.FaultLatency["p99"])} ({high.Variant}){means}."));
            }
        }

        foreach (var e in entries)
        {
            if (!EndedNormally(e))
            {
                found.Add($"{e.Variant}: {Ending(e, "the guest")}.");
            }

            // Signals are counted over all of an entry's runs, error returns averaged over them.
            if (e.Signals.Count > 0)
            {
                var over = e.Runs > 1 ? string.Create(Inv, $" over its {e.Runs} runs") : string.Empty;
                found.Add($"{e.Variant}: tasks receive {string.Join(", ", e.Signals.Select(s => string.Create(Inv, $"{s.Name} x{s.Count:N0}")))}{over}.");
            }

            if (e.ErrorReturns > 0)
            {
                var per = e.Runs > 1 ? " per run (mean)" : string.Empty;
                var count = e.ErrorReturns.ToString(e.ErrorReturns == Math.Floor(e.ErrorReturns) ? "N0" : "N1", Inv);
                found.Add($"{e.Variant}: {count} kernel {(e.ErrorReturns == 1 ? "copy returns" : "copies return")} -EFAULT{per}.");
            }
        }

        return found;
    }

    /// <summary>
    /// Whether the guest was still running at the end, or ended because every task finished: the outcomes a run
    /// has when nothing went wrong (SimulationResult.OutcomeName; docs/output.md's <c>guest.outcome</c>). An outcome
    /// over several runs that differ (<c>running/oops</c>) is not normal.
    /// </summary>
    public static bool EndedNormally(RunSummary e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Outcome is "running" or "finished";
    }

    /// <summary>
    /// Which entry gets the most work done and how many times what the least does. Entries that ran for different
    /// simulated spans (a guest that oopsed or hit a VM error stops the run; --time-limit stops each entry where it
    /// got to) do not compare by iterations, so the ranking is by work per simulated second whenever every entry's
    /// span is known, and says so when the spans differ. An entry whose guest ended abnormally is not named best:
    /// its rate covers only the time before the crash, and a reader choosing a protocol needs the ones that kept
    /// running ranked among themselves, with the crashed ones said apart.
    /// </summary>
    private static List<string> Ranking(IReadOnlyList<RunSummary> entries)
    {
        var byRate = entries.All(e => e.WorkPerSecond is not null);
        double Key(RunSummary e) => byRate ? e.WorkPerSecond!.Value : e.WorkDone;
        var sentences = new List<string>();
        var normal = entries.Where(EndedNormally).ToList();
        var ranked = (normal.Count > 0 ? normal : entries).OrderByDescending(Key).ToList();
        var best = ranked[0];
        var worst = ranked[^1];
        var most = byRate ? "the most work done per simulated second" : "the most work done";
        if (ranked.Count == 1)
        {
            sentences.Add(string.Create(Inv, $"{best.Variant} is the only entry whose guest ran without an oops or a VM error; it does {Work(best)}."));
        }
        else if (Key(best) == Key(worst))
        {
            sentences.Add(string.Create(Inv, $"The entries get the same work done{(byRate ? " per simulated second" : string.Empty)} ({Work(best)} each)."));
        }
        else if (Key(worst) > 0)
        {
            sentences.Add(string.Create(Inv, $"{best.Variant} gets {most} ({Work(best)}), {Key(best) / Key(worst):F1}x what {worst.Variant} does ({Work(worst)})."));
        }
        else
        {
            sentences.Add(string.Create(Inv, $"{best.Variant} gets {most} ({Work(best)}); {worst.Variant} does none."));
        }

        if (normal.Count > 0)
        {
            foreach (var e in entries.Where(e => !EndedNormally(e)))
            {
                var when = e.SimulatedNs <= 0 ? string.Empty : e.Runs > 1 ? $" after {Ms(e.SimulatedNs)} on average" : $" at {Ms(e.SimulatedNs)}";
                sentences.Add(string.Create(Inv, $"{e.Variant} is left out of that ranking: {Ending(e, "its guest")}{when} ({Work(e)} until then)."));
            }
        }
        else if (ranked.Count > 1)
        {
            sentences.Add("No entry's guest ran without an oops or a VM error: a run that ended early counts only the time before it ended.");
        }

        var spans = entries.Select(e => e.SimulatedNs).Distinct().ToList();
        if (byRate && spans.Count > 1)
        {
            var usual = entries.GroupBy(e => e.SimulatedNs).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
            var apart = entries.Where(e => e.SimulatedNs != usual).Select(e => $"{e.Variant} {Ms(e.SimulatedNs)}");
            sentences.Add($"The entries cover different simulated spans ({string.Join(", ", apart)}, {(entries.Count(e => e.SimulatedNs == usual) == 1 ? "the other" : "the others")} {Ms(usual)}), so work is compared per simulated second, not by iterations.");
        }

        return sentences;
    }

    /// <summary>
    /// How <paramref name="guest"/> ended: "the guest ends oops", or, over runs whose outcomes differ
    /// (RunSummaries joins them with /), which abnormal ones some runs had.
    /// </summary>
    private static string Ending(RunSummary e, string guest)
    {
        var outcomes = e.Outcome.Split('/');
        if (outcomes.Length == 1)
        {
            return $"{guest} ends {e.Outcome}";
        }

        var abnormal = outcomes.Where(o => o is not ("running" or "finished")).ToList();
        var some = abnormal.Count < outcomes.Length ? "in some runs" : "by run";
        return $"{guest} ends {string.Join(" or ", abnormal)} {some} (outcomes {e.Outcome})";
    }

    /// <summary>A simulated span in milliseconds, as the compare table's header writes it.</summary>
    public static string Ms(double ns) => (ns / 1e6).ToString("N1", Inv) + " ms";

    public static string Work(RunSummary e) => e.WorkPerSecond is { } rate
        ? rate.ToString("N0", Inv) + " work/s"
        : e.WorkDone.ToString("N0", Inv) + " iterations";

    public static string Us(double ns) => (ns / 1000).ToString("N1", Inv) + " us";
}
