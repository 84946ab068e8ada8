using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;
using MetricsExit = Vexlab.Simulation.Metrics.ExitReason;
using ModelExit = Vexlab.Model.Machine.ExitReason;
using TraceVcpuState = Vexlab.Simulation.Tracing.VcpuState;

namespace Vexlab.Simulation.Driver;

/// <summary>
/// The timed driver: one <see cref="EventQueue"/> agent per vCPU, per host work slot, per
/// vCPU timer and NMI source, and one for host events. Each agent keeps its single next
/// action; a vCPU's next step is scheduled at now + the cost of what its last step did.
/// The loop allocates nothing per event and reads no clock.
/// </summary>
public sealed partial class Simulator
{
    private const int CategoryGuest = 0;
    private const int CategoryStalled = 1;
    private const int CategoryHalted = 2;
    private const int CategoryIdle = 3;

    private readonly SimulationSetup _setup;
    private readonly Machine _m;
    private readonly CostModel _c;
    private readonly EventQueue _queue;
    private readonly MachineAction[] _buffer;
    private readonly int _vcpus;
    private readonly int _work;
    private readonly int _tickBase;
    private readonly int _nmiBase;
    private readonly int _hostAgent;
    private readonly SimRandom[] _choice;
    private SimRandom _backingRng;
    private SimRandom _nmiRng;
    private readonly long[] _workStart;
    private readonly int[] _category;
    private readonly long[] _categorySince;
    private readonly long[] _vcpuNs;
    private readonly long[] _faultStart;
    private readonly long[] _iterations;
    private readonly long[] _finished;
    private readonly int[] _taskSignals;
    private readonly long[] _signals;
    private readonly Counters _counters = new();
    private readonly LatencyRecorder _faultLatency = new();
    private readonly XxHash3 _digest = new();
    private readonly byte[] _digestBuffer = new byte[24];
    private readonly int _pageBytesOffset;
    private readonly ITraceSink? _trace;
    private long _residentPages;
    private int _clockHand;
    private int _hostEventIndex;
    private long _now;
    private long _stepCost;
    private long _events;
    private long _modelEvents;
    private ulong _dirty;
    private bool _scanWork;
    private long _errorReturns;
    private long _evictions;
    private long _faultSeq;
    private readonly List<(long Step, byte Property)> _violations = [];

    public Simulator(SimulationSetup setup, ITraceSink? trace = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _setup = setup;
        _m = new Machine(setup.Machine with { Bounds = ExternalBounds.Unbounded, EnumerateChoices = false });
        _c = setup.Costs;
        _trace = trace;
        _vcpus = setup.Machine.Vcpus;
        _work = _m.WorkCapacity;
        _tickBase = _vcpus + _work;
        _nmiBase = _tickBase + _vcpus;
        _hostAgent = _nmiBase + _vcpus;
        _queue = new EventQueue(_hostAgent + 1);
        _buffer = new MachineAction[_m.MaxActions + 8];
        var root = new SimRandom(setup.Seed);
        _choice = new SimRandom[_vcpus];
        for (var v = 0; v < _vcpus; v++)
        {
            _choice[v] = root.Fork("vcpu/" + v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        _backingRng = root.Fork("backing");
        _nmiRng = root.Fork("nmi");
        _workStart = new long[_work];
        _category = new int[_vcpus];
        _categorySince = new long[_vcpus];
        _vcpuNs = new long[_vcpus * 4];
        _faultStart = new long[_m.TaskCount];
        Array.Fill(_faultStart, -1);
        _iterations = new long[_m.TaskCount];
        _finished = new long[_m.TaskCount];
        Array.Fill(_finished, -1);
        _taskSignals = new int[_m.TaskCount];
        _signals = new long[Enum.GetValues<Signal>().Length];

        // Host reclaim writes a page's host state as KVM's host would; the page table is the
        // last region of the machine's state block.
        var pages = setup.Machine.Pages;
        _pageBytesOffset = _m.StateSize - (pages * Unsafe.SizeOf<PageState>());
        if (!Unsafe.AreSame(ref Unsafe.AsRef(in _m.Page(0)), ref PageAt(0)))
        {
            throw new InvalidOperationException("unexpected machine state layout");
        }

        for (var p = 0; p < pages; p++)
        {
            if (_m.Page(p).Host == HostPage.Resident)
            {
                _residentPages++;
            }
        }

        for (var v = 0; v < _vcpus; v++)
        {
            _category[v] = CategoryOf(v);
            _queue.Schedule(v, 0);
            if (setup.TickPeriodNs > 0)
            {
                // Stagger the ticks of the vCPUs so they do not all land at once.
                _queue.Schedule(_tickBase + v, setup.TickPeriodNs + (setup.TickPeriodNs * v / _vcpus));
            }

            if (setup.NmiMeanIntervalNs > 0)
            {
                _queue.Schedule(_nmiBase + v, NextNmiDelay());
            }

            _trace?.Write(TraceRecord.StateChange(0, v, ToTraceState(_category[v])));
        }

        if (setup.HostEvents.Count > 0)
        {
            _queue.Schedule(_hostAgent, setup.HostEvents[0].AtNs);
        }
    }

    public Machine Machine => _m;

    public long Now => _now;

    /// <summary>Apply calls so far.</summary>
    public long Events => _events;

    /// <summary>Runs to the duration, or until the guest stops; <paramref name="progress"/> gets simulated ns now and then.</summary>
    public SimulationResult Run(Action<long>? progress = null)
    {
        var start = Stopwatch.GetTimestamp();
        var duration = _setup.DurationNs;
        while (_queue.TryPopMin(out var next))
        {
            if (next.TimeNs > duration)
            {
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

        if (_m.Outcome == GuestOutcome.Running)
        {
            _now = duration;
        }

        for (var v = 0; v < _vcpus; v++)
        {
            _vcpuNs[(v * 4) + _category[v]] += _now - _categorySince[v];
            _categorySince[v] = _now;
        }

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
            Apply(new MachineAction(ActionKind.Tick, (byte)v, 0));
            _queue.Schedule(agent, _now + _setup.TickPeriodNs);
            AfterApply(-1);
        }
        else if (agent < _hostAgent)
        {
            var v = agent - _nmiBase;
            var raise = new MachineAction(ActionKind.RaiseNmi, (byte)v, 0);
            if (_m.IsEnabled(raise))
            {
                Apply(raise);
                AfterApply(-1);
            }

            _queue.Schedule(agent, _now + NextNmiDelay());
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

    private void RunVcpu(int v)
    {
        var n = _m.VcpuActions(v, _buffer, 0);
        var bestRank = int.MaxValue;
        var best = default(MachineAction);
        for (var i = 0; i < n; i++)
        {
            var a = _buffer[i];
            var rank = a.Kind switch
            {
                ActionKind.DeliverNmi => 0,
                ActionKind.DeliverInterrupt => 1,
                ActionKind.Dequeue => 2,
                ActionKind.Enter => 3,
                ActionKind.Unblock => 3,
                ActionKind.Step => 4,
                _ => int.MaxValue,
            };
            if (rank < bestRank)
            {
                bestRank = rank;
                best = a;
            }
        }

        if (bestRank == int.MaxValue)
        {
            // Stalled, halted or idle in the host: parked until an event marks it dirty.
            UpdateCategory(v);
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

        _stepCost = 0;
        Apply(best);
        var cost = _stepCost < _c.MicroOp ? Math.Max(_c.MicroOp, 1) : _stepCost;
        _queue.Schedule(v, _now + cost);
        AfterApply(v);
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
        var sink = new Sink(this);
        _m.Apply(action, ref sink);
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

            var before = _category[v];
            UpdateCategory(v);
            if (!_queue.IsScheduled(v))
            {
                var wake = before is CategoryHalted or CategoryIdle ? _c.WakeHaltedVcpu : _c.VmExitEntry;
                _queue.Schedule(v, _now + Math.Max(wake, 1));
            }
        }
    }

    private void ScanWork()
    {
        for (var i = 0; i < _work; i++)
        {
            ref readonly var w = ref _m.Work(i);
            var agent = _vcpus + i;
            if (w.Kind == WorkKind.Free)
            {
                _queue.Cancel(agent);
                continue;
            }

            if (w.Status != WorkStatus.InFlight || _queue.IsScheduled(agent))
            {
                continue;
            }

            long latency = _c.HostSwapInOverhead;
            if (w.Page >= 0)
            {
                var backing = _m.Page(w.Page).Backing;
                var stores = _setup.Backings;
                latency += stores[backing < stores.Count ? backing : 0].Sample(ref _backingRng);
            }

            _workStart[i] = _now;
            _queue.Schedule(agent, _now + Math.Max(latency, 1));
        }
    }

    private int CategoryOf(int v)
    {
        ref readonly var cpu = ref _m.Vcpu(v);
        return cpu.Run switch
        {
            RunState.HostStalled => CategoryStalled,
            RunState.HostHalted => CategoryHalted,
            RunState.GuestHalt => CategoryIdle,
            _ => cpu.CurrentTask < _vcpus ? CategoryIdle : CategoryGuest,
        };
    }

    private void UpdateCategory(int v)
    {
        var now = CategoryOf(v);
        if (now == _category[v])
        {
            return;
        }

        _vcpuNs[(v * 4) + _category[v]] += _now - _categorySince[v];
        _category[v] = now;
        _categorySince[v] = _now;
        _trace?.Write(TraceRecord.StateChange(_now, v, ToTraceState(now)));
    }

    private static TraceVcpuState ToTraceState(int category) => category switch
    {
        CategoryGuest => TraceVcpuState.Guest,
        CategoryStalled => TraceVcpuState.StalledInHost,
        CategoryHalted => TraceVcpuState.HaltedInHost,
        _ => TraceVcpuState.Idle,
    };

    private long NextNmiDelay()
    {
        var d = -Math.Log(_nmiRng.NextOpenUnitDouble()) * _setup.NmiMeanIntervalNs;
        return Math.Max(1, (long)d);
    }

    private ref PageState PageAt(int p)
    {
        var state = _m.State;
        ref var first = ref MemoryMarshal.GetReference(state);
        return ref Unsafe.As<byte, PageState>(ref Unsafe.Add(ref first, _pageBytesOffset + (p * Unsafe.SizeOf<PageState>())));
    }

    /// <summary>CLOCK: clear reference bits until an unreferenced resident page is found, then make it host-absent.</summary>
    private void Reclaim()
    {
        var limit = _setup.HostLimitPages;
        var pages = _setup.Machine.Pages;
        var budget = 2 * pages;
        while (_residentPages > limit && budget-- > 0)
        {
            var p = _clockHand;
            _clockHand = p + 1 == pages ? 0 : p + 1;
            ref var pg = ref PageAt(p);
            if (pg.Host != HostPage.Resident || pg.InFlight != 0
                || (pg.Flags & (PageFlags.Dax | PageFlags.NeverConvertible | PageFlags.EntryText)) != 0)
            {
                continue;
            }

            if ((pg.Flags & PageFlags.Referenced) != 0)
            {
                pg.Flags &= ~PageFlags.Referenced;
                continue;
            }

            pg.Host = HostPage.AbsentIo;
            _residentPages--;
            _evictions++;
        }
    }

    private void OnEvent(in ModelEvent e)
    {
        _modelEvents++;
        Hash(in e);
        if (e.Vcpu < 64)
        {
            _dirty |= 1UL << e.Vcpu;
        }

        switch (e.Kind)
        {
            case ModelEventKind.Compute:
                _stepCost += _c.ComputeUnit * Math.Max(1, (int)e.Aux);
                break;
            case ModelEventKind.KernelStep:
                _stepCost += _c.MicroOp;
                break;
            case ModelEventKind.VmExit:
                OnExit(in e);
                break;
            case ModelEventKind.ExceptionDelivered:
                _stepCost += e.Aux == 20 ? 0 : _c.PfDelivery;
                _counters.Injections.Increment(e.Aux == 20 ? InjectionKind.VirtualizationException : InjectionKind.PageFault);
                if (_trace is not null)
                {
                    _trace.Write(TraceRecord.At(_now, TraceKind.KvmInjException, e.Vcpu) with { Vector = e.Aux, Token = e.Token });
                }

                break;
            case ModelEventKind.VeDelivered:
                _stepCost += _c.VeDelivery;
                _counters.Signals.Increment(SignalKind.VeDelivered);
                if (_trace is not null)
                {
                    _trace.Write(TraceRecord.At(_now, TraceKind.VeDelivered, e.Vcpu) with { Gva = Machine.AddressOf(Math.Max(e.Page, 0)) });
                }

                break;
            case ModelEventKind.InterruptDelivered:
                _stepCost += e.Aux == (byte)ModelVector.Callback ? _c.ApfReadyIrq : _c.InterruptInject;
                _counters.Injections.Increment(InjectionKind.ExternalInterrupt);
                if (_trace is not null)
                {
                    _trace.Write(TraceRecord.At(_now, TraceKind.KvmInjVirq, e.Vcpu) with { Vector = VectorOf(e.Aux) });
                }

                break;
            case ModelEventKind.NmiDelivered:
                _stepCost += _c.InterruptInject;
                _counters.Exits.Increment(MetricsExit.ExceptionNmi);
                break;
            case ModelEventKind.ContextSwitch:
                _stepCost += _c.ContextSwitch;
                break;
            case ModelEventKind.GuestMinorFault:
                _stepCost += _c.GuestPfMinor;
                break;
            case ModelEventKind.MinorEptFault:
                _stepCost += _c.EptViolationMinor;
                _residentPages++;
                break;
            case ModelEventKind.Unhalted:
                _stepCost += _c.WakeHaltedVcpu;
                break;
            case ModelEventKind.AsyncStarted:
                _scanWork = true;
                if (e.Aux == 1)
                {
                    _stepCost += _c.ApfNotPresentGuest - _c.PfDelivery;
                    _counters.Signals.Increment(SignalKind.ApfNotPresent);
                    _counters.Injections.Increment(InjectionKind.ApfNotPresent);
                    if (_trace is not null)
                    {
                        _trace.Write(TraceRecord.At(_now, TraceKind.KvmAsyncPfNotPresent, e.Vcpu) with { Token = e.Token, Gva = Machine.AddressOf(Math.Max(e.Page, 0)) });
                    }

                }

                if (_trace is not null)
                {
                    _trace.Write(TraceRecord.At(_now, TraceKind.KvmTryAsyncGetPage, e.Vcpu) with { Gva = Machine.AddressOf(Math.Max(e.Page, 0)), Gfn = Machine.AddressOf(Math.Max(e.Page, 0)) >> 12 });
                }

                break;
            case ModelEventKind.SyncStall:
                _scanWork = true;
                _counters.Signals.Increment(SignalKind.ApfSyncFallback);
                break;
            case ModelEventKind.ArtificialHalt:
                _counters.Signals.Increment(SignalKind.ApfHalt);
                break;
            case ModelEventKind.Hypercall:
                _scanWork = true;
                _counters.Signals.Increment(SignalKind.VeResolveEpt);
                if (_trace is not null)
                {
                    _trace.Write(TraceRecord.At(_now, TraceKind.VeResolveEpt, e.Vcpu) with { Value = e.Aux });
                }

                break;
            case ModelEventKind.WorkCompleted:
                if (e.Aux == 0 && e.Page >= 0)
                {
                    _residentPages++;
                    if (_setup.HostLimitPages > 0 && _residentPages > _setup.HostLimitPages)
                    {
                        Reclaim();
                    }
                }

                if (_trace is not null)
                {
                    _trace.Write(TraceRecord.At(_now, TraceKind.KvmAsyncPfCompleted, e.Vcpu) with { Gva = Machine.AddressOf(Math.Max(e.Page, 0)), Address = Machine.AddressOf(Math.Max(e.Page, 0)) });
                }

                break;
            case ModelEventKind.ReadyDequeued:
                if (e.Aux == 1)
                {
                    _stepCost += _c.InterruptInject;
                    _counters.Signals.Increment(SignalKind.ApfPageReady);
                    _counters.Injections.Increment(InjectionKind.ApfReady);
                    if (_trace is not null)
                    {
                        _trace.Write(TraceRecord.At(_now, TraceKind.KvmAsyncPfReady, e.Vcpu) with { Token = e.Token, Gva = Machine.AddressOf(Math.Max(e.Page, 0)) });
                    }

                }

                break;
            case ModelEventKind.TaskWoken:
                _counters.Signals.Increment(SignalKind.TaskWakeup);
                break;
            case ModelEventKind.InterruptRaised:
                if (e.Aux == (byte)ModelVector.Callback)
                {
                    _counters.Signals.Increment(SignalKind.VeWakeup);
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
                _finished[e.Task] = _now;
                break;
            case ModelEventKind.AccessFault:
                if (_faultStart[e.Task] < 0)
                {
                    _faultStart[e.Task] = _now;
                    if (_trace is not null)
                    {
                        _faultSeq++;
                        _trace.Write(TraceRecord.At(_now, TraceKind.FaultBegin, e.Vcpu) with { Token = ((uint)e.Task << 24) | (uint)(_faultSeq & 0xFFFFFF) });
                    }
                }

                break;
            case ModelEventKind.AccessDone:
                EndFault(e.Task, e.Vcpu, true);
                break;
            case ModelEventKind.Fixup:
                _errorReturns++;
                EndFault(e.Task, e.Vcpu, false);
                break;
            case ModelEventKind.GuestHalted:
                break;
            case ModelEventKind.PropertyViolated:
                _violations.Add((_events, e.Aux));
                break;
            default:
                break;
        }
    }

    private void EndFault(int task, int vcpu, bool record)
    {
        var start = _faultStart[task];
        if (start < 0)
        {
            return;
        }

        _faultStart[task] = -1;
        if (record)
        {
            _faultLatency.Record(Math.Max(_now - start, 1));
        }

        if (_trace is not null)
        {
            _trace.Write(TraceRecord.At(_now, TraceKind.FaultEnd, vcpu) with { Token = ((uint)task << 24) | (uint)(_faultSeq & 0xFFFFFF) });
        }
    }

    private void OnExit(in ModelEvent e)
    {
        var reason = (ModelExit)e.Aux;
        long cost;
        MetricsExit metric;
        switch (reason)
        {
            case ModelExit.EptViolation:
                cost = _c.SimpleExit;
                metric = MetricsExit.EptViolation;
                break;
            case ModelExit.Hlt:
                cost = _c.SimpleExit;
                metric = MetricsExit.Hlt;
                break;
            case ModelExit.MsrWrite:
                cost = _c.AckMsrExit;
                metric = MetricsExit.MsrWrite;
                _counters.Signals.Increment(SignalKind.ApfAck);
                break;
            case ModelExit.Vmcall:
                cost = _c.Hypercall;
                metric = MetricsExit.Vmcall;
                break;
            case ModelExit.ExternalInterrupt:
                cost = _c.SimpleExit;
                metric = MetricsExit.ExternalInterrupt;
                break;
            default:
                cost = _c.SimpleExit;
                metric = MetricsExit.ExceptionNmi;
                break;
        }

        _stepCost += cost;
        _counters.RecordExit(metric, cost);
        if (_trace is not null)
        {
            var gpa = e.Page >= 0 ? (ulong)Machine.AddressOf(e.Page) : 0UL;
            _trace.Write(TraceRecord.Exit(_now, e.Vcpu, metric, 0xffffffff81000000UL, metric == MetricsExit.EptViolation ? 0x181UL : 0UL) with { Gfn = gpa >> 12, Gva = gpa });
            if (metric == MetricsExit.EptViolation)
            {
                _trace.Write(TraceRecord.At(_now, TraceKind.KvmPageFault, e.Vcpu) with { Rip = 0xffffffff81000000UL, Address = gpa, ErrorCode = 0x181 });
            }

            _trace.Write(TraceRecord.Entry(_now + cost, e.Vcpu, 0xffffffff81000000UL));
        }
    }

    private static int VectorOf(byte modelVector) => modelVector switch
    {
        0 => 0xEC,
        1 => 0xF3,
        _ => 0xFD,
    };

    private void Hash(in ModelEvent e)
    {
        var b = _digestBuffer.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(b, _now);
        b[8] = (byte)e.Kind;
        b[9] = e.Vcpu;
        b[10] = e.Task;
        b[11] = e.Aux;
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], e.Token);
        BinaryPrimitives.WriteInt32LittleEndian(b[16..], e.Page);
        BinaryPrimitives.WriteInt32LittleEndian(b[20..], 0);
        _digest.Append(b);
    }

    private SimulationResult BuildResult(TimeSpan wall)
    {
        var groups = _setup.TaskGroups;
        var work = new long[groups.Count];
        var finished = new long[groups.Count];
        var signals = new int[groups.Count];
        var instances = new int[groups.Count];
        var exited = new int[groups.Count];
        for (var i = 0; i < _setup.TaskGroupOf.Count; i++)
        {
            var g = _setup.TaskGroupOf[i];
            var t = _m.WorkloadTask(i);
            work[g] += _iterations[t];
            signals[g] += _taskSignals[t];
            instances[g]++;
            if (_finished[t] >= 0)
            {
                exited[g]++;
                finished[g] = Math.Max(finished[g], _finished[t]);
            }
        }

        var tasks = new TaskResult[groups.Count];
        for (var g = 0; g < tasks.Length; g++)
        {
            tasks[g] = new TaskResult(groups[g], instances[g], work[g], exited[g] == instances[g] ? finished[g] : -1, signals[g]);
        }

        long guest = 0, stalled = 0, halted = 0, idle = 0;
        for (var v = 0; v < _vcpus; v++)
        {
            guest += _vcpuNs[(v * 4) + CategoryGuest];
            stalled += _vcpuNs[(v * 4) + CategoryStalled];
            halted += _vcpuNs[(v * 4) + CategoryHalted];
            idle += _vcpuNs[(v * 4) + CategoryIdle];
        }

        var signalCounts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var s = 0; s < _signals.Length; s++)
        {
            if (_signals[s] > 0)
            {
                signalCounts[((Signal)s).ToString()] = _signals[s];
            }
        }

        return new SimulationResult
        {
            SimulatedNs = _now,
            Events = _events,
            ModelEvents = _modelEvents,
            Digest = _digest.GetCurrentHashAsUInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
            Outcome = _m.Outcome,
            Panic = _m.Panic,
            Tasks = tasks,
            Signals = signalCounts,
            FaultLatency = _faultLatency,
            VcpuGuestNs = guest,
            VcpuStalledNs = stalled,
            VcpuHaltedNs = halted,
            VcpuIdleNs = idle,
            Counters = _counters,
            ErrorReturns = _errorReturns,
            Evictions = _evictions,
            WallNs = (long)(wall.TotalMilliseconds * 1e6),
        };
    }

    /// <summary>The model's event sink: a struct, so calls are direct.</summary>
    private readonly struct Sink(Simulator owner) : IModelEventSink
    {
        public void On(in ModelEvent e) => owner.OnEvent(in e);
    }
        }
