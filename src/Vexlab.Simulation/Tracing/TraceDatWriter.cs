using System.Buffers.Binary;
using System.Text;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// A trace.dat file, version 6 (trace-cmd.dat.v6(5)), that <c>trace-cmd report</c> and KernelShark read:
/// the initial format, header_page and header_event as the kernel prints them, the event formats of
/// <see cref="TraceEventCatalog"/> (systems kvm and vexlab; ftrace's print, for a replay's marker), a kallsyms of the one
/// function the marker names, empty printk formats, the
/// cmdlines of <see cref="TraceThreads"/>, and a flyrecord section with one CPU buffer per vCPU and host
/// worker. Each buffer is a run of 4 KiB ring-buffer pages (kernel/trace/ring_buffer.c): a page header
/// (u64 timestamp, local_t commit) then events, each a 32-bit header (type_len:5, time_delta:27) and the
/// record; deltas that do not fit 27 bits are carried by a TIME_EXTEND event (type_len 30). A record longer
/// than a small event's 112 bytes (a long marker) is written as the ring buffer writes it (rb_update_event):
/// type_len 0, then a 32-bit length that counts itself and the padded record.
/// Records are kept in arrival order per CPU; a record earlier than the CPU's last is an error of the caller.
/// </summary>
public sealed class TraceDatWriter : ITraceSink
{
    public const int PageSize = 4096;
    private const int PageHeaderSize = 16;
    private const int PageDataSize = PageSize - PageHeaderSize;
    private const int TypeTimeExtend = 30;
    private const int MaxSmallData = 28 * 4;

    /// <summary>The longest record one page holds: a long event's header and length, and a TIME_EXTEND before it.</summary>
    public const int MaxRecord = PageDataSize - 16;
    private const int DeltaBits = 27;

    /// <summary>events/header_page of a 64-bit kernel (ring_buffer_print_page_header).</summary>
    private const string HeaderPage =
        "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
        "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" +
        "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
        "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

    /// <summary>events/header_event (ring_buffer_print_entry_header).</summary>
    private const string HeaderEvent =
        "# compressed entry header\n" +
        "\ttype_len    :    5 bits\n" +
        "\ttime_delta  :   27 bits\n" +
        "\tarray       :   32 bits\n" +
        "\n" +
        "\tpadding     : type == 29\n" +
        "\ttime_extend : type == 30\n" +
        "\ttime_stamp : type == 31\n" +
        "\tdata max type_len  == 28\n";

    private readonly Stream _output;
    private readonly TraceThreads _threads;
    private readonly TraceCpuMap _map;
    private readonly CpuBuffer[] _cpus;
    private readonly byte[] _record = new byte[MaxRecord];
    private bool _completed;

    public TraceDatWriter(Stream output, TraceThreads threads)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(threads);
        _output = output;
        _threads = threads;
        _map = new TraceCpuMap(threads);
        _cpus = new CpuBuffer[threads.Cpus];
        for (var c = 0; c < _cpus.Length; c++)
        {
            _cpus[c] = new CpuBuffer();
        }
    }

    public long EventsWritten { get; private set; }

    public void Write(in TraceRecord record)
    {
        var format = TraceEventCatalog.For(record.Kind);
        if (format is null)
        {
            return;
        }

        var (cpu, pid) = _map.Place(record);
        var n = TraceEventCatalog.Encode(record, pid, _record, _threads);
        var ts = Math.Max(record.TimeNs, 0);
        var buffer = _cpus[cpu];
        if (buffer.Pages.Count > 0 && ts < buffer.LastTs)
        {
            throw new InvalidOperationException($"trace record {format.Name} at {ts} ns on CPU {cpu} is earlier than the CPU's last ({buffer.LastTs} ns)");
        }

        buffer.Append(ts, _record.AsSpan(0, n));
        EventsWritten++;
    }

    public void Complete(long endTimeNs)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        var header = new MemoryStream();
        WriteHeader(header);

        // flyrecord: per CPU, u64 offset and u64 size; the data starts on the next page boundary.
        var tableSize = _cpus.Length * 16;
        var dataStart = Align(header.Length + tableSize, PageSize);
        var offset = dataStart;
        Span<byte> u64 = stackalloc byte[8];
        foreach (var c in _cpus)
        {
            var size = (long)c.Pages.Count * PageSize;
            BinaryPrimitives.WriteInt64LittleEndian(u64, size == 0 ? 0 : offset);
            header.Write(u64);
            BinaryPrimitives.WriteInt64LittleEndian(u64, size);
            header.Write(u64);
            offset += size;
        }

        header.Write(new byte[dataStart - header.Length]);
        header.Position = 0;
        header.CopyTo(_output);
        foreach (var c in _cpus)
        {
            c.Seal();
            foreach (var page in c.Pages)
            {
                _output.Write(page);
            }
        }

        _output.Flush();
    }

    private void WriteHeader(Stream s)
    {
        s.Write([0x17, 0x08, 0x44]);
        s.Write("tracing6\0"u8);
        s.WriteByte(0); // little endian
        s.WriteByte(8); // sizeof(long)
        U32(s, PageSize);
        s.Write("header_page\0"u8);
        Sized64(s, HeaderPage);
        s.Write("header_event\0"u8);
        Sized64(s, HeaderEvent);
        U32(s, 1); // ftrace event formats: print, for the replay's marker
        Sized64(s, TraceEventCatalog.Print.FormatText());
        var systems = TraceEventCatalog.All.Select(f => f.System).Distinct().ToList();
        U32(s, (uint)systems.Count);
        foreach (var system in systems)
        {
            s.Write(Encoding.ASCII.GetBytes(system + "\0"));
            var events = TraceEventCatalog.All.Where(f => f.System == system).ToList();
            U32(s, (uint)events.Count);
            foreach (var e in events)
            {
                Sized64(s, e.FormatText());
            }
        }

        // kallsyms: only the function a marker's ip names, so "%ps" prints tracing_mark_write as for a trace_marker write.
        var kallsyms = Encoding.ASCII.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{TraceEventCatalog.MarkerIp:x16} T {TraceEventCatalog.MarkerFunction}\n"));
        U32(s, (uint)kallsyms.Length);
        s.Write(kallsyms);
        U32(s, 0); // printk formats
        Sized64(s, _threads.Cmdlines());
        U32(s, (uint)_cpus.Length);
        s.Write("options  \0"u8);
        U16(s, 0); // no options
        s.Write("flyrecord\0"u8);
    }

    private static long Align(long value, long to) => (value + to - 1) / to * to;

    private static void U16(Stream s, ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        s.Write(b);
    }

    private static void U32(Stream s, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        s.Write(b);
    }

    private static void Sized64(Stream s, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, bytes.Length);
        s.Write(b);
        s.Write(bytes);
    }

    /// <summary>One CPU's ring-buffer pages, filled in time order.</summary>
    private sealed class CpuBuffer
    {
        private byte[]? _page;
        private int _used;

        public List<byte[]> Pages { get; } = [];

        public long LastTs { get; private set; }

        public void Append(long ts, ReadOnlySpan<byte> record)
        {
            if (record.Length > MaxRecord)
            {
                throw new InvalidOperationException("trace record larger than a ring-buffer page holds");
            }

            var padded = (record.Length + 3) & ~3;
            var small = record.Length <= MaxSmallData;
            var delta = ts - LastTs;
            var extend = _page is not null && delta >= 1L << DeltaBits;
            var header = small ? 4 : 8;
            var need = header + padded + (extend ? 8 : 0);
            if (_page is null || _used + need > PageDataSize)
            {
                Seal();
                _page = new byte[PageSize];
                Pages.Add(_page);
                _used = 0;
                BinaryPrimitives.WriteInt64LittleEndian(_page, ts);
                delta = 0;
                extend = false;
            }

            var data = _page.AsSpan(PageHeaderSize);
            if (extend)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data[_used..], TypeTimeExtend | (uint)((delta & ((1L << DeltaBits) - 1)) << 5));
                BinaryPrimitives.WriteUInt32LittleEndian(data[(_used + 4)..], (uint)(delta >> DeltaBits));
                _used += 8;
                delta = 0;
            }

            // ring_buffer.c, rb_update_event: a small event's type_len is its length in words; a longer one has
            // type_len 0 and array[0] = its length, the 4 bytes of array[0] included (kbuffer's translate_data
            // takes them off again).
            var typeLen = small ? (uint)(padded / 4) : 0u;
            BinaryPrimitives.WriteUInt32LittleEndian(data[_used..], typeLen | (uint)(delta << 5));
            if (!small)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data[(_used + 4)..], (uint)(padded + 4));
            }

            record.CopyTo(data[(_used + header)..]);
            _used += header + padded;
            LastTs = ts;
        }

        /// <summary>Writes the commit (bytes of data) of the page being filled.</summary>
        public void Seal()
        {
            if (_page is not null)
            {
                BinaryPrimitives.WriteInt64LittleEndian(_page.AsSpan(8), _used);
            }
        }
    }
}
