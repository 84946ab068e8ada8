using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// The idle task runs do_idle with a preempt count of 1 (5.7: start_secondary's preempt_disable(),
/// rest_init's schedule_preempt_disabled(); f1a0a376ca0c: init_idle_preempt_count), so the
/// exception or interrupt return that woke a task (retint_kernel, irqentry_exit_cond_resched) does
/// not preempt it: the switch comes when do_idle's loop sees need_resched and calls schedule_idle().
/// </summary>
public sealed class IdlePreemptTests
{
    [Theory]
    [InlineData("do_async_page_fault (5.7): page-ready #PF wakes the task in swapper's context", "kvm-pf")]
    [InlineData("sysvec_kvm_asyncpf_interrupt (5.8+): page-ready interrupt wakes the task in swapper's context", "kvm-pf-int")]
    public void AWakeupHandledByTheIdleTask_SwitchesAtDoIdlesSchedule_NotOnReturn(string rule, string protocol)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))], absentCount: 1);
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        for (var i = 0; i < 64 && m.Task(a).Status != TaskPhase.Sleeping; i++)
        {
            s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
        }

        Assert.Equal(TaskPhase.Sleeping, m.Task(a).Status);
        s.CompleteAny();
        string? switchedAt = null;
        for (var i = 0; i < 64 && switchedAt is null; i++)
        {
            var kind = new[] { ActionKind.DeliverInterrupt, ActionKind.Dequeue, ActionKind.Enter, ActionKind.Step }.First(k => s.IsEnabled(k));
            var at = kind == ActionKind.Step ? m.DescribeNext(0) : kind.ToString();
            if (s.Do(kind).Exists(e => e.Kind == ModelEventKind.ContextSwitch && e.Task == a))
            {
                switchedAt = at;
            }
        }

        Assert.True(switchedAt is not null, rule);
        Assert.Equal($"{m.TaskName(0)}: do_idle: {new Instr(MicroOp.Schedule)}", switchedAt);
    }
}
