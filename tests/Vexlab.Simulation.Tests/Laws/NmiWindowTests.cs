using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Driver;
using ExitReason = Vexlab.Simulation.Metrics.ExitReason;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The window KVM asks for an NMI it cannot inject (inject_pending_event -> vmx_enable_nmi_window): interrupt-window
/// exiting whenever the guest is in an STI shadow (GUEST_INTR_STATE_STI; SDM Vol. 3C 25.2: a logical processor may
/// prevent an NMI-window exit while events are blocked by STI), NMI-window exiting otherwise. Each case is built step by
/// step on one vCPU and replayed through the timed driver; its kvm_exit records are read back.
/// </summary>
public sealed class NmiWindowTests
{
    /// <summary>One vCPU, no tick, no NMI source of its own: a kernel task that turns interrupts off and on.</summary>
    private const string KernelLoop = """
        name: nmi-window
        duration: 1s
        guest:
          tick: 0
          vcpus: 1
        tasks:
          - name: k
            mode: kernel
            loop: compute 1; irq-off; compute 1; irq-on; compute 1
        """;

    [Fact]
    public void AnNmiHeldByAnStiShadowInsideTheNmiHandler_ComesInThroughAnInterruptWindowThenAnNmiWindow()
    {
        // An NMI handler that enables interrupts (as kvm_async_pf_task_wait's safe_halt does when a 5.7 guest
        // halt-waits in NMI context): a PMI in the shadow of its STI finds NMIs blocked twice over. KVM asks for
        // an interrupt window (GUEST_INTR_STATE_STI); it opens after the shadowed instruction, IF=1, and that
        // INTERRUPT_WINDOW exit injects nothing: the guest still blocks NMIs. KVM asks again, now for an NMI
        // window, and the NMI comes in by an NMI_WINDOW exit at the handler's IRET. The driver took only the
        // NMI_WINDOW exit: no exit at the shadow's end, one window exit in all.
        var script = new Script(WithNmiHandler(new ProgramBuilder("exc_nmi")
            .Op(MicroOp.NmiEnter).Op(MicroOp.Sti).Op(MicroOp.Compute, 1).Op(MicroOp.Cli).Op(MicroOp.NmiExit).Op(MicroOp.Iret).Build()));
        script.RunTo(MicroOp.Compute, InTask);
        script.Raise(delivered: true);
        script.RunTo(MicroOp.Sti, NmiHandler);
        script.Next();
        Assert.Equal(InterruptShadow.Sti, script.Machine.Vcpu(0).Shadow);
        script.Raise(delivered: false);
        script.RunTo(MicroOp.Iret, NmiHandler);
        script.Next();
        Assert.Equal(ActionKind.DeliverNmi, script.Next());

        var (result, exits) = script.Replay();
        Assert.Equal([ExitReason.ExceptionNmi, ExitReason.ExceptionNmi, ExitReason.InterruptWindow, ExitReason.NmiWindow], exits.Select(x => x.Reason));
        Assert.Equal(1, result.Counters.Exits[ExitReason.InterruptWindow]);
        Assert.Equal(1, result.Counters.Exits[ExitReason.NmiWindow]);

        // Each exit is handled (1 us: vm_exit_entry + kvm_exit_handling) and entered again before the next: the
        // interrupt window opens after the shadowed compute, the NMI window only at the IRET after it.
        for (var i = 1; i < exits.Count; i++)
        {
            Assert.True(exits[i].At >= exits[i - 1].EnteredAt, $"exit {i} at {exits[i].At} ns, before the entry of exit {i - 1} at {exits[i - 1].EnteredAt} ns");
            Assert.Equal(1_000, exits[i].EnteredAt - exits[i].At);
        }
    }

    [Fact]
    public void AnNmiHeldByAnStiShadowInsideTheNmiHandler_WaitsForIfWhenTheShadowEndsWithIfClear()
    {
        // The shadowed instruction is a CLI: after it IF=0 and the interrupt window stays shut, so no exit at the
        // shadow's end. The NMI handler's IRET both unblocks NMIs and sets IF again (the interrupted task's): the
        // interrupt window KVM asked for opens there and is the one exit that lets the NMI in. KVM never asked for
        // an NMI window, so there is no NMI_WINDOW exit.
        var script = new Script(WithNmiHandler(new ProgramBuilder("exc_nmi")
            .Op(MicroOp.NmiEnter).Op(MicroOp.Sti).Op(MicroOp.Cli).Op(MicroOp.Compute, 1).Op(MicroOp.NmiExit).Op(MicroOp.Iret).Build()));
        script.RunTo(MicroOp.Compute, InTask);
        script.Raise(delivered: true);
        script.RunTo(MicroOp.Sti, NmiHandler);
        script.Next();
        script.Raise(delivered: false);
        script.RunTo(MicroOp.Iret, NmiHandler);
        script.Next();
        Assert.Equal(1, script.Machine.Vcpu(0).If);
        Assert.Equal(ActionKind.DeliverNmi, script.Next());

        var (_, exits) = script.Replay();
        Assert.Equal([ExitReason.ExceptionNmi, ExitReason.ExceptionNmi, ExitReason.InterruptWindow], exits.Select(x => x.Reason));
    }

    [Fact]
    public void AnNmiHeldByAnStiShadowOnly_ComesInThroughOneInterruptWindow()
    {
        // The task's own STI (irq-on): the PMI in its shadow exits, the NMI waits for the interrupt window, which
        // opens after the shadowed compute and injects it. One window exit.
        var script = new Script(Config());
        script.RunTo(MicroOp.Sti, InTask);
        script.Next();
        Assert.Equal(InterruptShadow.Sti, script.Machine.Vcpu(0).Shadow);
        script.Raise(delivered: false);
        script.Next();
        Assert.Equal(ActionKind.DeliverNmi, script.Next());

        var (result, exits) = script.Replay();
        Assert.Equal([ExitReason.ExceptionNmi, ExitReason.InterruptWindow], exits.Select(x => x.Reason));
        Assert.Equal(0, result.Counters.Exits[ExitReason.NmiWindow]);
    }

    [Fact]
    public void AnNmiHeldByAnStiShadowThatEndsWithIfClear_ComesInOnlyWhenTheTaskSetsIfAgain()
    {
        // The task's own sti; cli: the PMI in the STI's shadow exits and KVM asks for an interrupt window
        // (vmx_enable_nmi_window, GUEST_INTR_STATE_STI). The shadow ends with IF=0, so no window exit there and
        // no injection: the window opens only after the next STI's shadowed instruction, with IF=1, and that one
        // INTERRUPT_WINDOW exit injects the NMI. Before, the model let the NMI in as the shadow ended, with IF=0.
        var script = new Script(Setup(loop: "compute 1; irq-off; compute 1; irq-on; irq-off; compute 1; irq-on; compute 1"));
        script.RunTo(MicroOp.Sti, InTask);
        script.Next();
        Assert.Equal(InterruptShadow.Sti, script.Machine.Vcpu(0).Shadow);
        script.Raise(delivered: false);
        Assert.Equal(ActionKind.Step, script.Next()); // cli: the shadow ends with IF=0
        Assert.Equal(0, script.Machine.Vcpu(0).If);
        Assert.Equal(ActionKind.Step, script.Next()); // compute 1, with the NMI still held
        Assert.Equal(ActionKind.Step, script.Next()); // sti
        Assert.Equal(ActionKind.Step, script.Next()); // compute 1, in the shadow; after it IF=1 and no shadow
        Assert.Equal(1, script.Machine.Vcpu(0).If);
        Assert.Equal(ActionKind.DeliverNmi, script.Next());

        var (_, exits) = script.Replay();
        Assert.Equal([ExitReason.ExceptionNmi, ExitReason.InterruptWindow], exits.Select(x => x.Reason));

        // The same PMI in the shadow of an STI followed by a compute (IF=1 after it) comes in one compute after its
        // exit; after sti; cli it comes in only after cli, a compute, sti and another compute.
        var nop = new Script(Config());
        nop.RunTo(MicroOp.Sti, InTask);
        nop.Next();
        nop.Raise(delivered: false);
        nop.Next();
        Assert.Equal(ActionKind.DeliverNmi, nop.Next());
        var (_, nopExits) = nop.Replay();
        Assert.True(exits[1].At - exits[0].EnteredAt > nopExits[1].At - nopExits[0].EnteredAt,
            $"after sti; cli the window opened {exits[1].At - exits[0].EnteredAt} ns after the PMI's entry, after sti; compute {nopExits[1].At - nopExits[0].EnteredAt} ns");
    }

    [Fact]
    public void AnNmiHeldByTheNmiHandlerOnly_ComesInThroughOneNmiWindow_WhateverStiComesLater()
    {
        // A PMI while exc_nmi runs, before the handler's STI: no STI blocking when KVM asks, so an NMI window. The
        // STI after it changes nothing (KVM does not ask again): one NMI_WINDOW exit at the IRET.
        var script = new Script(WithNmiHandler(new ProgramBuilder("exc_nmi")
            .Op(MicroOp.NmiEnter).Op(MicroOp.Sti).Op(MicroOp.Compute, 1).Op(MicroOp.Cli).Op(MicroOp.NmiExit).Op(MicroOp.Iret).Build()));
        script.RunTo(MicroOp.Compute, InTask);
        script.Raise(delivered: true);
        script.Next();
        Assert.Equal(InterruptShadow.None, script.Machine.Vcpu(0).Shadow);
        script.Raise(delivered: false);
        script.RunTo(MicroOp.Iret, NmiHandler);
        script.Next();
        Assert.Equal(ActionKind.DeliverNmi, script.Next());

        var (_, exits) = script.Replay();
        Assert.Equal([ExitReason.ExceptionNmi, ExitReason.ExceptionNmi, ExitReason.NmiWindow], exits.Select(x => x.Reason));
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(25_000)]
    public void EachNmiExit_DelaysTheVcpuByItsCost_AndTakesNoGuestTime(long d)
    {
        // The same steps replayed with cost.kvm_exit_handling raised by d: the PMI's EXCEPTION_NMI exit, a second PMI's
        // while exc_nmi runs, and the NMI_WINDOW exit at the handler's IRET that lets it in (the vCPU's own step, which
        // handle_nmi_window ends by injecting the NMI at the next entry). KVM runs no guest code from kvm_exit to
        // kvm_entry, so each of the three exits moves the end of the steps by d, all of it host_exit, and the guest's
        // own time stays to the nanosecond. An NMI exit traced for its cost but left out of its step's time let the next
        // step run while the trace still had the vCPU in the host: the second PMI found no guest mode and took no exit
        // (at d = 1 us the replay had EXCEPTION_NMI and NMI_WINDOW only, at d = 25 us one EXCEPTION_NMI).
        var script = new Script(WithNmiHandler(new ProgramBuilder("exc_nmi")
            .Op(MicroOp.NmiEnter).Op(MicroOp.Sti).Op(MicroOp.Compute, 1).Op(MicroOp.Cli).Op(MicroOp.NmiExit).Op(MicroOp.Iret).Build()));
        script.RunTo(MicroOp.Compute, InTask);
        script.Raise(delivered: true);
        script.Next();
        script.Raise(delivered: false);
        script.RunTo(MicroOp.Iret, NmiHandler);
        script.Next();
        Assert.Equal(ActionKind.DeliverNmi, script.Next());
        script.Next();

        var (cheap, cheapExits) = script.Replay();
        var (dear, dearExits) = script.Replay(CostKey.KvmExitHandling, CostModel.Default.KvmExitHandling + d);
        Assert.Equal([ExitReason.ExceptionNmi, ExitReason.ExceptionNmi, ExitReason.NmiWindow], cheapExits.Select(x => x.Reason));
        Assert.Equal(cheapExits.Select(x => x.Reason), dearExits.Select(x => x.Reason));
        Assert.All(dearExits, x => Assert.Equal(CostModel.Default.SimpleExit + d, x.EnteredAt - x.At));
        foreach (var r in new[] { cheap, dear })
        {
            Assert.Equal(r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
        }

        Assert.Equal(3 * d, dear.SimulatedNs - cheap.SimulatedNs);
        Assert.Equal(3 * d, dear.VcpuHostExitNs - cheap.VcpuHostExitNs);
        Assert.Equal(cheap.VcpuGuestNs, dear.VcpuGuestNs);
    }

    private const bool InTask = false;
    private const bool NmiHandler = true;

    private static SimulationSetup Setup(Func<MachineConfig, MachineConfig>? change = null, string? loop = null)
    {
        var entry = Overrides.ParseProtocols("sync")[0];
        var yaml = loop is null ? KernelLoop : KernelLoop.Replace("compute 1; irq-off; compute 1; irq-on; compute 1", loop, StringComparison.Ordinal);
        var run = ScenarioRunner.Prepare(ScenarioDocument.Parse(yaml, "law.yaml"), "law.yaml", entry, Overrides.ParseSets([]), [entry.Protocol]);
        return change is null ? run.Setup : run.Setup with { Machine = change(run.Setup.Machine) };
    }

    private static SimulationSetup Config() => Setup();

    private static SimulationSetup WithNmiHandler(GuestProgram handler) => Setup(m =>
    {
        var handlers = m.Protocol.Handlers.ToArray();
        handlers[HandlerProgram.Nmi] = handler;
        return m with { Protocol = m.Protocol with { Handlers = handlers } };
    });

    /// <summary>Builds a replay on vCPU 0 on a scratch machine: the timed driver's own choice at each step, and PMIs where the test raises them.</summary>
    private sealed class Script(SimulationSetup setup)
    {
        private readonly MachineAction[] _buffer = new MachineAction[64];
        private readonly List<MachineAction> _actions = [];

        public Machine Machine { get; } = new(setup.Machine);

        public ActionKind Next()
        {
            var n = Machine.VcpuActions(0, _buffer, 0);
            Assert.True(NextAction.TryChoose(_buffer.AsSpan(0, n), out var a), "vCPU 0 has nothing to do");
            Do(a);
            return a.Kind;
        }

        public void RunTo(MicroOp op, bool nmiHandler)
        {
            for (var i = 0; i < 100 && !At(op, nmiHandler); i++)
            {
                Next();
            }

            Assert.True(At(op, nmiHandler), $"vCPU 0 never reached {op} {(nmiHandler ? "in the NMI handler" : "in its task")}");
        }

        public void Raise(bool delivered)
        {
            Do(new MachineAction(ActionKind.RaiseNmi, 0, 0));
            Assert.Equal(delivered ? 0 : 1, Machine.Vcpu(0).NmiPending);
        }

        /// <summary>Replays the actions through the timed driver, with cost <paramref name="key"/> at <paramref name="ns"/> where one is given: its result and vCPU 0's exits, each with when it entered again.</summary>
        public (SimulationResult Result, List<(ExitReason Reason, long At, long EnteredAt)> Exits) Replay(CostKey? key = null, long ns = 0)
        {
            var sink = new RecordingSink();
            var costs = key is { } k ? setup with { Costs = setup.Costs.With(k, ns) } : setup;
            var replay = new Simulator(costs, sink).Replay(_actions);
            Assert.Null(replay.Divergence);
            var records = sink.Records.Where(r => r.Vcpu == 0 && r.Kind is TraceKind.KvmExit or TraceKind.KvmEntry).OrderBy(r => r.TimeNs).ToList();
            var exits = new List<(ExitReason, long, long)>();
            for (var i = 0; i < records.Count; i++)
            {
                if (records[i].Kind == TraceKind.KvmExit)
                {
                    var entry = records.Skip(i + 1).FirstOrDefault(r => r.Kind == TraceKind.KvmEntry);
                    exits.Add((records[i].ExitReason, records[i].TimeNs, entry.Kind == TraceKind.KvmEntry ? entry.TimeNs : long.MaxValue));
                }
            }

            return (replay.Result, exits);
        }

        private bool At(MicroOp op, bool nmiHandler)
        {
            ref readonly var cpu = ref Machine.Vcpu(0);
            return cpu.Run == RunState.InGuest && (Machine.TopFrame(cpu.CurrentTask).Program == HandlerProgram.Nmi) == nmiHandler
                && Machine.NextInstr(0).Op == op;
        }

        private void Do(MachineAction a)
        {
            Assert.True(Machine.IsEnabled(a), $"{a} is not enabled");
            var sink = default(NullSink);
            Machine.Apply(a, ref sink);
            _actions.Add(a);
        }
    }
}
