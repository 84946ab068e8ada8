using Vexlab.Model.Configuration;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Tests.Protocols;

/// <summary>
/// KnobCatalog.RequireUsed: a --set of a known knob that none of a command's protocols reads is refused (it would change
/// nothing and be reported nowhere); one some protocol reads, or a key that is not a knob, passes.
/// </summary>
public sealed class KnobUseTests
{
    public static TheoryData<string, string[], string?> Cases => new()
    {
        { "guest.ve.info_store", ["ve"], null },
        { "guest.ve.info_store", ["sync", "ve"], null },
        { "guest.ve.info_store", ["sync"], "--set: guest.ve.info_store: sync does not use this knob (it applies to ve)" },
        { "guest.ve.info_store", ["sync", "kvm-pf"], "--set: guest.ve.info_store: none of sync, kvm-pf uses this knob (it applies to ve)" },
        { "host.apf.token_never_zero", ["ve"], "--set: host.apf.token_never_zero: ve does not use this knob (it applies to kvm-halt, kvm-pf, kvm-pf-int)" },
        { "host.apf.token_never_zero", ["kvm-halt"], null },

        // Scenario keys are not knobs: the scenario resolves them.
        { "guest.vcpus", ["sync"], null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RefusesOnlyAKnobNoProtocolReads(string key, string[] protocols, string? error)
    {
        var e = Record.Exception(() => KnobCatalog.RequireUsed(key, protocols, "--set"));
        if (error is null)
        {
            Assert.Null(e);
        }
        else
        {
            Assert.Equal(error, Assert.IsType<InputException>(e).Message);
        }
    }
}
