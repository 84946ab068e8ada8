using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// Chrome Trace Event JSON that ui.perfetto.dev opens: <c>{"displayTimeUnit":"ns","traceEvents":[...]}</c>,
/// one event per line, streamed through <see cref="Utf8JsonWriter"/>. Output depends only on the records
/// written, so equal runs give byte-identical files.
/// <list type="bullet">
/// <item>pid 1 is the guest: one thread track per vCPU (tid = vCPU). pid 2 is the host: one track per
/// worker (tid = 1000 + worker).</item>
/// <item><see cref="TraceKind.VcpuState"/> becomes back-to-back <c>X</c> slices (guest, stalled in host,
/// halted in host, idle); the writer closes a state when the next one starts, so they never overlap.
/// <see cref="TraceKind.Slice"/> and <see cref="TraceKind.HostWork"/> are <c>X</c> slices with an explicit
/// duration; callers keep them nested inside the enclosing state.</item>
/// <item>Each outstanding fault is an async slice (<c>b</c>/<c>e</c>, id = token), and the counter
/// <c>outstanding_faults</c> (<c>C</c>) follows their number.</item>
/// <item>Injections, exits and protocol events are thread instants (<c>i</c>).</item>
/// </list>
/// ts and dur are microseconds with 3 decimals (exact ns).
/// </summary>
public sealed class PerfettoTraceWriter : ITraceSink, IDisposable
{
    public const int GuestPid = 1;
    public const int HostPid = 2;
    public const int WorkerTidBase = 1000;

    private const int FlushThreshold = 1 << 16;

    private static readonly string[] StateNames = ["guest", "stalled in host", "halted in host", "idle", "waiting for pcpu"];

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly Utf8JsonWriter _json;
    private readonly long[] _stateStart;
    private readonly VcpuState[] _state;
    private readonly bool[] _stateOpen;
    private bool _first = true;
    private bool _completed;
    private long _outstanding;

    public PerfettoTraceWriter(Stream stream, int vcpus, int workers = 1, string processName = "guest vm0", bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = false, SkipValidation = false });
        _stateStart = new long[vcpus];
        _state = new VcpuState[vcpus];
        _stateOpen = new bool[vcpus];

        WriteRaw("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"u8);
        Metadata("process_name", GuestPid, null, processName);
        Metadata("process_sort_index", GuestPid, null, null, 0);
        for (var v = 0; v < vcpus; v++)
        {
            Metadata("thread_name", GuestPid, v, string.Create(CultureInfo.InvariantCulture, $"vCPU {v}"));
            Metadata("thread_sort_index", GuestPid, v, null, v);
        }

        Metadata("process_name", HostPid, null, "host");
        Metadata("process_sort_index", HostPid, null, null, 1);
        for (var w = 0; w < workers; w++)
        {
            Metadata("thread_name", HostPid, WorkerTidBase + w, string.Create(CultureInfo.InvariantCulture, $"async_pf worker {w}"));
        }
    }

    public long EventsWritten { get; private set; }

    public void Write(in TraceRecord record)
    {
        var r = record;
        if (_completed)
        {
            throw new InvalidOperationException("trace already completed");
        }

        switch (r.Kind)
        {
            case TraceKind.VcpuState:
                CloseState(r.Vcpu, r.TimeNs);
                _state[r.Vcpu] = r.State;
                _stateStart[r.Vcpu] = r.TimeNs;
                _stateOpen[r.Vcpu] = true;
                break;
            case TraceKind.Slice:
                Complete(r.Label ?? "slice", "sim", r.Worker >= 0 ? HostPid : GuestPid,
                    r.Worker >= 0 ? WorkerTidBase + r.Worker : r.Vcpu, r.TimeNs, r.DurationNs, r.Token);
                break;
            case TraceKind.HostWork:
                Complete(r.Label ?? "get_user_pages", "host", HostPid, WorkerTidBase + Math.Max(r.Worker, 0), r.TimeNs, r.DurationNs, r.Token);
                break;
            case TraceKind.FaultBegin:
            case TraceKind.FaultEnd:
                Async(r);
                _outstanding += r.Kind == TraceKind.FaultBegin ? 1 : -1;
                Counter("outstanding_faults", r.TimeNs, _outstanding);
                break;
            case TraceKind.Counter:
                Counter(r.Label ?? "counter", r.TimeNs, r.Value);
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
        }

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

    private void CloseState(int vcpu, long timeNs)
    {
        if (!_stateOpen[vcpu])
        {
            return;
        }

        _stateOpen[vcpu] = false;
        var start = _stateStart[vcpu];
        if (timeNs > start)
        {
            Complete(StateNames[(int)_state[vcpu]], "vcpu", GuestPid, vcpu, start, timeNs - start, 0);
        }
    }

    private void Complete(string name, string category, int pid, int tid, long ts, long dur, uint token)
    {
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

    private void Async(in TraceRecord r)
    {
        var id = r.Id.ToString(CultureInfo.InvariantCulture);
        Begin();
        _json.WriteString("ph"u8, r.Kind == TraceKind.FaultBegin ? "b"u8 : "e"u8);
        _json.WriteString("name"u8, r.Label ?? "fault " + KvmFormat.AltHex(r.Gfn));
        _json.WriteString("cat"u8, "fault"u8);
        _json.WriteString("id"u8, id);
        _json.WriteNumber("pid"u8, GuestPid);
        if (r.Vcpu >= 0)
        {
            _json.WriteNumber("tid"u8, r.Vcpu);
        }

        Timestamp("ts"u8, r.TimeNs);
        _json.WriteStartObject("args"u8);
        _json.WriteString("gfn"u8, KvmFormat.AltHex(r.Gfn));
        _json.WriteNumber("vcpu"u8, r.Vcpu);
        _json.WriteNumber("task"u8, r.Task);
        if (r.Kind == TraceKind.FaultEnd)
        {
            _json.WriteString("token"u8, KvmFormat.AltHex(r.Token));
            _json.WriteNumber("latency_ns"u8, r.DurationNs);
            _json.WriteString("outcome"u8, KvmFormat.FaultOutcome(r.Value));
        }

        _json.WriteEndObject();

        End();
    }

    private void Counter(string name, long ts, long value)
    {
        Begin();
        _json.WriteString("ph"u8, "C"u8);
        _json.WriteString("name"u8, name);
        _json.WriteNumber("pid"u8, GuestPid);
        Timestamp("ts"u8, ts);
        _json.WriteStartObject("args"u8);
        _json.WriteNumber("value"u8, value);
        _json.WriteEndObject();
        End();
    }

    private void Instant(in TraceRecord r)
    {
        var ev = KvmFormat.EventName(r.Kind);
        var name = r.Kind switch
        {
            TraceKind.Instant => r.Label ?? "instant",
            TraceKind.KvmExit => "kvm_exit " + Metrics.CounterNames.Name(r.ExitReason),
            TraceKind.KvmInjException => "inject " + KvmFormat.ExceptionName(r.Vector),
            TraceKind.KvmInjVirq => "inject IRQ " + KvmFormat.AltHex((ulong)r.Vector),
            _ => ev ?? r.Kind.ToString(),
        };
        var onWorker = r.Worker >= 0;
        Begin();
        _json.WriteString("ph"u8, "i"u8);
        _json.WriteString("name"u8, name);
        _json.WriteString("cat"u8, r.Kind is TraceKind.KvmInjException or TraceKind.KvmInjVirq or TraceKind.VeDelivered ? "inject"u8 : "event"u8);
        _json.WriteString("s"u8, "t"u8);
        _json.WriteNumber("pid"u8, onWorker ? HostPid : GuestPid);
        _json.WriteNumber("tid"u8, onWorker ? WorkerTidBase + r.Worker : Math.Max(r.Vcpu, 0));
        Timestamp("ts"u8, r.TimeNs);
        var args = KvmFormat.Arguments(r);
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
