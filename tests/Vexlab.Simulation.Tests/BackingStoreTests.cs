using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Engine;

namespace Vexlab.Simulation.Tests;

public class BackingStoreTests
{
    public static TheoryData<string, double> DocumentedMeans => new()
    {
        // name, documented mean in ns (docs/costs.md)
        { "swap-nvme", 80_000 },
        { "swap-sata", 120_000 },
        { "swap-hdd", 8_000_000 },
        { "optane", 9_000 },
        { "rdma", 10_000 },
        { "postcopy-net", 1_740_000 },  // 0.7 x 0.2 + 0.2 x 3 + 0.1 x 10 ms
        { "postcopy-net-vanilla", 10_680_000 },
        { "dax", 0.9 * 5_000 + 0.1 * 85_000 },
    };

    [Theory]
    [MemberData(nameof(DocumentedMeans))]
    public void SampleMean_IsNearDocumentedMean(string name, double documentedMeanNs)
    {
        var store = BackingStore.Create(name);
        // The analytic mean of the mixture is the documented one (NVMe/Optane tails add < 0.3 %).
        Assert.InRange(store.MeanNs, documentedMeanNs * 0.995, documentedMeanNs * 1.005);

        var rng = new SimRandom(1).Fork(name);
        double sum = 0;
        const int N = 100_000;
        for (var i = 0; i < N; i++)
        {
            var s = store.Sample(ref rng);
            Assert.True(s >= 1);
            sum += s;
        }

        Assert.InRange(sum / N, documentedMeanNs * 0.97, documentedMeanNs * 1.03);
    }

    [Fact]
    public void EveryKind_HasNameAndSource()
    {
        foreach (var kind in Enum.GetValues<BackingKind>())
        {
            if (kind == BackingKind.Custom)
            {
                continue;
            }

            var s = BackingStore.Create(kind);
            Assert.Equal(BackingStore.NameOf(kind), s.Name);
            Assert.True(BackingStore.TryParseKind(s.Name, out var parsed));
            Assert.Equal(kind, parsed);
            Assert.False(string.IsNullOrWhiteSpace(s.Source));
        }
    }

    [Fact]
    public void PostcopyNet_IsMultiModal()
    {
        var store = BackingStore.Create(BackingKind.PostcopyNet);
        var rng = new SimRandom(3);
        int fast = 0, mid = 0, slow = 0;
        const int N = 100_000;
        for (var i = 0; i < N; i++)
        {
            var s = store.Sample(ref rng);
            if (s < 1_000_000)
            {
                fast++;
            }
            else if (s < 6_000_000)
            {
                mid++;
            }
            else
            {
                slow++;
            }
        }

        Assert.InRange(fast / (double)N, 0.68, 0.72);
        Assert.InRange(mid / (double)N, 0.18, 0.22);
        Assert.InRange(slow / (double)N, 0.08, 0.12);
    }

    [Fact]
    public void Dax_HitRatioIsConfigurable()
    {
        var allHits = BackingStore.Create(BackingKind.Dax, Ratio.One);
        var allMiss = BackingStore.Create(BackingKind.Dax, Ratio.Zero);
        Assert.InRange(allHits.MeanNs, 4_999, 5_001);
        Assert.InRange(allMiss.MeanNs, 84_999, 85_001);
    }

    [Fact]
    public void WithMean_RescalesToTarget()
    {
        var rng = new SimRandom(5);
        foreach (var target in new long[] { 1_000, 100_000, 10_000_000 })
        {
            var s = BackingStore.Create(BackingKind.PostcopyNet).WithMean(target);
            Assert.InRange(s.MeanNs, target * 0.999, target * 1.001);
            double sum = 0;
            for (var i = 0; i < 50_000; i++)
            {
                sum += s.Sample(ref rng);
            }

            Assert.InRange(sum / 50_000, target * 0.95, target * 1.05);
        }
    }

    [Fact]
    public void Constant_AlwaysSameValue()
    {
        var s = BackingStore.Constant(12_345);
        var rng = new SimRandom(1);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(12_345, s.Sample(ref rng));
        }
    }

    [Fact]
    public void Sampling_IsDeterministic()
    {
        var s = BackingStore.Create(BackingKind.SwapNvme);
        var a = new SimRandom(77);
        var b = new SimRandom(77);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(s.Sample(ref a), s.Sample(ref b));
        }
    }
}
