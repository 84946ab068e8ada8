using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B7, 3d75b8aa5c29: kvm_clear_async_pf_completion_queue now flushes every work item before the
/// vCPU is freed; before, async_pf_execute held a VM reference (kvm_get_kvm in kvm_setup_async_pf)
/// and its kvm_put_kvm could be the last, destroying the VM and putting the module from the worker.
/// </summary>
public sealed class B7TeardownTests
{
    [Theory]
    [InlineData("kvm-halt", "false", true)]
    [InlineData("kvm-halt", "true", false)]
    [InlineData("kvm-pf", "false", true)]
    [InlineData("kvm-pf-int", "false", true)]
    [InlineData("kvm-pf-int", "true", false)]
    public void CloseWithWorkInFlight(string protocol, string flush, bool workOutlivesVm)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))], knobs: [("host.apf.flush_work_on_destroy", flush)], bounds: new ExternalBounds(0, 0, 0, 0, Teardowns: 1));
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        Assert.Equal(1, m.Page(0).InFlight);
        s.Do(ActionKind.Teardown);
        if (!workOutlivesVm)
        {
            // kvm_destroy_vm ran at once: the work was cancelled or waited for.
            Assert.Equal(GuestOutcome.Destroyed, m.Outcome);
            Assert.Empty(s.Enabled().ToArray());
            return;
        }

        // The VM outlives its file descriptors: the vCPUs are gone, only the worker runs.
        Assert.True(m.TornDown);
        var enabled = s.Enabled().ToArray();
        Assert.All(enabled, a => Assert.Equal(ActionKind.Complete, a.Kind));
        var last = s.CompleteAny();
        Assert.True(last.Violated(SafetyProperty.NoWorkAfterDestroy));
        Assert.Equal(GuestOutcome.Destroyed, m.Outcome);
    }

    /// <summary>With nothing in flight the VM goes at once either way: no worker can outlive it.</summary>
    [Theory]
    [InlineData("false")]
    [InlineData("true")]
    public void CloseWithNothingInFlight_DestroysAtOnce(string flush)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Op(Guest.MicroOp.Compute))], knobs: [("host.apf.flush_work_on_destroy", flush)], bounds: new ExternalBounds(0, 0, 0, 0, Teardowns: 1));
        var s = new Script(m);
        var close = s.Do(ActionKind.Teardown);
        Assert.False(close.Violated(SafetyProperty.NoWorkAfterDestroy));
        Assert.Equal(GuestOutcome.Destroyed, m.Outcome);
    }
}
