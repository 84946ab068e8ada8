using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Ve;

/// <summary>
/// A truncated virtio-fs DAX page under the #VE design: the host tells the guest (an error from
/// resolve_ept(false) or a wakeup with an error status) and the seed's handler ends the fault:
/// SIGBUS for user mode, fixup_exception (-EFAULT) for a kernel access with an exception-table
/// entry, die() otherwise.
/// </summary>
public sealed class VeTruncateTests
{
    public enum When
    {
        BeforeFault,
        BetweenVeAndHypercall,
        InFlight,
    }

    public enum Mode
    {
        User,
        KernelFixup,
        KernelNoFixup,
    }

    public static TheoryData<Mode, When> Cases()
    {
        var data = new TheoryData<Mode, When>();
        foreach (var mode in Enum.GetValues<Mode>())
        {
            foreach (var when in Enum.GetValues<When>())
            {
                data.Add(mode, when);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TruncatedPage_EndsTheFault(Mode mode, When when)
    {
        var task = mode switch
        {
            Mode.User => User("a", 0, Touch(0)),
            Mode.KernelFixup => Kernel("k", 0, KTouch(0, fixup: true)),
            _ => Kernel("k", 0, KTouch(0, fixup: false)),
        };
        var m = Build("ve", [task], dax: true, absentCount: 1, bounds: new ExternalBounds(0, 0, 1, 0));
        var s = new Script(m);
        if (when == When.BeforeFault)
        {
            s.Do(ActionKind.Truncate);
        }

        Assert.Contains(s.Do(ActionKind.Step, 0), e => e.Kind == ModelEventKind.VeDelivered);
        if (when == When.BetweenVeAndHypercall)
        {
            s.Do(ActionKind.Step, 0);
            s.Do(ActionKind.Truncate);
        }

        if (when == When.InFlight)
        {
            while (!s.Enabled().ToArray().Any(a => a.Kind == ActionKind.Complete))
            {
                s.Do(ActionKind.Step, 0);
            }

            s.Do(ActionKind.Truncate);
        }

        s.RunToEnd();
        Assert.Equal(HostPage.Unrecoverable, m.Page(0).Host);
        Assert.DoesNotContain(s.Events, e => e.Kind == ModelEventKind.PropertyViolated);
        switch (mode)
        {
            case Mode.User:
                Assert.Equal(GuestOutcome.Finished, m.Outcome);
                Assert.Contains(s.Events, e => e.Kind == ModelEventKind.Signal && e.Aux == (byte)Signal.SIGBUS);
                break;
            case Mode.KernelFixup:
                Assert.Equal(GuestOutcome.Finished, m.Outcome);
                Assert.Contains(s.Events, e => e.Kind == ModelEventKind.Fixup);
                Assert.Equal(14, m.Task(m.WorkloadTask(0)).LastError);
                break;
            default:
                Assert.Equal(GuestOutcome.Oops, m.Outcome);
                Assert.Equal(Guest.PanicReason.KernelFault, m.Panic);
                break;
        }
    }
}
