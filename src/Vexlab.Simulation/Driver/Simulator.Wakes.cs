using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Workload;

namespace Vexlab.Simulation.Driver;

/// <summary>
/// The external wakes of blocked tasks: a <c>sleep</c>'s hrtimer, and the open-loop request
/// streams whose arrivals wake a waiting worker (or wait in the backlog for one).
/// </summary>
public sealed partial class Simulator
{
    /// <summary>A task blocked in its own code: arm its hrtimer, time its disk read, or hand it the oldest waiting request.</summary>
    private void OnBlocked(in ModelEvent e)
    {
        var t = e.Task;
        if (e.Aux == (byte)BlockKind.DiskRead)
        {
            // The guest's disk is the file region's backing device: one read of it, done by the
            // device (virtio-blk to the host's storage), not by the vCPU.
            _queue.Schedule(_wakeBase + t, _now + Math.Max(_memory.SampleStore(e.Page, ref _diskRng), 1));
            return;
        }

        if (e.Aux == (byte)BlockKind.Timer)
        {
            var spans = _setup.SleepSpans;
            var length = e.Token > 0 && e.Token <= spans.Count ? spans[(int)e.Token - 1] : 1;
            _queue.Schedule(_wakeBase + t, _now + Math.Max(length, 1));
            return;
        }

        var stream = StreamOf(t);
        if (stream is not null && stream.TryDequeue(out var arrived))
        {
            _serving[t] = arrived;
            _queue.Schedule(_wakeBase + t, _now);
        }
    }

    /// <summary>A pass of a worker's loop is one request served.</summary>
    private void OnIteration(int t)
    {
        var arrived = _serving[t];
        if (arrived >= 0)
        {
            _serving[t] = -1;
            StreamOf(t)!.Complete(arrived, _now);
        }
    }

    /// <summary>Task <paramref name="t"/>'s wake is due: the hrtimer fired or its request is here.</summary>
    private void WakeTask(int t)
    {
        ref readonly var task = ref _m.Task(t);
        var wake = new MachineAction(ActionKind.Wake, task.Vcpu, (ushort)t);
        if (_m.IsEnabled(wake))
        {
            // A sleep's hrtimer is the guest's, on its vCPU's LAPIC timer; a disk read or a request arrives from elsewhere.
            var timer = task.Blocked == BlockKind.Timer;
            Apply(wake);
            _timerWakeVcpu = timer ? wake.Vcpu : -1;
            AfterApply(-1);
            _timerWakeVcpu = -1;
        }
    }

    /// <summary>A request of stream <paramref name="s"/> arrives: a waiting worker takes it, or it joins the backlog.</summary>
    private void Arrive(int s)
    {
        var stream = _streams[s]!;
        stream.Arrive(_now);
        _queue.Schedule(_arrivalBase + s, _now + stream.NextIntervalNs());
        for (var i = 0; i < _setup.TaskGroupOf.Count; i++)
        {
            var t = _m.WorkloadTask(i);
            if (_setup.TaskGroupOf[i] != s || _serving[t] >= 0 || _queue.IsScheduled(_wakeBase + t))
            {
                continue;
            }

            ref readonly var task = ref _m.Task(t);
            if (task.Status == TaskPhase.Sleeping && task.Blocked == BlockKind.Request)
            {
                _serving[t] = _now;
                _queue.Schedule(_wakeBase + t, _now);
                return;
            }
        }

        stream.Enqueue(_now);
    }

    private RequestStream? StreamOf(int t)
    {
        var i = t - _vcpus;
        return i >= 0 && i < _setup.TaskGroupOf.Count ? _streams[_setup.TaskGroupOf[i]] : null;
    }
}
