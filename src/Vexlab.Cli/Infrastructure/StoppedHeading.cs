using System.Globalization;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The table's second heading line when a run or compare stopped before its duration: which entry stopped, why, at
/// what simulated time of how much, and which entries never ran. Standard output said nothing of it: after
/// <c>timeout -s INT 2 vexlab compare --builtin far-memory</c> the heading read "516.9 to 1,000.0 ms simulated (the
/// entries' spans differ)" and the <c>ve</c> column was simply missing; only standard error named the signal.
/// </summary>
internal static class StoppedHeading
{
    /// <summary>"stopped by SIGINT: kvm-pf-int at 516.9 of 1,000.0 ms simulated; never ran: ve".</summary>
    /// <param name="interrupt">Why it stopped: a signal, or else the wall-clock limit.</param>
    /// <param name="variant">The entry that was running.</param>
    /// <param name="simulatedNs">Where it got to.</param>
    /// <param name="durationNs">Its duration.</param>
    /// <param name="neverRan">The entries after it, which were not started.</param>
    public static string Say(Interruption interrupt, string variant, long simulatedNs, long durationNs, IReadOnlyList<string> neverRan)
    {
        ArgumentNullException.ThrowIfNull(interrupt);
        ArgumentNullException.ThrowIfNull(neverRan);
        var why = interrupt.Signalled ? "by " + interrupt.SignalName : "at --time-limit";
        var rest = neverRan.Count == 0 ? string.Empty : "; never ran: " + string.Join(", ", neverRan);
        return string.Create(CultureInfo.InvariantCulture, $"stopped {why}: {variant} at {simulatedNs / 1e6:N1} of {durationNs / 1e6:N1} ms simulated{rest}");
    }
}
