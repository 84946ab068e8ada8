using Vexlab.Model.Arch;

namespace Vexlab.Model.Tests.Arch;

/// <summary>SDM Vol. 3A 6.12.1.3 (interrupt gates clear IF), 6.7.1 (NMI blocking until IRET), 6.3.3 (INT 2).</summary>
public sealed class GateDeliveryTests
{
    [Theory]
    [InlineData(true, InterruptShadow.None, Vectors.PF)]
    [InlineData(true, InterruptShadow.Sti, Vectors.VE)]
    [InlineData(false, InterruptShadow.MovSs, Vectors.GP)]
    [InlineData(true, InterruptShadow.None, 0xEC)]
    public void Delivery_ClearsIfAndShadow_KeepsNmiBlocking(bool @if, InterruptShadow shadow, byte vector)
    {
        foreach (var nmiBlocked in new[] { false, true })
        {
            var before = new InterruptState(@if, shadow, nmiBlocked, 0x20, 0x31);
            var after = GateDelivery.AfterDelivery(before, vector, isNmi: false);
            Assert.False(after.If);
            Assert.Equal(InterruptShadow.None, after.Shadow);
            Assert.Equal(nmiBlocked, after.NmiBlocked);
            Assert.Equal(before.Tpr, after.Tpr);
            Assert.Equal(before.HighestInService, after.HighestInService);
        }
    }

    // SDM 6.7.1: NMI delivery blocks NMIs.
    [Fact]
    public void NmiDelivery_BlocksNmis()
    {
        var after = GateDelivery.AfterDelivery(InterruptState.Open, Vectors.NMI, isNmi: true);
        Assert.True(after.NmiBlocked);
        Assert.False(after.If);
        Assert.False(EventBlocking.CanAcceptNmi(after));
    }

    // SDM 6.3.3: INT 2 runs the NMI handler without NMI blocking.
    [Fact]
    public void Int2_DoesNotBlockNmis()
    {
        var after = GateDelivery.AfterDelivery(InterruptState.Open, Vectors.NMI, isNmi: false);
        Assert.False(after.NmiBlocked);
    }

    [Fact]
    public void NmiFlag_WithOtherVector_Throws()
    {
        Assert.Throws<ArgumentException>(() => GateDelivery.AfterDelivery(InterruptState.Open, Vectors.PF, isNmi: true));
    }

    // IRET restores IF from the saved RFLAGS and unblocks NMIs (SDM 6.7.1).
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Iret_RestoresIf_UnblocksNmi(bool nmiBlocked, bool savedIf)
    {
        var inHandler = new InterruptState(false, InterruptShadow.None, nmiBlocked, 0, 0);
        var after = GateDelivery.AfterIret(inHandler, savedIf);
        Assert.Equal(savedIf, after.If);
        Assert.False(after.NmiBlocked);
        Assert.Equal(InterruptShadow.None, after.Shadow);
    }

    // SDM 6.7.1: an IRET from an exception taken inside the NMI handler unblocks NMIs early (nested NMI).
    [Fact]
    public void IretFromPageFaultInsideNmi_UnblocksNmis()
    {
        var inNmi = GateDelivery.AfterDelivery(InterruptState.Open, Vectors.NMI, isNmi: true);
        var inPf = GateDelivery.AfterDelivery(inNmi, Vectors.PF, isNmi: false);
        Assert.True(inPf.NmiBlocked);
        var backInNmi = GateDelivery.AfterIret(inPf, savedIf: false);
        Assert.False(backInNmi.NmiBlocked);
        Assert.True(EventBlocking.CanAcceptNmi(backInNmi));
        Assert.False(EventBlocking.CanAcceptInterrupt(backInNmi, 0xEC));
    }
}
