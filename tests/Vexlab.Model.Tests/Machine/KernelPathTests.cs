using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// Paths of the async page fault checked line by line against the kernel's code
/// (arch/x86/kvm/mmu/mmu.c, arch/x86/kvm/x86.c, arch/x86/kernel/kvm.c); docs/kvm-facts.md has the sources.
/// </summary>
public sealed class KernelPathTests
{
    /// <summary>
    /// kvm_arch_setup_async_pf: alloc_apf_token() runs before kvm_setup_async_pf(), whose
    /// ASYNC_PF_PER_VCPU test refuses a full queue; the refused (synchronous) fault still uses up
    /// an id, so the next token is the same whether the queue was full or not.
    /// </summary>
    [Theory]
    [InlineData("1", true)]
    [InlineData("64", false)]
    public void AllocApfToken_RunsBeforeTheQueueLimit(string maxPerVcpu, bool synchronous)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), User("b", 0, Touch(1))], knobs: [("host.apf.max_per_vcpu", maxPerVcpu)]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        Assert.Equal(2u, m.Vcpu(0).ApfNextId);

        // b's fault: refused for the full queue (a synchronous stall), or async work with id 2 (token 0x2000 on vCPU0).
        var fault = s.StepUntil(ModelEventKind.VmExit);
        Assert.Equal(synchronous, fault.Exists(e => e.Kind == ModelEventKind.SyncStall));
        Assert.Equal(!synchronous, fault.Exists(e => e.Kind == ModelEventKind.AsyncStarted && e.Token == 0x2000));
        Assert.Equal(3u, m.Vcpu(0).ApfNextId);
    }

    /// <summary>
    /// sysvec_kvm_asyncpf_interrupt (b1d405751cd5) acknowledges the LAPIC, then reads the token,
    /// wakes, clears the slot and writes MSR_KVM_ASYNC_PF_ACK only if apf_reason.enabled.
    /// kvm_cpu_down_prepare runs kvm_guest_cpu_offline (kvm_pv_disable_apf, apf_task_wake_all)
    /// with interrupts off: a page-ready raised before it is taken after, and is ignored; it
    /// leaves no dummy node for a token whose waiter apf_task_wake_all already woke.
    /// </summary>
    [Theory]
    [InlineData(true, 0, false)]
    [InlineData(false, 0, true)]
    public void PageReadyInterrupt_AfterApfDisable_IsIgnored(bool disableFirst, int nodesAfter, bool acked)
    {
        var offline = disableFirst
            ? Kernel("offline", 0, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti))
            : Kernel("offline", 0, Op(MicroOp.Cli), Op(MicroOp.Compute), Op(MicroOp.Sti));
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), offline], absentCount: 1);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        s.StepTo(disableFirst ? MicroOp.ApfDisable : MicroOp.Compute);

        // Interrupts are off: the page comes in and its page-ready is raised but not taken.
        s.CompleteAny();
        s.Do(ActionKind.Dequeue, 0, 0);
        var token = m.Vcpu(0).ApfToken;
        Assert.NotEqual(0u, token);
        s.Do(ActionKind.Step, 0);
        Assert.Equal(disableFirst ? 0 : 1, m.SleepNodeCount());

        // STI, then the instruction its shadow covers; the interrupt comes after both.
        s.Do(ActionKind.Step, 0);
        Assert.False(s.IsEnabled(ActionKind.DeliverInterrupt, 0));
        s.Do(ActionKind.Step, 0);
        Assert.True(s.IsEnabled(ActionKind.DeliverInterrupt, 0));
        s.Do(ActionKind.DeliverInterrupt, 0);
        var handler = s.StepTo(MicroOp.ExitPreempt);
        Assert.Equal(nodesAfter, m.SleepNodeCount());
        Assert.Equal(acked, handler.Exists(e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.MsrWrite));
        Assert.Equal(acked ? 0u : token, m.Vcpu(0).ApfToken);
    }
}
