using System.Diagnostics;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Scheduling;

namespace Vexlab.Simulation.Driver;

/// <summary>What a counterexample claims, for the replay's trace to mark where no step's own event does.</summary>
/// <param name="Property">The property it breaks.</param>
/// <param name="LoopStart">For a lasso, the index of the loop's first action (the action count: it ends in a dead end); else -1.</param>
public sealed record ReplayClaim(string Property, int LoopStart = -1);

/// <summary>The result of replaying a fixed action list: how far it went and what broke.</summary>
/// <param name="Result">The run's metrics up to where the replay stopped.</param>
/// <param name="Applied">How many actions were applied.</param>
/// <param name="Divergence">Null when every action applied; else why action <paramref name="Applied"/> could not.</param>
/// <param name="Violations">Safety properties reported, with the 1-based step that reported each.</param>
public sealed record ReplayResult(SimulationResult Result, int Applied, string? Divergence, IReadOnlyList<(long Step, byte Property)> Violations);

public sealed partial class Simulator
{
    /// <summary>How far a replay's trace runs past its last step (1 us): what that step leaves shows as a slice.</summary>
    public const long ReplayTraceTailNs = 1_000;

    /// <summary>
    /// Re-executes <paramref name="actions"/> in order (a checker counterexample), timing each with
    /// the cost model: a guest step advances the clock by its cost, a host completion happens no
    /// earlier than its sampled latency, and a halted vCPU's action after its wake no earlier than the
    /// wake's end (cost.wake_halted_vcpu, host_exit, charged where the timed run charges it, for exactly that long:
    /// a step the list puts between the wake and the vCPU's own leaves it halted or idle from the wake's end).
    /// Stops where an action is not enabled, as the model changed.
    /// The guest's scheduling follows the trace, not the policy: each action's pick (the checker's
    /// choice of the next task, <see cref="ScheduleChoice"/>), and a preemption at every tick and
    /// wakeup, as the checker answers.
    /// </summary>
    /// <param name="actions">The counterexample's actions.</param>
    /// <param name="claim">What it breaks: the trace gets a marker (trace_marker text in trace.dat, an instant in
    /// Perfetto) at a lasso's loop start and at the end of a lasso or dead end, and at the last step of a safety
    /// trace whose step raised no violation of its own (a model file's invariant).</param>
    /// <param name="stepNames">Each step as the checker's step list writes it: the trace marks each step's start with it
    /// (a Perfetto instant <c>step N: ...</c>), so guest code the host does not see still has its place.</param>
    public ReplayResult Replay(IReadOnlyList<MachineAction> actions, ReplayClaim? claim = null, IReadOnlyList<string>? stepNames = null)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var start = Stopwatch.GetTimestamp();
        string? divergence = null;
        var applied = 0;
        _replaying = true;
        ScanWork();
        QueueReadyVcpus();
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
                // Why is the caller's to say: the replay cannot tell an edited trace from a changed model.
                divergence = $"step {applied + 1}: {action} is not enabled";
                break;
            }

            var vcpus = NextAction.IsVcpus(action.Kind);
            var agent = action.Kind == ActionKind.Complete ? _vcpus + action.Arg : vcpus ? action.Vcpu : -1;
            if (agent >= 0 && _queue.IsScheduled(agent))
            {
                // A host completion happens no earlier than its sampled latency, and a vCPU's own action no earlier than
                // its turn: a woken vCPU's comes after the wake AfterApply charged (cost.wake_halted_vcpu, host_exit), as
                // the timed run's RunVcpu does; a running vCPU's turn is now.
                AdvanceTo(_queue.ScheduledTime(agent), agent);
                _queue.Cancel(agent);
            }

            if (vcpus && _wakeOver[action.Vcpu])
            {
                // Its wake ended before the list took this step (AdvanceTo): the step is still the re-entry that follows
                // a wake, counted as it is when it follows the wake at once (host_exit, to its kvm_entry), so that the
                // wake's cost alone decides how much a wake adds.
                _wakeOver[action.Vcpu] = false;
                _waking[action.Vcpu] = true;
                UpdateCategory(action.Vcpu);
            }

            if (vcpus)
            {
                _waking[action.Vcpu] = false;
            }

            if (claim is { LoopStart: >= 0 } && applied == claim.LoopStart)
            {
                _tracepoints.Mark(_now, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"loop start: steps {applied + 1}-{actions.Count} repeat forever"), applied + 1);
            }

            if (stepNames is not null && applied < stepNames.Count)
            {
                // The whole machine's actions (a completion goes on its worker) have no vCPU; every other one names its vCPU.
                var onVcpu = action.Kind is not (ActionKind.Complete or ActionKind.Truncate or ActionKind.Reenable or ActionKind.Teardown);
                _tracepoints.StepMark(_now, onVcpu ? action.Vcpu : -1, action.Kind == ActionKind.Complete ? action.Arg : -1,
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"step {applied + 1}: {stepNames[applied]}"), applied + 1);
            }

            _stepCost = 0;
            _replayPick = action.Pick;
            Apply(action);
            _replayPick = 0;
            applied++;
            AdvanceTo(_now + Math.Max(_stepCost, Math.Max(_c.MicroOp, 1)), -1);
            AfterApply(vcpus ? action.Vcpu : -1);
            QueueReadyVcpus();
        }

        // A wake whose vCPU's own action the step list does not reach: the trace shows the vCPU where the list leaves it,
        // from the wake's end, or from the replay's end for a wake still under way there.
        AdvanceTo(_now, -1);
        for (var v = 0; v < _vcpus; v++)
        {
            if (_waking[v])
            {
                _waking[v] = false;
                UpdateCategory(v);
            }
        }

        // A vCPU the last steps left in guest mode (a hypercall returned, a stall's page arrived) has entered by the
        // end: the step list says it runs guest code, and the trace says so too.
        for (var v = 0; v < _vcpus; v++)
        {
            if (Entered(v))
            {
                _tracepoints.GuestRuns(v, _now);
            }
        }

        if (claim is not null && divergence is null)
        {
            MarkClaim(claim, actions.Count);
        }

        CloseTime();
        _tracepoints.Complete(_now);

        // The state a step leaves starts at the step's end, which is the replay's end for the last step: the trace
        // runs on past it, so the state the counterexample ends in (a halt, a stall, a dead end) has a slice to show.
        _trace?.Complete(_now + ReplayTraceTailNs);
        return new ReplayResult(BuildResult(Stopwatch.GetElapsedTime(start)), applied, divergence, _metrics.Violations);
    }

    /// <summary>
    /// Moves the replay's clock to <paramref name="at"/>, ending on the way, each at its own time, every wake
    /// (cost.wake_halted_vcpu, host_exit) that is over by then. The step list, not the wake, says when a woken vCPU
    /// takes its next step: a slower completion it puts first (a second fault's page, at the backing store's latency)
    /// leaves the vCPU waiting after its wake. That wait is what the model's state says (halted in KVM's artificial
    /// halt, idle in its HLT), as a vCPU whose step is still to come is counted anywhere else; counting it as the
    /// wake made the wake as long as the other completion's latency, not cost.wake_halted_vcpu. The vCPU stays queued
    /// at its wake's end, so its step, when the list takes it, is due at once.
    /// </summary>
    /// <param name="at">The new time; the clock never goes back.</param>
    /// <param name="taking">The vCPU whose step is taken at <paramref name="at"/> (its wake ends with that step), or -1.</param>
    private void AdvanceTo(long at, int taking)
    {
        while (true)
        {
            var first = -1;
            var end = long.MaxValue;
            for (var v = 0; v < _vcpus; v++)
            {
                if (v != taking && _waking[v] && _queue.IsScheduled(v) && _queue.ScheduledTime(v) <= at && _queue.ScheduledTime(v) < end)
                {
                    first = v;
                    end = _queue.ScheduledTime(v);
                }
            }

            if (first < 0)
            {
                break;
            }

            _now = Math.Max(_now, end);
            _waking[first] = false;
            _wakeOver[first] = true;
            UpdateCategory(first);
        }

        _now = Math.Max(_now, at);
    }

    /// <summary>
    /// Keeps the replay's queue of vCPUs as the timed run keeps it, so that AfterApply tells a parked vCPU from a running
    /// one the same way in both: a vCPU with an action of its own is queued (now, for the step list to take when it
    /// says), and one with none is parked, once its wake is over. A wake that finds nothing to do ends there, as
    /// RunVcpu ends it, at the end of the first step after it is due.
    /// </summary>
    private void QueueReadyVcpus()
    {
        for (var v = 0; v < _vcpus; v++)
        {
            var n = _m.VcpuActions(v, _probe, 0);
            if (NextAction.TryChoose(_probe.AsSpan(0, n), out _))
            {
                if (!_queue.IsScheduled(v))
                {
                    _queue.Schedule(v, _now);
                }
            }
            else if (_queue.IsScheduled(v) && _queue.ScheduledTime(v) <= _now)
            {
                _queue.Cancel(v);
                _waking[v] = false;
                _wakeOver[v] = false;
                UpdateCategory(v);
            }
        }
    }

    /// <summary>Marks the end of the replay with what the counterexample breaks there, unless its last step said it.</summary>
    private void MarkClaim(ReplayClaim claim, int steps)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string? text = null;
        if (claim.LoopStart >= 0)
        {
            text = claim.LoopStart < steps
                ? string.Create(inv, $"violated: {claim.Property} (loop end: steps {claim.LoopStart + 1}-{steps} repeat forever)")
                : string.Create(inv, $"violated: {claim.Property} (a dead end after step {steps}, forever)");
        }
        else if (claim.Property == "no-deadlock")
        {
            text = string.Create(inv, $"violated: {claim.Property} (after step {steps} nothing can run: no valid end)");
        }
        else if (!_metrics.Violations.Any(v => v.Step == steps && Vexlab.Model.Properties.PropertyNames.Of((Vexlab.Model.Properties.SafetyProperty)v.Property) == claim.Property))
        {
            text = string.Create(inv, $"violated: {claim.Property} (step {steps})");
        }

        if (text is not null)
        {
            _tracepoints.Mark(_now, text, steps);
        }
    }
}
