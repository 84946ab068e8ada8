using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using Vexlab.Model.Tests.Bugs;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Ve;

/// <summary>Wakeups of the #VE design, re-enable wake-all, and unrecoverable pages under every protocol.</summary>
public sealed class VeWakeupTests
{
    [Fact]
    public void WakeupBetweenResolveEptAndWait_IsNotLost()
    {
        var m = Build("ve", [User("a", 0, Touch(0))]);
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        s.StepTo(MicroOp.ResolveEptContinue, vcpu: 0);
        Assert.Contains(s.Do(ActionKind.Step, 0), e => e.Kind == ModelEventKind.AsyncStarted);

        // The page comes in and the wakeup is taken before the completion wait runs.
        Assert.Equal(MicroOp.CompletionWaitCheck, m.NextInstr(0).Op);
        s.CompleteAny();
        s.Do(ActionKind.DeliverInterrupt, 0);
        s.StepTo(MicroOp.Iret, vcpu: 0);
        s.Do(ActionKind.Step, 0);
        Assert.Equal(1, m.Task(m.WorkloadTask(0)).Completed);
        s.Do(ActionKind.Step, 0);
        Assert.NotEqual(MicroOp.SleepSchedule, m.NextInstr(0).Op);
        BugAsserts.AssertFinishedClean(s);
        Assert.Equal(0, s.Count(ModelEventKind.TaskSlept));
    }

    [Fact]
    public void BroadcastWakeAfterMigration_WakesTheWaiter()
    {
        var m = Build("ve", [User("a", 0, Touch(0))], bounds: new ExternalBounds(0, 0, 0, 1));
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        s.StepUntil(ModelEventKind.GuestHalted, vcpu: 0);

        // Migration: the destination has no work in flight and posts a broadcast wakeup.
        s.Do(ActionKind.Reenable);
        Assert.False(s.IsEnabled(ActionKind.Complete, 0));
        s.Do(ActionKind.DeliverInterrupt, 0);
        var drain = s.StepUntil(ModelEventKind.TaskWoken, vcpu: 0);
        Assert.Contains(drain, e => e.Kind == ModelEventKind.TaskWoken && e.Task == m.WorkloadTask(0));

        // The woken task retries the access and faults again; it finishes.
        BugAsserts.AssertFinishedClean(s);
        Assert.Equal(2, s.Count(ModelEventKind.VeDelivered));
    }

    [Fact]
    public void WakeAllAfterApfReenable_WakesEverySleeper()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), User("b", 0, Touch(1))], bounds: new ExternalBounds(0, 0, 0, 1));
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        s.StepUntil(ModelEventKind.GuestHalted, vcpu: 0);
        var reenable = s.Do(ActionKind.Reenable);
        Assert.Contains(reenable, e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.Equal(Model.Machine.Machine.BroadcastToken, m.Vcpu(0).ApfToken);
        s.Do(ActionKind.DeliverInterrupt, 0);
        s.StepTo(MicroOp.ApfWakeLookup, vcpu: 0);
        var wake = s.Do(ActionKind.Step, 0);
        Assert.Equal(2, wake.Count(e => e.Kind == ModelEventKind.TaskWoken));
        Assert.Equal(0, m.SleepNodeCount());
        BugAsserts.AssertFinishedClean(s);
    }

    // The VMM's error exit names the page the stalled fault was for, not the host's work slot: page 2's work
    // takes slot 0, and the event named page 0.
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Unrecoverable_Sync_IsVmError(int page)
    {
        var m = Build("sync", [User("a", 0, Touch(page))], absent: HostPage.Unrecoverable, absentFrom: page, absentCount: 1);
        var s = new Script(m);
        s.RunToEnd();
        Assert.Equal(GuestOutcome.VmError, m.Outcome);
        Assert.Contains(s.Events, e => e.Kind == ModelEventKind.VmError && e.Page == page);
    }

    [Theory]
    [InlineData("kvm-halt", TaskMode.User)]
    [InlineData("kvm-halt", TaskMode.Kernel)]
    [InlineData("kvm-pf-int", TaskMode.User)]
    [InlineData("kvm-pf-int", TaskMode.Kernel)]
    public void Unrecoverable_Kvm_RetriesTheSameFaultForever(string protocol, TaskMode mode)
    {
        var task = mode == TaskMode.User ? User("a", 0, Touch(0)) : Kernel("k", 0, KTouch(0));
        var m = Build(protocol, [task], absent: HostPage.Unrecoverable, absentCount: 1);
        var s = new Script(m);
        const int Steps = 500;
        Assert.Equal(Steps, s.RunToEnd(Steps));
        Assert.Equal(GuestOutcome.Running, m.Outcome);
        Assert.Equal(HostPage.Unrecoverable, m.Page(0).Host);
        var faults = s.Events.Count(e => e.Kind == ModelEventKind.AccessFault && e.Page == 0);
        var failed = s.Events.Count(e => e.Kind == ModelEventKind.WorkCompleted && e.Aux == 1);
        Assert.True(faults >= 5, $"{faults} faults");
        Assert.True(failed >= faults - 1);
        Assert.DoesNotContain(s.Events, e => e.Kind is ModelEventKind.AccessDone or ModelEventKind.Signal or ModelEventKind.VmError);
    }

    [Theory]
    [InlineData(TaskMode.User)]
    [InlineData(TaskMode.Kernel)]
    public void Unrecoverable_Ve_EndsTheFault(TaskMode mode)
    {
        var task = mode == TaskMode.User ? User("a", 0, Touch(0)) : Kernel("k", 0, KTouch(0, fixup: true));
        var m = Build("ve", [task], absent: HostPage.Unrecoverable, absentCount: 1);
        var s = new Script(m);
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        Assert.Contains(s.Events, e => mode == TaskMode.User
            ? e.Kind == ModelEventKind.Signal && e.Aux == (byte)Signal.SIGBUS
            : e.Kind == ModelEventKind.Fixup);
    }
}
