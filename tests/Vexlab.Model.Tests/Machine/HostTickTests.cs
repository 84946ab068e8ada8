using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// The host's own scheduler tick (the simulator's host.hz): an external-interrupt exit of a vCPU
/// in guest mode, after which the 5.7 host checks completions before it enters again
/// (vcpu_run -> kvm_check_async_pf_completion). Only the driver takes it; the checker does not.
/// </summary>
public sealed class HostTickTests
{
    private static readonly MachineAction Tick = new(ActionKind.HostTick, 0, 0);

    [Fact]
    public void UnderKvmPf_TheHostTickExitsAVcpuInTheGuest_AndItReentersThroughTheHost()
    {
        var m = Build("kvm-pf", [Spinner("spin", TaskMode.User, 0)]);
        var s = new Script(m);
        Run(m, s);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        Assert.True(m.IsEnabled(Tick));

        var log = new EventLog();
        m.Apply(Tick, ref log);
        Assert.Contains(log.Events, e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.ExternalInterrupt);
        Assert.Equal(RunState.InHost, m.Vcpu(0).Run);

        // In the host it cannot exit again; the entry follows, and nothing is injected for the host's own interrupt.
        Assert.False(m.IsEnabled(Tick));
        var entry = s.Do(ActionKind.Enter);
        Assert.DoesNotContain(entry, e => e.Kind is ModelEventKind.ExceptionDelivered or ModelEventKind.InterruptRaised);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
    }

    [Theory]
    [InlineData("kvm-pf-int")]
    [InlineData("kvm-halt")]
    [InlineData("sync")]
    [InlineData("ve")]
    public void OtherHosts_DoNotWaitForAnExit_SoTheHostTickIsNotTaken(string protocol)
    {
        var m = Build(protocol, [Spinner("spin", TaskMode.User, 0)]);
        var s = new Script(m);
        Run(m, s);
        Assert.False(m.IsEnabled(Tick));
    }

    [Fact]
    public void TheCheckerNeverListsTheHostTick()
    {
        var m = Build("kvm-pf", [Spinner("spin", TaskMode.User, 0)]);
        var s = new Script(m);
        Run(m, s);
        Assert.True(m.IsEnabled(Tick));
        foreach (var a in s.Enabled())
        {
            Assert.NotEqual(ActionKind.HostTick, a.Kind);
        }
    }

    /// <summary>Takes vCPU 0 into the guest (past an entry the 5.7 host may start with) and runs one step there.</summary>
    private static void Run(Model.Machine.Machine m, Script s)
    {
        if (m.Vcpu(0).Run == RunState.InHost)
        {
            s.Do(ActionKind.Enter);
        }

        s.Do(ActionKind.Step);
    }
}
