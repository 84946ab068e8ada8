using Vexlab.Simulation.Engine;

namespace Vexlab.Simulation.Tests;

public class SimRandomTests
{
    [Fact]
    public void Seed1_FirstOutputs_ArePinned()
    {
        // Cross-checked with an independent Python xoshiro256** + splitmix64 implementation.
        var rng = new SimRandom(1);
        ulong[] expected =
        [
            0xb3f2af6d0fc710c5UL, 0x853b559647364ceaUL, 0x92f89756082a4514UL, 0x642e1c7bc266a3a7UL, 0xb27a48e29a233673UL,
        ];
        foreach (var e in expected)
        {
            Assert.Equal(e, rng.NextUInt64());
        }
    }

    [Fact]
    public void SplitMix64_Seed1_MatchesReference()
    {
        ulong state = 1;
        Assert.Equal(0x910a2dec89025cc1UL, SimRandom.SplitMix64(ref state));
    }

    [Fact]
    public void SameSeed_SameSequence()
    {
        var a = new SimRandom(42);
        var b = new SimRandom(42);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(a.NextUInt64(), b.NextUInt64());
        }
    }

    [Fact]
    public void Fork_IsDeterministic_AndIndependentOfDraws()
    {
        var master = new SimRandom(7);
        var f1 = master.Fork(3);
        for (var i = 0; i < 10; i++)
        {
            master.NextUInt64();
        }

        var f2 = master.Fork(3);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(f1.NextUInt64(), f2.NextUInt64());
        }
    }

    [Fact]
    public void Fork_DifferentStreamIds_Differ()
    {
        var master = new SimRandom(7);
        var streams = Enumerable.Range(0, 64).Select(i => master.Fork((ulong)i)).ToArray();
        var firsts = new HashSet<ulong>();
        foreach (var s in streams)
        {
            var copy = s;
            Assert.True(firsts.Add(copy.NextUInt64()));
        }

        // No stream equals the master stream either.
        var m = new SimRandom(7);
        Assert.DoesNotContain(m.NextUInt64(), firsts);
    }

    [Fact]
    public void Fork_ByName_UsesStableHash()
    {
        var master = new SimRandom(9);
        var a = master.Fork("backing");
        var b = master.Fork(SimRandom.StreamId("backing"));
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
        var c = master.Fork("vcpu/0");
        var d = master.Fork("vcpu/1");
        Assert.NotEqual(c.NextUInt64(), d.NextUInt64());
    }

    [Fact]
    public void Fork_StreamsAreUncorrelated()
    {
        // Bitwise agreement between two forked streams should be ~50 %.
        var master = new SimRandom(11);
        var a = master.Fork(1);
        var b = master.Fork(2);
        long same = 0;
        const int N = 10_000;
        for (var i = 0; i < N; i++)
        {
            same += 64 - (long)ulong.PopCount(a.NextUInt64() ^ b.NextUInt64());
        }

        var fraction = same / (64.0 * N);
        Assert.InRange(fraction, 0.49, 0.51);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(7UL)]
    [InlineData(1000UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData((1UL << 63) + 1)]
    public void NextBelow_StaysInBounds(ulong bound)
    {
        var rng = new SimRandom(123);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(rng.NextBelow(bound) < bound);
        }
    }

    [Fact]
    public void NextBelow_Zero_Throws()
    {
        var rng = new SimRandom(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextBelow(0));
    }

    [Fact]
    public void NextBelow_IsRoughlyUniform()
    {
        var rng = new SimRandom(5);
        var counts = new int[6];
        const int N = 60_000;
        for (var i = 0; i < N; i++)
        {
            counts[rng.NextBelow(6)]++;
        }

        foreach (var c in counts)
        {
            Assert.InRange(c, 9_500, 10_500);
        }
    }

    [Fact]
    public void NextInRange_CoversRange()
    {
        var rng = new SimRandom(3);
        var seen = new bool[5];
        for (var i = 0; i < 1000; i++)
        {
            var v = rng.NextInRange(-2, 3);
            Assert.InRange(v, -2, 2);
            seen[v + 2] = true;
        }

        Assert.All(seen, Assert.True);
    }

    [Fact]
    public void NextBool_HonorsRatio()
    {
        var rng = new SimRandom(8);
        Assert.False(rng.NextBool(Ratio.Zero));
        Assert.True(rng.NextBool(Ratio.One));
        var p = Ratio.FromPercent(30);
        var hits = 0;
        for (var i = 0; i < 100_000; i++)
        {
            if (rng.NextBool(p))
            {
                hits++;
            }
        }

        Assert.InRange(hits, 29_300, 30_700);
    }

    [Fact]
    public void Ratio_Validates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ratio(2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ratio(0, 0));
        Assert.Equal(new Ratio(250_000_000, Ratio.PartsPerBillion), Ratio.FromDouble(0.25));
        Assert.Equal(new Ratio(70, 100), Ratio.FromPercent(30).Complement);
    }

    [Fact]
    public void NextUnitDouble_InHalfOpenUnitInterval()
    {
        var rng = new SimRandom(99);
        var sum = 0.0;
        for (var i = 0; i < 100_000; i++)
        {
            var d = rng.NextUnitDouble();
            Assert.InRange(d, 0.0, 0.9999999999999999);
            sum += d;
        }

        Assert.InRange(sum / 100_000, 0.495, 0.505);
    }

    [Fact]
    public void NextStandardNormal_HasUnitMoments()
    {
        var rng = new SimRandom(17);
        double sum = 0, sumSq = 0;
        const int N = 100_000;
        for (var i = 0; i < N; i++)
        {
            var x = rng.NextStandardNormal();
            sum += x;
            sumSq += x * x;
        }

        Assert.InRange(sum / N, -0.02, 0.02);
        Assert.InRange(sumSq / N, 0.98, 1.02);
    }
}
