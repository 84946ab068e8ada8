using Vexlab.Model.Arch;

namespace Vexlab.Model.Tests.Arch;

/// <summary>SDM Vol. 3C 25.5.6 (2016 ed.; 26.5.7 / 27.5.x later): EPT violation to #VE conversion.</summary>
public sealed class VeConversionTests
{
    private static readonly VeConditions s_allPass = new(
        EptViolationVeControl: true, SuppressVeBit: false, Cr0Pe: true, DuringEventDelivery: false, BusyWord: 0);

    public static TheoryData<string, VeBlocker> SingleFailures() => new()
    {
        { "control", VeBlocker.ControlOff },
        { "suppress", VeBlocker.SuppressVe },
        { "pe", VeBlocker.ProtectedModeOff },
        { "delivery", VeBlocker.DuringEventDelivery },
        { "busy", VeBlocker.BusyWordSet },
    };

    [Fact]
    public void AllConditionsHold_BecomesVe()
    {
        Assert.Equal(VeDecision.VirtualizationException, VeConversion.Decide(s_allPass, out var blocker));
        Assert.Equal(VeBlocker.None, blocker);
    }

    // SDM 25.5.6.1: each condition failing alone turns the #VE into an EPT-violation VM exit.
    [Theory]
    [MemberData(nameof(SingleFailures))]
    public void OneConditionFails_VmExit(string failing, VeBlocker expected)
    {
        var c = Fail(s_allPass, failing);
        Assert.Equal(VeDecision.EptViolationExit, VeConversion.Decide(c, out var blocker));
        Assert.Equal(expected, blocker);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(0x80000000u)]
    [InlineData(VeConversion.BusyValue)]
    public void AnyNonZeroBusyWord_Blocks(uint busy)
    {
        Assert.Equal(VeDecision.EptViolationExit, VeConversion.Decide(s_allPass with { BusyWord = busy }, out var blocker));
        Assert.Equal(VeBlocker.BusyWordSet, blocker);
    }

    // The first failing condition in the SDM's order is reported.
    [Fact]
    public void SeveralFail_ReportsFirstInOrder()
    {
        var all = new VeConditions(false, true, false, true, 1);
        VeConversion.Decide(all, out var blocker);
        Assert.Equal(VeBlocker.ControlOff, blocker);
        VeConversion.Decide(all with { EptViolationVeControl = true }, out blocker);
        Assert.Equal(VeBlocker.SuppressVe, blocker);
        VeConversion.Decide(all with { EptViolationVeControl = true, SuppressVeBit = false }, out blocker);
        Assert.Equal(VeBlocker.ProtectedModeOff, blocker);
        VeConversion.Decide(all with { EptViolationVeControl = true, SuppressVeBit = false, Cr0Pe = true }, out blocker);
        Assert.Equal(VeBlocker.DuringEventDelivery, blocker);
    }

    // SDM 25.5.6.2: delivery writes FFFFFFFFH at offset 4 and exit reason 48 at offset 0.
    [Fact]
    public void Delivery_WritesBusyWordAndExitReason()
    {
        var info = VeInfo.WrittenOnDelivery(0x181, 0x7f00_1000, 0x1_2345_6000, 3);
        Assert.Equal(0xFFFFFFFFu, info.Busy);
        Assert.Equal(48u, info.ExitReason);
        Assert.Equal(0x181ul, info.ExitQualification);
        Assert.Equal(0x7f00_1000ul, info.GuestLinearAddress);
        Assert.Equal(0x1_2345_6000ul, info.GuestPhysicalAddress);
        Assert.Equal((ushort)3, info.EptpIndex);

        // A second violation before software releases the area is a VM exit; after release it is a #VE again.
        Assert.Equal(VeDecision.EptViolationExit, VeConversion.Decide(s_allPass with { BusyWord = info.Busy }, out _));
        Assert.Equal(VeDecision.VirtualizationException, VeConversion.Decide(s_allPass with { BusyWord = info.Released().Busy }, out _));
    }

    // SDM Table 25-1 (2016 ed.) / Linux struct vmx_ve_information.
    [Fact]
    public void Layout_Offsets()
    {
        Assert.Equal(0, VeConversion.OffsetExitReason);
        Assert.Equal(4, VeConversion.OffsetBusy);
        Assert.Equal(8, VeConversion.OffsetExitQualification);
        Assert.Equal(16, VeConversion.OffsetGuestLinear);
        Assert.Equal(24, VeConversion.OffsetGuestPhysical);
        Assert.Equal(32, VeConversion.OffsetEptpIndex);
    }

    private static VeConditions Fail(VeConditions c, string failing) => failing switch
    {
        "control" => c with { EptViolationVeControl = false },
        "suppress" => c with { SuppressVeBit = true },
        "pe" => c with { Cr0Pe = false },
        "delivery" => c with { DuringEventDelivery = true },
        "busy" => c with { BusyWord = 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(failing)),
    };
}
