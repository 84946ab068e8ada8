using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

public sealed class SmokeTests
{
    public static TheoryData<string> Protocols => new(Model.Protocols.ProtocolCatalog.Names);

    [Theory]
    [MemberData(nameof(Protocols))]
    public void UserTaskTouchingAbsentPages_Finishes(string protocol)
    {
        var m = Build(protocol, [User("a", 0, Touch(0), Touch(1)), User("b", 0, Touch(1), Touch(0))]);
        var script = new Script(m);
        script.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        Assert.Equal(1u, m.Task(m.WorkloadTask(0)).Iterations);
        Assert.Equal(1u, m.Task(m.WorkloadTask(1)).Iterations);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void KernelThreadTouchingAbsentPages_Finishes(string protocol)
    {
        var m = Build(protocol, [Kernel("k", 0, KTouch(0), KTouch(1)), User("u", 0, Touch(1))]);
        var script = new Script(m);
        script.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
    }

    [Fact]
    public void Fingerprint_IsStableForEqualStates()
    {
        var a = Build("kvm-pf-int", [User("a", 0, Touch(0))]);
        var b = Build("kvm-pf-int", [User("a", 0, Touch(0))]);
        Assert.Equal(a.Fingerprint(), b.Fingerprint());
        new Script(a).Do(ActionKind.Step);
        Assert.NotEqual(a.Fingerprint(), b.Fingerprint());
    }
}
