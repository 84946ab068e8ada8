using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Machine;

namespace Vexlab.Checking.Tests.Models;

/// <summary>
/// Under the 5.7 host (kvm-pf) an NMI raised while a completion waits on the done list does not come before the
/// page-ready: the NMI's exit is followed by vcpu_run's kvm_check_async_pf_completion, which queues the page-ready #PF,
/// and inject_pending_event injects that first; the NMI follows at the #PF handler's first instruction, through the NMI
/// window (#PF delivery does not block NMIs). A counterexample with the completion moved before the NMI used to replay.
/// </summary>
public sealed class PageReadyBeforeNmiTests
{
    private const string NmiOrder = """
        name: nmi-order
        vcpus: 1
        pages: 1
        host_absent: [0]
        nmi_touch_page: -1
        bounds: {nmis: 1}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0"}
          - {name: c, mode: user, vcpu: 0, program: "compute; compute; compute"}
        invariants:
          - {name: nmi-before-ready, expr: "vcpu0.nmi_blocked == 1 and sleeping == 1 => in_flight == 1"}
        """;

    [Fact]
    public void A_completion_moved_before_the_nmi_no_longer_confirms()
    {
        var request = CheckRequest.ForFile(ModelFile.Parse(NmiOrder, "nmi-order.yaml"), "kvm-pf", [], ["nmi-before-ready"]);
        var v = ModelCheck.Run(request, new CheckerOptions { Workers = 1 }).Result.Violations.Single();
        using var system = ModelCheck.BuildSystem(request);

        // The search's counterexample: a sleeps on its not-present #PF, c computes, the NMI comes while a's page is in flight.
        Assert.Equal([ActionKind.RaiseNmi, ActionKind.Complete], v.Actions.TakeLast(2).Select(a => MachineAction.Unpack(a).Kind));
        Assert.True(CounterexampleCheck.Confirm(system, v.Actions, v.Property, -1).Holds);

        // The completion first, then the NMI: its exit's check injects the page-ready, and the NMI is still pending.
        ulong[] swapped = [.. v.Actions.SkipLast(2), v.Actions[^1], v.Actions[^2]];
        Assert.Equal(new Confirmation(false, "the last step does not break nmi-before-ready"), CounterexampleCheck.Confirm(system, swapped, v.Property, -1));

        // The entry injects the #PF, and the NMI comes at its handler's first instruction, before the handler wakes a.
        ulong[] entered = [.. swapped, new MachineAction(ActionKind.Enter, 0, 0).Pack(), new MachineAction(ActionKind.DeliverNmi, 0, 0).Pack()];
        Assert.True(CounterexampleCheck.Confirm(system, entered, v.Property, -1).Holds);
    }
}
