using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The wide table's lookups test four slots a compare where the slots lie before the table's end, and one at a time
/// from there on round to its start. These tests hold them to linear probing's slot-by-slot walk (Knuth, TAOCP Vol. 3,
/// 6.4, Algorithm L: from the key's home up, wrapping at the end, to the key or the first empty slot), with homes
/// spread over the table and with homes crowded into its last slots so that the walks cross its end.
/// </summary>
public sealed class FingerprintProbeTests
{
    private const int Log2 = 10;
    private const int Capacity = 1 << Log2;

    /// <summary>The home of a key in a table of <see cref="Capacity"/> slots: its top bits (multiply-shift).</summary>
    private static int Home(ulong key) => (int)(key >> (64 - Log2));

    /// <summary>Linear probing, slot by slot: where <paramref name="key"/> is, or the empty slot it would take.</summary>
    private static int Walk(ulong[] slots, ulong key)
    {
        int i = Home(key);
        while (slots[i] != 0 && slots[i] != key)
        {
            i = (i + 1) % Capacity;
        }

        return i;
    }

    /// <summary>
    /// Distinct nonzero keys; <paramref name="crowded"/> of them homed in the table's last 16 slots, so that their
    /// cluster runs past the end.
    /// </summary>
    private static ulong[] Keys(int count, int crowded, int seed)
    {
        var random = new Random(seed);
        var keys = new List<ulong>();
        var seen = new HashSet<ulong>();
        while (keys.Count < count)
        {
            ulong key = (ulong)random.NextInt64() | 1;
            if (keys.Count < crowded)
            {
                ulong home = (ulong)(Capacity - 1 - random.Next(16));
                key = (home << (64 - Log2)) | (key >> Log2);
            }

            if (seen.Add(key))
            {
                keys.Add(key);
            }
        }

        return [.. keys];
    }

    private static ulong[] StoredKeys(FingerprintTable<ulong, Fingerprint64> table)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            table.WriteTo(writer);
        }

        // WriteTo: capacity, count, then the key slots.
        byte[] image = stream.ToArray();
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(image.AsSpan(16, Capacity * sizeof(ulong))).ToArray();
    }

    [Theory]
    [InlineData(1, 512, 0)]
    [InlineData(2, 895, 0)]
    [InlineData(3, 895, 120)]
    [InlineData(4, 600, 300)]
    public void Inserts_and_lookups_end_where_the_slot_by_slot_walk_ends(int seed, int count, int crowded)
    {
        ulong[] keys = Keys(count + 200, crowded, seed);
        ulong[] present = keys[..count];
        ulong[] absent = keys[count..];
        using var table = new FingerprintTable<ulong, Fingerprint64>(Log2, trackIds: true);
        ulong[] reference = new ulong[Capacity];
        for (int k = 0; k < present.Length; k++)
        {
            Assert.Equal(k, table.AddOrGet(present[k], k));
            reference[Walk(reference, present[k])] = present[k];
        }

        Assert.Equal(Capacity, table.Capacity);
        Assert.Equal(reference, StoredKeys(table));
        for (int k = 0; k < present.Length; k++)
        {
            Assert.Equal(k, table.Find(present[k]));
            Assert.Equal(k, table.AddOrGet(present[k], present.Length));
        }

        foreach (ulong key in absent)
        {
            Assert.Equal(-2, table.Find(key, out int vacancy));
            Assert.Equal(Walk(reference, key), vacancy);
        }

        Assert.Equal(present.Length, table.Count);
    }
}
