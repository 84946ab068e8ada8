using Vexlab.Model.Machine;
using Vexlab.Simulation.Tracing;
using MetricsExit = Vexlab.Simulation.Metrics.ExitReason;
using ModelExit = Vexlab.Model.Machine.ExitReason;

namespace Vexlab.Simulation.Driver;

/// <summary>
/// What the driver does with each model event: hand it to the digest and the metrics, charge its
/// cost to the step that produced it, keep host memory's count, and write its trace records.
/// </summary>
public sealed partial class Simulator
{
    private long _faultSeq;

    private void OnEvent(in ModelEvent e)
    {
        _digest.Append(_now, in e);
        var traceFault = _trace is not null && e.Kind is ModelEventKind.AccessFault or ModelEventKind.AccessDone or ModelEventKind.Fixup
            && _metrics.InFault(e.Task) == (e.Kind != ModelEventKind.AccessFault);
        _metrics.Observe(_now, in e, _events);
        if (e.Vcpu < 64)
        {
            _dirty |= 1UL << e.Vcpu;
        }

        switch (e.Kind)
        {
            case ModelEventKind.Compute:
                _stepCost += ComputeNs(in e);
                _computeTask = e.Task;
                break;
            case ModelEventKind.KernelStep:
                _stepCost += _c.MicroOp;
                break;
            case ModelEventKind.VmExit:
                OnExit(in e);
                break;
            case ModelEventKind.ExceptionDelivered:
                _stepCost += e.Aux == 20 ? 0 : _c.PfDelivery;
                _trace?.Write(TraceRecord.At(_now, TraceKind.KvmInjException, e.Vcpu) with { Vector = e.Aux, Token = e.Token });
                break;
            case ModelEventKind.VeDelivered:
                _stepCost += _c.VeDelivery;
                _trace?.Write(TraceRecord.At(_now, TraceKind.VeDelivered, e.Vcpu) with { Gva = Machine.AddressOf(Math.Max(e.Page, 0)) });
                break;
            case ModelEventKind.InterruptDelivered:
                _stepCost += e.Aux == (byte)ModelVector.Callback ? _c.ApfReadyIrq : _c.InterruptInject;
                _trace?.Write(TraceRecord.At(_now, TraceKind.KvmInjVirq, e.Vcpu) with { Vector = VectorOf(e.Aux) });
                break;
            case ModelEventKind.NmiDelivered:
                _stepCost += _c.InterruptInject;
                break;
            case ModelEventKind.GuestMinorFault:
                _stepCost += _c.GuestPfMinor;
                break;
            case ModelEventKind.MinorEptFault:
                _stepCost += _c.EptViolationMinor;
                _memory.Mapped();
                break;
            case ModelEventKind.Unhalted:
                _stepCost += _c.WakeHaltedVcpu;
                break;
            case ModelEventKind.AsyncStarted:
                _scanWork = true;
                if (e.Aux == 1)
                {
                    _stepCost += _c.ApfNotPresentGuest - _c.PfDelivery;
                    _trace?.Write(TraceRecord.At(_now, TraceKind.KvmAsyncPfNotPresent, e.Vcpu) with { Token = e.Token, Gva = Machine.AddressOf(Math.Max(e.Page, 0)) });
                }

                _trace?.Write(TraceRecord.At(_now, TraceKind.KvmTryAsyncGetPage, e.Vcpu) with { Gva = Machine.AddressOf(Math.Max(e.Page, 0)), Gfn = Machine.AddressOf(Math.Max(e.Page, 0)) >> 12 });
                break;
            case ModelEventKind.SyncStall:
                _scanWork = true;
                break;
            case ModelEventKind.Hypercall:
                _scanWork = true;
                _trace?.Write(TraceRecord.At(_now, TraceKind.VeResolveEpt, e.Vcpu) with { Value = e.Aux });
                break;
            case ModelEventKind.WorkCompleted:
                if (e.Aux == 0 && e.Page >= 0)
                {
                    _memory.SwappedIn();
                }

                _trace?.Write(TraceRecord.At(_now, TraceKind.KvmAsyncPfCompleted, e.Vcpu) with { Gva = Machine.AddressOf(Math.Max(e.Page, 0)), Address = Machine.AddressOf(Math.Max(e.Page, 0)) });
                break;
            case ModelEventKind.ReadyDequeued:
                if (e.Aux == 1)
                {
                    _stepCost += _c.InterruptInject;
                    _trace?.Write(TraceRecord.At(_now, TraceKind.KvmAsyncPfReady, e.Vcpu) with { Token = e.Token, Gva = Machine.AddressOf(Math.Max(e.Page, 0)) });
                }

                break;
            case ModelEventKind.TaskSlept:
            case ModelEventKind.TaskExited:
                _sched.Advance(e.Vcpu, _now);
                _sched.Dequeue(e.Task);
                _schedDirty |= 1UL << e.Vcpu;
                break;
            case ModelEventKind.Signal:
                _schedDirty |= 1UL << _m.Task(e.Task).Vcpu;
                break;
            case ModelEventKind.TaskWoken:
                {
                    var home = _m.Task(e.Task).Vcpu;
                    _sched.Advance(home, _now);
                    _sched.Enqueue(e.Task);
                    _schedDirty |= 1UL << home;
                    break;
                }

            case ModelEventKind.ContextSwitch:
                _stepCost += _c.ContextSwitch;
                _sched.Advance(e.Vcpu, _now);
                _sched.Switched(e.Task);
                _schedDirty |= 1UL << e.Vcpu;
                break;
            case ModelEventKind.AccessFault:
                if (traceFault)
                {
                    _faultSeq++;
                    _trace!.Write(TraceRecord.At(_now, TraceKind.FaultBegin, e.Vcpu) with { Token = ((uint)e.Task << 24) | (uint)(_faultSeq & 0xFFFFFF) });
                }

                break;
            case ModelEventKind.AccessDone:
            case ModelEventKind.Fixup:
                if (traceFault)
                {
                    _trace!.Write(TraceRecord.At(_now, TraceKind.FaultEnd, e.Vcpu) with { Token = ((uint)e.Task << 24) | (uint)(_faultSeq & 0xFFFFFF) });
                }

                break;
            default:
                break;
        }
    }

    /// <summary>A compute op's length: its span from the scenario, or A units of cost.compute_unit.</summary>
    private long ComputeNs(in ModelEvent e)
    {
        var spans = _setup.ComputeSpans;
        if (e.Token > 0 && e.Token <= spans.Count)
        {
            var span = spans[(int)e.Token - 1];
            return Math.Max((span.Units * _c.ComputeUnit) + span.Ns, 1);
        }

        return _c.ComputeUnit * Math.Max(1, (int)e.Aux);
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
                _metrics.Counters.Signals.Increment(Metrics.SignalKind.ApfAck);
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
        _metrics.Counters.RecordExit(metric, cost);
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
}
