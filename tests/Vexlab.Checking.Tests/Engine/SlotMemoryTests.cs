using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The fingerprint table's memory grown in place (SlotMemory) and its rehash in place: a table that grows from ordinary
/// arrays past the size where it reserves its own memory, then twenty times more, must find exactly the keys it took,
/// with their ids.
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
    [InlineData(false)]
    [InlineData(true)]
    public void A_table_grown_in_place_holds_exactly_its_keys(bool trackIds)
    {
        // 3 M keys: the table passes 8 MiB (where its memory moves into a reserved region) and grows about twenty
        // times more, each time in place.
        const int Keys = 3_000_000;
        using var table = new FingerprintTable<ulong, Fingerprint64>(10, trackIds);
        for (int i = 0; i < Keys; i++)
        {
            if (table.NeedsGrowth)
            {
                table.Grow();
            }

            Assert.Equal(i, table.AddOrGet(Key(i), i));
        }

        Assert.Equal(Keys, table.Count);
        Assert.True(table.Bytes >= 8L << 20);
        for (int i = 0; i < Keys; i += 7)
        {
            Assert.Equal(trackIds ? i : -1, table.Find(Key(i)));
        }

        // Keys never added are absent: no stale slot survived a rehash.
        for (int i = Keys; i < Keys + 200_000; i++)
        {
            Assert.Equal(-2, table.Find(Key(i)));
        }
    }

    /// <summary>
    /// The growths fault their new slots in before moving keys (MADV_POPULATE_WRITE, Linux 5.14 on) and time it: the
    /// bytes counted are those of the new slots of every growth whose table lies in its reserved region (from 8 MiB on),
    /// less the partial pages at their ends; the small tables before, in ordinary arrays, fault in nothing on request.
    /// </summary>
    [Fact]
    public void Growths_fault_in_their_new_slots_and_count_the_bytes_and_time()
    {
        using var table = new FingerprintTable<ulong, Fingerprint64>(10, trackIds: false) { Clock = new SteppingClock() };
        long expected = 0;
        int regionGrowths = 0;
        for (int i = 0; i < 3_000_000; i++)
        {
            if (table.NeedsGrowth)
            {
                long before = table.Bytes;
                table.Grow();
                if (table.Bytes >= HugePageArrays.MinBytes)
                {
                    expected += table.Bytes - before;
                    regionGrowths++;
                }
            }

            table.AddOrGet(Key(i), i);
        }

        Assert.True(regionGrowths >= 8, $"{regionGrowths} growths in the region");
        if (OperatingSystem.IsLinux() && Environment.OSVersion.Version >= new Version(5, 14))
        {
            Assert.InRange(table.FaultInBytes, expected - (regionGrowths * 2L * Environment.SystemPageSize), expected);
            Assert.Equal(0, table.FaultInBytes % Environment.SystemPageSize);
        }

        // Every growth reads the clock twice, in the region or not, so the stepping clock counts a millisecond each.
        Assert.True(table.FaultInTime >= TimeSpan.FromMilliseconds(regionGrowths), table.FaultInTime.ToString());
    }

    [Fact]
    public void Keys_that_wrap_around_or_sit_far_from_low_homes_are_moved_last_and_still_found()
    {
        // Fingerprints crowded at both ends of the key space: clusters that wrap from the table's last slot to its first
        // (their probes would run into the slots not yet moved) and long clusters over the first slots (where a key's
        // new home lies below its slot). Every growth must keep every key and its id.
        var keys = new List<ulong>();
        for (int i = 0; i < 600; i++)
        {
            keys.Add(ulong.MaxValue - ((ulong)i * 977));
            keys.Add(1 + ((ulong)i * 1_000_003));
        }

        var random = new Random(7);
        while (keys.Count < 1_700)
        {
            keys.Add((ulong)random.NextInt64(1, long.MaxValue) * 2);
        }

        using var table = new FingerprintTable<ulong, Fingerprint64>(11, trackIds: true);
        for (int i = 0; i < keys.Count; i++)
        {
            Assert.Equal(i, table.AddOrGet(keys[i], i));
        }

        for (int growth = 0; growth < 6; growth++)
        {
            table.Grow();
            for (int i = 0; i < keys.Count; i++)
            {
                Assert.Equal(i, table.Find(keys[i]));
            }
        }

        Assert.Equal(keys.Count, table.Count);
    }

    [Fact]
    public void A_table_read_from_a_checkpoint_grows_in_place_and_keeps_every_key()
    {
        // Past 8 MiB the table lives in its reserved region; a table read back from a checkpoint starts there at the
        // checkpoint's capacity and must then grow in place like the one that wrote it.
        const int Keys = 1_500_000;
        using var written = new FingerprintTable<ulong, Fingerprint64>(10, trackIds: true);
        for (int i = 0; i < Keys; i++)
        {
            if (written.NeedsGrowth)
            {
                written.Grow();
            }

            written.AddOrGet(Key(i), i);
        }

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            written.WriteTo(writer);
        }

        stream.Position = 0;
        using var read = new FingerprintTable<ulong, Fingerprint64>(10, trackIds: true);
        using (var reader = new BinaryReader(stream))
        {
            read.ReadFrom(reader);
        }

        Assert.True(read.Bytes >= 8L << 20);
        for (int i = Keys; i < 2 * Keys; i++)
        {
            if (read.NeedsGrowth)
            {
                read.Grow();
            }

            Assert.Equal(i, read.AddOrGet(Key(i), i));
        }

        Assert.True(read.Capacity > written.Capacity);
        for (int i = 0; i < 2 * Keys; i += 5)
        {
            Assert.Equal(i, read.Find(Key(i)));
        }

        Assert.Equal(-2, read.Find(Key(2 * Keys)));
    }

    /// <summary>
    /// FingerprintTable.Grow with GrowthThreads above one: the old slots cut into ranges moved at once, the keys whose
    /// probes would leave their range taken out and claimed by compare-and-swap afterwards. Keys packed around every
    /// range boundary (clusters of hundreds of slots over it) and at both ends of the key space must all be found with
    /// their ids after each growth, and no key never added. One thread (a single range) is the baseline; either way
    /// 64-bit keys move through the windowed bitmap of FingerprintTable.MoveUp, whose clusters here overflow it.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(4, false)]
    [InlineData(8, true)]
    public void A_growth_on_several_threads_keeps_exactly_its_keys_and_ids(int threads, bool trackIds)
    {
        const int Log2 = 18;
        Assert.True(1 << Log2 >= FingerprintTable<ulong, Fingerprint64>.ParallelGrowthSlots);
        var keys = new List<ulong>();
        var taken = new HashSet<ulong>();
        void Take(ulong key)
        {
            if (key != 0 && taken.Add(key))
            {
                keys.Add(key);
            }
        }

        // A home is the key scaled to the capacity, so keys just around a fraction f of 2^64 crowd the slots around f
        // of the table: 600 keys a boundary, 64 to a home.
        for (int parts = 2; parts <= 8; parts++)
        {
            for (int t = 1; t < parts; t++)
            {
                ulong boundary = (ulong)(UInt128.MaxValue / (ulong)parts * (ulong)t >> 64);
                for (int i = -300; i < 300; i++)
                {
                    Take(boundary + (ulong)((long)i << 40));
                }
            }
        }

        for (int i = 0; i < 500; i++)
        {
            Take(ulong.MaxValue - ((ulong)i * 977));
            Take(1 + ((ulong)i * 1_000_003));
        }

        for (long i = 0; keys.Count < (1 << Log2) / 8 * 7 - 10; i++)
        {
            Take(Key(i));
        }

        using var table = new FingerprintTable<ulong, Fingerprint64>(Log2, trackIds) { GrowthThreads = threads };
        for (int i = 0; i < keys.Count; i++)
        {
            Assert.Equal(i, table.AddOrGet(keys[i], i));
        }

        for (int growth = 0; growth < 3; growth++)
        {
            long layout = table.Layout;
            table.Grow();
            Assert.NotEqual(layout, table.Layout);
            Assert.Equal(keys.Count, table.Count);
            for (int i = 0; i < keys.Count; i++)
            {
                Assert.Equal(trackIds ? i : -1, table.Find(keys[i]));
            }

            for (long i = 0; i < 20_000; i++)
            {
                ulong absent = Key(-1 - i);
                if (!taken.Contains(absent))
                {
                    Assert.Equal(-2, table.Find(absent));
                }
            }

            // Refill to the growth point, so the next growth moves a full table again.
            for (long i = 1L << 40; !table.NeedsGrowth; i++)
            {
                ulong key = Key(i);
                if (taken.Add(key))
                {
                    keys.Add(key);
                    Assert.Equal(keys.Count - 1, table.AddOrGet(key, keys.Count - 1));
                }
            }
        }
    }

    [Fact]
    public void A_growth_on_two_threads_moves_both_words_of_128_bit_keys()
    {
        const int Log2 = 18;
        using var table = new FingerprintTable<UInt128, Fingerprint128>(Log2, trackIds: true) { GrowthThreads = 2 };
        int count = (1 << Log2) / 8 * 7;
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(i, table.AddOrGet(new UInt128(Key(-5 - i), Key(i)), i));
        }

        table.Grow();
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(i, table.Find(new UInt128(Key(-5 - i), Key(i))));

            // The same low word with another high word is another key.
            Assert.Equal(-2, table.Find(new UInt128(Key(-5 - i) ^ 1, Key(i))));
        }
    }
}
