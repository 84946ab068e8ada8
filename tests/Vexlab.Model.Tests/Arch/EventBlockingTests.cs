using Vexlab.Model.Arch;

namespace Vexlab.Model.Tests.Arch;

/// <summary>SDM Vol. 3A 6.7.1, 6.8.1, 6.8.3 and 10.8.3.1; Vol. 3C 26.3.1.5; KVM vmx_nmi_blocked().</summary>
public sealed class EventBlockingTests
{
    public enum TprRelation
    {
        Below,
        Equal,
        Above,
    }

    private const byte Vector = 0x55;

    public static TheoryData<bool, InterruptShadow, bool, TprRelation> AllStates()
    {
        var data = new TheoryData<bool, InterruptShadow, bool, TprRelation>();
        foreach (var @if in new[] { false, true })
        {
            foreach (var shadow in new[] { InterruptShadow.None, InterruptShadow.Sti, InterruptShadow.MovSs })
            {
                foreach (var nmiBlocked in new[] { false, true })
                {
                    foreach (var relation in new[] { TprRelation.Below, TprRelation.Equal, TprRelation.Above })
                    {
                        data.Add(@if, shadow, nmiBlocked, relation);
                    }
                }
            }
        }

        return data;
    }

    [Fact]
    public void AllStates_Has36()
    {
        Assert.Equal(36, AllStates().Count);
    }

    // SDM 6.8.1 (IF), 6.8.3 (STI / MOV SS shadow), 10.8.3.1 (class strictly above PPR[7:4]).
    [Theory]
    [MemberData(nameof(AllStates))]
    public void CanAcceptInterrupt_AllCombinations(bool @if, InterruptShadow shadow, bool nmiBlocked, TprRelation relation)
    {
        var s = State(@if, shadow, nmiBlocked, relation);
        var expected = @if && shadow == InterruptShadow.None && relation == TprRelation.Below;
        Assert.Equal(expected, EventBlocking.CanAcceptInterrupt(s, Vector));
    }

    // SDM 6.7.1 (NMI blocking), 26.3.1.5 (MOV SS always, STI on some CPUs); KVM vmx_nmi_blocked() includes STI.
    [Theory]
    [MemberData(nameof(AllStates))]
    public void CanAcceptNmi_AllCombinations(bool @if, InterruptShadow shadow, bool nmiBlocked, TprRelation relation)
    {
        var s = State(@if, shadow, nmiBlocked, relation);
        Assert.Equal(!nmiBlocked && shadow == InterruptShadow.None, EventBlocking.CanAcceptNmi(s, stiBlocksNmi: true));
        Assert.Equal(!nmiBlocked && shadow != InterruptShadow.MovSs, EventBlocking.CanAcceptNmi(s, stiBlocksNmi: false));
        Assert.Equal(EventBlocking.CanAcceptNmi(s, stiBlocksNmi: true), EventBlocking.CanAcceptNmi(s));
    }

    // SDM 6.8.1 and 26.3.1.5: no interruptibility check applies to exceptions.
    [Theory]
    [MemberData(nameof(AllStates))]
    public void CanDeliverException_AlwaysTrue(bool @if, InterruptShadow shadow, bool nmiBlocked, TprRelation relation)
    {
        var s = State(@if, shadow, nmiBlocked, relation);
        Assert.True(EventBlocking.CanDeliverException(s, Vectors.PF));
        Assert.True(EventBlocking.CanDeliverException(s, Vectors.VE));
    }

    // SDM 6.8.3: a MOV SS / POP SS shadow inhibits debug exceptions and single-step traps; all other faults
    // still come; an STI shadow holds no exception.
    [Theory]
    [InlineData(Vectors.DB, InterruptShadow.None, true)]
    [InlineData(Vectors.DB, InterruptShadow.Sti, true)]
    [InlineData(Vectors.DB, InterruptShadow.MovSs, false)]
    [InlineData(Vectors.GP, InterruptShadow.MovSs, true)]
    [InlineData(Vectors.PF, InterruptShadow.MovSs, true)]
    [InlineData(Vectors.VE, InterruptShadow.MovSs, true)]
    [InlineData(Vectors.BP, InterruptShadow.MovSs, true)]
    public void CanDeliverException_MovSsHoldsDebug_Sdm6_8_3(byte vector, InterruptShadow shadow, bool expected)
    {
        foreach (var @if in new[] { false, true })
        {
            var s = new InterruptState(@if, shadow, NmiBlocked: false, Tpr: 0, HighestInService: 0);
            Assert.Equal(expected, EventBlocking.CanDeliverException(s, vector));
        }
    }

    // SDM 10.8.3.1: PPR[7:4] = max(TPR[7:4], ISRV[7:4]); PPR[3:0] = TPR[3:0] only when TPR's class wins or ties.
    [Theory]
    [InlineData(0x00, 0x00, 0x00)]
    [InlineData(0x35, 0x00, 0x35)]
    [InlineData(0x35, 0x31, 0x35)]
    [InlineData(0x35, 0x3F, 0x35)]
    [InlineData(0x35, 0x41, 0x40)]
    [InlineData(0x00, 0xEC, 0xE0)]
    [InlineData(0xF0, 0xEC, 0xF0)]
    [InlineData(0x2A, 0xFF, 0xF0)]
    public void ProcessorPriority_Sdm10_8_3_1(int tpr, int isrv, int expected)
    {
        Assert.Equal(expected, EventBlocking.ProcessorPriority((byte)tpr, (byte)isrv));
    }

    // SDM 10.8.3.1: an in-service vector masks its own class and every class below.
    [Theory]
    [InlineData(0x00, 0x41, 0x41, false)]
    [InlineData(0x00, 0x41, 0x4F, false)]
    [InlineData(0x00, 0x41, 0x50, true)]
    [InlineData(0x00, 0x41, 0x3F, false)]
    [InlineData(0x60, 0x41, 0x50, false)]
    [InlineData(0x00, 0x00, 0x0F, false)]
    [InlineData(0x00, 0x00, 0x10, true)]
    public void CanAcceptInterrupt_WithInService(int tpr, int isrv, int vector, bool expected)
    {
        var s = new InterruptState(true, InterruptShadow.None, false, (byte)tpr, (byte)isrv);
        Assert.Equal(expected, EventBlocking.CanAcceptInterrupt(s, (byte)vector));
    }

    private static InterruptState State(bool @if, InterruptShadow shadow, bool nmiBlocked, TprRelation relation)
    {
        // The low nibble of TPR never matters for acceptance: only the class is compared.
        var tpr = relation switch
        {
            TprRelation.Below => (byte)0x4F,
            TprRelation.Equal => (byte)0x50,
            _ => (byte)0x60,
        };
        return new InterruptState(@if, shadow, nmiBlocked, tpr, 0);
    }
}
