using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using Vexlab.Model.Tests.Bugs;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// How 5.7's do_async_page_fault (the kvm-pf guest) ends, checked against arch/x86/entry/entry_64.S
/// and arch/x86/kernel/kvm.c of that release.
/// </summary>
public sealed class AsyncPf57ExitTests
{
    /// <summary>
    /// Every exception leaves through error_exit; to kernel mode that is retint_kernel, which under
    /// CONFIG_PREEMPTION calls preempt_schedule_irq when the interrupted frame had IF set and
    /// __preempt_count is 0 (entry_64.S, 5.7). A page-ready #PF that wakes a task beside a
    /// kernel-mode task computing with interrupts on therefore switches at its return; without
    /// CONFIG_PREEMPTION, or under preempt_disable, the woken task waits for a later switch.
    /// </summary>
    [Theory]
    [InlineData(true, false, true)]
    [InlineData(false, false, false)]
    [InlineData(true, true, false)]
    public void PageReadyReturnToKernel_PreemptsWhereRetintKernelWould(bool configPreempt, bool preemptOff, bool switches)
    {
        var prefix = preemptOff ? new[] { Op(MicroOp.PreemptOff) } : [];
        var m = Build("kvm-pf", [User("a", 0, Touch(0)), Spinner("k", TaskMode.Kernel, 0, prefix)],
            absentCount: 1, knobs: [("guest.config_preempt", configPreempt ? "true" : "false")]);
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        var k = m.WorkloadTask(1);
        GuestRunsUntil(s, ModelEventKind.TaskSlept);
        s.StepTo(MicroOp.Compute);
        Assert.Equal(k, m.Vcpu(0).CurrentTask);

        // The page comes in; 5.7 hands page-ready over on the way back in, here after the host's tick.
        s.CompleteAny();
        var log = new EventLog();
        m.Apply(new MachineAction(ActionKind.HostTick, 0, 0), ref log);
        s.Do(ActionKind.Dequeue, 0, 0);
        s.Do(ActionKind.Enter, 0);
        s.StepTo(MicroOp.ExitPreempt);
        Assert.Equal(TaskPhase.Runnable, m.Task(a).Status);
        Assert.Equal(1, m.Vcpu(0).NeedResched);

        var exit = s.Do(ActionKind.Step, 0);
        Assert.Equal(switches, exit.Exists(e => e.Kind == ModelEventKind.ContextSwitch && e.Task == a));
        Assert.Equal(switches ? a : k, m.Vcpu(0).CurrentTask);
    }

    /// <summary>
    /// kvm_async_pf_task_wait (5.7) looks the token up with _find_apf_task, which matches the token
    /// alone: a fault whose token another task still sleeps on (the ids wrapped) takes that task's
    /// node for a dummy, unhashes it and kfree()s an address on the sleeper's stack, which oopses.
    /// The model reports one-node-per-token and stops the guest there, instead of hashing a second
    /// node no kernel would have.
    /// </summary>
    [Fact]
    public void TokenOfASleeper_IsAnOops_NotASecondNode()
    {
        var m = Build("kvm-pf", [User("a", 0, Touch(0)), User("b", 0, Touch(1)), User("c", 0, Touch(2)), User("d", 0, Touch(3))],
            absentCount: 4, knobs: [("host.apf.token_id_bits", "2")]);
        var s = new Script(m);
        for (var i = 0; i < 3; i++)
        {
            GuestRunsUntil(s, ModelEventKind.TaskSlept);
        }

        Assert.Equal(3, m.SleepNodeCount());
        var oops = GuestRunsUntil(s, ModelEventKind.Oops);
        Assert.True(oops.Violated(SafetyProperty.OneNodePerToken));
        Assert.Equal(GuestOutcome.Oops, m.Outcome);
        Assert.Equal(PanicReason.ApfTokenCollision, m.Panic);
        Assert.Equal(3, m.SleepNodeCount());
    }

    /// <summary>Steps vCPU 0, entering the guest when it waits in the host, until an event of <paramref name="kind"/>.</summary>
    private static List<ModelEvent> GuestRunsUntil(Script s, ModelEventKind kind)
    {
        var all = new List<ModelEvent>();
        for (var i = 0; i < 64; i++)
        {
            var events = s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
            all.AddRange(events);
            if (events.Exists(e => e.Kind == kind))
            {
                return all;
            }
        }

        throw new InvalidOperationException($"no {kind} within 64 steps");
    }
}
