using System.Diagnostics;
using System.Numerics;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Memory;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;
using Vexlab.Simulation.Workload;
using TraceVcpuState = Vexlab.Simulation.Tracing.VcpuState;

namespace Vexlab.Simulation.Driver;

/// <summary>
/// The timed driver: one <see cref="EventQueue"/> agent per vCPU, per host work slot, per
/// vCPU timer and NMI source, and one for host events. Each agent keeps its single next
/// action; a vCPU's next step is scheduled at now + the cost of what its last step did
/// (<see cref="OnEvent"/> adds it up). The loop allocates nothing per event and reads no clock.
/// </summary>
public sealed partial class Simulator
{
    private readonly SimulationSetup _setup;
    private readonly Machine _m;
    private readonly CostModel _c;
    private readonly EventQueue _queue;
    private readonly MachineAction[] _buffer;
    private readonly MachineAction[] _probe;
    private readonly long[] _spanEnd;
    private readonly int[] _spanTask;
    private readonly int[] _spanDepth;
    private readonly long[] _owed;
    private readonly int[] _owedDepth;
    private int _computeTask = -1;
    private readonly int _vcpus;
    private readonly int _work;
    private readonly int _tickBase;
    private readonly int _nmiBase;
    private readonly int _hostAgent;
    private readonly SimRandom[] _choice;
    private SimRandom _backingRng;
    private SimRandom _nmiRng;

    /// <summary>Per vCPU, the grid time of its pending tick: the TSC deadline its handler wrote.</summary>
    private readonly long[] _tickGrid;
    private SimRandom _tickJitterRng;
    private int _raisingNmi = -1;
    private bool _raisedNmiDelivered;

    /// <summary>Set when the model reported the exit of the NMI being raised (kvm-pf: its completion check injected).</summary>
    private bool _raisedNmiExited;

    /// <summary>Per vCPU: the cost of a kick's exit the model reported in another vCPU's or an external step, not yet charged to it.</summary>
    private readonly long[] _kickExit;
    private readonly long[] _workStart;
    private readonly bool[] _ioActive;
    private int _ioInFlight;
    private readonly HostMemory _memory;
    private readonly RunMetrics _metrics;
    private readonly EventDigest _digest = new();
    private readonly VcpuTime _time;

    /// <summary>Per vCPU, whether its last trace state said it is in the host handling an exit (<see cref="RunState.InHost"/>).</summary>
    private readonly bool[] _traceInHost;

    /// <summary>
    /// Per vCPU, woken from a halt and not yet stepped: its thread is being scheduled in and will enter (cost.wake_halted_vcpu),
    /// though the model still has it halted until that step (<see cref="AfterApply"/>).
    /// </summary>
    private readonly bool[] _waking;

    /// <summary>
    /// Per vCPU, in a replay: its wake ended before the step list took its next step (<see cref="AdvanceTo"/>). That
    /// step is its re-entry, host time as it is right after a wake.
    /// </summary>
    private readonly bool[] _wakeOver;
    private readonly GuestScheduler _sched;

    // guest.sched.balance: the load balancer (null: off), the tasks woken by the last step (for
    // wakeup placement), the vCPUs that just went idle (bit v, for new-idle balance).
    private readonly LoadBalancer? _balancer;

    /// <summary>The guest's load balancer (null: <c>guest.sched.balance</c> off), for the law tests that read its counts.</summary>
    internal LoadBalancer? Balancer => _balancer;
    private int _placing = -1;
    private int _placedFrom;
    private ulong _newIdle;
    private bool _balancing;
    private bool _replaying;

    // While replaying: the action's choice at its pick_next_task (ScheduleChoice), until asked once.
    private byte _replayPick;

    // The step started async work: an artificial halt in the same step is for that work, not a
    // repeated fault (kvm_find_async_pf_gfn hit).
    private bool _asyncStarted;

    // host.pcpus below the vCPUs: the pCPUs they share, each vCPU's held next step (its delay; -1:
    // none) while it has no pCPU, and the agents that end host slices. Null: no contention.
    private readonly HostCpus? _pcpus;
    private readonly long[] _held;

    // Per vCPU, the guest work left of the step an external-interrupt exit cut (kvm-pf's ticks): it runs after the
    // vCPU's re-entry, the model's Enter step (DelayByExit).
    private readonly long[] _cutRest;

    // Per vCPU, the cost of the EXTERNAL_INTERRUPT exit through which it lost its pCPU in guest mode (PreemptionExit),
    // paid when it gets a pCPU back: it then finishes that exit and enters (0: none owed).
    private readonly long[] _preemptExit;

    /// <summary>
    /// Per vCPU, its TSC deadline passed while its thread was out of guest mode and not blocked in vcpu_block (a stall in
    /// the host's fault, a wait for its pCPU, another exit's handling): the VMX preemption timer stayed armed, so its next
    /// VM entry exits at once with PREEMPTION_TIMER (<see cref="ExpiredDeadlineAtEntry"/>).
    /// </summary>
    private readonly bool[] _deadlinePassedOutsideGuest;

    private readonly int _sliceBase;

    // One agent per task for its wake (a sleep's hrtimer, a request handed to it), one per request
    // stream for its next arrival; the arrival time of the request each task serves (-1: none).
    private readonly int _wakeBase;
    private readonly int _arrivalBase;
    private readonly long[] _serving;
    private readonly RequestStream?[] _streams;
    private readonly GuestPageCache? _pageCache;
    private readonly int _kswapdAgent;

    // host.hz: one agent per vCPU for the host's scheduler tick on the pCPU that runs it.
    private readonly int _hostTickBase;

    // When the host's pCPUs first tick (all of them together), in (0, host.hz's period]; 0: no host tick.
    private readonly long _hostTickPhase;

    /// <summary>Set while a guest tick applies to a vCPU that holds no pCPU: the model's exit for it is none.</summary>
    private bool _tickOffPcpu;

    /// <summary>
    /// Set while the model's exit is one the driver has already counted, costed and traced (the PREEMPTION_TIMER exit that
    /// <see cref="CheckCompletionsAtTimerExit"/> lets run the completion check): the model's EXTERNAL_INTERRUPT exit for
    /// it is none.
    /// </summary>
    private bool _exitTakenByDriver;

    /// <summary>Whether a VM exit the model reports now is no exit of its own (<see cref="_tickOffPcpu"/>, <see cref="_exitTakenByDriver"/>).</summary>
    private bool ModelExitIsNone => _tickOffPcpu || _exitTakenByDriver;

    /// <summary>
    /// The vCPU whose own LAPIC timer is firing now (its tick, or a sleeping task's hrtimer), -1 otherwise. A vCPU halted
    /// in the host has that timer as a host hrtimer (kvm_lapic_switch_to_sw_timer, HRTIMER_MODE_ABS_HARD), started
    /// where its thread blocked, so its expiry wakes the thread from that pCPU's own timer interrupt.
    /// </summary>
    private int _timerWakeVcpu = -1;

    /// <summary>Set when the model took the guest tick's PREEMPTION_TIMER exit (kvm-pf) and the driver counted it.</summary>
    private bool _guestTimerExitTaken;
    private SimRandom _diskRng;
    private readonly bool _hltInGuest;
    private readonly ITraceSink? _trace;
    private readonly KvmTracepoints _tracepoints;
    private int _actor = -1;
    private int _hostEventIndex;
    private long _now;
    private long _stepCost;
    private long _events;
    private bool _stoppedEarly;
    private ulong _dirty;
    private ulong _schedDirty;

    // Bit v: vCPU v's scheduler snapshot is stale (a switch, sleep, wake, exit or idleness change).
    private bool _scanWork;

    public Simulator(SimulationSetup setup, ITraceSink? trace = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _setup = setup;
        _m = DriverMachine(setup.Machine);
        _c = setup.Costs;
        _trace = trace;
        _vcpus = setup.Machine.Vcpus;
        _work = _m.WorkCapacity;
        _tickBase = _vcpus + _work;
        _nmiBase = _tickBase + _vcpus;
        _hostAgent = _nmiBase + _vcpus;
        _sliceBase = _hostAgent + 1;
        _held = new long[_vcpus];
        _cutRest = new long[_vcpus];
        _kickExit = new long[_vcpus];
        _preemptExit = new long[_vcpus];
        _deadlinePassedOutsideGuest = new bool[_vcpus];
        Array.Fill(_held, -1);
        _hltInGuest = setup.Machine.Protocol.Host.HltInGuest;
        // The host's tick keeps its own clock: its phase against the guest's tick is drawn from the
        // seed, once. Every pCPU ticks on that one grid, shared or dedicated to a vCPU:
        // tick_setup_sched_timer (kernel/time/tick-sched.c) starts each CPU's tick at the same
        // tick_init_jiffy_update() and, with skew_tick=0 (the default since 5307c9556bc1, "tick:
        // Add tick skew boot option"), adds no per-CPU offset, so all CPUs tick together every TICK_NSEC.
        _hostTickPhase = setup.HostTickPeriodNs > 0
            ? 1 + (long)new SimRandom(setup.Seed).Fork("host-tick").NextBelow((ulong)setup.HostTickPeriodNs)
            : 0;
        if (setup.Pcpus > 0 && setup.Pcpus < _vcpus)
        {
            _pcpus = new HostCpus(setup.Pcpus, _vcpus, setup.HostSliceNs, setup.HostWakeupPreemption, setup.HostTickPeriodNs, _hostTickPhase);
        }

        _wakeBase = _sliceBase + (_pcpus is null ? 0 : _vcpus);
        _arrivalBase = _wakeBase + _m.TaskCount;
        _serving = new long[_m.TaskCount];
        Array.Fill(_serving, -1);
        _streams = new RequestStream?[setup.TaskGroups.Count];
        _kswapdAgent = _arrivalBase + _streams.Length;
        _hostTickBase = _kswapdAgent + 1;
        _queue = new EventQueue(_hostTickBase + _vcpus);
        _buffer = new MachineAction[_m.MaxActions + 8];
        _probe = new MachineAction[_m.MaxActions + 8];
        _spanEnd = new long[_vcpus];
        _spanTask = new int[_vcpus];
        _spanDepth = new int[_vcpus];
        _owed = new long[_m.TaskCount];
        _owedDepth = new int[_m.TaskCount];
        var root = new SimRandom(setup.Seed);
        _choice = new SimRandom[_vcpus];
        for (var v = 0; v < _vcpus; v++)
        {
            _choice[v] = root.Fork("vcpu/" + v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        _tickGrid = new long[_vcpus];
        _tickJitterRng = root.Fork("tick-jitter");
        _backingRng = root.Fork("backing");
        _nmiRng = root.Fork("nmi");
        _workStart = new long[_work];
        _ioActive = new bool[_work];
        var device = setup.SwapQueueDepth > 0 || setup.SwapBandwidthBytesPerSecond > 0
            ? new SwapDevice(setup.SwapQueueDepth, setup.SwapBandwidthBytesPerSecond, setup.PageBytes)
            : null;
        _memory = new HostMemory(_m, setup.Machine.Pages, setup.HostLimitPages, _c.HostSwapInOverhead, setup.Backings, device, setup.Reclaim, setup.PageBytes, root.Fork("swap-out"));
        _diskRng = root.Fork("guest-disk");
        _pageCache = setup.HasFiles ? new GuestPageCache(_memory, setup.Machine.Pages, setup.PageCachePages) : null;
        // Under sync every fault stalls in the host: no async path, so no fallback to count.
        var host = setup.Machine.Protocol.Host;
        _metrics = new RunMetrics(_m.TaskCount, setup.KeepFaultLatencies, host.Ready == ReadyDelivery.WakeupRing, host.AsyncPf || host.Convertible != VeConvertible.None);
        _tracepoints = new KvmTracepoints(_vcpus, _m.TaskCount, new TraceThreads(_vcpus, _m.WorkCapacity, pcpus: _pcpus?.Count ?? 0), trace, setup.Machine.Protocol.Host.Ready == ReadyDelivery.Interrupt)
        {
            NmiExitNs = _c.SimpleExit,
        };
        _time = new VcpuTime(_vcpus, trace, _hltInGuest);
        _tracepoints.Time = _time;
        _traceInHost = new bool[_vcpus];
        _waking = new bool[_vcpus];
        _wakeOver = new bool[_vcpus];
        var nice = new int[_m.TaskCount];
        for (var i = 0; i < setup.TaskNice.Count && _vcpus + i < nice.Length; i++)
        {
            nice[_vcpus + i] = setup.TaskNice[i];
        }

        _sched = new GuestScheduler(_m, _vcpus, setup.SchedPolicy, nice, setup.TickPeriodNs, setup.RunToParity, setup.GuestBaseSliceNs);
        if (setup.Balance && _vcpus > 1)
        {
            _balancer = new LoadBalancer(_m, _vcpus, setup.TaskPinned, setup.BalanceIntervalNs, setup.MigrationCostNs);
        }

        for (var v = 0; v < _vcpus; v++)
        {
            var onPcpu = _pcpus is null || !VcpuTime.WantsPcpu(_m, v, _hltInGuest) || _pcpus.Want(v);
            if (_pcpus is not null)
            {
                TraceSwitches();
            }
            _time.Start(v, onPcpu ? VcpuTime.Of(_m, v, _vcpus) : VcpuCategory.Steal, _m.Vcpu(v).Run == RunState.GuestHalt);
            _sched.Refresh(v, Charging(v));
            ScheduleVcpu(v, 0);
            if (_pcpus is not null && _pcpus.IsRunning(v))
            {
                _queue.Schedule(_sliceBase + v, _pcpus.SliceCheckAt(v, 0));
            }

            if (setup.TickPeriodNs > 0)
            {
                // The guest is a Linux kernel: its vCPUs tick together, at whole periods of guest
                // time (kvmclock keeps the vCPUs' clocks in step). tick_setup_sched_timer starts
                // every CPU's tick at tick_init_jiffy_update(), rounded up to a multiple of
                // TICK_NSEC, with no per-CPU offset unless skew_tick=1 (5307c9556bc1, off by
                // default). With guest.nohz_idle an idle vCPU's tick is stopped (Dispatch skips
                // it); it restarts on the same grid, as tick_nohz_restart forwards the timer from
                // its last tick by whole TICK_NSEC, so the agent keeps running on the grid. At
                // equal times the queue would run the ticks in the order scheduled, vCPU 0 first, every
                // period (each reschedules itself as it runs); guest.tick_jitter puts each tick a little after
                // its grid time (ScheduleTick), so that order is drawn anew each period.
                ScheduleTick(v);
            }

            if (setup.HostTickPeriodNs > 0)
            {
                _queue.Schedule(_hostTickBase + v, _hostTickPhase);
            }

            if (setup.NmiMeanIntervalNs > 0)
            {
                _queue.Schedule(_nmiBase + v, NextNmiDelay());
            }

            _traceInHost[v] = _m.Vcpu(v).Run == RunState.InHost;
            _trace?.Write(TraceRecord.StateChange(0, v, ToTraceState(_time.Current(v))) with { Value = _traceInHost[v] ? 1 : 0 });
        }

        if (setup.HostEvents.Count > 0)
        {
            _queue.Schedule(_hostAgent, setup.HostEvents[0].AtNs);
        }

        for (var g = 0; g < _streams.Length && g < setup.ArrivalIntervalNs.Count; g++)
        {
            if (setup.ArrivalIntervalNs[g] > 0)
            {
                var stream = new RequestStream(setup.ArrivalIntervalNs[g], root.Fork("arrivals/" + setup.TaskGroups[g]));
                _streams[g] = stream;
                _queue.Schedule(_arrivalBase + g, stream.NextIntervalNs());
            }
        }
    }

    /// <summary>Name of the counter that follows the backing device's queue depth (host fetches in flight).</summary>
    public const string DeviceQueueDepth = "device_queue_depth";

    public Machine Machine => _m;

    /// <summary>
    /// The machine the timed driver runs for <paramref name="config"/>: external events unbounded, moves too (255: the
    /// driver owns them, its load balancer's or a replayed trace's), and a random touch as one action, the driver drawing its page.
    /// </summary>
    public static Machine DriverMachine(MachineConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new Machine(config with { Bounds = ExternalBounds.Unbounded with { Migrations = 255 }, EnumerateChoices = false });
    }

    /// <summary>The guest's fair scheduler beside the model (read its state; the driver feeds it).</summary>
    public GuestScheduler Scheduler => _sched;

    /// <summary>
    /// The host's physical CPUs the vCPU threads share (read their state, such as the tick grid
    /// drawn from the seed; the driver feeds them), or null with a pCPU for each vCPU.
    /// </summary>
    public HostCpus? Pcpus => _pcpus;

    /// <summary>
    /// When the host's pCPUs first tick, drawn from the seed: every pCPU, shared or dedicated to a
    /// vCPU, ticks at this time and every host.hz period after it (tick_setup_sched_timer, no
    /// skew_tick). 0: no host tick.
    /// </summary>
    public long HostTickPhaseNs => _hostTickPhase;

    public long Now => _now;

    /// <summary>Apply calls so far.</summary>
    public long Events => _events;

    /// <summary>Runs to the duration, or until the guest stops; <paramref name="progress"/> gets simulated ns now and then.</summary>
    /// <remarks>
    /// <paramref name="stop"/> (a wall-clock limit) is looked at every 4,096 events, a few
    /// milliseconds at most: the run then ends at the simulated time reached, marked
    /// <see cref="SimulationResult.StoppedEarly"/>.
    /// </remarks>
    public SimulationResult Run(Action<long>? progress = null, CancellationToken stop = default)
    {
        var start = Stopwatch.GetTimestamp();
        var duration = _setup.DurationNs;
        var sinceStopCheck = 0;
        _tracepoints.EndLimitNs = duration;
        while (_queue.TryPopMin(out var next))
        {
            if (++sinceStopCheck == 4096)
            {
                sinceStopCheck = 0;
                if (stop.IsCancellationRequested)
                {
                    _stoppedEarly = true;
                    _now = next.TimeNs;
                    break;
                }
            }

            if (next.TimeNs >= duration)
            {
                // The run covers [0, duration): an event at the end itself would have no time left to act, and
                // what it starts (an exit, its handling) would be cut to nothing: a PREEMPTION_TIMER exit at the
                // end of swap-overcommit was a 0 ns sample of perf kvm stat's table.
                _now = duration;
                break;
            }

            _now = next.TimeNs;
            Dispatch(next.Agent);
            if (_m.Outcome != GuestOutcome.Running)
            {
                break;
            }

            if (progress is not null && (_events & 0xFFFFF) == 0)
            {
                progress(_now);
            }
        }

        if (_m.Outcome == GuestOutcome.Running && !_stoppedEarly)
        {
            _now = duration;
        }

        CloseTime();
        if (_stoppedEarly)
        {
            _tracepoints.Stopped(_now, duration);
        }

        _tracepoints.Complete(_now);
        _trace?.Complete(_now);
        var wall = Stopwatch.GetElapsedTime(start);
        return BuildResult(wall);
    }

    private void Dispatch(int agent)
    {
        if (agent < _vcpus)
        {
            RunVcpu(agent);
        }
        else if (agent < _tickBase)
        {
            CompleteWork(agent - _vcpus);
        }
        else if (agent < _nmiBase)
        {
            var v = agent - _tickBase;
            if (_setup.NohzIdle && LoadBalancer.IsIdle(_m, v))
            {
                // NO_HZ_IDLE: do_idle -> cpuidle_idle_call, with no cpuidle driver (a KVM guest has
                // none unless cpuidle-haltpoll loads), calls tick_nohz_idle_stop_tick() before
                // default_idle_call()'s HLT, and the tick stays off until the idle loop exits with
                // work (tick_nohz_idle_exit -> tick_nohz_restart, on the old grid). So the idle
                // vCPU takes no timer interrupt, no halt wake and no HLT exit here; the next grid
                // tick after it has work is its own again.
                ScheduleTick(v);
                return;
            }

            // A vCPU thread waiting for a pCPU is not in guest mode: its timer's expiry is no exit, and
            // the interrupt goes in at its next entry (vcpu_enter_guest -> inject_pending_event). The
            // model (kvm-pf) still leaves it in the host, so its next entry dequeues page-ready as the
            // 5.7 host does; OnEvent drops the exit from the counters, the cost and the trace. Counted,
            // four busy vCPUs on two pCPUs held 126 EXTERNAL_INTERRUPT exits against the trace's 124.
            // Under kvm-pf-int the model's tick serves a pending KVM_REQ_APF_READY, as that next entry
            // does before it injects the tick: the same dequeues, traced at the tick.
            if ((_m.Vcpu(v).Irr & (1 << (int)ModelVector.Timer)) != 0)
            {
                // The last tick's interrupt is still pending (the guest had interrupts off, or the vCPU has not
                // entered since): its handler has not run, so nothing re-armed the TSC deadline
                // (lapic_next_deadline is the handler's WRMSR), and a one-shot deadline timer does not fire again.
                // No expiry, no exit: the checker's model offers Tick only with the timer's IRR bit clear too.
                ScheduleTick(v);
                return;
            }

            _tickOffPcpu = _pcpus is not null && !_pcpus.IsRunning(v);
            var inGuest = !_tickOffPcpu && _tracepoints.InGuestMode(v, _now);
            _guestTimerExitTaken = false;
            Apply(new MachineAction(ActionKind.Tick, (byte)v, 0));

            // Out of guest mode with the preemption timer armed, the deadline's exit comes at the next entry, unless the
            // model took it (kvm-pf: at the entry of an exit still being handled).
            _deadlinePassedOutsideGuest[v] |= !inGuest && !_guestTimerExitTaken && !_replaying && KeepsPreemptionTimer(v);
            _tickOffPcpu = false;
            var exitCost = _stepCost;
            ScheduleTick(v);
            _timerWakeVcpu = v;
            AfterApply(-1);
            _timerWakeVcpu = -1;
            exitCost += PreemptionTimerExit(v, inGuest);

            // The tick's exits come out of the vCPU's time as the host tick's does.
            DelayByExit(v, exitCost);
            if (_balancer is not null)
            {
                if (_balancer.TickDue(v, _now))
                {
                    LoadBalance(v, periodic: true, byItself: true);

                    _balancer.Balanced(v, _now);
                }

                if (_setup.NohzIdle)
                {
                    NohzBalancerKick(v);
                }
            }
        }
        else if (agent < _hostAgent)
        {
            var v = agent - _nmiBase;
            var raise = new MachineAction(ActionKind.RaiseNmi, (byte)v, 0);
            if (_m.IsEnabled(raise))
            {
                var inGuest = _tracepoints.InGuestMode(v, _now);
                Apply(raise);
                var cost = _stepCost;
                AfterApply(-1);
                if (inGuest)
                {
                    // An NMI taken in guest mode as it is raised (its exit, its injection) delays
                    // what the vCPU was doing. One that wakes a halted vCPU pays the wake instead,
                    // which AfterApply has already scheduled.
                    DelayByExit(v, cost);
                }
            }
            else if (_m.Vcpu(v).NmiPending != 0 && _tracepoints.InGuestMode(v, _now))
            {
                // Another PMI while the guest's NMI still waits for its window: the host NMI exits all
                // the same (virtual NMIs: the host's are never blocked), and KVM drops the guest's extra
                // one (process_nmi keeps one pending while the guest blocks NMIs, two otherwise). process_nmi requests
                // KVM_REQ_EVENT: KVM asks again for a window, as the guest's interruptibility state is now.
                DelayByExit(v, BlockedNmiExit(v, _now));
                _tracepoints.NmiWindowAsked(v, StiBlocking(v));
            }

            _queue.Schedule(agent, _now + NextNmiDelay());
        }
        else if (agent == _kswapdAgent)
        {
            RunKswapd();
        }
        else if (agent >= _hostTickBase)
        {
            HostTick(agent - _hostTickBase);
        }
        else if (agent >= _arrivalBase)
        {
            Arrive(agent - _arrivalBase);
        }
        else if (agent >= _wakeBase)
        {
            WakeTask(agent - _wakeBase);
        }
        else if (agent >= _sliceBase)
        {
            EndSlice(agent - _sliceBase);
        }
        else
        {
            var e = _setup.HostEvents[_hostEventIndex++];
            var action = new MachineAction(e.Kind == HostEventKind.Truncate ? ActionKind.Truncate : ActionKind.Reenable, 0, 0);
            if (_m.IsEnabled(action))
            {
                Apply(action);
                _scanWork = true;
                AfterApply(-1);
            }

            if (_hostEventIndex < _setup.HostEvents.Count)
            {
                _queue.Schedule(_hostAgent, Math.Max(_now, _setup.HostEvents[_hostEventIndex].AtNs));
            }
        }
    }

    /// <summary>
    /// The host's scheduler tick on vCPU <paramref name="v"/>'s pCPU (host.hz). It interrupts the
    /// vCPU only while the vCPU holds a pCPU in guest mode, and then under every protocol: VMX runs
    /// every guest with external-interrupt exiting (PIN_BASED_EXT_INTR_MASK, setup_vmcs_config), so
    /// the local APIC timer's interrupt is an EXTERNAL_INTERRUPT exit, handle_external_interrupt_irqoff
    /// runs the host's tick, and KVM enters again. Where that exit matters to the protocol (the 5.7
    /// host, kvm-pf, dequeues page-ready at the entry) the model takes it (<see cref="ActionKind.HostTick"/>);
    /// elsewhere the driver does, as it does a preemption's (<see cref="PreemptionExit"/>): counted,
    /// charged cost.vm_exit_entry + cost.kvm_exit_handling of the vCPU's time (host_exit), traced,
    /// and what the vCPU was doing resumes that much later. A vCPU in the host (stalled, halted,
    /// or handling another exit) takes the tick in the host, without an exit.
    /// </summary>
    private void HostTick(int v)
    {
        _queue.Schedule(_hostTickBase + v, _now + _setup.HostTickPeriodNs);
        if (_pcpus is not null)
        {
            // The tick that ends this pCPU's slice is the same interrupt as the one that exits here: one exit, taken
            // by the preemption (PreemptionExit) if the slice's end switches threads. So the slice's end goes first
            // whichever agent the queue ran first; when it ran first, the thread it granted the pCPU to was not in
            // guest mode at the tick (it got the pCPU at this instant), and takes no tick exit.
            var slice = _sliceBase + v;
            if (_queue.IsScheduled(slice) && _queue.ScheduledTime(slice) == _now)
            {
                _queue.Cancel(slice);
                EndSlice(v);
            }

            if (!_pcpus.IsRunning(v) || _pcpus.RunningSince(v) == _now)
            {
                return;
            }
        }

        var tick = new MachineAction(ActionKind.HostTick, (byte)v, 0);
        if (_m.IsEnabled(tick))
        {
            Apply(tick);
            var exitCost = _stepCost;
            AfterApply(-1);
            DelayByExit(v, exitCost);
            return;
        }

        if (CheckCompletionsOfHaltedInGuest(v, KvmTracepoints.LocalTimerExitInterruptionInfo))
        {
            // A vCPU halted in the guest (host.hlt_in_guest, KVM_X86_DISABLE_EXITS_HLT) is in guest mode: the tick exits
            // it, and under the 5.7 host (kvm-pf) vcpu_run calls kvm_check_async_pf_completion after that
            // vcpu_enter_guest as after any, which dequeues the completions 5.7's async_pf_execute left on the done list
            // without a wake (it wakes only a vCPU blocked in the host). The model's HostExit is that exit and check.
            // The vCPU thread never blocked, so no wake is charged: it enters again once the exit is handled, and that
            // entry injects the page-ready. Without this the host tick's exit dequeued nothing, and with NO_HZ_IDLE
            // stopping the idle vCPU's own tick nothing else ever did: two tasks faulting on two such vCPUs took 2
            // faults in 100 ms and never had a page-ready.
            var exitCost = _stepCost;
            ScheduleVcpu(v, _now + Math.Max(exitCost, 1));
            AfterApply(-1);
            return;
        }

        if (!_tracepoints.InGuestMode(v, _now))
        {
            return;
        }

        if (UseUpReadyRequest(v, KvmTracepoints.LocalTimerExitInterruptionInfo))
        {
            var exitCost = _stepCost;
            AfterApply(-1);
            DelayByExit(v, exitCost);
            return;
        }

        _metrics.Counters.RecordExit(Metrics.ExitReason.ExternalInterrupt, _c.SimpleExit);
        _tracepoints.HostInterruptExit(v, _now, KvmTracepoints.LocalTimerExitInterruptionInfo, _c.SimpleExit);
        DelayByExit(v, _c.SimpleExit);
    }

    /// <summary>
    /// Under the 5.8+ host (kvm-pf-int), an exit of vCPU <paramref name="v"/> in guest mode whose entry serves a
    /// KVM_REQ_APF_READY that cannot dequeue (the token slot busy, the LAPIC off) and so uses it up: the model's
    /// <see cref="ActionKind.HostExit"/>, applied when enabled, its EXTERNAL_INTERRUPT exit counted, costed and traced
    /// as the model's (<paramref name="intrInfo"/>). Returns whether it was; a replay's steps are the checker's.
    /// </summary>
    private bool UseUpReadyRequest(int v, uint intrInfo)
    {
        var exit = new MachineAction(ActionKind.HostExit, (byte)v, 0);
        if (_replaying || !_m.IsEnabled(exit))
        {
            return false;
        }

        ApplyExternalExit(exit, intrInfo);
        return true;
    }

    /// <summary>
    /// The exit vCPU <paramref name="v"/>'s own tick costs when it finds the vCPU in guest mode (<paramref name="inGuest"/>),
    /// under every protocol; returns its cost beyond any the model charged. KVM on Intel emulates the guest's TSC-deadline
    /// timer with the VMX preemption timer (kvm_intel.preemption_timer=1, the default since ce7a058a2117): the deadline
    /// passing in guest mode exits with PREEMPTION_TIMER (basic exit reason 52), and handle_preemption_timer (the fastpath
    /// since 26efe2fd92e5, 5.8) calls kvm_lapic_expired_hv_timer, which injects LOCAL_TIMER_VECTOR. The 5.7 host the kvm-pf
    /// model follows has no fastpath, and the calibration has no figure for a fastpath exit apart from a full one, so it
    /// costs cost.vm_exit_entry + cost.kvm_exit_handling. Under kvm-pf the model took the exit (the 5.7 host dequeues
    /// page-ready at its entry, <see cref="OnExit"/> counted it). A vCPU in the host at its tick takes none here: a
    /// halted one's deadline is a host hrtimer (vcpu_block, kvm_lapic_switch_to_sw_timer); a stalled one, one waiting for
    /// its pCPU or one handling another exit takes it at its next entry instead (<see cref="ExpiredDeadlineAtEntry"/>).
    /// The handler's re-arm, the WRMSR to MSR_IA32_TSC_DEADLINE, is charged where the
    /// guest runs the handler, wherever the vCPU was at the tick (<see cref="GuestTimerRearm"/>).
    /// </summary>
    private long PreemptionTimerExit(int v, bool inGuest)
    {
        var modelExited = _guestTimerExitTaken;
        _guestTimerExitTaken = false;
        if (!inGuest || modelExited)
        {
            return 0;
        }

        var cost = _c.SimpleExit;
        _metrics.Counters.RecordExit(Metrics.ExitReason.PreemptionTimer, cost);
        _tracepoints.PreemptionTimerExit(v, _now, cost);
        CheckCompletionsAtTimerExit(v);
        return cost;
    }

    /// <summary>
    /// Under the 5.7 host (kvm-pf), the PREEMPTION_TIMER exit the driver charged vCPU <paramref name="v"/> is an exit like
    /// the model's: 5.7's vcpu_run calls kvm_check_async_pf_completion on every pass of its loop, after each
    /// vcpu_enter_guest that returns 1, and handle_preemption_timer returns 1. A vCPU the model has in the host already
    /// (an exit of its own left it there, kvm-pf's tick, a stall's end) dequeues by its next step, a Dequeue; one it does
    /// not (halted in the guest with host.hlt_in_guest, whose HLT did not exit) takes the model's
    /// <see cref="ActionKind.HostExit"/> here when it would dequeue, as the host tick's exit does
    /// (<see cref="CheckCompletionsOfHaltedInGuest"/>); the vCPU is left in the host, and its next step enters with the
    /// page-ready. Under the 5.8+ host (kvm-pf-int) the model's tick of a vCPU in guest mode serves KVM_REQ_APF_READY
    /// itself; one the model had in the host then (stalled, or handling another exit) takes the deadline's exit at its
    /// entry (<see cref="ExpiredDeadlineAtEntry"/>), and the entry after that exit uses up a pending request that cannot
    /// dequeue: the model's <see cref="ActionKind.HostExit"/> here, as <see cref="UseUpReadyRequest"/> applies it at the
    /// host's exits. Either way the
    /// exit is the PREEMPTION_TIMER one already counted, costed and traced (whose entry the trace has already made), so
    /// the model's EXTERNAL_INTERRUPT exit is none: not counted, not costed, not traced (<see cref="_exitTakenByDriver"/>).
    /// A replay's steps are the checker's.
    /// </summary>
    private void CheckCompletionsAtTimerExit(int v)
    {
        var check = new MachineAction(ActionKind.HostExit, (byte)v, 0);
        if (_replaying || !_m.IsEnabled(check))
        {
            return;
        }

        _exitTakenByDriver = true;
        Apply(check);
        _exitTakenByDriver = false;
        AfterApply(-1);
    }

    /// <summary>
    /// Whether vCPU <paramref name="v"/>'s thread, out of guest mode, still has its TSC deadline on the VMX preemption timer.
    /// Only vcpu_block moves it to a host hrtimer (kvm_lapic_switch_to_sw_timer, since 98c25ead5eda "KVM: VMX: Move
    /// preemption timer &lt;=&gt; hrtimer dance to common x86", 5.16; vmx_pre_block before), and back once
    /// kvm_vcpu_block returns: a vCPU halted in the host (the artificial halt, a guest HLT that exited) or woken from
    /// that halt and not yet entered does not keep it. A thread asleep in the host's page fault (get_user_pages, a
    /// synchronous stall), preempted while it waits for its pCPU, or handling another exit keeps it armed, and that
    /// timer counts down only in guest mode.
    /// </summary>
    private bool KeepsPreemptionTimer(int v) =>
        !_waking[v] && _m.Vcpu(v).Run switch
        {
            RunState.HostHalted => false,
            RunState.GuestHalt => _hltInGuest,
            _ => true,
        };

    /// <summary>
    /// vCPU <paramref name="v"/> enters the guest again after its TSC deadline passed out of guest mode with the VMX
    /// preemption timer armed (<see cref="KeepsPreemptionTimer"/>): vmx_vcpu_run's vmx_update_hv_timer finds
    /// hv_deadline_tsc behind rdtsc() and writes 0 to VMX_PREEMPTION_TIMER_VALUE, so the entry exits at once with
    /// PREEMPTION_TIMER, and handle_preemption_timer (the fastpath since 26efe2fd92e5) calls kvm_lapic_expired_hv_timer,
    /// which makes the timer interrupt pending for the entry after. One exit however many ticks passed: the deadline
    /// is one-shot and only the guest's handler re-arms it. Counted, traced (kvm_entry, then kvm_exit at the same
    /// instant), and its cost, cost.vm_exit_entry + cost.kvm_exit_handling, returned: host time before the step that
    /// enters.
    /// </summary>
    private long ExpiredDeadlineAtEntry(int v)
    {
        var cost = _c.SimpleExit;
        _metrics.Counters.RecordExit(Metrics.ExitReason.PreemptionTimer, cost);
        if (_tracepoints.InHost(v))
        {
            _tracepoints.ExpiredPreemptionTimerAtEntry(v, _now);
        }
        else
        {
            // The trace has it in guest mode still (a vCPU that has not run since the start): the exit is at once.
            _tracepoints.PreemptionTimerExit(v, _now, cost);
        }

        return cost;
    }

    /// <summary>
    /// The guest's timer interrupt handler on vCPU <paramref name="v"/> re-arms its TSC-deadline timer: sysvec_apic_timer_interrupt
    /// -> local_apic_timer_interrupt -> hrtimer_interrupt runs tick_sched_timer, which forwards the tick's hrtimer by a period
    /// (kernel/time/tick-sched.c), then reprograms the clock event device, whose lapic_next_deadline
    /// (arch/x86/kernel/apic/apic.c) writes MSR_IA32_TSC_DEADLINE (0x6e0): an MSR_WRITE exit (handled in the fastpath
    /// handle_fastpath_set_tscdeadline since ae95f566b3d2, 5.8; a full exit on 5.7, and the same cost here). It is the
    /// handler's, so it comes with every timer interrupt the guest handles and only then: after a PREEMPTION_TIMER exit
    /// in guest mode, at the wake of a vCPU halted in the host (its deadline was a host hrtimer), at the entry after a
    /// stall. Charged as the interrupt is delivered (the handler's few micro-ops go with the delivery), traced as a
    /// kvm_exit with a kvm_msr write of 0x6e0 whose data is the next deadline (the model's TSC counts nanoseconds), and
    /// returned as its cost, cost.vm_exit_entry + cost.kvm_exit_handling. Under kvm-pf it dequeues nothing: the handler
    /// runs with the guest's IF clear, and kvm_can_do_async_pf wants interrupts allowed. A replay charges none: its steps
    /// are the checker's, which has no such exit.
    /// </summary>
    private long GuestTimerRearm(int v)
    {
        if (_replaying)
        {
            return 0;
        }

        var cost = _c.SimpleExit;
        var tick = _tickBase + v;
        // The deadline written is the grid time; the jitter is the delivery's.
        var next = _queue.IsScheduled(tick) ? _tickGrid[v] : _now + _setup.TickPeriodNs;
        _metrics.Counters.RecordExit(Metrics.ExitReason.MsrWrite, cost);
        _tracepoints.TimerRearmExit(v, _now + _stepCost, cost, next);
        return cost;
    }

    /// <summary>
    /// The next tick of vCPU <paramref name="v"/>: one period on along its grid, which every vCPU shares
    /// (tick_setup_sched_timer), then up to <see cref="SimulationSetup.TickJitterNs"/> later, drawn from the seed. The
    /// grid never drifts: a tick late by its jitter does not make the next one late.
    /// </summary>
    private void ScheduleTick(int v)
    {
        _tickGrid[v] += _setup.TickPeriodNs;
        var jitter = _setup.TickJitterNs > 0 ? (long)_tickJitterRng.NextBelow((ulong)_setup.TickJitterNs) : 0;
        _queue.Schedule(_tickBase + v, _tickGrid[v] + jitter);
    }

    /// <summary>
    /// An exit an external event forced on running vCPU <paramref name="v"/> (a tick's external
    /// interrupt, a host PMI) takes <paramref name="cost"/> of its time: whatever it was doing
    /// (the rest of a step, or the host's re-entry after a cut compute span) resumes that much later.
    /// A vCPU waiting for a pCPU runs nothing an exit could delay.
    /// </summary>
    private void DelayByExit(int v, long cost)
    {
        if (cost <= 0 || (_pcpus is not null && !_pcpus.IsRunning(v)))
        {
            return;
        }

        if (_queue.IsScheduled(v))
        {
            var at = Math.Max(_queue.ScheduledTime(v), _now);
            if (at > _now && _m.Vcpu(v).Run == RunState.InHost)
            {
                // The exit left the vCPU in the host (kvm-pf's tick: its EXTERNAL_INTERRUPT exit, after which the
                // 5.7 host dequeues page-ready at the entry), and cut the guest work of the step before it: the
                // model's Enter step is the re-entry, due when the exit's handling ends, and the rest of that
                // work runs after it. Pushing the whole step back instead stamped the kvm_entry after the rest, so
                // the rest counted as host_exit: kvm-pf's guest time on a fixed workload moved by up to 2.5 us
                // with where the host ticks fell (a context switch cut at 0.5 us of its 1.5 us lost the other 1 us).
                _cutRest[v] += at - _now;
                _queue.Schedule(v, _now + cost);
            }
            else
            {
                _queue.Schedule(v, at + cost);
                if (_spanEnd[v] == at && at > _now)
                {
                    // The step pushed back ends a compute span: the span ends later too, so that a cut of it (an
                    // interrupt) leaves the task owing the guest work still to do, not the work less the exit.
                    _spanEnd[v] = at + cost;
                }
            }
        }
        else if (_held[v] >= 0)
        {
            _held[v] += cost;
        }
    }

    private void RunVcpu(int v)
    {
        var n = _m.VcpuActions(v, _buffer, 0);
        if (!NextAction.TryChoose(_buffer.AsSpan(0, n), out var best))
        {
            // Stalled, halted or idle in the host: parked until an event marks it dirty. A step that blocked it ends
            // here (FinishingBlockingExit): its pCPU goes to the next thread, whose category, and the guest
            // scheduler's charging with it, change now, as after a slice's end.
            _waking[v] = false;
            if (!KeepsPreemptionTimer(v))
            {
                // It blocks in vcpu_block, whose switch to the host hrtimer finds a deadline that passed in the exit's
                // handling already expired (start_sw_timer -> apic_timer_expired): no PREEMPTION_TIMER exit follows.
                _deadlinePassedOutsideGuest[v] = false;
            }

            UpdateCategory(v);
            AfterApply(-1);
            return;
        }

        if (_deadlinePassedOutsideGuest[v])
        {
            // The entry that ends the stall, the wait for the pCPU or the exit exits at once: this step, which enters,
            // comes after that exit's handling.
            _deadlinePassedOutsideGuest[v] = false;
            ScheduleVcpu(v, _now + ExpiredDeadlineAtEntry(v));
            CheckCompletionsAtTimerExit(v);
            return;
        }

        if (best.Kind == ActionKind.Step && ResumeCompute(v))
        {
            return;
        }

        if (best.Kind == ActionKind.Step)
        {
            var choices = _m.ChoiceCount(v);
            if (choices > 0)
            {
                best = best with { Arg = (ushort)(1 + _choice[v].NextBelow((ulong)choices)) };
            }
        }

        if (best.Kind == ActionKind.Step && _m.NextInstr(v).Op == Vexlab.Model.Guest.MicroOp.Yield)
        {
            // sched_yield's yield_task_fair runs before its schedule() picks.
            _sched.Yield(v, (int)_m.Vcpu(v).CurrentTask, _now);
        }

        _waking[v] = false;
        _stepCost = 0;
        _computeTask = -1;
        Apply(best);
        var cost = _stepCost < _c.MicroOp ? Math.Max(_c.MicroOp, 1) : _stepCost;
        if (_cutRest[v] > 0 && !_tracepoints.InHost(v))
        {
            // The re-entry after an exit that cut a step (DelayByExit), with what it injected: the cut step's rest
            // of guest work follows what this step charged, and stands in for the micro-op a step takes at least.
            cost = _stepCost + _cutRest[v];
            _cutRest[v] = 0;
        }

        ScheduleVcpu(v, _now + cost);
        if (_computeTask >= 0)
        {
            StartSpan(v, _computeTask, _now + cost);
        }

        AfterApply(v);
    }

    /// <summary>
    /// A compute op is a span of guest time, not an uninterruptible step: the vCPU's next step is
    /// due at its end, and an event that makes something other than the task's next step runnable
    /// (an interrupt, an NMI, an exit) cuts it there. The task owes the rest.
    /// </summary>
    private void StartSpan(int v, int task, long end)
    {
        _spanEnd[v] = end;
        _spanTask[v] = task;
        _spanDepth[v] = _m.Task(task).Depth;
    }

    /// <summary>Cuts vCPU <paramref name="v"/>'s compute span now if its next action is no longer the task's step.</summary>
    private void CutSpan(int v)
    {
        var n = _m.VcpuActions(v, _probe, 0);
        if (NextAction.TryChoose(_probe.AsSpan(0, n), out var next) && next.Kind == ActionKind.Step)
        {
            return;
        }

        var t = _spanTask[v];
        _owed[t] += _spanEnd[v] - _now;
        _owedDepth[t] = _spanDepth[v];
        _spanEnd[v] = _now;
        ScheduleVcpu(v, _now);
    }

    /// <summary>The current task owes compute from a cut span and is back in its own code: run the rest.</summary>
    private bool ResumeCompute(int v)
    {
        var t = (int)_m.Vcpu(v).CurrentTask;
        if (_owed[t] == 0 || _m.Task(t).Depth != _owedDepth[t])
        {
            return false;
        }

        var end = _now + _owed[t];
        _owed[t] = 0;

        // The rest of the span is guest code from now on, though no model step runs until its end: a
        // vCPU back from an exit that cut it (the host tick's, the guest tick's under kvm-pf) entered
        // now, not when the span ends. Without this, kvm_entry and the exit's time took in the rest
        // of the span (about half a compute op per exit).
        _tracepoints.GuestRuns(v, _now);
        ScheduleVcpu(v, end);
        StartSpan(v, t, end);
        return true;
    }

    private void CompleteWork(int slot)
    {
        var action = new MachineAction(ActionKind.Complete, _m.Work(slot).Vcpu, (ushort)slot);
        if (!_m.IsEnabled(action))
        {
            return;
        }

        var w = _m.Work(slot);
        if (_trace is not null)
        {
            _trace.Write(TraceRecord.At(_workStart[slot], TraceKind.HostWork) with
            {
                Worker = slot,
                Token = w.Token,
                DurationNs = _now - _workStart[slot],
                Label = "get_user_pages",
            });
        }

        Apply(action);
        AfterApply(-1);
    }

    private void Apply(MachineAction action)
    {
        _events++;
        _tracepoints.Step = _events;
        _stepCost = 0;
        _actor = action.Kind is ActionKind.Step or ActionKind.Enter or ActionKind.DeliverInterrupt or ActionKind.DeliverNmi or ActionKind.Dequeue
            ? action.Vcpu
            : -1;
        var work = action.Kind == ActionKind.Complete;
        if (work)
        {
            ref readonly var w = ref _m.Work(action.Arg);
            _tracepoints.BeginWork(action.Arg, w.Kind, w.Token, w.Page);
            if (_ioActive[action.Arg])
            {
                _ioActive[action.Arg] = false;
                QueueDepth(-1);
            }
        }

        if (action.Kind == ActionKind.Step && action.Vcpu < _vcpus && _m.Vcpu(action.Vcpu).Run == RunState.InGuest)
        {
            _tracepoints.GuestRuns(action.Vcpu, _now);
        }

        _asyncStarted = false;
        var nmiFromGuest = action.Kind == ActionKind.RaiseNmi && _tracepoints.InGuestMode(action.Vcpu, _now);
        _raisingNmi = action.Kind == ActionKind.RaiseNmi ? action.Vcpu : -1;
        _raisedNmiDelivered = false;
        _raisedNmiExited = false;
        var sink = new Sink(this);
        _m.Apply(action, ref sink);
        _raisingNmi = -1;
        if (action.Kind == ActionKind.Enter && !_replaying && action.Vcpu < _vcpus && Entered(action.Vcpu) && !InjectsNext(action.Vcpu))
        {
            // The 5.7 host's entry after an exit (kvm-pf's tick) with nothing to inject is a kvm_entry all the same,
            // at this step, not at the next guest step: that one may come after the guest work the exit cut. An
            // interrupt or NMI the vCPU's next step delivers goes in at this entry (inject_pending_event in
            // vcpu_enter_guest), and that step stamps it. A replay's next step is the step list's: it enters at its
            // next guest step, as it did.
            _tracepoints.GuestRuns(action.Vcpu, _now + _stepCost);
        }

        if (work)
        {
            _tracepoints.EndWork();
        }

        if (action.Kind == ActionKind.RaiseNmi && !_raisedNmiDelivered)
        {
            // The window KVM asks for: vmx_enable_nmi_window sets interrupt-window exiting instead of
            // NMI-window exiting when the guest's interruptibility state has blocking by STI
            // (GUEST_INTR_STATE_STI), whether or not the guest also blocks NMIs.
            _tracepoints.NmiHeld(action.Vcpu, StiBlocking(action.Vcpu));
        }

        if (action.Kind == ActionKind.Step && action.Vcpu < _vcpus)
        {
            InterruptWindowForBlockedNmi(action.Vcpu);
        }

        if (nmiFromGuest && !_raisedNmiDelivered && !_raisedNmiExited)
        {
            // The guest blocks NMIs (in its NMI handler, or an STI or MOV SS shadow): the host's PMI
            // still exits as it arrives (NMI exiting), KVM cannot inject and enters again with the NMI
            // pending; it comes in later through the NMI window KVM asks for (enable_nmi_window).
            _stepCost += BlockedNmiExit(action.Vcpu, _now + _stepCost);
        }

        _actor = -1;
    }

    /// <summary>
    /// The model has vCPU <paramref name="v"/> in guest mode and the host did enter it. The model's entry with a triple
    /// fault requested leaves the vCPU in guest mode and ends the VM (vm-error), but vcpu_enter_guest serves
    /// KVM_REQ_TRIPLE_FAULT before it injects anything (KVM_EXIT_SHUTDOWN to the VMM, 5.7 arch/x86/kvm/x86.c): no
    /// kvm_entry. A #DF the entry delivers is entered (the guest's handler panics, oops), so only vm-error counts.
    /// </summary>
    private bool Entered(int v) => _m.Vcpu(v).Run == RunState.InGuest && _m.Outcome != GuestOutcome.VmError;

    /// <summary>The guest on vCPU <paramref name="v"/> is in an STI shadow that holds NMIs (vmx_nmi_blocked tests GUEST_INTR_STATE_STI).</summary>
    private bool StiBlocking(int v) =>
        _setup.Machine.Protocol.Guest.StiBlocksNmi && _m.Vcpu(v).Shadow == Vexlab.Model.Arch.InterruptShadow.Sti;

    /// <summary>
    /// After a guest step of vCPU <paramref name="v"/>: the interrupt window KVM asked for its waiting NMI (an STI
    /// shadow held it) opens, RFLAGS.IF=1 and no blocking by STI or MOV SS (SDM Vol. 3C 25.2, interrupt-window
    /// exiting), while the guest still blocks NMIs (its NMI handler has not yet IRETed): an INTERRUPT_WINDOW exit at
    /// the step's end, after which KVM asks for an NMI window. Where the guest no longer blocks NMIs the model
    /// delivers the NMI next, and that delivery is the INTERRUPT_WINDOW exit (<see cref="Tracing.KvmTracepoints.NmiWindowExit"/>).
    /// With IF=0 after the shadow the window stays shut until a later step sets IF.
    /// </summary>
    private void InterruptWindowForBlockedNmi(int v)
    {
        ref readonly var cpu = ref _m.Vcpu(v);
        if (!_tracepoints.AwaitsInterruptWindow(v) || cpu.NmiPending == 0 || cpu.NmiBlocked == 0 || cpu.Run != RunState.InGuest
            || cpu.If == 0 || cpu.Shadow != Vexlab.Model.Arch.InterruptShadow.None)
        {
            return;
        }

        var at = _now + _stepCost;
        if (!_tracepoints.InGuestMode(v, Math.Min(at, _tracepoints.EndLimitNs)))
        {
            return;
        }

        _metrics.Counters.RecordExit(Metrics.ExitReason.InterruptWindow, _c.SimpleExit);
        _tracepoints.InterruptWindowExit(v, at);
        _stepCost += _c.SimpleExit;
    }

    /// <summary>Whether vCPU <paramref name="v"/>'s next step delivers an interrupt or an NMI.</summary>
    private bool InjectsNext(int v)
    {
        var n = _m.VcpuActions(v, _probe, 0);
        return NextAction.TryChoose(_probe.AsSpan(0, n), out var next) && next.Kind is ActionKind.DeliverInterrupt or ActionKind.DeliverNmi;
    }

    /// <summary>
    /// A host PMI that exits vCPU <paramref name="v"/> at <paramref name="at"/> without letting the guest's NMI in (the
    /// guest blocks NMIs, or one already waits): counted, traced, and its cost (a simple exit's) returned.
    /// </summary>
    private long BlockedNmiExit(int v, long at)
    {
        _metrics.Counters.RecordExit(Metrics.ExitReason.ExceptionNmi, _c.SimpleExit);
        _tracepoints.BlockedNmiExit(v, at);
        return _c.SimpleExit;
    }

    /// <summary>Schedules new host work, wakes parked vCPUs that events touched, and keeps the time split.</summary>
    private void AfterApply(int actor)
    {
        if (_scanWork)
        {
            _scanWork = false;
            ScanWork();
        }

        if (actor >= 0)
        {
            UpdateCategory(actor);
        }

        var dirty = _dirty;
        _dirty = 0;
        while (dirty != 0)
        {
            var v = BitOperations.TrailingZeroCount(dirty);
            dirty &= dirty - 1;
            if (v >= _vcpus || v == actor)
            {
                continue;
            }

            var before = _time.Current(v);
            UpdateCategory(v);
            if (_spanEnd[v] > _now)
            {
                CutSpan(v);
            }

            if (_kickExit[v] > 0 && !_queue.IsScheduled(v) && _held[v] < 0)
            {
                // A vCPU halted in the guest (host.hlt_in_guest) that a kick exited (OnExit): its thread never blocked,
                // so no wake is charged; it enters once the exit is handled, as after the host tick's exit
                // (CheckCompletionsOfHaltedInGuest).
                ScheduleVcpu(v, _now + _kickExit[v]);
                _kickExit[v] = 0;
            }
            else if (!_queue.IsScheduled(v) && _held[v] < 0)
            {
                // The one charge for waking a halted vCPU (cost.wake_halted_vcpu), whatever ends the halt and whatever
                // the protocol: kvm_vcpu_wake_up, the vCPU thread scheduled in, kvm_vcpu_block (kvm_vcpu_halt) returning,
                // then in the same pass of vcpu_run the page-ready dequeue (kvm_check_async_pf_completion) and
                // vcpu_enter_guest with its injection. The model ends the halt in the woken vCPU's own step (a dequeue, a
                // delivery), which charges no wake of its own: when it charged one too, kvm-halt and kvm-pf-int paid
                // each fault's wake twice. From here to its kvm_entry the vCPU is in the host (host_exit), no longer
                // halted or idle, though the model's state changes only at that step.
                // A stalled vCPU's thread is woken the same way and pays the same: it sleeps in the host's fault on the
                // page's I/O (get_user_pages -> handle_mm_fault -> do_swap_page -> folio_lock_or_retry, or
                // handle_userfault for postcopy), the completion wakes it (folio_wake_bit -> try_to_wake_up, as
                // kvm_vcpu_kick's rcuwait_wake_up wakes a halted one), it is scheduled in, hva_to_pfn returns, the EPT
                // violation's handler maps the page (as the dequeue's prefault does for kvm-halt) and vcpu_enter_guest
                // injects and enters. Since 5.16 vcpu_block polls only for a guest HLT (kvm_vcpu_halt; the artificial
                // halt, mp_state RUNNABLE, takes kvm_vcpu_block, which does not), so nothing of the key is a halt's
                // alone. It was charged cost.vm_exit_entry, the world switch only: sync paid 4.5 us less than kvm-halt
                // for the same wake.
                var halted = before is VcpuCategory.Halted or VcpuCategory.Idle;
                var wake = halted || before == VcpuCategory.Stalled ? _c.WakeHaltedVcpu : _c.VmExitEntry;
                ScheduleVcpu(v, _now + Math.Max(wake, 1));
                if (halted && !(_hltInGuest && _m.Vcpu(v).Run == RunState.GuestHalt))
                {
                    // With host.hlt_in_guest a guest HLT never exited: the vCPU wakes in guest mode, idle until its step.
                    _waking[v] = true;
                    UpdateCategory(v);
                }
            }

            if (_kickExit[v] > 0)
            {
                // The kick's exit (OnExit) cut what the vCPU was doing: its entry comes after the exit's handling.
                DelayByExit(v, _kickExit[v]);
                _kickExit[v] = 0;
            }
        }

        // The scheduler's snapshot of every vCPU whose current task, runnable set or idleness
        // changed: charge the time up to now to the old one, then take the new one.
        var sched = _schedDirty;
        _schedDirty = 0;
        while (sched != 0)
        {
            var v = BitOperations.TrailingZeroCount(sched);
            sched &= sched - 1;
            if (v < _vcpus)
            {
                _sched.Advance(v, _now, update: false);
                _sched.Refresh(v, Charging(v));
            }
        }

        if (_balancer is not null && !_balancing && !_replaying && _newIdle != 0)
        {
            Balance();
        }
    }

    /// <summary>
    /// select_task_rq_fair for sleeping task <paramref name="t"/> as it wakes: the vCPU the model
    /// enqueues it on, its own when the guest does not balance. The move, if the model makes it, is
    /// followed when the task's wake event comes (<see cref="Placed"/>).
    /// </summary>
    private int SelectTaskRq(int t)
    {
        var from = (int)_m.Task(t).Vcpu;
        _placing = -1;
        if (_balancer is null || _replaying)
        {
            return from;
        }

        var to = _balancer.WakeTarget(t);
        if (to != from)
        {
            _placing = t;
            _placedFrom = from;
        }

        return to;
    }

    /// <summary>
    /// Task <paramref name="t"/> woke on vCPU <paramref name="home"/>: if select_task_rq moved it
    /// there, set_task_cpu's migrate_task_rq_fair follows it in the scheduler (the task is on no
    /// runqueue yet) and the move is counted; the enqueue that follows is the destination's.
    /// </summary>
    private void Placed(int t, int home)
    {
        if (_placing != t)
        {
            return;
        }

        _placing = -1;
        if (_placedFrom != home)
        {
            _sched.Migrate(t, _placedFrom, home, _now);
            _balancer!.Moved(t);
            _schedDirty |= 1UL << _placedFrom;
        }
    }

    /// <summary>
    /// The load balancer's moves after a step: a pull by each vCPU that just went idle
    /// (newidle_balance). A woken task was placed before the model enqueued it (<see cref="SelectTaskRq"/>).
    /// </summary>
    private void Balance()
    {
        var balancer = _balancer!;
        _balancing = true;
        while (_newIdle != 0)
        {
            var v = BitOperations.TrailingZeroCount(_newIdle);
            _newIdle &= _newIdle - 1;
            if (!balancer.IsIdle(v))
            {
                continue;
            }

            LoadBalance(v, periodic: false, byItself: true);
        }

        _balancing = false;
    }

    /// <summary>
    /// nohz_balancer_kick (kernel/sched/fair.c), from busy vCPU <paramref name="v"/>'s tick
    /// (trigger_load_balance): an idle vCPU's tick is stopped, so its periodic balance is run for it.
    /// When <c>nohz.next_balance</c> has passed and this vCPU runs two tasks (<c>rq->nr_running &gt;= 2</c>), or the
    /// vCPUs share an LLC (<c>guest.sched.shared_llc</c>) and more than one of them is busy (<c>nr_busy_cpus &gt; 1</c>),
    /// kick_ilb sends the first idle vCPU (find_new_ilb) an IPI, and its _nohz_idle_balance balances
    /// each idle vCPU whose interval has passed, in for_each_cpu_wrap order after it, itself last. The
    /// kick is the model's <see cref="ActionKind.KickIlb"/>: its IPI wakes the balancer from its HLT
    /// (whether or not it then pulls a task to itself), and a task pulled to another halted vCPU wakes
    /// that one with the reschedule IPI (the model's Migrate). The balance runs at the kick, not in the
    /// balancer's softirq after its wake. Not modelled: the blocked-load kicks (NOHZ_STATS_KICK, which
    /// needs PELT's blocked averages), the kick that a CPU entering nohz idle asks for since 5.16
    /// (nohz.needs_update, NOHZ_NEXT_KICK), and the kicks for a CPU of reduced capacity, asym packing or
    /// misfit tasks, which a flat domain of equal vCPUs never meets.
    /// </summary>
    private void NohzBalancerKick(int v)
    {
        // The kick wants this vCPU running two tasks, or, where the vCPUs share an LLC (sd_llc_shared), more than one
        // busy vCPU in it (sds->nr_busy_cpus > 1), where load may need spreading to an idle one.
        var balancer = _balancer!;
        if (!balancer.IdleBalanceDue(_now)
            || (balancer.NrRunning(v) < 2 && !(_m.Config.Protocol.Guest.SharedLlc && balancer.BusyVcpus() > 1)))
        {
            return;
        }

        var ilb = balancer.IdleLoadBalancer(v);
        if (ilb < 0)
        {
            return;
        }

        var kick = new MachineAction(ActionKind.KickIlb, (byte)ilb, 0);
        if (_m.IsEnabled(kick))
        {
            // A polling balancer of the later guests gets need_resched and no IPI, and then runs nohz_csd_func with
            // need_resched set, which raises no balance softirq (until ea9cffc0a154): nothing is balanced, and the next
            // busy tick kicks again.
            var skipped = _m.KickIlbSparesIpi(ilb);
            Apply(kick);
            AfterBalancerApply();
            if (skipped)
            {
                return;
            }
        }

        for (var k = 1; k <= _vcpus; k++)
        {
            var u = (ilb + k) % _vcpus;
            if (!balancer.IsIdle(u) || !balancer.TickDue(u, _now))
            {
                continue;
            }

            // _nohz_idle_balance -> rebalance_domains(rq, CPU_IDLE): a periodic balance, whose
            // failures count in nr_balance_failed as the busy tick's do.
            LoadBalance(u, periodic: true, byItself: u == ilb);

            balancer.Balanced(u, _now);
        }
    }

    /// <summary>
    /// load_balance for vCPU <paramref name="v"/> now, and the move it chose if any: <paramref name="byItself"/>, the
    /// vCPU's own balance (its tick's, new-idle, or the idle balancer's for itself).
    /// </summary>
    private void LoadBalance(int v, bool periodic, bool byItself)
    {
        var t = _balancer!.Pull(v, periodic, _now, out _);
        if (t >= 0)
        {
            MoveTask(t, v, byItself);
        }
    }

    /// <summary>detach_task and attach_task: the model moves task <paramref name="t"/>; the scheduler follows.</summary>
    private void MoveTask(int t, int to, bool byItself = false)
    {
        var from = (int)_m.Task(t).Vcpu;

        // The scheduler detaches and attaches first: attach_task's check_preempt_curr, asked while
        // the model applies the move, weighs the task on its new queue. A vCPU's own balance (its tick's,
        // new-idle) attaches on itself, which sends no IPI.
        _sched.Migrate(t, from, to, _now);
        Apply(new MachineAction(byItself ? ActionKind.Pull : ActionKind.Migrate, (byte)to, (ushort)t));
        _balancer!.Moved(t);
        _schedDirty |= (1UL << from) | (1UL << to);
        AfterBalancerApply();
    }

    /// <summary>The balancer's step has been applied: its effects follow, with no new-idle balance started inside it.</summary>
    private void AfterBalancerApply()
    {
        var balancing = _balancing;
        _balancing = true;
        AfterApply(-1);
        _balancing = balancing;
    }

    /// <summary>
    /// Whether the guest's clock charges vCPU <paramref name="v"/>'s time to its current task: not
    /// when idle, and not while it waits for a pCPU if the guest reads PV steal time
    /// (guest.steal_time; update_rq_clock_task subtracts paravirt_steal_clock's advance).
    /// </summary>
    private bool Charging(int v)
    {
        var category = _time.Current(v);
        return category != VcpuCategory.Idle && !(category == VcpuCategory.Steal && _setup.StealTime);
    }

    /// <summary>
    /// Schedules vCPU <paramref name="v"/>'s next step, or holds it while the vCPU waits for a pCPU.
    /// A stalled vCPU's wakeup step runs without one: the host's wakeup is the waker's work, and
    /// the woken vCPU queues for a pCPU as soon as it can run. A halted vCPU queues at its wake
    /// (<see cref="UpdatePcpu"/>): the wake's cost is its own thread's, scheduled in.
    /// </summary>
    private void ScheduleVcpu(int v, long at)
    {
        if (_pcpus is null || !_pcpus.IsWaiting(v))
        {
            _queue.Schedule(v, at);
            return;
        }

        var delay = at - _now;
        _held[v] = _held[v] < 0 ? delay : Math.Min(_held[v], delay);
    }

    /// <summary>vCPU <paramref name="v"/> lost its pCPU: its pending step, and a compute span's rest as owed time, wait with it.</summary>
    private void Suspend(int v)
    {
        if (_spanEnd[v] > _now)
        {
            var t = _spanTask[v];
            _owed[t] += _spanEnd[v] - _now;
            _owedDepth[t] = _spanDepth[v];
            _spanEnd[v] = _now;
            _queue.Cancel(v);
            _held[v] = 0;
            return;
        }

        var at = _queue.ScheduledTime(v);
        if (at >= 0)
        {
            _queue.Cancel(v);
            _held[v] = at - _now;
        }
    }

    /// <summary>vCPU <paramref name="v"/> got a pCPU: its held step resumes and its host slice starts.</summary>
    private void Resume(int v)
    {
        var exit = _preemptExit[v];
        if (exit > 0)
        {
            // Back from the exit it was preempted in (PreemptionExit): vcpu_run goes on to vcpu_enter_guest, so the exit's
            // cost is host time from now, and the guest work its step had left (the held delay) runs after the entry, as
            // after an exit that cut a step (DelayByExit). The next step is the entry, and takes that rest with it.
            _preemptExit[v] = 0;
            if (_held[v] >= 0)
            {
                _cutRest[v] += _held[v];
                _held[v] = exit;
            }
            else
            {
                // Nothing to step (an idle vCPU halted in guest mode, host.hlt_in_guest): it enters once the exit is handled.
                _tracepoints.GuestRuns(v, _now + exit);
            }
        }

        if (_held[v] >= 0)
        {
            _queue.Schedule(v, _now + _held[v]);
            _held[v] = -1;
        }

        _queue.Schedule(_sliceBase + v, _pcpus!.SliceCheckAt(v, _now));
        UpdateCategory(v);
    }

    /// <summary>vCPU <paramref name="v"/>'s host slice is used up: the waiting vCPU EEVDF picks takes its pCPU (<see cref="HostCpus.SliceEnd"/>).</summary>
    private void EndSlice(int v)
    {
        var next = _pcpus!.SliceEnd(v, _now);
        TraceSwitches();
        if (next < 0)
        {
            if (_pcpus.IsRunning(v))
            {
                _queue.Schedule(_sliceBase + v, _pcpus!.SliceCheckAt(v, _now));
            }

            return;
        }

        Suspend(v);
        UpdateCategory(v);
        Resume(next);
        AfterApply(-1);
    }

    /// <summary>Starts the clock of host work the last events queued: it completes after the host's latency for its page.</summary>
    private void ScanWork()
    {
        for (var i = 0; i < _work; i++)
        {
            ref readonly var w = ref _m.Work(i);
            var agent = _vcpus + i;
            if (w.Kind == WorkKind.Free)
            {
                _queue.Cancel(agent);
                if (_ioActive[i])
                {
                    _ioActive[i] = false;
                    QueueDepth(-1);
                }

                continue;
            }

            if (w.Status != WorkStatus.InFlight || _queue.IsScheduled(agent))
            {
                continue;
            }

            var latency = _memory.SwapInLatency(w.Page, ref _backingRng, _now);
            WakeKswapd();
            _workStart[i] = _now;
            _queue.Schedule(agent, _now + Math.Max(latency, 1));
            _ioActive[i] = true;
            QueueDepth(+1);
        }
    }

    /// <summary>An allocation left free memory below the low watermark: kswapd starts its passes (wakeup_kswapd).</summary>
    private void WakeKswapd()
    {
        if (_memory.KswapdWanted && !_queue.IsScheduled(_kswapdAgent))
        {
            _queue.Schedule(_kswapdAgent, _now);
        }
    }

    /// <summary>One kswapd pass; the next follows when this one's scanning is done, until free memory is back above high.</summary>
    private void RunKswapd()
    {
        var took = _memory.KswapdPass(_now);
        if (took > 0)
        {
            _queue.Schedule(_kswapdAgent, _now + took);
        }
    }

    /// <summary>The backing device's queue: one entry per host fetch started and not yet completed.</summary>
    private void QueueDepth(int change)
    {
        _ioInFlight += change;
        _trace?.Write(TraceRecord.At(_now, TraceKind.Counter) with { Label = DeviceQueueDepth, Value = _ioInFlight });
    }

    private void UpdateCategory(int v)
    {
        if (FinishingBlockingExit(v))
        {
            // The exit it blocks in is still being handled, on its pCPU: its time stays in its category (host_exit once
            // its kvm_exit is stamped) until its step ends, where RunVcpu finds it blocked and it gives the pCPU up.
            _pcpus?.SetBlocking(v, true);
            return;
        }

        if (_pcpus is not null)
        {
            UpdatePcpu(v);
        }

        var now = _pcpus is not null && _pcpus.IsWaiting(v) ? VcpuCategory.Steal : VcpuTime.Of(_m, v, _vcpus);
        var woken = _waking[v] && (now is VcpuCategory.Halted or VcpuCategory.Idle);
        if (woken)
        {
            // Woken from the halt (AfterApply): its task's time again, in the exit until kvm_entry (host_exit).
            now = _m.Vcpu(v).CurrentTask < _vcpus ? VcpuCategory.Idle : VcpuCategory.Guest;
        }

        var moved = _time.Move(v, now, _now, _m.Vcpu(v).Run == RunState.GuestHalt && !woken);
        if (moved)
        {
            _schedDirty |= 1UL << v;
        }

        // The trace also says when a vCPU is in the host handling an exit (InHost), which keeps the category of
        // the task it runs (guest, or idle for the idle task; vcpu_ns counts it as host_exit, from kvm_exit to
        // kvm_entry): the 5.7 host's dequeue of a page-ready moves a halted idle vCPU there without changing its category.
        var inHost = _m.Vcpu(v).Run == RunState.InHost || woken;
        if (moved || inHost != _traceInHost[v])
        {
            _traceInHost[v] = inHost;
            _trace?.Write(TraceRecord.StateChange(_now, v, ToTraceState(now)) with { Value = inHost ? 1 : 0 });
        }
    }

    /// <summary>
    /// vCPU <paramref name="v"/>'s last step blocked it in the host (a synchronous stall, KVM's artificial halt, a HLT
    /// exit) and the exit's handling, which that step charged, has not ended: its agent is due at the step's end. KVM
    /// handles the exit in the vCPU thread, on its pCPU (vcpu_enter_guest returns, then kvm_mmu_page_fault and
    /// kvm_arch_async_page_not_present, or kvm_emulate_halt, run in its context), and only then does the thread block
    /// (kvm_vcpu_block -> schedule(), or the fault path's wait on its page). So the pCPU is held, and the vCPU counts as
    /// it did (host_exit from its kvm_exit), until that step ends. Giving the pCPU up at the step's start left about
    /// 1 us of host work a halting fault on no pCPU and counted it as halted: 2.2 % of the pCPUs' busy time in a
    /// kvm-halt run on 2 pCPUs, and the next thread ran before its sched_switch.
    /// </summary>
    private bool FinishingBlockingExit(int v) =>
        !_replaying && !_waking[v]
        && _queue.IsScheduled(v) && _queue.ScheduledTime(v) >= _now
        && (_pcpus is null || _pcpus.IsRunning(v))
        && (_time.Current(v) is VcpuCategory.Guest or VcpuCategory.Idle)
        && !VcpuTime.WantsPcpu(_m, v, _hltInGuest);

    /// <summary>vCPU <paramref name="v"/> takes a pCPU (or queues for one) when it can run, and gives it up when it blocks.</summary>
    private void UpdatePcpu(int v)
    {
        var pcpus = _pcpus!;
        pcpus.SetBlocking(v, false);
        // A vCPU woken from its halt wants a pCPU at once: the wake (cost.wake_halted_vcpu) is its thread being
        // scheduled in and running kvm_vcpu_block's return to vcpu_enter_guest, host time on a pCPU, steal until it has one.
        var wants = _waking[v] || VcpuTime.WantsPcpu(_m, v, _hltInGuest);
        if (wants && !pcpus.IsRunning(v) && !pcpus.IsWaiting(v))
        {
            var timerPcpu = _timerWakeVcpu == v ? pcpus.LastPcpuOf(v) : -1;
            var runs = pcpus.Want(v, _now, out var preempted, out var granted);

            // The wakeup's preemption reaches the preempted thread's pCPU as a reschedule IPI (resched_curr ->
            // smp_send_reschedule, RESCHEDULE_VECTOR): it exits, and the wakeup and the switch are traced there by a
            // thread already in the host. A wakeup from that pCPU's own interrupt sends none: the vCPU's LAPIC timer
            // firing where its thread blocked (_timerWakeVcpu) is the local timer interrupt, which exits the thread
            // in guest mode itself (LOCAL_TIMER_VECTOR), and resched_curr on the local CPU only sets need_resched.
            var lost = granted >= 0 ? pcpus.PcpuOf(granted) : -1;
            var info = timerPcpu >= 0 && lost == timerPcpu
                ? KvmTracepoints.LocalTimerExitInterruptionInfo
                : KvmTracepoints.RescheduleExitInterruptionInfo;
            if (preempted >= 0)
            {
                PreemptionExit(preempted, info);
            }

            TraceWakeup(v);
            TraceSwitches(info);
            if (runs)
            {
                _queue.Schedule(_sliceBase + v, _pcpus!.SliceCheckAt(v, _now));
            }
            else
            {
                Suspend(v);
            }

            if (preempted >= 0)
            {
                // Wakeup preemption (host.sched.wakeup_preemption), or the wakeup's update_curr
                // rescheduling a served request: the vCPU that lost its pCPU waits as one whose
                // slice ended does, its pending step held.
                _queue.Cancel(_sliceBase + preempted);
                Suspend(preempted);
                UpdateCategory(preempted);
                if (granted != v)
                {
                    Resume(granted);
                }
            }
        }
        else if (!wants && (pcpus.IsRunning(v) || pcpus.IsWaiting(v)))
        {
            _queue.Cancel(_sliceBase + v);
            var next = pcpus.Block(v, _now);
            TraceSwitches();
            if (next >= 0)
            {
                Resume(next);
            }
        }
    }

    /// <summary>
    /// Traces the pCPU handovers the last <see cref="HostCpus"/> call made as sched_switch records (and forgets them
    /// either way): a thread that blocked leaves in D when it waits for its page in the fault path (a synchronous
    /// stall: the swap-in's folio lock, TASK_UNINTERRUPTIBLE) and in S when it halts (kvm_vcpu_block waits
    /// TASK_INTERRUPTIBLE); one that lost its pCPU while runnable leaves as R+ (preempted, TASK_REPORT_MAX).
    /// <para>
    /// A thread preempted in guest mode first exits (<see cref="PreemptionExit"/>): its kvm_exit comes before the
    /// sched_switch on the same pCPU, counted and charged whether or not there is a trace, with
    /// <paramref name="preemptInfo"/> as its interruption information.
    /// </para>
    /// </summary>
    private void TraceSwitches(uint preemptInfo = KvmTracepoints.LocalTimerExitInterruptionInfo)
    {
        var pcpus = _pcpus!;
        foreach (var s in pcpus.Switches)
        {
            if (s.Preempted && s.Prev >= 0)
            {
                PreemptionExit(s.Prev, preemptInfo);
            }

            if (_trace is not null)
            {
                var state = s.Prev < 0 ? SchedState.Running
                    : s.Preempted ? SchedState.Preempted
                    : VcpuTime.Of(_m, s.Prev, _vcpus) == VcpuCategory.Stalled ? SchedState.Uninterruptible
                    : SchedState.Interruptible;
                _tracepoints.SchedSwitch(_now, s.Pcpu, s.Prev, s.Next, state);
            }
        }

        pcpus.ClearSwitches();
    }

    /// <summary>
    /// vCPU <paramref name="v"/>'s thread loses its pCPU while runnable: if it runs the guest, the host can take the pCPU
    /// only through an exit. The interrupt that ends its slice (the host tick) or that carries the wakeup preemption (the
    /// reschedule IPI) exits with EXTERNAL_INTERRUPT (VMX basic exit reason 1; external-interrupt exiting is always on),
    /// handle_external_interrupt_irqoff runs the host's handler, which sets TIF_NEED_RESCHED, and vcpu_run's loop calls
    /// kvm_vcpu_put's preempt notifier and schedule() (xfer_to_guest_mode_handle_work, or cond_resched before 5.11): so
    /// kvm_exit, then sched_switch with prev_state R+. Under the 5.7 host (kvm-pf) that exit is the model's
    /// <see cref="ActionKind.HostTick"/>, after which the host dequeues page-ready at the entry; one the tick already
    /// took (the vCPU is in the host) is not taken twice. Its cost (cost.vm_exit_entry + cost.kvm_exit_handling) is
    /// host_exit time paid when the thread runs again (<see cref="Resume"/>): the model decides the handover at the
    /// interrupt and has the thread leave at once, so the switch and the kvm_exit share a timestamp.
    /// <paramref name="intrInfo"/>: the exit's interruption information, the host's tick
    /// (<see cref="KvmTracepoints.LocalTimerExitInterruptionInfo"/>) where a slice ends, the reschedule IPI
    /// (<see cref="KvmTracepoints.RescheduleExitInterruptionInfo"/>) where a wakeup preempts.
    /// </summary>
    private void PreemptionExit(int v, uint intrInfo)
    {
        if (_tracepoints.InHost(v))
        {
            return;
        }

        var tick = new MachineAction(ActionKind.HostTick, (byte)v, 0);
        if (_m.IsEnabled(tick))
        {
            ApplyExternalExit(tick, intrInfo);
            _preemptExit[v] = _stepCost;
            return;
        }

        if (CheckCompletionsOfHaltedInGuest(v, intrInfo))
        {
            // As at the tick's exit of a vCPU halted in the guest (HostTick): 5.7's vcpu_run runs kvm_check_async_pf_completion
            // after vcpu_enter_guest returns and before its need_resched() test calls cond_resched, so the page-ready is
            // dequeued before the thread gives up the pCPU. Its entry, which injects it, is the step held until the thread
            // runs again (Suspend keeps a step due now as a zero delay; Resume adds the exit's cost before it). This is a
            // host without CONFIG_PREEMPT: with it, vcpu_enter_guest's preempt_enable() after the exit would switch the
            // thread out first, and the check would run when it runs again (docs/scenarios.md).
            ScheduleVcpu(v, _now);
            _preemptExit[v] = _stepCost;
            return;
        }

        if (UseUpReadyRequest(v, intrInfo))
        {
            _preemptExit[v] = _stepCost;
            return;
        }

        _metrics.Counters.RecordExit(Metrics.ExitReason.ExternalInterrupt, _c.SimpleExit);
        _tracepoints.ExternalInterruptExit(v, _now, intrInfo);
        _preemptExit[v] = _c.SimpleExit;
    }

    /// <summary>
    /// Applies the model's host exit <paramref name="exit"/> (a tick, or a completion check), whose EXTERNAL_INTERRUPT
    /// exit the trace reports with <paramref name="intrInfo"/>: the model knows an external interrupt exits, the
    /// driver knows which interrupt it was.
    /// </summary>
    private void ApplyExternalExit(MachineAction exit, uint intrInfo)
    {
        _tracepoints.ModelExternalInterruptInfo = intrInfo;
        Apply(exit);
        _tracepoints.ModelExternalInterruptInfo = KvmTracepoints.LocalTimerExitInterruptionInfo;
    }

    /// <summary>
    /// Under the 5.7 host (kvm-pf), an exit of vCPU <paramref name="v"/> while it is halted in the guest (host.hlt_in_guest)
    /// runs kvm_check_async_pf_completion: the model's <see cref="ActionKind.HostExit"/>, applied when it would dequeue.
    /// Returns whether it was; the exit's cost is then <c>_stepCost</c>, and the vCPU's entry is the caller's to schedule.
    /// </summary>
    private bool CheckCompletionsOfHaltedInGuest(int v, uint intrInfo)
    {
        var check = new MachineAction(ActionKind.HostExit, (byte)v, 0);
        if (!_hltInGuest || _m.Vcpu(v).Run != RunState.GuestHalt || !_m.IsEnabled(check))
        {
            return false;
        }

        ApplyExternalExit(check, intrInfo);
        return true;
    }

    /// <summary>
    /// vCPU <paramref name="v"/>'s blocked thread was just woken (<see cref="HostCpus.Want(int, long, out int, out int)"/>,
    /// its handovers not yet traced): a sched_wakeup whose target_cpu is the pCPU it got, or, queued, the one it last ran
    /// on (task_cpu), recorded by the thread that ran there before the wakeup's handovers.
    /// </summary>
    private void TraceWakeup(int v)
    {
        var pcpus = _pcpus!;
        if (_trace is null)
        {
            return;
        }

        var target = pcpus.PcpuOf(v) >= 0 ? pcpus.PcpuOf(v) : Math.Max(pcpus.LastPcpuOf(v), 0);
        var current = pcpus.Occupant(target);
        foreach (var s in pcpus.Switches)
        {
            if (s.Pcpu == target)
            {
                current = s.Prev;
                break;
            }
        }

        _tracepoints.SchedWakeup(_now, v, target, current);
    }

    private static TraceVcpuState ToTraceState(VcpuCategory category) => category switch
    {
        VcpuCategory.Guest => TraceVcpuState.Guest,
        VcpuCategory.Stalled => TraceVcpuState.StalledInHost,
        VcpuCategory.Halted => TraceVcpuState.HaltedInHost,
        VcpuCategory.Steal => TraceVcpuState.WaitingForPcpu,
        _ => TraceVcpuState.Idle,
    };

    /// <summary>Counts every vCPU's and task's time up to now.</summary>
    private void CloseTime()
    {
        _time.Close(_now);
        for (var v = 0; v < _vcpus; v++)
        {
            _sched.Advance(v, _now, update: false);
        }
    }

    private long NextNmiDelay()
    {
        var d = -Math.Log(_nmiRng.NextOpenUnitDouble()) * _setup.NmiMeanIntervalNs;
        return Math.Max(1, (long)d);
    }

    /// <summary>The model's event sink: a struct, so calls are direct.</summary>
    private readonly struct Sink(Simulator owner) : IModelEventSink
    {
        public void On(in ModelEvent e) => owner.OnEvent(in e);

        public int PickNextTask(int vcpu, int current, int fallback)
        {
            if (!owner._replaying)
            {
                // __schedule -> pick_next_task_fair updates the current task first (update_curr), so
                // pick_eevdf weighs its vruntime as of now, not as of the last event that charged it.
                owner._sched.Advance(vcpu, owner._now);
                return owner._sched.Pick(vcpu, current, fallback);
            }

            var pick = owner._replayPick;
            owner._replayPick = 0;
            return ScheduleChoice.Resolve(owner._m, vcpu, fallback, pick);
        }

        public bool PreemptOnTick(int vcpu, int current) => owner._replaying || owner._sched.TickPreempts(vcpu, current, owner._now);

        public bool PreemptOnWakeup(int vcpu, int woken) => owner._replaying || owner._sched.WakeupPreempts(vcpu, woken, owner._now);

        // attach_task -> check_preempt_curr: the same test as a wakeup's. A replayed trace keeps
        // the checker's answer (no), so that its steps stay the checker's.
        public bool PreemptOnAttach(int vcpu, int moved) => !owner._replaying && owner._sched.WakeupPreempts(vcpu, moved, owner._now);

        // select_task_rq_fair, before the woken task is enqueued anywhere. A replayed trace keeps the
        // checker's answer (stay), so that its steps stay the checker's.
        public int SelectTaskRq(int vcpu, int woken) => owner.SelectTaskRq(woken);
    }
}
