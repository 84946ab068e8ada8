using System.Globalization;

namespace Vexlab.Results.Reports;

/// <summary>
/// How long the entries of a comparison ran, as a heading says it. A guest that oopses or hits a VM error ends its run
/// there, and --time-limit stops each entry where it got to: then the spans differ, and the heading gives their range
/// and points at the row that gives each entry's.
/// </summary>
public static class SimulatedSpans
{
    /// <summary>"200.0 ms simulated", or "10.0 to 20.0 ms simulated (the entries' spans differ: row simulated)".</summary>
    public static string Heading(double shortestNs, double longestNs) => shortestNs == longestNs
        ? string.Create(CultureInfo.InvariantCulture, $"{shortestNs / 1e6:N1} ms simulated")
        : string.Create(CultureInfo.InvariantCulture, $"{shortestNs / 1e6:N1} to {longestNs / 1e6:N1} ms simulated (the entries' spans differ: row simulated)");
}
