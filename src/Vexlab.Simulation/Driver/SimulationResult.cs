using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Driver;

/// <summary>One task group: its instances' summed work, when the last instance exited (-1: not all did), signals.</summary>
public sealed record TaskResult(string Name, int Count, long WorkDone, long FinishedNs, int Signals)
{
    /// <summary>Time the group's instances were charged by the guest scheduler (current on a vCPU that was not idle).</summary>
    public long CpuNs { get; init; }

    /// <summary>Time the group's instances were runnable but not running.</summary>
    public long WaitNs { get; init; }

    /// <summary>
    /// EEVDF lag the group's instances lost to update_entity_lag's clamp as they slept or moved, in ns of CPU
    /// time (negative: overrun forgiven). Not in the JSON: it explains a fairness gap, it is not a cost.
    /// </summary>
    public long LagForfeitedNs { get; init; }

    /// <summary>Times the load balancer moved one of the group's instances to another vCPU (guest.sched.balance).</summary>
    public long Migrations { get; init; }

    /// <summary><see cref="CpuNs"/> over the simulated time, in vCPUs (summed over the instances: above 1 when they used more than one vCPU).</summary>
    public double Share { get; init; }

    /// <summary>The group's open-loop request stream (<c>arrivals</c>), or null for a closed loop.</summary>
    public Workload.RequestStream? Requests { get; init; }
}

/// <summary>What a timed run measured.</summary>
public sealed class SimulationResult
{
    public required long SimulatedNs { get; init; }

    /// <summary>True when a wall-clock limit ended the run before its duration: the counts cover <see cref="SimulatedNs"/> only.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>Apply calls.</summary>
    public required long Events { get; init; }

    public required long ModelEvents { get; init; }

    /// <summary>XxHash3 of the timed model-event stream, 16 hex digits.</summary>
    public required string Digest { get; init; }

    public required GuestOutcome Outcome { get; init; }

    public required PanicReason Panic { get; init; }

    public required IReadOnlyList<TaskResult> Tasks { get; init; }

    public required IReadOnlyDictionary<string, long> Signals { get; init; }

    public required LatencyRecorder FaultLatency { get; init; }

    public required long VcpuGuestNs { get; init; }

    /// <summary>Time vCPUs spent in the host handling VM exits (not stalled or halted there), which perf kvm stat counts as exit time.</summary>
    public long VcpuHostExitNs { get; init; }

    /// <summary>Of <see cref="VcpuHostExitNs"/>, the exits taken with the idle task current: no task's cpu_ns counts them.</summary>
    public long VcpuHostExitIdleTaskNs { get; init; }

    public required long VcpuStalledNs { get; init; }

    public required long VcpuHaltedNs { get; init; }

    public required long VcpuIdleNs { get; init; }

    /// <summary>Time runnable vCPUs waited for a physical CPU (host.pcpus): their steal time.</summary>
    public long VcpuStealNs { get; init; }

    public required Counters Counters { get; init; }

    /// <summary>The run's tracepoints: exit-to-entry times per vCPU and reason (perf kvm stat's exit time), guest-mode time.</summary>
    public Tracing.KvmTracepoints? Tracepoints { get; init; }

    /// <summary>Kernel accesses that failed into their fixup (-EFAULT returned to the caller).</summary>
    public required long ErrorReturns { get; init; }

    public required long Evictions { get; init; }

    /// <summary>The guest page cache of file reads, or null when no region is a file.</summary>
    public Memory.GuestPageCache? PageCache { get; init; }

    /// <summary>The host's memory: its reclaim counts under a limit.</summary>
    public Memory.HostMemory? Reclaim { get; init; }

    /// <summary>The shared swap device's queue (host.swap.*), or null when the scenario has none.</summary>
    public Memory.SwapDevice? SwapDevice { get; init; }

    public required long WallNs { get; init; }

    public long WorkDone
    {
        get
        {
            long sum = 0;
            foreach (var t in Tasks)
            {
                sum += t.WorkDone;
            }

            return sum;
        }
    }

    public TaskResult Task(string name)
    {
        foreach (var t in Tasks)
        {
            if (string.Equals(t.Name, name, StringComparison.Ordinal))
            {
                return t;
            }
        }

        throw new KeyNotFoundException(name);
    }

    public static string OutcomeName(GuestOutcome outcome) => outcome switch
    {
        GuestOutcome.Running => "running",
        GuestOutcome.Finished => "finished",
        GuestOutcome.Oops => "oops",
        _ => "vm-error",
    };
}
