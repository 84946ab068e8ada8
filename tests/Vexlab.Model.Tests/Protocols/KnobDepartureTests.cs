using Vexlab.Model.Protocols;

namespace Vexlab.Model.Tests.Protocols;

/// <summary>
/// KnobCatalog.Departures: the knob values no KVM host on x86 runs with, which the checker prints beside a verdict
/// so that a counterexample needing one is not read as an execution of a real host. A kernel's own history (a
/// bug's knob set to its buggy value) is not a departure: some kernel ran it.
/// </summary>
public sealed class KnobDepartureTests
{
    public static TheoryData<string, string, string?> Cases => new()
    {
        // kvm_arch_setup_async_pf: token = (apf.id++ << 12) | vcpu_id in a u32, so 20 bits of id survive.
        { "host.apf.token_id_bits", "20", null },
        { "host.apf.token_id_bits", "2", "token ids wrap after 4 faults of a vCPU, KVM's after 1,048,576 (kvm_arch_setup_async_pf)" },
        { "host.apf.token_id_bits", "4", "token ids wrap after 16 faults of a vCPU, KVM's after 1,048,576 (kvm_arch_setup_async_pf)" },

        // kvm_arch_async_page_present(vcpu, work) injects into the work's own vCPU; msr.rst only tells guests not to rely on it.
        { "host.apf.ready_target", "same", null },
        { "host.apf.ready_target", "any", "page-ready may reach a vCPU other than the fault's, which KVM on x86 never does (kvm_arch_async_page_present)" },

        // Kernels before 6f3c1fc53d86 gave token 0: history, not a departure.
        { "host.apf.token_never_zero", "false", null },
        { "host.apf.require_no_pending_event", "false", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NamesOnlyValuesNoX86HostRuns(string key, string value, string? why)
    {
        var found = KnobCatalog.Departures([new(key, value)]);
        if (why is null)
        {
            Assert.Empty(found);
        }
        else
        {
            Assert.Equal(new KnobDeparture(key, value, why), Assert.Single(found));
        }
    }

    [Fact]
    public void ListsSeveralInKeyOrder()
    {
        var found = KnobCatalog.Departures([new("host.apf.token_id_bits", "2"), new("host.apf.ready_target", "any"), new("guest.vcpus", "2")]);
        Assert.Equal(["host.apf.ready_target", "host.apf.token_id_bits"], found.Select(d => d.Key));
    }
}
