using System.Globalization;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// The host threads and CPUs that trace records belong to, as the kernel would see them: vCPU n runs as
/// QEMU's thread <c>CPU n/KVM</c> (pid <c>basePid + n</c>) on host CPU n; host work slot w runs as the
/// async_pf worker <c>kworker/u{cpus}:{w}</c> (pid <c>basePid + vcpus + 100 + w</c>) on CPU <c>vcpus + w</c>.
/// Records with a <see cref="TraceRecord.Worker"/> belong to the worker, all others to their vCPU.
/// </summary>
public sealed class TraceThreads
{
    private readonly string[] _comms;

    public TraceThreads(int vcpus, int workers, int basePid = 4242)
    {
        Vcpus = Math.Max(vcpus, 1);
        Workers = Math.Max(workers, 0);
        BasePid = basePid;
        _comms = new string[Cpus];
        for (var c = 0; c < Cpus; c++)
        {
            _comms[c] = c < Vcpus
                ? string.Create(CultureInfo.InvariantCulture, $"CPU {c}/KVM")
                : string.Create(CultureInfo.InvariantCulture, $"kworker/u{Cpus}:{c - Vcpus}");
        }
    }

    public int Vcpus { get; }

    public int Workers { get; }

    public int BasePid { get; }

    /// <summary>Host CPUs: one per vCPU, then one per worker.</summary>
    public int Cpus => Vcpus + Workers;

    public int Cpu(in TraceRecord r) =>
        r.Worker >= 0 ? Vcpus + Math.Min(r.Worker, Math.Max(Workers - 1, 0)) : Math.Clamp(r.Vcpu, 0, Vcpus - 1);

    public int Pid(int cpu) => cpu < Vcpus ? BasePid + cpu : BasePid + Vcpus + 100 + (cpu - Vcpus);

    public string Comm(int cpu) => _comms[cpu];

    /// <summary>The saved_cmdlines text: "pid comm" per line.</summary>
    public string Cmdlines()
    {
        var sb = new System.Text.StringBuilder();
        for (var c = 0; c < Cpus; c++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{Pid(c)} {Comm(c)}\n");
        }

        return sb.ToString();
    }
}
