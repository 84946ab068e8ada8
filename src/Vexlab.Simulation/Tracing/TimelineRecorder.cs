using System.Globalization;
using Vexlab.Simulation.Driver;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// The run as a time series for pandas and DuckDB users (<c>run --timeline</c>): one row per interval of
/// <see cref="IntervalNs"/> (the last one ends with the run), built from the trace records. Columns, all integers:
/// <list type="bullet">
/// <item><c>start_ns</c>, <c>end_ns</c>: the interval.</item>
/// <item><c>faults_started</c>, <c>faults_completed</c>: faulting accesses that began, and that completed (the samples
/// fault_latency_ns records), in the interval; <c>faults_outstanding</c>: those begun and not ended at its end.</item>
/// <item><c>io_started</c>, <c>io_completed</c>, <c>queue_depth</c>, <c>queue_depth_max</c>: host fetches sent to and
/// returned by the backing device, and its queue at the interval's end and at its fullest.</item>
/// <item><c>vcpuN_guest_ns</c>, <c>vcpuN_stalled_ns</c>, <c>vcpuN_halted_ns</c>, <c>vcpuN_idle_ns</c>, <c>vcpuN_steal_ns</c>,
/// <c>vcpuN_exit_ns</c>: how vCPU N spent the interval (the same split as the result's vcpu_ns; steal: runnable, waiting for
/// a pCPU under host.pcpus; exit: in the host handling an exit, vcpu_ns' host_exit).</item>
/// <item><c>work_NAME</c>: units of work (loop iterations) task group NAME finished in the interval.</item>
/// </list>
/// </summary>
public sealed class TimelineRecorder : ITraceSink
{
    private const int Fixed = 9;
    // One column per vcpu_ns category, in VcpuCategory's order (guest, stalled, halted, idle, steal,
    // exit), from the split's own records (TraceKind.VcpuTime), so the columns
    // sum to vcpu_ns exactly. Steal had none once: its time went into the next column, the next vCPU's
    // guest time or the first work_ column.
    private const int States = 6;


    private readonly int _vcpus;
    private readonly int[] _groupOfTask;
    private readonly List<long[]> _bins = [];
    private readonly int[] _state;
    private readonly long[] _since;
    private readonly bool[] _known;
    private readonly List<string> _columns;
    private readonly List<(long T, int Column, long Value)> _levels = [];
    private long _end = -1;

    /// <param name="intervalNs">Interval length in ns (positive).</param>
    /// <param name="vcpus">vCPUs.</param>
    /// <param name="groupOfTask">For each model task, its task group's index in <paramref name="groupNames"/>, or -1.</param>
    /// <param name="groupNames">Task group names, for the work columns.</param>
    public TimelineRecorder(long intervalNs, int vcpus, IReadOnlyList<int> groupOfTask, IReadOnlyList<string> groupNames)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intervalNs, 1);
        ArgumentNullException.ThrowIfNull(groupOfTask);
        ArgumentNullException.ThrowIfNull(groupNames);
        IntervalNs = intervalNs;
        _vcpus = vcpus;
        _groupOfTask = [.. groupOfTask];
        _state = new int[vcpus];
        _since = new long[vcpus];
        _known = new bool[vcpus];
        _columns =
        [
            "start_ns", "end_ns", "faults_started", "faults_completed", "faults_outstanding",
            "io_started", "io_completed", "queue_depth", "queue_depth_max",
        ];
        for (var v = 0; v < vcpus; v++)
        {
            foreach (var s in new[] { "guest", "stalled", "halted", "idle", "steal", "exit" })
            {
                _columns.Add(string.Create(CultureInfo.InvariantCulture, $"vcpu{v}_{s}_ns"));
            }
        }

        foreach (var g in groupNames)
        {
            _columns.Add("work_" + g);
        }
    }

    /// <summary>For a run: task groups and model tasks from its setup.</summary>
    public static TimelineRecorder For(SimulationSetup setup, long intervalNs)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var machine = new Vexlab.Model.Machine.Machine(setup.Machine);
        var groupOfTask = new int[machine.TaskCount];
        Array.Fill(groupOfTask, -1);
        for (var i = 0; i < setup.TaskGroupOf.Count; i++)
        {
            groupOfTask[machine.WorkloadTask(i)] = setup.TaskGroupOf[i];
        }

        return new TimelineRecorder(intervalNs, setup.Machine.Vcpus, groupOfTask, setup.TaskGroups);
    }

    public long IntervalNs { get; }

    public IReadOnlyList<string> Columns => _columns;

    /// <summary>The rows, once <see cref="Complete"/> has run.</summary>
    public IReadOnlyList<long[]> Rows => _end < 0 ? throw new InvalidOperationException("timeline not complete") : _bins;

    public void Write(in TraceRecord record)
    {
        var t = Math.Max(record.TimeNs, 0);
        switch (record.Kind)
        {
            case TraceKind.VcpuTime:
                if (record.Vcpu >= 0 && record.Vcpu < _vcpus)
                {
                    CloseState(record.Vcpu, t);
                    _state[record.Vcpu] = (int)record.Value;
                    _since[record.Vcpu] = t;
                    _known[record.Vcpu] = true;
                }

                break;
            case TraceKind.FaultBegin:
                Bin(t)[2]++;
                _levels.Add((t, 4, +1));
                break;
            case TraceKind.FaultEnd:
                if (record.Value == 0)
                {
                    Bin(t)[3]++;
                }

                _levels.Add((t, 4, -1));
                break;
            case TraceKind.Counter when string.Equals(record.Label, Simulator.DeviceQueueDepth, StringComparison.Ordinal):
                Bin(t);
                _levels.Add((t, 7, record.Value));
                break;

            case TraceKind.TaskWork:
                if (record.Task >= 0 && record.Task < _groupOfTask.Length && _groupOfTask[record.Task] >= 0)
                {
                    Bin(t)[Fixed + (States * _vcpus) + _groupOfTask[record.Task]]++;
                }

                break;
            default:
                break;
        }
    }

    public void Complete(long endTimeNs)
    {
        _end = Math.Max(endTimeNs, 0);
        for (var v = 0; v < _vcpus; v++)
        {
            CloseState(v, _end);
        }

        // Every interval up to the end exists (at least one), the last one cut at the end.
        var count = Math.Max(1, (int)((_end + IntervalNs - 1) / IntervalNs));
        Bin(((long)count - 1) * IntervalNs);
        while (_bins.Count > count)
        {
            // Nothing is stamped past the end; should a record be, it counts in the last interval.
            var extra = _bins[^1];
            _bins.RemoveAt(_bins.Count - 1);
            for (var c = 0; c < extra.Length; c++)
            {
                _bins[^1][c] += extra[c];
            }
        }

        // Levels in time order (stable: equal stamps keep the order they happened in).
        var levels = _levels.Select((l, i) => (l.T, i, l.Column, l.Value)).OrderBy(l => l.T).ThenBy(l => l.i).ToList();
        long outstanding = 0;
        long depth = 0;
        var next = 0;
        for (var i = 0; i < _bins.Count; i++)
        {
            var row = _bins[i];
            row[0] = i * IntervalNs;
            row[1] = i == _bins.Count - 1 ? Math.Max(_end, row[0]) : (i + 1) * IntervalNs;
            var max = depth;
            while (next < levels.Count && (i == _bins.Count - 1 || levels[next].T < row[1]))
            {
                var (_, _, column, value) = levels[next++];
                if (column == 4)
                {
                    outstanding += value;
                }
                else
                {
                    row[value > depth ? 5 : 6] += Math.Abs(value - depth);
                    depth = value;
                    max = Math.Max(max, depth);
                }
            }

            row[4] = outstanding;
            row[7] = depth;
            row[8] = max;
        }
    }

    /// <summary>Charges vCPU <paramref name="v"/>'s current state up to <paramref name="t"/>, split over the intervals.</summary>
    private void CloseState(int v, long t)
    {
        if (!_known[v] || t <= _since[v])
        {
            return;
        }

        var column = Fixed + (States * v) + _state[v];
        var from = _since[v];
        while (from < t)
        {
            var binEnd = ((from / IntervalNs) + 1) * IntervalNs;
            var to = Math.Min(t, binEnd);
            Bin(from)[column] += to - from;
            from = to;
        }

        _since[v] = t;
    }

    private long[] Bin(long t)
    {
        var index = (int)(t / IntervalNs);
        while (_bins.Count <= index)
        {
            _bins.Add(new long[_columns.Count]);
        }

        return _bins[index];
    }
}
