using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using Vexlab.Model.Tests.Bugs;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Ve;

/// <summary>
/// The seed's #VE handler (exc_virtualization_exception) with an NMI whose user call-chain walk
/// touches another host-absent page. SDM Vol. 3C 25.5.6.1: while the busy word is set, a
/// convertible violation is an ordinary EPT-violation exit.
/// </summary>
public sealed class VeNmiTests
{
    private static Script VeTaken(string infoStore = "pv-page")
    {
        var m = Build("ve", [User("a", 0, Touch(0))], knobs: [("guest.ve.info_store", infoStore)],
            bounds: new ExternalBounds(1, 0, 0, 0), nmiTouchPage: 1);
        var s = new Script(m);
        var events = s.Do(ActionKind.Step, 0);
        Assert.Contains(events, e => e.Kind == ModelEventKind.VeDelivered);
        return s;
    }

    [Fact]
    public void NmiAtEveryMicroOp_BusyMeansExitElseNestedVe()
    {
        var sawExit = false;
        var sawNested = false;
        for (var k = 0; ; k++)
        {
            var s = VeTaken();
            var m = s.Machine;
            var ok = true;
            for (var i = 0; i < k && ok; i++)
            {
                if (m.Vcpu(0).Run != RunState.InGuest || m.NextInstr(0).Op is MicroOp.SleepSchedule or MicroOp.Iret)
                {
                    ok = false;
                    break;
                }

                s.Do(ActionKind.Step, 0);
            }

            if (!ok || m.Task(m.WorkloadTask(0)).Status != TaskPhase.Running)
            {
                break;
            }

            var at = m.NextInstr(0).Op;
            var busy = m.Vcpu(0).VeBusy != 0;
            s.Do(ActionKind.RaiseNmi, 0);
            Assert.Equal(FrameEvent.Nmi, m.TopFrame(m.WorkloadTask(0)).Event);
            var touch = s.StepTo(MicroOp.KTouch, vcpu: 0);
            var events = s.Do(ActionKind.Step, 0);
            if (busy)
            {
                Assert.Contains(events, e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.EptViolation);
                Assert.Contains(events, e => e.Kind == ModelEventKind.SyncStall);
                Assert.Equal(RunState.HostStalled, m.Vcpu(0).Run);
                sawExit = true;
            }
            else
            {
                Assert.True(events.Exists(e => e.Kind == ModelEventKind.VeDelivered), $"no nested #VE at {at}");
                Assert.Equal(FrameEvent.Ve, m.TopFrame(m.WorkloadTask(0)).Event);
                sawNested = true;
            }

            s.RunToEnd();
            Assert.Equal(GuestOutcome.Finished, m.Outcome);
            _ = touch;
        }

        Assert.True(sawExit);
        Assert.True(sawNested);
    }

    [Theory]
    [InlineData("pv-page", true)]
    [InlineData("args", false)]
    public void NestedVeInNmi_OverwritesPvPageOnlyWithPvPage(string store, bool clobbered)
    {
        var s = VeTaken(store);
        var m = s.Machine;

        // The outer handler stored the VE info and cleared busy; the NMI lands before the hypercall.
        s.StepTo(MicroOp.InitCompletion, vcpu: 0);
        Assert.Equal(0u, m.Vcpu(0).VeBusy);
        s.Do(ActionKind.RaiseNmi, 0);
        s.StepTo(MicroOp.KTouch, vcpu: 0);
        Assert.Contains(s.Do(ActionKind.Step, 0), e => e.Kind == ModelEventKind.VeDelivered);

        // The nested handler (kernel context: resolve_ept(false)) stores its own info, stalls, returns.
        s.StepUntil(ModelEventKind.SyncStall, vcpu: 0);
        s.CompleteAny();
        while (m.Task(m.WorkloadTask(0)).Depth > 2)
        {
            s.Do(ActionKind.Step, 0);
        }

        s.StepTo(MicroOp.ResolveEptContinue, vcpu: 0);
        var call = s.Do(ActionKind.Step, 0);
        Assert.Equal(clobbered, call.Violated(SafetyProperty.FaultInfoIntact));
    }

    [Fact]
    public void ClearBusyNever_SecondAccessIsVmExitSync()
    {
        var m = Build("ve", [User("a", 0, Touch(0), Touch(1))], knobs: [("guest.ve.clear_busy", "never")]);
        var s = new Script(m);
        Assert.Contains(s.Do(ActionKind.Step, 0), e => e.Kind == ModelEventKind.VeDelivered);
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        var second = s.Events.FindIndex(e => e.Kind == ModelEventKind.AccessFault && e.Page == 1);
        Assert.True(second >= 0);
        var after = s.Events.Skip(second).ToList();
        Assert.Contains(after, e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.EptViolation);
        Assert.Contains(after, e => e.Kind == ModelEventKind.SyncStall);
        Assert.DoesNotContain(after, e => e.Kind == ModelEventKind.VeDelivered);
        Assert.NotEqual(0u, m.Vcpu(0).VeBusy);
        Assert.Equal(1, s.Count(ModelEventKind.VeDelivered));
    }
}
