using Vexlab.Model.Arch;
using Vexlab.Model.Machine;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The 5.7 host (kvm-pf) enters the guest with completions still on the done list only where
/// kvm_check_async_pf_completion's loop test, kvm_arch_can_inject_async_page_present, is false. With PV APF enabled
/// that is kvm_can_do_async_pf (5.7 arch/x86/kvm/x86.c): an exception already pending (vcpu->arch.exception.pending:
/// the not-present #PF the exit queued, or the page-ready an earlier pass queued), interrupts not allowed
/// (kvm_x86_ops->interrupt_allowed: IF=0, or an STI or MOV SS shadow), or with HLT in the guest
/// kvm_can_deliver_async_pf. It reads no word of guest memory: the apf reason word is written, not tested, by
/// kvm_arch_async_page_present.
/// </summary>
public sealed class PageReadyRefusalLawTests
{
    [Theory]
    [InlineData("postcopy", "duration=300ms")]
    [InlineData("far-memory", "duration=20ms")]
    public void UnderKvmPf_EveryEntryPastWaitingCompletionsHasAKvmCanDoAsyncPfCause(string builtin, string duration)
    {
        var entry = Overrides.ParseProtocols("kvm-pf")[0];
        var setup = BuiltinRuns.Prepare(builtin, entry, 1.0, duration).Setup;
        var sink = new RefusalSink(setup.Machine.Vcpus);
        var simulator = new Simulator(setup, sink);
        sink.Machine = simulator.Machine;
        simulator.Run();

        Assert.Empty(sink.Unexplained);

        // Both causes the builtins reach are there, so the law is not empty: the exit's own not-present #PF or the
        // pass's page-ready holds the rest back (one page-ready per pass of vcpu_run).
        Assert.InRange(sink.EntriesByCause.GetValueOrDefault(Cause.ExceptionPending), 100, int.MaxValue);
    }

    /// <summary>Why 5.7's kvm_can_do_async_pf refuses a dequeue.</summary>
    private enum Cause
    {
        ExceptionPending,
        InterruptNotAllowed,
    }

    /// <summary>
    /// At every trace record, reads the model's vCPUs in the host with completions waiting that the next dequeue may not
    /// take, and names the cause; counts each kvm_entry by the cause last seen on its vCPU in the host.
    /// </summary>
    private sealed class RefusalSink(int vcpus) : ITraceSink
    {
        private readonly Cause?[] _refused = new Cause?[vcpus];

        public Machine? Machine { get; set; }

        public Dictionary<Cause, int> EntriesByCause { get; } = [];

        public List<string> Unexplained { get; } = [];

        public void Write(in TraceRecord record)
        {
            if (Machine is not { } m)
            {
                return;
            }

            for (var v = 0; v < vcpus; v++)
            {
                ref readonly var cpu = ref m.Vcpu(v);
                if (cpu.Run != RunState.InHost)
                {
                    continue;
                }

                _refused[v] = null;
                if (cpu.Done == 0 || m.IsEnabled(new MachineAction(ActionKind.Dequeue, (byte)v, (ushort)v)))
                {
                    continue;
                }

                if (cpu.Pending != PendingEvent.None)
                {
                    _refused[v] = Cause.ExceptionPending;
                }
                else if (cpu.If == 0 || cpu.Shadow != InterruptShadow.None)
                {
                    _refused[v] = Cause.InterruptNotAllowed;
                }
                else
                {
                    Unexplained.Add($"vCPU {v} at {record.TimeNs} ns: {cpu.Done} completions, IF=1, no shadow, nothing pending, and no dequeue");
                }
            }

            if (record.Kind == TraceKind.KvmEntry && record.Vcpu >= 0 && record.Vcpu < vcpus && _refused[record.Vcpu] is { } cause)
            {
                EntriesByCause[cause] = EntriesByCause.GetValueOrDefault(cause) + 1;
                _refused[record.Vcpu] = null;
            }
        }

        public void Complete(long endTimeNs)
        {
        }
    }
}
