using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B4, ab4e41eb9fab: RSM restores CR0 through kvm_set_cr0, and kvm_post_set_cr0 used to call
/// kvm_clear_async_pf_completion_queue and kvm_async_pf_hash_reset when CR0.PG changed.
/// </summary>
public sealed class B4SmmTests
{
    /// <summary>
    /// A completion on the done list when the SMI comes: freed without notifying (the sleeper is
    /// never woken) before the fix; kept and delivered after RSM (KVM_REQ_APF_READY) with it.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf-int", "true", true)]
    [InlineData("kvm-pf-int", "false", false)]
    [InlineData("kvm-pf", "true", true)]
    [InlineData("kvm-pf", "false", false)]
    public void KvmPostSetCr0_CompletedWorkAcrossSmm(string protocol, string flush, bool lost)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))], knobs: [("host.apf.flush_on_cr0_pg", flush), ("host.apf.require_no_pending_event", "true")], bounds: new ExternalBounds(0, 0, 0, 0, Smis: 1));
        var s = new Script(m);
        while (m.Task(m.WorkloadTask(0)).Status != TaskPhase.Sleeping)
        {
            // The 5.7 host injects the not-present #PF at the entry after the exit.
            s.Do(m.Vcpu(0).Run == RunState.InHost ? ActionKind.Enter : ActionKind.Step, 0);
        }

        s.CompleteAny();
        Assert.Equal(1, m.Vcpu(0).Done);
        if (m.Vcpu(0).Run == RunState.InHost)
        {
            // The 5.7 host: the vCPU was passing through vcpu_run; it enters the guest first.
            s.Do(ActionKind.Enter, 0);
        }

        while (!s.IsEnabled(ActionKind.Smi, 0))
        {
            s.Do(ActionKind.Step, 0);
        }

        var smi = s.Do(ActionKind.Smi, 0);
        Assert.DoesNotContain(smi, e => e.Kind == ModelEventKind.PropertyViolated);
        if (lost)
        {
            Assert.Equal(0, m.Vcpu(0).Done);
            Assert.Equal(0, m.Vcpu(0).ApfQueued);
            BugAsserts.AssertSleepsForever(s, m.WorkloadTask(0));
        }
        else
        {
            BugAsserts.AssertFinishedClean(s);
        }
    }

    /// <summary>Work still queued when the SMI comes is cancelled (cancel_work_sync): it never completes.</summary>
    [Fact]
    public void Flush_CancelsQueuedWork()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0))], knobs: [("host.apf.flush_on_cr0_pg", "true")], bounds: new ExternalBounds(0, 0, 0, 0, Smis: 1));
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        Assert.Equal(1, m.Page(0).InFlight);
        s.Do(ActionKind.Smi, 0);
        Assert.Equal(0, m.Page(0).InFlight);
        Assert.DoesNotContain(s.Enabled().ToArray(), a => a.Kind == ActionKind.Complete);
        BugAsserts.AssertSleepsForever(s, m.WorkloadTask(0));
    }

    /// <summary>
    /// The SMI is taken within its budget by a running vCPU (at an instruction boundary) and by a halted one, whose
    /// halt it ends (kvm_vcpu_has_events tests KVM_REQ_SMI and smi_pending): KVM's APF halt is left with the access
    /// to retry, the guest's HLT is left behind (no HLT restart after RSM). A vCPU stalled in the host on a
    /// synchronous fault does not take it: its thread is in the host's page fault.
    /// </summary>
    [Fact]
    public void Smi_EndsAnApfHalt_AndTheAccessIsRetried()
    {
        var m = Build("kvm-halt", [Kernel("k", 0, KTouch(0))], bounds: new ExternalBounds(0, 0, 0, 0, Smis: 1));
        var s = new Script(m);
        Assert.True(s.IsEnabled(ActionKind.Smi, 0));
        s.Do(ActionKind.Step, 0);
        Assert.Equal(RunState.HostHalted, m.Vcpu(0).Run);
        Assert.True(s.IsEnabled(ActionKind.Smi, 0));
        var smi = s.Do(ActionKind.Smi, 0);
        Assert.Contains(smi, e => e.Kind == ModelEventKind.Unhalted && e.Aux == 4);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        Assert.Equal(0, m.Vcpu(0).ApfHalted);
        Assert.False(s.IsEnabled(ActionKind.Smi, 0));

        // The retried access finds its gfn still in flight: halted again (kvm_find_async_pf_gfn), until the page is in.
        s.Do(ActionKind.Step, 0);
        Assert.Equal(RunState.HostHalted, m.Vcpu(0).Run);
        s.CompleteAny();
        BugAsserts.AssertFinishedClean(s);
    }

    [Fact]
    public void Smi_IsNotTakenWhileStalledInTheHost()
    {
        var m = Build("sync", [Kernel("k", 0, KTouch(0))], bounds: new ExternalBounds(0, 0, 0, 0, Smis: 1));
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        Assert.Equal(RunState.HostStalled, m.Vcpu(0).Run);
        Assert.False(s.IsEnabled(ActionKind.Smi, 0));
    }

    [Fact]
    public void Smi_EndsTheGuestsHlt()
    {
        // The task sleeps on its not-present fault and the idle task halts; the SMI ends that HLT, and the idle loop
        // halts again (the page is still missing) within the same budget of one SMI.
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0))], bounds: new ExternalBounds(0, 0, 0, 0, Smis: 1));
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        while (m.Vcpu(0).Run != RunState.GuestHalt)
        {
            s.Do(ActionKind.Step, 0);
        }

        Assert.True(s.IsEnabled(ActionKind.Smi, 0));
        var smi = s.Do(ActionKind.Smi, 0);
        Assert.Contains(smi, e => e.Kind == ModelEventKind.Unhalted && e.Aux == 4);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        Assert.True(s.IsEnabled(ActionKind.Step, 0));
        s.CompleteAny();
        BugAsserts.AssertFinishedClean(s);
    }
}
