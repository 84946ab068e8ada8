using System.Globalization;
using System.Text;

namespace Vexlab.Simulation.Tracing;

/// <summary>One field of a tracepoint's record, as a line of its <c>events/SYSTEM/EVENT/format</c> file.</summary>
public readonly record struct TraceEventField(string Type, string Name, int Offset, int Size, bool Signed);

/// <summary>
/// A tracepoint's layout and print format: the text of <c>/sys/kernel/tracing/events/SYSTEM/EVENT/format</c>
/// (kernel/trace/trace_events.c f_show), which trace-cmd copies into trace.dat and libtraceevent parses
/// to decode and print records.
/// </summary>
public sealed class TraceEventFormat
{
    /// <summary>Size of the common header every record starts with (trace_entry: type, flags, preempt_count, pid).</summary>
    public const int CommonSize = 8;

    private static readonly TraceEventField[] Common =
    [
        new("unsigned short", "common_type", 0, 2, false),
        new("unsigned char", "common_flags", 2, 1, false),
        new("unsigned char", "common_preempt_count", 3, 1, false),
        new("int", "common_pid", 4, 4, true),
    ];

    public TraceEventFormat(string system, string name, ushort id, IReadOnlyList<TraceEventField> fields, string printFmt)
    {
        System = system;
        Name = name;
        Id = id;
        Fields = fields;
        PrintFmt = printFmt;
        var end = CommonSize;
        foreach (var f in fields)
        {
            end = Math.Max(end, f.Offset + f.Size);
        }

        // The record is the C struct: its size rounds up to the alignment of its widest field.
        var align = 1;
        foreach (var f in fields)
        {
            align = Math.Max(align, Math.Min(f.Size, 8));
        }

        RecordSize = (end + align - 1) / align * align;
    }

    public string System { get; }

    public string Name { get; }

    public ushort Id { get; }

    public IReadOnlyList<TraceEventField> Fields { get; }

    /// <summary>The <c>print fmt:</c> line's value: the TP_printk format string and its arguments, macros expanded.</summary>
    public string PrintFmt { get; }

    /// <summary>Bytes of one record, common header included.</summary>
    public int RecordSize { get; }

    /// <summary>The format file's text.</summary>
    public string FormatText()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"name: {Name}\nID: {Id}\nformat:\n");
        foreach (var f in Common)
        {
            Line(sb, f);
        }

        sb.Append('\n');
        foreach (var f in Fields)
        {
            Line(sb, f);
        }

        sb.Append(inv, $"\nprint fmt: {PrintFmt}\n");
        return sb.ToString();

        static void Line(StringBuilder sb, TraceEventField f) =>
            sb.Append(CultureInfo.InvariantCulture, $"\tfield:{f.Type} {f.Name};\toffset:{f.Offset};\tsize:{f.Size};\tsigned:{(f.Signed ? 1 : 0)};\n");
    }
}
