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
}
