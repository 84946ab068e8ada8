using System.Text.Json.Nodes;

namespace Vexlab.Results.Sweeps;

/// <summary>
/// Runs one simulation and returns its JSON result, in the shape of <c>vexlab run --json</c>:
/// <c>scenario</c>, <c>protocol</c>, <c>variant</c>, <c>seed</c>, <c>replay</c>, <c>simulated_ns</c>,
/// <c>events</c>, <c>digest</c>, <c>work_done</c>, <c>guest</c> {outcome, tasks[...]}, <c>signals</c>,
/// <c>fault_latency_ns</c>, <c>vcpu_ns</c>, <c>exits</c>, <c>injected</c> and <c>timing</c> (wall clock,
/// left out of comparisons). A runner may add <c>scenario_hash</c>, the resolved scenario's
/// canonical hash; without it the store computes one from the scenario and the overrides.
/// Called from several threads at once; must throw <see cref="Model.Configuration.InputException"/>
/// for bad input (an unknown key, a bad value).
/// </summary>
public delegate JsonObject RunPoint(SweepRun run, CancellationToken cancellationToken);

/// <summary>
/// Checks one run's input without running it: resolves the scenario with the run's overrides and
/// protocol entry, as <see cref="RunPoint"/> would, and throws
/// <see cref="Model.Configuration.InputException"/> for bad input. A sweep checks every point with
/// it before it touches the store (<see cref="SweepExecutor.Validate"/>).
/// </summary>
public delegate void CheckPoint(SweepRun run);
