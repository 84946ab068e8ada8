using Vexlab.Simulation.Observation;

namespace Vexlab.Simulation.Driver;

/// <summary>The run's figures, grouped by task name as the scenario named them.</summary>
public sealed partial class Simulator
{
    private SimulationResult BuildResult(TimeSpan wall)
    {
        var groups = _setup.TaskGroups;
        var work = new long[groups.Count];
        var finished = new long[groups.Count];
        var signals = new int[groups.Count];
        var instances = new int[groups.Count];
        var exited = new int[groups.Count];
        var cpu = new long[groups.Count];
        var wait = new long[groups.Count];
        var moves = new long[groups.Count];
        var forfeited = new long[groups.Count];
        for (var i = 0; i < _setup.TaskGroupOf.Count; i++)
        {
            var g = _setup.TaskGroupOf[i];
            var t = _m.WorkloadTask(i);
            work[g] += _metrics.Iterations(t);
            signals[g] += _metrics.TaskSignals(t);
            instances[g]++;
            cpu[g] += _sched.CpuNs(t);
            wait[g] += _sched.WaitNs(t);
            forfeited[g] += _sched.LagForfeitedNs(t);
            moves[g] += _balancer?.Migrations(t) ?? 0;
            if (_metrics.FinishedNs(t) >= 0)
            {
                exited[g]++;
                finished[g] = Math.Max(finished[g], _metrics.FinishedNs(t));
            }
        }

        var tasks = new TaskResult[groups.Count];
        for (var g = 0; g < tasks.Length; g++)
        {
            tasks[g] = new TaskResult(groups[g], instances[g], work[g], exited[g] == instances[g] ? finished[g] : -1, signals[g])
            {
                CpuNs = cpu[g],
                WaitNs = wait[g],
                LagForfeitedNs = forfeited[g],
                Migrations = moves[g],
                Share = _now > 0 ? (double)cpu[g] / _now : 0,
                Requests = _streams[g],
            };
        }

        // Direct reclaim's time and the device's busy time and waits count up to the run's end (what is queued or
        // waited for past it, its part before).
        _memory.Close(_now);
        return new SimulationResult
        {
            SimulatedNs = _now,
            StoppedEarly = _stoppedEarly,
            Events = _events,
            ModelEvents = _metrics.ModelEvents,
            Digest = _digest.Value,
            Outcome = _m.Outcome,
            Panic = _m.Panic,
            Tasks = tasks,
            Signals = _metrics.SignalCounts(),
            FaultLatency = _metrics.FaultLatency,
            VcpuGuestNs = _time.Total(VcpuCategory.Guest),
            VcpuHostExitNs = _time.Total(VcpuCategory.HostExit),
            VcpuHostExitIdleTaskNs = _time.IdleTaskExitTotal(),
            VcpuStalledNs = _time.Total(VcpuCategory.Stalled),
            VcpuHaltedNs = _time.Total(VcpuCategory.Halted),
            VcpuIdleNs = _time.Total(VcpuCategory.Idle),
            VcpuStealNs = _time.Total(VcpuCategory.Steal),
            Counters = _metrics.Counters,
            Tracepoints = _tracepoints,
            ErrorReturns = _metrics.ErrorReturns,
            Evictions = _memory.Evictions,
            PageCache = _pageCache,
            SwapDevice = _memory.Device,
            Reclaim = _memory,
            WallNs = (long)(wall.TotalMilliseconds * 1e6),
        };
    }
}
