using System.Globalization;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// ftrace text in the <c>trace-cmd report</c> shape:
/// <c>    CPU 0/KVM-4242  [000]     0.001234: kvm_exit: vcpu 0 reason EPT_VIOLATION rip 0x...</c>.
/// vCPU n runs as QEMU's thread <c>CPU n/KVM</c> (pid <c>basePid + n</c>) on host CPU n; host worker w
/// runs as <c>kworker/u{cpus}:{w}</c> on CPU <c>vcpus + w</c>. Timestamps are simulated seconds with 6 decimals.
/// Timeline-only kinds (states, slices, counters) produce no line.
/// </summary>
public sealed class FtraceWriter : ITraceSink
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private readonly TextWriter _output;
    private readonly int _vcpus;
    private readonly int _basePid;
    private readonly int _workerBasePid;
    private bool _headerWritten;

    public FtraceWriter(TextWriter output, int vcpus, int workers = 1, int basePid = 4242)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _vcpus = vcpus;
        Workers = workers;
        _basePid = basePid;
        _workerBasePid = basePid + vcpus + 100;
    }

    public int Workers { get; }

    public long LinesWritten { get; private set; }

    public void Write(in TraceRecord record)
    {
        var args = KvmFormat.Arguments(record);
        if (args is null)
        {
            return;
        }

        if (!_headerWritten)
        {
            _output.Write(string.Create(Inv, $"cpus={_vcpus + Workers}\n"));
            _headerWritten = true;
        }

        string task;
        int pid;
        int cpu;
        if (record.Worker >= 0)
        {
            task = string.Create(Inv, $"kworker/u{_vcpus + Workers}:{record.Worker}");
            pid = _workerBasePid + record.Worker;
            cpu = _vcpus + record.Worker;
        }
        else
        {
            var v = Math.Max(record.Vcpu, 0);
            task = string.Create(Inv, $"CPU {v}/KVM");
            pid = _basePid + v;
            cpu = v;
        }

        var t = record.TimeNs < 0 ? 0 : record.TimeNs;
        var secs = t / 1_000_000_000;
        var usecs = t % 1_000_000_000 / 1_000;
        var comm = string.Create(Inv, $"{task}-{pid}");
        _output.Write(string.Create(Inv,
            $"{comm,22} [{cpu:D3}] {secs,5}.{usecs:D6}: {KvmFormat.EventName(record.Kind)}: {args}\n"));
        LinesWritten++;
    }

    public void Complete(long endTimeNs) => _output.Flush();
}
