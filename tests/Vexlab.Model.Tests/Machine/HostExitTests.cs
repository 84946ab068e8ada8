using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// 5.7's kvm_check_async_pf_completion runs in vcpu_run after every exit, and a running vCPU exits
/// at any instruction (host tick, IPIs), while 5.7's async_pf_execute kicks no running vCPU: the
/// checker's <see cref="ActionKind.HostExit"/> lets the page-ready #PF land at any instruction where
/// kvm_arch_can_inject_async_page_present holds, not only at the exits the guest's own ops cause.
/// </summary>
public sealed class HostExitTests
{
    /// <summary>
    /// Task a sleeps on its page while kernel thread k computes on the same vCPU. Once the page is
    /// in, the checker offers the exit only where kvm_check_async_pf_completion would inject:
    /// under the 5.7 host (5.8+ kicks the vCPU with KVM_REQ_APF_READY, 557a961abbe0), with a
    /// completion on the done list, and with interrupts allowed (kvm_can_do_async_pf ->
    /// kvm_x86_ops->interrupt_allowed).
    /// </summary>
    [Theory]
    [InlineData("kvm_check_async_pf_completion: the page-ready lands in running kernel code", "kvm-pf", false, true, 1, true)]
    [InlineData("kvm_can_do_async_pf: interrupt_allowed is false with IF=0", "kvm-pf", true, true, 1, false)]
    [InlineData("list_empty_careful(&vcpu->async_pf.done): nothing to dequeue", "kvm-pf", false, false, 1, false)]
    [InlineData("kvm_arch_async_page_present_queued (5.8+): the host kicks, no exit to wait for", "kvm-pf-int", false, true, 1, false)]
    [InlineData("bounds.host_exits: 0: the model interleaves no host interrupt", "kvm-pf", false, true, 0, false)]
    public void TheCheckerOffersTheExit_WhereTheCompletionCheckWouldInject(string rule, string protocol, bool kernelIrqOff, bool complete, int hostExits, bool offered)
    {
        var prefix = kernelIrqOff ? new[] { Op(MicroOp.Cli) } : [];
        var m = Build(protocol, [User("a", 0, Touch(0)), Spinner("k", TaskMode.Kernel, 0, prefix)], absentCount: 1,
            bounds: ExternalBounds.None with { HostExits = hostExits });
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        var k = m.WorkloadTask(1);
        RunUntil(s, ModelEventKind.TaskSlept);
        s.StepTo(MicroOp.Compute);
        Assert.Equal(k, m.Vcpu(0).CurrentTask);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        if (complete)
        {
            s.CompleteAny();
        }

        Assert.True(offered == s.IsEnabled(ActionKind.HostExit), rule);
        if (!offered)
        {
            return;
        }

        // The exit dequeues in the host; the entry injects the page-ready #PF into k's kernel code,
        // whose handler wakes a, and retint_kernel switches to it (CONFIG_PREEMPTION, IF=1, count 0).
        var exit = s.Do(ActionKind.HostExit);
        Assert.Contains(exit, e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.ExternalInterrupt);
        Assert.Contains(exit, e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.False(s.IsEnabled(ActionKind.HostExit));
        var entry = s.Do(ActionKind.Enter);
        Assert.Contains(entry, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == 14 && e.Task == k);
        s.StepTo(MicroOp.ExitPreempt);
        Assert.Equal(TaskPhase.Runnable, m.Task(a).Status);
        s.Do(ActionKind.Step);
        Assert.Equal(a, m.Vcpu(0).CurrentTask);
    }

    /// <summary>
    /// Each exit spends one of <c>bounds.host_exits</c>: task a faults twice while kernel thread k computes,
    /// and with one exit the second completion waits for an exit the guest causes, as it did before the
    /// action existed.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void EachExitSpendsOneOfTheBound(int hostExits, bool secondOffered)
    {
        var m = Build("kvm-pf", [User("a", 0, Touch(0), Touch(1)), Spinner("k", TaskMode.Kernel, 0)], absentCount: 2,
            bounds: ExternalBounds.None with { HostExits = hostExits });
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        var k = m.WorkloadTask(1);
        for (var fault = 0; fault < 2; fault++)
        {
            RunUntil(s, ModelEventKind.TaskSlept);
            s.StepTo(MicroOp.Compute);
            Assert.Equal(k, m.Vcpu(0).CurrentTask);
            s.CompleteAny();
            if (fault == 1)
            {
                break;
            }

            // The first page-ready lands in k's kernel code and a, woken, preempts k (as above).
            s.Do(ActionKind.HostExit);
            s.Do(ActionKind.Enter);
            s.StepTo(MicroOp.ExitPreempt);
            s.Do(ActionKind.Step);
            Assert.Equal(a, m.Vcpu(0).CurrentTask);
        }

        Assert.Equal(secondOffered, s.IsEnabled(ActionKind.HostExit));
    }

    private static void RunUntil(Script s, ModelEventKind kind)
    {
        for (var i = 0; i < 64; i++)
        {
            if (s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step).Exists(e => e.Kind == kind))
            {
                return;
            }
        }

        throw new InvalidOperationException($"no {kind} within 64 steps");
    }

    /// <summary>
    /// With HLT in the guest (host.hlt_in_guest) the idle vCPU halts without an exit, and 5.7's async_pf_execute
    /// wakes only a vCPU blocked in the host: the completion waits for the next exit of any reason, which the host's
    /// interrupt gives a halted guest as it does a running one. Without the exit the page-ready never came.
    /// </summary>
    [Theory]
    [InlineData("CONFIG_PREEMPTION: kvm_guest_cpu_init asks for KVM_ASYNC_PF_SEND_ALWAYS", "true", true)]
    [InlineData("kvm_can_do_async_pf -> kvm_can_deliver_async_pf: send_user_only and CPL 0 (the idle task's HLT)", "false", false)]
    public void AVcpuHaltedInTheGuest_TakesTheExitAndThePageReady(string rule, string configPreempt, bool offered)
    {
        var m = Build("kvm-pf", [User("u", 0, Touch(0))], knobs: [("host.hlt_in_guest", "true"), ("guest.config_preempt", configPreempt)],
            bounds: ExternalBounds.None with { HostExits = 1 });
        var s = new Script(m);
        RunUntil(s, ModelEventKind.TaskSlept);
        RunUntil(s, ModelEventKind.GuestHalted);
        Assert.Equal(RunState.GuestHalt, m.Vcpu(0).Run);
        s.CompleteAny();
        Assert.True(offered == s.IsEnabled(ActionKind.HostExit), rule);
        if (!offered)
        {
            // Nothing else gets it out: no user code runs on the vCPU, so a halted guest with HLT in the guest and
            // without SEND_ALWAYS never has its page-ready dequeued (a lost wakeup of 5.7, found by the checker).
            Assert.False(s.IsEnabled(ActionKind.Dequeue));
            return;
        }

        var exit = s.Do(ActionKind.HostExit);
        Assert.Contains(exit, e => e.Kind == ModelEventKind.ReadyDequeued);
        var entry = s.Do(ActionKind.Enter);
        Assert.Contains(entry, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == 14);
    }

    /// <summary>
    /// The same CPL test lets the page-ready through while user code runs: with HLT in the guest and without
    /// SEND_ALWAYS, an exit of a vCPU at CPL 3 dequeues (kvm_can_deliver_async_pf holds).
    /// </summary>
    [Fact]
    public void WithHltInTheGuest_AVcpuRunningUserCode_TakesThePageReadyWithoutSendAlways()
    {
        var m = Build("kvm-pf", [User("a", 0, Touch(0)), Spinner("u", TaskMode.User, 0)], absentCount: 1,
            knobs: [("host.hlt_in_guest", "true"), ("guest.config_preempt", "false")],
            bounds: ExternalBounds.None with { HostExits = 1 });
        var s = new Script(m);
        RunUntil(s, ModelEventKind.TaskSlept);
        s.StepTo(MicroOp.Compute);
        Assert.Equal(m.WorkloadTask(1), m.Vcpu(0).CurrentTask);
        s.CompleteAny();

        Assert.True(s.IsEnabled(ActionKind.HostExit));
        Assert.Contains(s.Do(ActionKind.HostExit), e => e.Kind == ModelEventKind.ReadyDequeued);
    }
}
