using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B12, "kvm,x86: Improve kvm page fault error handling" (msgid 20200616214847.24482-3-vgoyal@redhat.com, June 2020, not merged):
/// async_pf_execute() ignores the failed get_user_pages of a truncated virtio-fs DAX page and
/// kvm_arch_async_page_present() reports it ready; the guest retries and faults again for ever.
/// With KVM_PV_REASON_PAGE_ERROR the woken task (kvm_async_pf_task_wait_schedule) gets SIGBUS.
/// </summary>
public sealed class B12ReportErrorsTests
{
    private static Script TruncatedDaxFault(string report)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0))], dax: true, absentCount: 1,
            knobs: [("host.apf.report_errors", report)], bounds: new ExternalBounds(0, 0, 1, 0));
        var s = new Script(m);
        s.Do(ActionKind.Truncate);
        Assert.Equal(HostPage.Unrecoverable, m.Page(0).Host);
        return s;
    }

    [Fact]
    public void WithoutErrorReports_FaultReadyRetryLoopsForever()
    {
        var s = TruncatedDaxFault("false");
        const int Steps = 600;
        Assert.Equal(Steps, s.RunToEnd(Steps));
        Assert.Equal(GuestOutcome.Running, s.Machine.Outcome);
        Assert.Equal(HostPage.Unrecoverable, s.Machine.Page(0).Host);
        var faults = s.Events.Count(e => e.Kind == ModelEventKind.AsyncStarted && e.Page == 0 && e.Aux == 1);
        var readies = s.Events.Count(e => e.Kind == ModelEventKind.ReadyDequeued && e.Aux == 1);
        Assert.True(faults >= 5, $"only {faults} faults");
        Assert.True(readies >= faults - 1);
        Assert.DoesNotContain(s.Events, e => e.Kind == ModelEventKind.Signal);
        Assert.Equal(0u, s.Machine.Task(s.Machine.WorkloadTask(0)).Iterations);
    }

    [Fact]
    public void WithErrorReports_UserTaskGetsSigbus()
    {
        var s = TruncatedDaxFault("true");
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, s.Machine.Outcome);
        Assert.Single(s.Events, e => e.Kind == ModelEventKind.AsyncStarted && e.Page == 0);
        Assert.Contains(s.Events, e => e.Kind == ModelEventKind.Signal && e.Aux == (byte)Signal.SIGBUS);
        Assert.Equal(Guest.TaskPhase.Killed, s.Machine.Task(s.Machine.WorkloadTask(0)).Status);
        Assert.DoesNotContain(s.Events, e => e.Kind == ModelEventKind.PropertyViolated);
    }
}
