namespace Vexlab.Results.Documents;

/// <summary>
/// One task group of a run (<c>guest.tasks[]</c>), or its means over runs: the work it did, its processor share (in
/// vCPUs: 1.0 is one vCPU for the whole run) and how long it was runnable but not running. Share and wait are null
/// when the input does not say (a file written before them).
/// </summary>
public sealed record TaskValues(string Name, double WorkDone, double? Share, double? WaitNs);
