using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// Which of a vCPU's enabled actions the timed driver takes: the hardware's order of events at an
/// instruction boundary (SDM Vol. 3 6.9: NMI before maskable interrupts), then KVM's (a page-ready
/// dequeued before entry), then entry, then the guest's next step. A vCPU whose thread is in the host
/// runs KVM's completion check before anything is injected (<see cref="InHost"/>). The checker takes every one.
/// </summary>
public static class NextAction
{
    /// <summary>
    /// The action vCPU <paramref name="v"/> of <paramref name="machine"/> takes among <paramref name="enabled"/>, its
    /// own listing; false when none is for the driver (parked).
    /// </summary>
    public static bool TryChoose(Machine machine, int v, ReadOnlySpan<MachineAction> enabled, out MachineAction chosen)
    {
        var inHost = InHost(machine.Vcpu(v).Run, machine.Protocol.Host.HltInGuest);
        var bestRank = int.MaxValue;
        chosen = default;
        foreach (var a in enabled)
        {
            var rank = Rank(a.Kind, inHost);
            if (rank < bestRank)
            {
                bestRank = rank;
                chosen = a;
            }
        }

        return bestRank != int.MaxValue;
    }

    /// <summary>Whether <paramref name="kind"/> is a vCPU's own action, one the driver takes when the vCPU's turn comes.</summary>
    public static bool IsVcpus(ActionKind kind) => Rank(kind, inHost: false) != int.MaxValue;

    /// <summary>
    /// Whether a vCPU in <paramref name="run"/> has its thread in the host, out of guest mode: between an exit and
    /// its entry, blocked in kvm_vcpu_block (KVM's artificial halt, or a guest HLT that exits, which
    /// <paramref name="hltInGuest"/> rules out), or in a synchronous fault.
    /// </summary>
    public static bool InHost(RunState run, bool hltInGuest) => run switch
    {
        RunState.InHost or RunState.HostHalted or RunState.HostStalled => true,
        RunState.GuestHalt => !hltInGuest,
        _ => false,
    };

    private static int Rank(ActionKind kind, bool inHost) => kind switch
    {
        // Out of guest mode the completion check comes before any injection. 5.7's vcpu_run calls
        // kvm_check_async_pf_completion after vcpu_block or vcpu_enter_guest returns, before the next
        // vcpu_enter_guest, whose inject_pending_event injects the page-ready #PF it queued before an NMI or
        // an interrupt. 5.8+'s vcpu_enter_guest serves KVM_REQ_APF_READY (557a961abbe0) before KVM_REQ_EVENT's
        // inject_pending_event (later kvm_check_and_inject_events), and the page-ready's HYPERVISOR_CALLBACK_VECTOR
        // 0xf3 outranks LOCAL_TIMER_VECTOR 0xec (SDM Vol. 3A 10.8.3, 11.8.3 in newer editions: the higher
        // priority class first). In guest mode an interrupt is taken at the next instruction boundary, and the
        // check waits for the exit.
        ActionKind.Dequeue when inHost => 0,
        ActionKind.DeliverNmi => 1,
        ActionKind.DeliverInterrupt => 2,
        ActionKind.Dequeue => 3,
        ActionKind.Enter => 4,
        // kvm_vcpu_block returns for a completion the vCPU cannot dequeue: the halt ends and it retries.
        ActionKind.Unblock => 4,
        ActionKind.Step => 5,
        _ => int.MaxValue,
    };
}
