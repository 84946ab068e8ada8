using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Vexlab.Simulation.Observation;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// Chrome Trace Event JSON that ui.perfetto.dev opens: <c>{"displayTimeUnit":"ns","traceEvents":[...]}</c>,
/// one event per line, streamed through <see cref="Utf8JsonWriter"/>. Output depends only on the records
/// written, so equal runs give byte-identical files.
/// <list type="bullet">
/// <item>pid 1 is the guest: one thread track per vCPU (tid = vCPU) and per guest task that faults
/// (tid = 100 + task). pid 2 is the host: one track per worker (tid = 1000 + worker). A thread is named when
/// its first event is written, so no named track is empty.</item>
/// <item><see cref="TraceKind.VcpuTime"/>, the run's own vcpu_ns split as it changes, becomes back-to-back <c>X</c> slices
/// on each vCPU's track, one name per <see cref="VcpuCategory"/>: guest, stalled in host, halted in host, idle,
/// waiting for pcpu, in host (host_exit: from a kvm_exit to its kvm_entry while the vCPU would otherwise count as
/// guest, or idle and not halted). So each name's slices sum to that vCPU's part of vcpu_ns, as --timeline's columns
/// do; deriving them here from <see cref="TraceKind.VcpuState"/> and the exits once filed about 2.5 us per wakeup of
/// an idle vCPU (its injection and MSR write exits) under "idle". <see cref="TraceKind.VcpuState"/> draws nothing.
/// <see cref="TraceKind.Slice"/> and <see cref="TraceKind.HostWork"/> are <c>X</c> slices with an explicit
/// duration; callers keep them nested inside the enclosing state.</item>
/// <item>Each fault is a <c>B</c>/<c>E</c> slice on its task's track from the step where the access first faulted
/// to the step where it completed (exactly the span fault_latency_ns measures), with gfn, token, latency and
/// outcome in args; a fault still waiting when the run ends closes with it (outcome "waiting"). The counter
/// <c>outstanding_faults</c> follows their number; a fault still waiting at the end stays in it.</item>
/// <item>Flow arrows (JSON flow v2: <c>bind_id</c>, <c>flow_out</c>/<c>flow_in</c>, id = the fault's number) run from
/// the fault slice through each <see cref="TraceKind.FaultFlow"/> step (the worker's I/O, the page-ready, the
/// wakeup; zero-length slices on their threads) to the retried access at the fault's end.</item>
/// <item>Counters (<see cref="TraceKind.Counter"/>): on the host process when the record names no vCPU (the device
/// queue depth), else on the guest.</item>
/// <item>A <see cref="TraceKind.Violation"/> (a replayed counterexample's broken property) or <see cref="TraceKind.Marker"/>
/// (a replay's note on it) is a global instant, drawn across every track, plus an instant on its vCPU if it names one.</item>
/// <item>A <see cref="TraceKind.Stopped"/> (a run stopped before its duration) is a global instant, category "run",
/// named "vexlab:stopped at ...", with args complete false and simulated_ns.</item>
/// <item>Injections, exits and protocol events are thread instants (<c>i</c>).</item>
/// </list>
/// ts and dur are microseconds with 3 decimals (exact ns).
/// </summary>
public sealed class PerfettoTraceWriter : ITraceSink, IDisposable
{
    public const int GuestPid = 1;
    public const int HostPid = 2;
    public const int TaskTidBase = 100;
    public const int WorkerTidBase = 1000;

    /// <summary>The host's track for shared pCPU p is tid PcpuTidBase + p: a slice per vCPU thread's turn on it.</summary>
    public const int PcpuTidBase = 2000;
    public const string OutstandingFaults = "outstanding_faults";

    private const int FlushThreshold = 1 << 16;

    /// <summary>The slice names, one per <see cref="VcpuCategory"/>, in its order.</summary>
    private static readonly string[] StateNames = ["guest", "stalled in host", "halted in host", "idle", "waiting for pcpu", "in host"];

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly Utf8JsonWriter _json;
    private readonly long[] _stateStart;
    private readonly Dictionary<int, (int Vcpu, long Since)> _pcpuRuns = [];
    private readonly int[] _shown;
    private readonly StateSlice[] _lastSlice;
    private readonly bool[] _stateOpen;
    private readonly IReadOnlyList<string>? _taskNames;
    private readonly HashSet<(int Pid, int Tid)> _named = [];
    private readonly SortedDictionary<int, OpenFault> _openFaults = [];
    private readonly Dictionary<int, long> _taskLastEnd = [];
    private bool _first = true;
    private bool _completed;
    private long _outstanding;

    /// <param name="stream">Where the JSON goes.</param>
    /// <param name="vcpus">vCPUs.</param>
    /// <param name="workers">Host work slots.</param>
    /// <param name="processName">The guest process's name.</param>
    /// <param name="leaveOpen">Leave <paramref name="stream"/> open on dispose.</param>
    /// <param name="taskNames">Names of the guest's tasks by task index (missing: "task N"); the instances of a task with a
    /// count share its name, and their tracks are told apart as <see cref="InstanceNames"/> says.</param>
    public PerfettoTraceWriter(Stream stream, int vcpus, int workers = 1, string processName = "guest vm0", bool leaveOpen = false, IReadOnlyList<string>? taskNames = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _taskNames = taskNames is null ? null : InstanceNames(taskNames);
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = false, SkipValidation = false });
        _stateStart = new long[vcpus];
        _shown = new int[vcpus];
        _lastSlice = new StateSlice[vcpus];
        _stateOpen = new bool[vcpus];
        _ = workers;

        WriteRaw("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"u8);
        Metadata("process_name", GuestPid, null, processName);
        Metadata("process_sort_index", GuestPid, null, null, 0);
        Metadata("process_name", HostPid, null, "host");
        Metadata("process_sort_index", HostPid, null, null, 1);
    }

    public long EventsWritten { get; private set; }

    /// <summary>
    /// Track names for <paramref name="names"/>: a name that several tasks share (the instances of a task with a
    /// count, which the model names after their task) becomes NAME/0, NAME/1, ... in task order, as the idle tasks are
    /// swapper/0, swapper/1 (Machine.TaskName); a name that one task has stays as it is. Otherwise each of postcopy's
    /// four app instances got a track named app, and a fault on one could not be told from one on another.
    /// </summary>
    public static IReadOnlyList<string> InstanceNames(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var counts = names.Where(n => !string.IsNullOrEmpty(n)).CountBy(n => n, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new string[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (string.IsNullOrEmpty(name) || counts[name] == 1)
            {
                result[i] = name;
                continue;
            }

            var k = seen.GetValueOrDefault(name);
            seen[name] = k + 1;
            result[i] = string.Create(CultureInfo.InvariantCulture, $"{name}/{k}");
        }

        return result;
    }

    public void Write(in TraceRecord record)
    {
        var r = record;
        if (_completed)
        {
            throw new InvalidOperationException("trace already completed");
        }

        switch (r.Kind)
        {
            case TraceKind.VcpuTime:
                if (r.Vcpu >= 0 && r.Vcpu < _shown.Length && r.Value >= 0 && r.Value < StateNames.Length)
                {
                    Show(r.Vcpu, r.TimeNs, (int)r.Value);
                }

                break;
            case TraceKind.Slice:
                Complete(r.Label ?? "slice", "sim", r.Worker >= 0 ? HostPid : GuestPid,
                    r.Worker >= 0 ? WorkerTidBase + r.Worker : r.Vcpu, r.TimeNs, r.DurationNs, r.Token);
                break;
            case TraceKind.HostWork:
                Complete(r.Label ?? "get_user_pages", "host", HostPid, WorkerTidBase + Math.Max(r.Worker, 0), r.TimeNs, r.DurationNs, r.Token);
                break;
            case TraceKind.FaultBegin:
                FaultBegin(r);
                break;
            case TraceKind.FaultEnd:
                FaultEnd(r);
                break;
            case TraceKind.FaultFlow:
                FlowStep(r);
                break;
            case TraceKind.Violation or TraceKind.Marker:
                Violation(r);
                break;
            case TraceKind.Stopped:
                Stopped(r);
                break;
            case TraceKind.Counter:
                Counter(r.Label ?? "counter", r.Vcpu >= 0 ? GuestPid : HostPid, r.TimeNs, r.Value);
                break;
            case TraceKind.SchedSwitch:
                PcpuSwitch(r);
                break;
            case TraceKind.VcpuState:
                // The state slices come from TraceKind.VcpuTime, vcpu_ns' own split: one source for both.
                break;
            case TraceKind.TaskWork or TraceKind.SchedWakeup or TraceKind.SchedMigrateTask:
                // Chrome trace JSON has no scheduler events (Perfetto reads sched_wakeup and sched_migrate_task only from
                // ftrace data in its protobuf format): a move shows as the thread's next slice on another pCPU's track.
                break;
            default:
                Instant(r);
                break;
        }
    }

    /// <summary>Closes every open vCPU state at <paramref name="endTimeNs"/> and finishes the JSON document.</summary>
    public void Complete(long endTimeNs)
    {
        if (_completed)
        {
            return;
        }

        for (var v = 0; v < _stateOpen.Length; v++)
        {
            CloseState(v, endTimeNs);
            FlushState(v);
        }

        // Faults still waiting when the run ends close with it, and stay counted: the slice ends because the trace
        // does, not the fault, and the counter's last value is the run's outstanding faults (as --timeline's
        // faults_outstanding and the slices with outcome "waiting" say).
        foreach (var (task, open) in _openFaults)
        {
            var end = Math.Max(endTimeNs, open.BeginNs);
            EndFaultSlice(task, open, end, "waiting", end - open.BeginNs, stillWaiting: true);
        }

        _openFaults.Clear();
        foreach (var (p, run) in _pcpuRuns.OrderBy(kv => kv.Key))
        {
            PcpuSlice(p, run, Math.Max(endTimeNs, run.Since));
        }

        _pcpuRuns.Clear();
        WriteRaw("\n]}\n"u8);
        FlushBuffer();
        _stream.Flush();
        _completed = true;
    }

    public void Dispose()
    {
        _json.Dispose();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    /// <summary>
    /// Starts vCPU <paramref name="vcpu"/>'s slice of <paramref name="category"/> at <paramref name="timeNs"/>, when that
    /// differs from the open one. The split's records never go back in time on a vCPU (VcpuTime stamps each change at
    /// or after the last), so slices stay back to back; the Max only guards a hand-made record stream.
    /// </summary>
    private void Show(int vcpu, long timeNs, int category)
    {
        if (_stateOpen[vcpu] && category == _shown[vcpu])
        {
            return;
        }

        var at = _stateOpen[vcpu] ? Math.Max(timeNs, _stateStart[vcpu]) : timeNs;
        CloseState(vcpu, at);
        _shown[vcpu] = category;
        _stateStart[vcpu] = at;
        _stateOpen[vcpu] = true;
    }

    private void CloseState(int vcpu, long timeNs)
    {
        if (!_stateOpen[vcpu])
        {
            return;
        }

        _stateOpen[vcpu] = false;
        var start = _stateStart[vcpu];
        if (timeNs <= start)
        {
            return;
        }

        // A slice is written when the next one differs: an exit and entry at one instant (an NMI handled at once)
        // leave one guest slice, not two back to back.
        ref var last = ref _lastSlice[vcpu];
        if (last.Dur > 0 && last.Shown == _shown[vcpu] && last.Start + last.Dur == start)
        {
            last.Dur = timeNs - last.Start;
            return;
        }

        FlushState(vcpu);
        last = new StateSlice(_shown[vcpu], start, timeNs - start);
    }

    private void FlushState(int vcpu)
    {
        ref var last = ref _lastSlice[vcpu];
        if (last.Dur > 0)
        {
            Complete(StateNames[last.Shown], "vcpu", GuestPid, vcpu, last.Start, last.Dur, 0);
            last = default;
        }
    }

    private record struct StateSlice(int Shown, long Start, long Dur);

    private void Complete(string name, string category, int pid, int tid, long ts, long dur, uint token)
    {
        NameThread(pid, tid);
        Begin();
        _json.WriteString("ph"u8, "X"u8);
        _json.WriteString("name"u8, name);
        _json.WriteString("cat"u8, category);
        _json.WriteNumber("pid"u8, pid);
        _json.WriteNumber("tid"u8, tid);
        Timestamp("ts"u8, ts);
        Timestamp("dur"u8, Math.Max(dur, 0));
        if (token != 0)
        {
            _json.WriteStartObject("args"u8);
            _json.WriteString("token"u8, KvmFormat.AltHex(token));
            _json.WriteEndObject();
        }

        End();
    }

    /// <summary>A sched_switch: the turn of the thread leaving the pCPU ends (a slice on the pCPU's host track), the next one's starts.</summary>
    private void PcpuSwitch(in TraceRecord r)
    {
        if (_pcpuRuns.Remove(r.Pcpu, out var run))
        {
            PcpuSlice(r.Pcpu, run, r.TimeNs);
        }

        if (r.Vcpu >= 0)
        {
            _pcpuRuns[r.Pcpu] = (r.Vcpu, r.TimeNs);
        }
    }

    private void PcpuSlice(int pcpu, (int Vcpu, long Since) run, long end) =>
        Complete(string.Create(CultureInfo.InvariantCulture, $"CPU {run.Vcpu}/KVM"), "sched", HostPid, PcpuTidBase + pcpu, run.Since, end - run.Since, 0);

    private void FaultBegin(in TraceRecord r)
    {
        if (_openFaults.ContainsKey(r.Task))
        {
            return;
        }

        var tid = TaskTidBase + r.Task;
        NameThread(GuestPid, tid);

        // A task's faults follow one another: the next begins where the last ended at the earliest.
        var begin = _taskLastEnd.TryGetValue(r.Task, out var last) ? Math.Max(r.StepNs, last) : r.StepNs;
        var name = "fault gfn " + KvmFormat.AltHex(r.Gfn);
        _openFaults[r.Task] = new OpenFault(r.Id, begin, name);
        Begin();
        _json.WriteString("ph"u8, "B"u8);
        _json.WriteString("name"u8, name);
        _json.WriteString("cat"u8, "fault"u8);
        _json.WriteNumber("pid"u8, GuestPid);
        _json.WriteNumber("tid"u8, tid);
        Timestamp("ts"u8, begin);
        _json.WriteNumber("bind_id"u8, r.Id);
        _json.WriteBoolean("flow_out"u8, true);
        _json.WriteStartObject("args"u8);
        _json.WriteString("gfn"u8, KvmFormat.AltHex(r.Gfn));
        _json.WriteString("gva"u8, KvmFormat.AltHex(r.Gva));
        _json.WriteNumber("vcpu"u8, r.Vcpu);
        _json.WriteNumber("task"u8, r.Task);
        _json.WriteNumber("fault"u8, r.Id);
        _json.WriteEndObject();
        End();
        _outstanding++;
        Counter(OutstandingFaults, GuestPid, begin, _outstanding);
    }

    private void FaultEnd(in TraceRecord r)
    {
        if (!_openFaults.Remove(r.Task, out var open) || open.Id != r.Id)
        {
            return;
        }

        var latency = Math.Max(r.DurationNs, 0);
        var end = open.BeginNs + latency;
        var outcome = KvmFormat.FaultOutcome(r.Value);
        EndFaultSlice(r.Task, open, end, outcome, latency, r.Token);

        // The retried access (or the fixup, or the signal) ends the fault's flow.
        Begin();
        _json.WriteString("ph"u8, "X"u8);
        _json.WriteString("name"u8, r.Value == 0 ? "access done" : outcome);
        _json.WriteString("cat"u8, "flow"u8);
        _json.WriteNumber("pid"u8, GuestPid);
        _json.WriteNumber("tid"u8, TaskTidBase + r.Task);
        Timestamp("ts"u8, end);
        Timestamp("dur"u8, 0);
        _json.WriteNumber("bind_id"u8, r.Id);
        _json.WriteBoolean("flow_in"u8, true);
        _json.WriteStartObject("args"u8);
        _json.WriteString("gfn"u8, KvmFormat.AltHex(r.Gfn));
        _json.WriteNumber("vcpu"u8, r.Vcpu);
        _json.WriteEndObject();
        End();
    }

    /// <summary>Closes a fault's slice; with stillWaiting (the run ended with the fault outstanding) the counter keeps it.</summary>
    private void EndFaultSlice(int task, OpenFault open, long end, string outcome, long latency, uint token = 0, bool stillWaiting = false)
    {
        _taskLastEnd[task] = end;
        Begin();
        _json.WriteString("ph"u8, "E"u8);
        _json.WriteString("name"u8, open.Name);
        _json.WriteString("cat"u8, "fault"u8);
        _json.WriteNumber("pid"u8, GuestPid);
        _json.WriteNumber("tid"u8, TaskTidBase + task);
        Timestamp("ts"u8, end);
        _json.WriteStartObject("args"u8);
        _json.WriteString("token"u8, KvmFormat.AltHex(token));
        _json.WriteNumber("latency_ns"u8, latency);
        _json.WriteString("outcome"u8, outcome);
        _json.WriteEndObject();
        End();
        if (!stillWaiting)
        {
            _outstanding--;
            Counter(OutstandingFaults, GuestPid, end, _outstanding);
        }
    }

    private void FlowStep(in TraceRecord r)
    {
        if (!_openFaults.TryGetValue(r.Task, out var open) || open.Id != r.Id)
        {
            return;
        }

        var onWorker = r.Worker >= 0;
        var pid = onWorker ? HostPid : GuestPid;
        var tid = onWorker ? WorkerTidBase + r.Worker : Math.Max(r.Vcpu, 0);
        NameThread(pid, tid);
        Begin();
        _json.WriteString("ph"u8, "X"u8);
        _json.WriteString("name"u8, r.Label ?? "step");
        _json.WriteString("cat"u8, "flow"u8);
        _json.WriteNumber("pid"u8, pid);
        _json.WriteNumber("tid"u8, tid);
        Timestamp("ts"u8, r.TimeNs);
        Timestamp("dur"u8, 0);
        _json.WriteNumber("bind_id"u8, r.Id);
        _json.WriteBoolean("flow_in"u8, true);
        _json.WriteBoolean("flow_out"u8, true);
        _json.WriteStartObject("args"u8);
        _json.WriteString("gfn"u8, KvmFormat.AltHex(r.Gfn));
        _json.WriteNumber("task"u8, r.Task);
        _json.WriteNumber("fault"u8, r.Id);
        _json.WriteEndObject();
        End();
    }

    private void Violation(in TraceRecord r)
    {
        // The same text as trace.dat's marker: "violated: PROPERTY (step N)", or the replay's note.
        var name = KvmFormat.MarkerText(r);
        Begin();
        _json.WriteString("ph"u8, "i"u8);
        _json.WriteString("name"u8, name);
        _json.WriteString("cat"u8, "violation"u8);
        _json.WriteString("s"u8, "g"u8);
        _json.WriteNumber("pid"u8, GuestPid);
        _json.WriteNumber("tid"u8, Math.Max(r.Vcpu, 0));
        Timestamp("ts"u8, r.TimeNs);
        _json.WriteStartObject("args"u8);
        if (r.Kind == TraceKind.Violation)
        {
            _json.WriteString("property"u8, r.Label ?? string.Empty);
        }

        _json.WriteNumber("step"u8, r.Id);
        _json.WriteNumber("vcpu"u8, r.Vcpu);
        _json.WriteEndObject();
        End();
        if (r.Vcpu >= 0)
        {
            NameThread(GuestPid, r.Vcpu);
            Begin();
            _json.WriteString("ph"u8, "i"u8);
            _json.WriteString("name"u8, name);
            _json.WriteString("cat"u8, "violation"u8);
            _json.WriteString("s"u8, "t"u8);
            _json.WriteNumber("pid"u8, GuestPid);
            _json.WriteNumber("tid"u8, r.Vcpu);
            Timestamp("ts"u8, r.TimeNs);
            End();
        }
    }

    /// <summary>A stopped run's mark: a global instant (category "run"), the trace's last, with the simulated ns it reached.</summary>
    private void Stopped(in TraceRecord r)
    {
        Begin();
        _json.WriteString("ph"u8, "i"u8);
        _json.WriteString("name"u8, KvmFormat.MarkerText(r));
        _json.WriteString("cat"u8, "run"u8);
        _json.WriteString("s"u8, "g"u8);
        _json.WriteNumber("pid"u8, GuestPid);
        _json.WriteNumber("tid"u8, 0);
        Timestamp("ts"u8, r.TimeNs);
        _json.WriteStartObject("args"u8);
        _json.WriteBoolean("complete"u8, false);
        _json.WriteNumber("simulated_ns"u8, r.Value);
        _json.WriteEndObject();
        End();
    }

    private void Counter(string name, int pid, long ts, long value)
    {
        Begin();
        _json.WriteString("ph"u8, "C"u8);
        _json.WriteString("name"u8, name);
        _json.WriteNumber("pid"u8, pid);
        Timestamp("ts"u8, ts);
        _json.WriteStartObject("args"u8);
        _json.WriteNumber("value"u8, value);
        _json.WriteEndObject();
        End();
    }

    /// <summary>Names thread <paramref name="tid"/> the first time an event goes on it.</summary>
    private void NameThread(int pid, int tid)
    {
        if (!_named.Add((pid, tid)))
        {
            return;
        }

        string name;
        int sort;
        if (pid == HostPid && tid >= PcpuTidBase)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"pCPU {tid - PcpuTidBase}");
            sort = tid - PcpuTidBase;
        }
        else if (pid == HostPid)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"async_pf worker {tid - WorkerTidBase}");
            sort = tid;
        }
        else if (tid >= TaskTidBase)
        {
            var task = tid - TaskTidBase;
            name = _taskNames is not null && task < _taskNames.Count && !string.IsNullOrEmpty(_taskNames[task])
                ? _taskNames[task]
                : string.Create(CultureInfo.InvariantCulture, $"task {task}");
            sort = tid;
        }
        else
        {
            name = string.Create(CultureInfo.InvariantCulture, $"vCPU {tid}");
            sort = tid;
        }

        Metadata("thread_name", pid, tid, name);
        Metadata("thread_sort_index", pid, tid, null, sort);
    }

    private readonly record struct OpenFault(long Id, long BeginNs, string Name);

    private void Instant(in TraceRecord r)
    {
        if (r.Kind is TraceKind.Instant or TraceKind.ReplayStep && r.Vcpu < 0 && r.Worker < 0)
        {
            // A note on no vCPU or worker (a replay's host step: a truncation, a tick): an instant on the host process.
            Begin();
            _json.WriteString("ph"u8, "i"u8);
            _json.WriteString("name"u8, r.Label ?? "instant");
            _json.WriteString("cat"u8, "event"u8);
            _json.WriteString("s"u8, "p"u8);
            _json.WriteNumber("pid"u8, HostPid);
            Timestamp("ts"u8, r.TimeNs);
            End();
            return;
        }

        var ev = KvmFormat.EventName(r.Kind);
        var name = r.Kind switch
        {
            TraceKind.Instant or TraceKind.ReplayStep => r.Label ?? "instant",
            TraceKind.KvmExit => "kvm_exit " + Metrics.CounterNames.Name(r.ExitReason),
            TraceKind.KvmInjException => "inject " + KvmFormat.ExceptionName(r.Vector),
            TraceKind.KvmInjVirq => "inject IRQ " + KvmFormat.AltHex((ulong)r.Vector),
            _ => ev ?? r.Kind.ToString(),
        };
        var onWorker = r.Worker >= 0;
        NameThread(onWorker ? HostPid : GuestPid, onWorker ? WorkerTidBase + r.Worker : Math.Max(r.Vcpu, 0));
        Begin();
        _json.WriteString("ph"u8, "i"u8);
        _json.WriteString("name"u8, name);
        _json.WriteString("cat"u8, r.Kind is TraceKind.KvmInjException or TraceKind.KvmInjVirq or TraceKind.VeDelivered ? "inject"u8 : "event"u8);
        _json.WriteString("s"u8, "t"u8);
        _json.WriteNumber("pid"u8, onWorker ? HostPid : GuestPid);
        _json.WriteNumber("tid"u8, onWorker ? WorkerTidBase + r.Worker : Math.Max(r.Vcpu, 0));
        Timestamp("ts"u8, r.TimeNs);
        var args = r.Kind == TraceKind.ReplayStep ? null : KvmFormat.Arguments(r);
        if (args is not null)
        {
            _json.WriteStartObject("args"u8);
            _json.WriteString("args"u8, args);
            _json.WriteEndObject();
        }

        End();
    }

    private void Metadata(string kind, int pid, int? tid, string? name, int sortIndex = 0)
    {
        Begin();
        _json.WriteString("ph"u8, "M"u8);
        _json.WriteString("name"u8, kind);
        _json.WriteNumber("pid"u8, pid);
        if (tid is int t)
        {
            _json.WriteNumber("tid"u8, t);
        }

        _json.WriteStartObject("args"u8);
        if (name is not null)
        {
            _json.WriteString("name"u8, name);
        }
        else
        {
            _json.WriteNumber("sort_index"u8, sortIndex);
        }

        _json.WriteEndObject();
        End();
    }

    private void Begin()
    {
        if (!_first)
        {
            WriteRaw(",\n"u8);
        }

        _first = false;
        _json.WriteStartObject();
    }

    private void End()
    {
        _json.WriteEndObject();
        _json.Flush();
        _json.Reset();
        EventsWritten++;
        if (_buffer.WrittenCount >= FlushThreshold)
        {
            FlushBuffer();
        }
    }

    /// <summary>Writes ns as microseconds with exactly three decimals, e.g. 14250 -> 14.250.</summary>
    private void Timestamp(ReadOnlySpan<byte> property, long ns)
    {
        Span<byte> text = stackalloc byte[32];
        var negative = ns < 0;
        var abs = negative ? unchecked(0UL - (ulong)ns) : (ulong)ns;
        var pos = 0;
        if (negative)
        {
            text[pos++] = (byte)'-';
        }

        (abs / 1000).TryFormat(text[pos..], out var written, default, CultureInfo.InvariantCulture);
        pos += written;
        text[pos++] = (byte)'.';
        var frac = (int)(abs % 1000);
        text[pos++] = (byte)('0' + (frac / 100));
        text[pos++] = (byte)('0' + (frac / 10 % 10));
        text[pos++] = (byte)('0' + (frac % 10));
        _json.WritePropertyName(property);
        _json.WriteRawValue(text[..pos], skipInputValidation: true);
    }

    private void WriteRaw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    private void FlushBuffer()
    {
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }
}
