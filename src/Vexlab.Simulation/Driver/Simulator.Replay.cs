using System.Diagnostics;
using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Driver;

/// <summary>The result of replaying a fixed action list: how far it went and what broke.</summary>
/// <param name="Result">The run's metrics up to where the replay stopped.</param>
/// <param name="Applied">How many actions were applied.</param>
/// <param name="Divergence">Null when every action applied; else why action <paramref name="Applied"/> could not.</param>
/// <param name="Violations">Safety properties reported, with the 1-based step that reported each.</param>
public sealed record ReplayResult(SimulationResult Result, int Applied, string? Divergence, IReadOnlyList<(long Step, byte Property)> Violations);

public sealed partial class Simulator
{
    /// <summary>
    /// Re-executes <paramref name="actions"/> in order (a checker counterexample), timing each with
    /// the cost model: a guest step advances the clock by its cost, a host completion happens no
    /// earlier than its sampled latency. Stops where an action is not enabled, as the model changed.
    /// The guest's scheduling follows the trace, not the policy: each action's pick (the checker's
    /// choice of the next task, <see cref="ScheduleChoice"/>), and a preemption at every tick and
    /// wakeup, as the checker answers.
    /// </summary>
    public ReplayResult Replay(IReadOnlyList<MachineAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var start = Stopwatch.GetTimestamp();
        string? divergence = null;
        var applied = 0;
        _replaying = true;
        ScanWork();
        foreach (var action in actions)
        {
            // A hand-edited or corrupt trace may name a vCPU the model does not have; the model's
            // state arrays are indexed by it, so it is a divergence here, not an index fault there.
            if (action.Vcpu >= _vcpus || (action.Kind == ActionKind.Dequeue && action.Arg >= _vcpus))
            {
                divergence = $"step {applied + 1}: {action} names a vCPU the model does not have ({_vcpus} vCPUs)";
                break;
            }

            if (!_m.IsEnabled(action))
            {
                divergence = $"step {applied + 1}: {action} is not enabled (the model differs from the one that wrote the trace)";
                break;
            }

            if (action.Kind == ActionKind.Complete)
            {
                var agent = _vcpus + action.Arg;
                if (_queue.IsScheduled(agent))
                {
                    _now = Math.Max(_now, _queue.ScheduledTime(agent));
                    _queue.Cancel(agent);
                }
            }

            _stepCost = 0;
            _replayPick = action.Pick;
            Apply(action);
            _replayPick = 0;
            applied++;
            _now += Math.Max(_stepCost, Math.Max(_c.MicroOp, 1));
            AfterApply(action.Kind == ActionKind.Step ? action.Vcpu : -1);
            if (action.Kind == ActionKind.Step)
            {
                _queue.Cancel(action.Vcpu);
            }
        }

        CloseTime();
        _tracepoints.Complete(_now);
        _trace?.Complete(_now);
        return new ReplayResult(BuildResult(Stopwatch.GetElapsedTime(start)), applied, divergence, _metrics.Violations);
    }
}
