using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// Which of a vCPU's enabled actions the timed driver takes: the hardware's order of events at an
/// instruction boundary (SDM Vol. 3 6.9: NMI before maskable interrupts), then KVM's (a page-ready
/// dequeued before entry), then entry, then the guest's next step. The checker takes every one.
/// </summary>
public static class NextAction
{
    /// <summary>The action to take among <paramref name="enabled"/>; false when none is for the driver (parked).</summary>
    public static bool TryChoose(ReadOnlySpan<MachineAction> enabled, out MachineAction chosen)
    {
        var bestRank = int.MaxValue;
        chosen = default;
        foreach (var a in enabled)
        {
            var rank = Rank(a.Kind);
            if (rank < bestRank)
            {
                bestRank = rank;
                chosen = a;
            }
        }

        return bestRank != int.MaxValue;
    }

    /// <summary>Whether <paramref name="kind"/> is a vCPU's own action, one the driver takes when the vCPU's turn comes.</summary>
    public static bool IsVcpus(ActionKind kind) => Rank(kind) != int.MaxValue;

    private static int Rank(ActionKind kind) => kind switch
    {
        ActionKind.DeliverNmi => 0,
        ActionKind.DeliverInterrupt => 1,
        ActionKind.Dequeue => 2,
        ActionKind.Enter => 3,
        // kvm_vcpu_block returns for a completion the vCPU cannot dequeue: the halt ends and it retries.
        ActionKind.Unblock => 3,
        ActionKind.Step => 4,
        _ => int.MaxValue,
    };
}
