using Vexlab.Model.Machine;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A triple fault ends the VM in the host: vcpu_enter_guest serves KVM_REQ_TRIPLE_FAULT before it injects anything
/// (exit_reason = KVM_EXIT_SHUTDOWN and a return to the VMM, 5.7 arch/x86/kvm/x86.c), so no kvm_entry follows the exit
/// whose completion check made it, and the guest runs nothing after it.
/// </summary>
public sealed class TripleFaultLawTests
{
    /// <summary>
    /// kernel-heavy on one vCPU: four tasks fault in turn, and their completions wait on the done list for the next exit.
    /// Without kvm_can_do_async_pf's exception.pending test (B3, host.apf.require_no_pending_event=false) that exit's
    /// kvm_check_async_pf_completion dequeues them all: a page-ready on a page-ready makes #DF, a third on the #DF
    /// requests the triple fault (kvm_multiple_exception).
    /// </summary>
    private const string OneVcpuKernelHeavy = """
        name: one-vcpu-kernel-heavy
        duration: 300ms
        guest:
          vcpus: 1
          memory: 32MiB
          tick: 4ms
        host:
          memory_limit: 16MiB
          backing: swap-nvme
          absent_at_start: 50%
        regions:
          - name: buf
            size: 32MiB
        tasks:
          - name: reader
            count: 2
            loop: read buf random; compute 5
          - name: writer
            count: 2
            loop: write buf random; compute 5
          - name: cpu
            count: 2
            loop: compute 20
        """;

    [Theory]
    [InlineData("seed=1")]
    [InlineData("seed=2")]
    [InlineData("seed=3")]
    public void UnderKvmPfWithoutThePendingEventTest_TheTripleFaultEndsTheRunInTheHost(string seed)
    {
        var (r, trace) = ScenarioRuns.RunTraced(OneVcpuKernelHeavy, "kvm-pf", seed, "host.apf.require_no_pending_event=false");
        var records = trace.Records;

        Assert.Equal(GuestOutcome.VmError, r.Outcome);
        Assert.True(r.SimulatedNs < 300_000_000, $"the run went on to its end ({r.SimulatedNs} ns) after the shutdown");
        var shutdown = records.Last(x => x.Kind == TraceKind.Violation && x.Label == "no-protocol-double-fault");
        var lastExit = records.FindLastIndex(x => x.Kind == TraceKind.KvmExit && x.Vcpu == shutdown.Vcpu);
        Assert.True(lastExit >= 0);
        Assert.True(records[lastExit].TimeNs <= shutdown.TimeNs);

        // The exit whose completion check dequeued the page-ready is the vCPU's last: no kvm_entry after it.
        var entryAfter = records.FindIndex(lastExit, x => x.Kind == TraceKind.KvmEntry && x.Vcpu == shutdown.Vcpu);
        Assert.True(entryAfter < 0, $"kvm_entry at {(entryAfter < 0 ? 0 : records[entryAfter].TimeNs)} ns after the exit at {records[lastExit].TimeNs} ns that ended in KVM_EXIT_SHUTDOWN");

        // No guest work from the exit on, and vcpu_ns' split leaves the vCPU out of the guest.
        Assert.DoesNotContain(records, x => x.Kind == TraceKind.TaskWork && x.TimeNs > records[lastExit].TimeNs);
        var lastSplit = records.Last(x => x.Kind == TraceKind.VcpuTime && x.Vcpu == shutdown.Vcpu);
        Assert.NotEqual((long)VcpuCategory.Guest, lastSplit.Value);
    }
}
