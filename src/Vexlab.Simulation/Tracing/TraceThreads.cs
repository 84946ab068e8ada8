using System.Globalization;

namespace Vexlab.Simulation.Tracing;

/// <summary>
/// The host threads and CPUs that trace records belong to, as the kernel would see them: vCPU n runs as
/// QEMU's thread <c>CPU n/KVM</c> (pid <c>basePid + n</c>); host work slot w runs as the async_pf worker
/// <c>kworker/u{cpus}:{w}</c> (pid <c>basePid + vcpus + 100 + w</c>) on a CPU of its own after the vCPUs' CPUs.
/// With a pCPU per vCPU (pcpus 0, or at least the vCPUs) vCPU n's thread runs on host CPU n
/// alone. With fewer pCPUs (<c>host.pcpus</c>) the vCPU threads share CPUs 0 to pcpus - 1, and a record of a
/// vCPU goes on the CPU its thread last switched in on (<see cref="TraceCpuMap"/>, fed by the
/// <see cref="TraceKind.SchedSwitch"/> records), as <c>trace-cmd record -e kvm -e sched</c> files it.
/// Thread indexes: vCPU n is n, worker w is <c>vcpus + w</c>.
/// </summary>
public sealed class TraceThreads
{
    /// <summary>A vCPU thread's priority (task_struct prio): nice 0, DEFAULT_PRIO = MAX_RT_PRIO + 20; the idle task's too (init_task).</summary>
    public const int DefaultPrio = 120;

    private readonly string[] _comms;

    public TraceThreads(int vcpus, int workers, int basePid = 4242, int pcpus = 0)
    {
        Vcpus = Math.Max(vcpus, 1);
        Workers = Math.Max(workers, 0);
        BasePid = basePid;
        Pcpus = pcpus > 0 && pcpus < Vcpus ? pcpus : 0;
        _comms = new string[Threads];
        for (var c = 0; c < Threads; c++)
        {
            _comms[c] = c < Vcpus
                ? string.Create(CultureInfo.InvariantCulture, $"CPU {c}/KVM")
                : string.Create(CultureInfo.InvariantCulture, $"kworker/u{Cpus}:{c - Vcpus}");
        }
    }

    public int Vcpus { get; }

    public int Workers { get; }

    public int BasePid { get; }

    /// <summary>Physical CPUs the vCPU threads share; 0: each vCPU thread has a CPU of its own.</summary>
    public int Pcpus { get; }

    /// <summary>The vCPU threads share pCPUs: the trace has sched_switch and sched_wakeup records.</summary>
    public bool Shared => Pcpus > 0;

    /// <summary>Host threads: one per vCPU, then one per worker.</summary>
    public int Threads => Vcpus + Workers;

    /// <summary>Host CPUs (trace buffers): the vCPU threads' (one per vCPU, or the shared pCPUs), then one per worker.</summary>
    public int Cpus => (Shared ? Pcpus : Vcpus) + Workers;

    /// <summary>The host thread a record belongs to: its worker's if it names one, else its vCPU's.</summary>
    public int Thread(in TraceRecord r) =>
        r.Worker >= 0 ? Vcpus + Math.Min(r.Worker, Math.Max(Workers - 1, 0)) : Math.Clamp(r.Vcpu, 0, Vcpus - 1);

    /// <summary>The CPU a worker thread or, with a CPU per vCPU, a vCPU thread runs on.</summary>
    public int FixedCpu(int thread) => thread < Vcpus ? thread : (Shared ? Pcpus : Vcpus) + (thread - Vcpus);

    public int Pid(int thread) => thread < Vcpus ? BasePid + thread : BasePid + Vcpus + 100 + (thread - Vcpus);

    public string Comm(int thread) => _comms[thread];

    /// <summary>The comm of the thread with pid <paramref name="pid"/>; <c>&lt;idle&gt;</c>, as trace-cmd prints it, for 0.</summary>
    public string CommOfPid(int pid)
    {
        var i = pid - BasePid;
        var thread = i < Vcpus ? i : i - 100;
        return pid == 0 || thread < 0 || thread >= Threads ? "<idle>" : _comms[thread];
    }

    /// <summary>The pid of vCPU <paramref name="vcpu"/>'s thread, or 0 (the idle task) for -1.</summary>
    public int VcpuPid(int vcpu) => vcpu >= 0 ? Pid(Math.Min(vcpu, Vcpus - 1)) : 0;

    /// <summary>The comm of vCPU <paramref name="vcpu"/>'s thread, or of CPU <paramref name="cpu"/>'s idle task (swapper/N) for -1.</summary>
    public string VcpuComm(int vcpu, int cpu) =>
        vcpu >= 0 ? Comm(Math.Min(vcpu, Vcpus - 1)) : string.Create(CultureInfo.InvariantCulture, $"swapper/{cpu}");

    /// <summary>The saved_cmdlines text: "pid comm" per line.</summary>
    public string Cmdlines()
    {
        var sb = new System.Text.StringBuilder();
        for (var c = 0; c < Threads; c++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{Pid(c)} {Comm(c)}\n");
        }

        return sb.ToString();
    }
}

/// <summary>
/// Files a writer's records on CPUs: a worker's on its own CPU; a vCPU's on its own CPU, or, on shared pCPUs, on the
/// pCPU its thread was last switched in on (the <see cref="TraceKind.SchedSwitch"/> records say which); a
/// sched_switch, sched_wakeup or sched_migrate_task on the pCPU it names, recorded by the thread running there (common_pid: the
/// switch's prev, 0 for the idle task).
/// </summary>
public sealed class TraceCpuMap
{
    private readonly TraceThreads _threads;
    private readonly int[] _vcpuCpu;

    public TraceCpuMap(TraceThreads threads)
    {
        ArgumentNullException.ThrowIfNull(threads);
        _threads = threads;
        _vcpuCpu = new int[threads.Vcpus];
        for (var v = 0; v < _vcpuCpu.Length; v++)
        {
            _vcpuCpu[v] = threads.Shared ? v % threads.Pcpus : v;
        }
    }

    /// <summary>The CPU <paramref name="r"/> goes on and the pid that records it.</summary>
    public (int Cpu, int Pid) Place(in TraceRecord r)
    {
        if (r.Kind is TraceKind.SchedSwitch or TraceKind.SchedWakeup or TraceKind.SchedMigrateTask)
        {
            var cpu = Math.Clamp(r.Pcpu, 0, _threads.Cpus - 1);
            if (r.Kind == TraceKind.SchedSwitch && r.Vcpu >= 0 && r.Vcpu < _vcpuCpu.Length)
            {
                _vcpuCpu[r.Vcpu] = cpu;
            }

            return (cpu, _threads.VcpuPid(r.PrevVcpu));
        }

        var thread = _threads.Thread(r);
        var at = thread < _threads.Vcpus && _threads.Shared ? _vcpuCpu[thread] : _threads.FixedCpu(thread);
        return (at, _threads.Pid(thread));
    }
}
