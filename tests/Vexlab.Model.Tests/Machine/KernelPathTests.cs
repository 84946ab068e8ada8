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
}
