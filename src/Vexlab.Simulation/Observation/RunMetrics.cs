using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Observation;

/// <summary>
/// What a timed run counts from the model's events: exits, injections and protocol signals, fault
/// latency (first faulting access to the access that completed), per-task work, signals and exit
/// times, -EFAULT returns and property violations. Allocates nothing per event.
/// </summary>
public sealed class RunMetrics
{
    private readonly long[] _faultStart;
    private readonly long[] _iterations;
    private readonly long[] _finished;
    private readonly int[] _taskSignals;
    private readonly long[] _signals;
    private readonly bool _wakeupRing;
    private readonly bool _asyncPath;
    private readonly List<(long Step, byte Property)> _violations = [];

    /// <param name="tasks">Guest tasks.</param>
    /// <param name="keepFaultLatencies">Keep every fault latency sample (<see cref="LatencyRecorder.Samples"/>).</param>
    /// <param name="wakeupRing">
    /// The host posts completions to the #VE design's wakeup ring: its callback vector is then the design's wakeup.
    /// Under kvm-pf-int the same vector carries page-ready, which is counted as that.
    /// </param>
    /// <param name="asyncPath">
    /// The protocol has an asynchronous path (KVM's async PF, the #VE design's #VE), so a synchronous stall is that path
    /// falling back (apf_sync_fallback); under sync every fault stalls and none falls back.
    /// </param>
    public RunMetrics(int tasks, bool keepFaultLatencies = false, bool wakeupRing = false, bool asyncPath = true)
    {
        _wakeupRing = wakeupRing;
        _asyncPath = asyncPath;
        FaultLatency = new LatencyRecorder(keepFaultLatencies);
        _faultStart = new long[tasks];
        Array.Fill(_faultStart, -1);
        _iterations = new long[tasks];
        _finished = new long[tasks];
        Array.Fill(_finished, -1);
        _taskSignals = new int[tasks];
        _signals = new long[Enum.GetValues<Signal>().Length];
    }

    public Counters Counters { get; } = new();

    public LatencyRecorder FaultLatency { get; }

    public long ModelEvents { get; private set; }

    /// <summary>Kernel accesses that failed into their fixup (-EFAULT returned to the caller).</summary>
    public long ErrorReturns { get; private set; }

    /// <summary>Safety properties reported, with the Apply call that reported each.</summary>
    public IReadOnlyList<(long Step, byte Property)> Violations => _violations;

    /// <summary>Iterations task <paramref name="t"/> completed.</summary>
    public long Iterations(int t) => _iterations[t];

    /// <summary>When task <paramref name="t"/> exited, or -1.</summary>
    public long FinishedNs(int t) => _finished[t];

    public int TaskSignals(int t) => _taskSignals[t];

    /// <summary>Signals delivered by kind, the kinds that occurred only.</summary>
    public SortedDictionary<string, long> SignalCounts()
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var s = 0; s < _signals.Length; s++)
        {
            if (_signals[s] > 0)
            {
                counts[((Signal)s).ToString()] = _signals[s];
            }
        }

        return counts;
    }

    /// <summary>Whether task <paramref name="t"/> has a faulting access not yet completed.</summary>
    public bool InFault(int t) => _faultStart[t] >= 0;

    /// <param name="now">Simulated ns of the event.</param>
    /// <param name="e">The event.</param>
    /// <param name="apply">The Apply call that produced it (1-based).</param>
    /// <param name="frame">For <see cref="ModelEventKind.ExceptionDelivered"/>: the event of the frame the delivery pushed
    /// (an ordinary #PF, or the async-PF not-present or page-ready #PF, whose vector is the same).</param>
    public void Observe(long now, in ModelEvent e, long apply, FrameEvent frame = FrameEvent.Task)
    {
        ModelEvents++;
        switch (e.Kind)
        {
            case ModelEventKind.ExceptionDelivered:
                Counters.Injections.Increment(e.Aux switch
                {
                    Vectors.VE => InjectionKind.VirtualizationException,
                    Vectors.DF => InjectionKind.DoubleFault,
                    _ => frame switch
                    {
                        FrameEvent.AsyncPfNotPresent => InjectionKind.ApfNotPresent,
                        FrameEvent.AsyncPfReady => InjectionKind.ApfReady,
                        _ => InjectionKind.PageFault,
                    },
                });
                break;
            case ModelEventKind.VeDelivered:
                Counters.Signals.Increment(SignalKind.VeDelivered);
                break;
            case ModelEventKind.InterruptDelivered:
                // Under 5.8+ the callback vector is page-ready (MSR_KVM_ASYNC_PF_INT); in the #VE design it is the wakeup.
                Counters.Injections.Increment(e.Aux == (byte)ModelVector.Callback && !_wakeupRing ? InjectionKind.ApfReady : InjectionKind.ExternalInterrupt);
                break;
            case ModelEventKind.AsyncStarted:
                if (e.Aux == 1)
                {
                    // KVM decided to inject; the injection is counted when delivered (a 5.7 host can still cancel it).
                    Counters.Signals.Increment(SignalKind.ApfNotPresent);
                }

                break;
            case ModelEventKind.SyncStall when _asyncPath:
                // The fault the async path could not take (Machine.HostFault: kvm_can_do_async_pf refused, the
                // per-vCPU queue full in kvm_setup_async_pf, a known failed page; under the #VE design a fault that
                // raises no #VE or a resolve that cannot continue): handled synchronously.
                Counters.Signals.Increment(SignalKind.ApfSyncFallback);
                if (e.Aux == 2)
                {
                    // Of those, a #VE the busy word refused (SDM Vol. 3C 25.5.6): the guest's handler had not
                    // cleared it yet, so the violation exited as on a host without #VE.
                    Counters.Signals.Increment(SignalKind.VeBusyFallback);
                }

                break;
            case ModelEventKind.ArtificialHalt:
                Counters.Signals.Increment(SignalKind.ApfHalt);
                break;
            case ModelEventKind.Hypercall:
                Counters.Signals.Increment(SignalKind.VeResolveEpt);
                break;
            case ModelEventKind.ReadyDequeued:
                if (e.Aux == 1)
                {
                    // Notified; the injection is counted when the interrupt or #PF is delivered.
                    Counters.Signals.Increment(SignalKind.ApfPageReady);
                }

                break;
            case ModelEventKind.TaskWoken:
                Counters.Signals.Increment(SignalKind.TaskWakeup);
                break;
            case ModelEventKind.InterruptRaised:
                if (_wakeupRing && e.Aux == (byte)ModelVector.Callback)
                {
                    Counters.Signals.Increment(SignalKind.VeWakeup);
                }

                break;
            case ModelEventKind.Signal:
                _signals[Math.Min((int)e.Aux, _signals.Length - 1)]++;
                _taskSignals[e.Task]++;
                _faultStart[e.Task] = -1;
                break;
            case ModelEventKind.IterationDone:
                _iterations[e.Task]++;
                break;
            case ModelEventKind.TaskExited:
                _finished[e.Task] = now;
                break;
            case ModelEventKind.AccessFault:
                if (_faultStart[e.Task] < 0)
                {
                    _faultStart[e.Task] = now;
                }

                break;
            case ModelEventKind.AccessDone:
                EndFault(e.Task, now, true);
                break;
            case ModelEventKind.Fixup:
                ErrorReturns++;
                EndFault(e.Task, now, false);
                break;
            case ModelEventKind.PropertyViolated:
                _violations.Add((apply, e.Aux));
                break;
            default:
                break;
        }
    }

    private void EndFault(int task, long now, bool record)
    {
        var start = _faultStart[task];
        if (start < 0)
        {
            return;
        }

        _faultStart[task] = -1;
        if (record)
        {
            FaultLatency.Record(Math.Max(now - start, 1));
        }
    }
}
