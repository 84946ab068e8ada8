using Vexlab.Model.Arch;

namespace Vexlab.Model.Tests.Arch;

/// <summary>SDM Vol. 3A 6.15 "Interrupt 8", Tables 6-4 and 6-5, against KVM's kvm_multiple_exception().</summary>
public sealed class DoubleFaultTests
{
    private enum C
    {
        Benign,
        Contributory,
        PageFault,
    }

    // Independent transcription of SDM Vol. 3A, Table 6-4 for vectors 0-21.
    private static readonly int[] s_sdmContributory = [0, 10, 11, 12, 13, 21];
    private static readonly int[] s_sdmPageFault = [14, 20];

    // KVM exception_class() (arch/x86/kvm/x86.c, without CET exposed): DE TS NP SS GP / PF.
    private static readonly int[] s_kvmContributory = [0, 10, 11, 12, 13];
    private static readonly int[] s_kvmPageFault = [14];

    public static TheoryData<int, int, DoubleFaultRules> AllPairs()
    {
        var data = new TheoryData<int, int, DoubleFaultRules>();
        foreach (var rules in new[] { DoubleFaultRules.Sdm, DoubleFaultRules.Kvm })
        {
            for (var first = 0; first <= 21; first++)
            {
                for (var second = 0; second <= 21; second++)
                {
                    if (first == 15 || second == 15 || second == 8)
                    {
                        continue;
                    }

                    data.Add(first, second, rules);
                }
            }
        }

        return data;
    }

    [Fact]
    public void AllPairs_Has420PerRuleSet()
    {
        Assert.Equal(2 * 21 * 20, AllPairs().Count);
    }

    // SDM Vol. 3A, Table 6-5 written as class x class, plus the #DF row from 6.15 ("Interrupt 8").
    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Combine_MatchesSdmTable6_5(int first, int second, DoubleFaultRules rules)
    {
        Assert.Equal(Expected(first, second, rules), DoubleFault.Combine(first, second, rules));
    }

    [Theory]
    [InlineData(Vectors.PF, Vectors.VE, DoubleFaultOutcome.DoubleFault)]
    [InlineData(Vectors.VE, Vectors.PF, DoubleFaultOutcome.DoubleFault)]
    [InlineData(Vectors.VE, Vectors.VE, DoubleFaultOutcome.DoubleFault)]
    [InlineData(Vectors.GP, Vectors.PF, DoubleFaultOutcome.Serial)]
    [InlineData(Vectors.PF, Vectors.GP, DoubleFaultOutcome.DoubleFault)]
    [InlineData(Vectors.NMI, Vectors.PF, DoubleFaultOutcome.Serial)]
    [InlineData(Vectors.DF, Vectors.PF, DoubleFaultOutcome.TripleFault)]
    [InlineData(Vectors.DF, Vectors.DB, DoubleFaultOutcome.Serial)]
    [InlineData(32, Vectors.PF, DoubleFaultOutcome.Serial)]
    public void Combine_SdmExamples(int first, int second, DoubleFaultOutcome expected)
    {
        Assert.Equal(expected, DoubleFault.Combine(first, second));
    }

    // KVM: #VE is benign, so #PF while delivering #VE is serial; any exception on top of #DF is a triple fault.
    [Theory]
    [InlineData(Vectors.VE, Vectors.PF, DoubleFaultOutcome.Serial)]
    [InlineData(Vectors.PF, Vectors.VE, DoubleFaultOutcome.Serial)]
    [InlineData(Vectors.PF, Vectors.PF, DoubleFaultOutcome.DoubleFault)]
    [InlineData(Vectors.DF, Vectors.DB, DoubleFaultOutcome.TripleFault)]
    // An NMI is injected through nmi_injected, not kvm_multiple_exception(): it waits for the #DF.
    [InlineData(Vectors.DF, Vectors.NMI, DoubleFaultOutcome.Serial)]
    [InlineData(Vectors.PF, Vectors.NMI, DoubleFaultOutcome.Serial)]
    public void Combine_KvmExamples(int first, int second, DoubleFaultOutcome expected)
    {
        Assert.Equal(expected, DoubleFault.Combine(first, second, DoubleFaultRules.Kvm));
    }

    [Theory]
    [InlineData(Vectors.PF, DoubleFaultRules.Sdm)]
    [InlineData(Vectors.DF, DoubleFaultRules.Sdm)]
    [InlineData(Vectors.DE, DoubleFaultRules.Kvm)]
    public void Combine_DfAsSecond_Throws(int first, DoubleFaultRules rules)
    {
        Assert.Throws<ArgumentException>(() => DoubleFault.Combine(first, Vectors.DF, rules));
    }

    [Theory]
    [InlineData(15, Vectors.PF)]
    [InlineData(Vectors.PF, 15)]
    public void Combine_Reserved_Throws(int first, int second)
    {
        Assert.Throws<ArgumentException>(() => DoubleFault.Combine(first, second));
    }

    private static C ClassOf(int vector, DoubleFaultRules rules)
    {
        var (contributory, pageFault) = rules == DoubleFaultRules.Sdm
            ? (s_sdmContributory, s_sdmPageFault)
            : (s_kvmContributory, s_kvmPageFault);
        return pageFault.Contains(vector) ? C.PageFault : contributory.Contains(vector) ? C.Contributory : C.Benign;
    }

    private static DoubleFaultOutcome Expected(int first, int second, DoubleFaultRules rules)
    {
        var b = ClassOf(second, rules);
        if (first == 8)
        {
            // SDM 6.15: contributory or page fault while calling the #DF handler -> shutdown; benign -> serial.
            // KVM kvm_multiple_exception(): prev_nr == DF_VECTOR -> triple fault, for every exception; an NMI
            // (vector 2) never reaches it (nmi_injected) and waits for the #DF.
            return (rules == DoubleFaultRules.Kvm && second != 2) || b != C.Benign ? DoubleFaultOutcome.TripleFault : DoubleFaultOutcome.Serial;
        }

        return (ClassOf(first, rules), b) switch
        {
            (C.Contributory, C.Contributory) => DoubleFaultOutcome.DoubleFault,
            (C.PageFault, C.Contributory) => DoubleFaultOutcome.DoubleFault,
            (C.PageFault, C.PageFault) => DoubleFaultOutcome.DoubleFault,
            _ => DoubleFaultOutcome.Serial,
        };
    }
}
