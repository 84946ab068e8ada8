using System.Globalization;
using System.Text;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// ftrace text exactly as <c>trace-cmd report -N</c> prints the same events from the trace.dat that
/// <see cref="TraceDatWriter"/> writes (libtraceevent's default line, plugins off so every event prints with
/// its format file's print fmt, which is what /sys/kernel/tracing/trace shows):
/// <c>cpus=N</c>, then per event <c>%16s-%-5d [%03d] %5lu.%06lu: %-21s %s</c> with comm, pid, CPU,
/// the timestamp in microseconds rounded to nearest, <c>name:</c> and the TP_printk text.
/// Lines come in trace-cmd's merge order: by timestamp, ties to the lower CPU, each CPU's events in the
/// order they were written; so the writer keeps them until <see cref="Complete"/>.
/// Timeline-only kinds (states, slices, counters) produce no line.
/// </summary>
public sealed class FtraceWriter : ITraceSink
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private readonly TextWriter _output;
    private readonly TraceThreads _threads;
    private readonly TraceCpuMap _map;
    private readonly List<(long Ts, string Text)>[] _perCpu;

    public FtraceWriter(TextWriter output, int vcpus, int workers = 1, int basePid = 4242)
        : this(output, new TraceThreads(vcpus, workers, basePid))
    {
    }

    public FtraceWriter(TextWriter output, TraceThreads threads)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(threads);
        _output = output;
        _threads = threads;
        _map = new TraceCpuMap(threads);
        _perCpu = new List<(long, string)>[threads.Cpus];
        for (var c = 0; c < _perCpu.Length; c++)
        {
            _perCpu[c] = [];
        }
    }

    public int Workers => _threads.Workers;

    public long LinesWritten { get; private set; }

    public void Write(in TraceRecord record)
    {
        var args = KvmFormat.Arguments(record, _threads);
        if (args is null)
        {
            return;
        }

        var (cpu, pid) = _map.Place(record);
        var ts = Math.Max(record.TimeNs, 0);
        _perCpu[cpu].Add((ts, Line(cpu, pid, ts, KvmFormat.EventName(record.Kind)!, args)));
    }

    /// <summary>One line (no newline) as trace-cmd report prints it; pid 0, the idle task, is <c>&lt;idle&gt;</c>.</summary>
    public string Line(int cpu, int pid, long timeNs, string eventName, string args)
    {
        var us = (timeNs + 500) / 1000;
        var sb = new StringBuilder(160);
        var comm = _threads.CommOfPid(pid);
        sb.Append(Inv, $"{comm,16}-{pid,-5} [{cpu:D3}] {us / 1_000_000,5}.{us % 1_000_000:D6}: ");
        sb.Append(Inv, $"{eventName + ":",-21} {args}");
        return sb.ToString();
    }

    public void Complete(long endTimeNs)
    {
        _output.Write(string.Create(Inv, $"cpus={_threads.Cpus}\n"));
        var next = new int[_perCpu.Length];
        while (true)
        {
            var best = -1;
            for (var c = 0; c < _perCpu.Length; c++)
            {
                if (next[c] < _perCpu[c].Count && (best < 0 || _perCpu[c][next[c]].Ts < _perCpu[best][next[best]].Ts))
                {
                    best = c;
                }
            }

            if (best < 0)
            {
                break;
            }

            _output.Write(_perCpu[best][next[best]++].Text);
            _output.Write('\n');
            LinesWritten++;
        }

        foreach (var list in _perCpu)
        {
            list.Clear();
        }

        _output.Flush();
    }
}
