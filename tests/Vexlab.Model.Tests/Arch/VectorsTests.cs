using Vexlab.Model.Arch;

namespace Vexlab.Model.Tests.Arch;

public sealed class VectorsTests
{
    // SDM Vol. 3A, Table 6-1: vector numbers and mnemonics.
    [Theory]
    [InlineData("14", 14)]
    [InlineData("PF", 14)]
    [InlineData("#PF", 14)]
    [InlineData("pf", 14)]
    [InlineData("0x0e", 14)]
    [InlineData("0X0E", 14)]
    [InlineData("VE", 20)]
    [InlineData("#ve", 20)]
    [InlineData("NMI", 2)]
    [InlineData("#DF", 8)]
    [InlineData("XF", 19)]
    [InlineData("#VC", 29)]
    [InlineData("15", 15)]
    [InlineData("255", 255)]
    public void TryParse_Accepts(string text, int expected)
    {
        Assert.True(Vectors.TryParse(text, out var vector));
        Assert.Equal(expected, vector);
    }

    [Theory]
    [InlineData("")]
    [InlineData("XX")]
    [InlineData("256")]
    [InlineData("0x")]
    [InlineData("0x100")]
    [InlineData("-1")]
    [InlineData("#")]
    [InlineData("reserved-15")]
    public void TryParse_Rejects(string text)
    {
        Assert.False(Vectors.TryParse(text, out _));
    }

    // SDM Vol. 3A, Table 6-1: 15 and 22-31 reserved by Intel; AMD APM Vol. 2 Table 8-1 defines 29 and 30.
    [Fact]
    public void Reserved_Is15And22To28And31()
    {
        int[] reserved = [15, 22, 23, 24, 25, 26, 27, 28, 31];
        for (var v = 0; v < 256; v++)
        {
            Assert.Equal(reserved.Contains(v), Vectors.IsReserved(v));
        }
    }

    [Fact]
    public void Mnemonics_RoundTrip()
    {
        for (var v = 0; v < 32; v++)
        {
            if (Vectors.IsReserved(v))
            {
                continue;
            }

            Assert.True(Vectors.TryParse(Vectors.Mnemonic(v), out var parsed));
            Assert.Equal(v, parsed);
        }

        Assert.Equal("#PF", Vectors.Mnemonic(Vectors.PF));
        Assert.Equal("NMI", Vectors.Mnemonic(Vectors.NMI));
        Assert.Equal("#VE", Vectors.Mnemonic(Vectors.VE));
    }

    // SDM Vol. 3A, Table 6-4 "Interrupt and Exception Classes".
    [Theory]
    [InlineData(0, ExceptionClass.Contributory)]
    [InlineData(1, ExceptionClass.Benign)]
    [InlineData(2, ExceptionClass.Benign)]
    [InlineData(9, ExceptionClass.Benign)]
    [InlineData(10, ExceptionClass.Contributory)]
    [InlineData(11, ExceptionClass.Contributory)]
    [InlineData(12, ExceptionClass.Contributory)]
    [InlineData(13, ExceptionClass.Contributory)]
    [InlineData(14, ExceptionClass.PageFault)]
    [InlineData(16, ExceptionClass.Benign)]
    [InlineData(18, ExceptionClass.Benign)]
    [InlineData(19, ExceptionClass.Benign)]
    [InlineData(20, ExceptionClass.PageFault)]
    [InlineData(21, ExceptionClass.Contributory)]
    [InlineData(32, ExceptionClass.Benign)]
    [InlineData(255, ExceptionClass.Benign)]
    public void Classify_SdmTable6_4(int vector, ExceptionClass expected)
    {
        Assert.Equal(expected, Vectors.Classify(vector));
    }

    // KVM exception_class(): #VE and #CP benign, only #PF page-fault class.
    [Theory]
    [InlineData(14, ExceptionClass.PageFault)]
    [InlineData(20, ExceptionClass.Benign)]
    [InlineData(21, ExceptionClass.Benign)]
    [InlineData(13, ExceptionClass.Contributory)]
    public void Classify_Kvm(int vector, ExceptionClass expected)
    {
        Assert.Equal(expected, Vectors.Classify(vector, DoubleFaultRules.Kvm));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(22)]
    [InlineData(31)]
    public void Classify_Reserved_Throws(int vector)
    {
        Assert.Throws<ArgumentException>(() => Vectors.Classify(vector));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(256)]
    public void OutOfRange_Throws(int vector)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Vectors.IsReserved(vector));
        Assert.Throws<ArgumentOutOfRangeException>(() => Vectors.Mnemonic(vector));
    }
}
