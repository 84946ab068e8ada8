using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The fingerprint table's reused regions (SlotMemory): a table that grows past the size where it reserves its own
/// memory, and then grows into regions that held older, larger-than-zero contents, must find exactly the keys it took.
/// </summary>
public sealed class SlotMemoryTests
{
    private static ulong Key(long i)
    {
        ulong z = (ulong)(i + 1) * 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        z ^= z >> 31;
        return z == 0 ? 1 : z;
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 2)]
    public void A_table_grown_through_reused_regions_holds_exactly_its_keys(bool trackIds, int workers)
    {
        // 3 M keys: the table passes 8 MiB (where its regions are reserved) and grows about twenty times more,
        // each time into the region that held the table two growths before.
        const int Keys = 3_000_000;
        using var table = new FingerprintTable<ulong, Fingerprint64>(10, trackIds);
        for (int i = 0; i < Keys; i++)
        {
            if (table.NeedsGrowth)
            {
                table.GrowParallel(workers);
            }

            Assert.Equal(i, table.AddOrGet(Key(i), i));
        }

        Assert.Equal(Keys, table.Count);
        Assert.True(table.Bytes >= 8L << 20);
        for (int i = 0; i < Keys; i += 7)
        {
            Assert.Equal(trackIds ? i : -1, table.Find(Key(i)));
        }

        // Keys never added are absent: no stale slot survived a re-zeroed region.
        for (int i = Keys; i < Keys + 200_000; i++)
        {
            Assert.Equal(-2, table.Find(Key(i)));
        }
    }
}
