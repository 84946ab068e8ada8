using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// Frontier records stored as their difference from the initial state (FrontierCodec) and the level that holds them
/// (Frontier): every record read back whole, in order, from memory chunks and the spill file alike.
/// </summary>
public sealed class FrontierEncodingTests
{
    /// <summary>A full record: the reference with <paramref name="changes"/> random bytes changed, then a key.</summary>
    private static byte[] Record(byte[] reference, int keySize, Random random, int changes)
    {
        byte[] record = new byte[reference.Length + keySize];
        reference.CopyTo(record, 0);
        for (int c = 0; c < changes && reference.Length > 0; c++)
        {
            record[random.Next(reference.Length)] = (byte)random.Next(256);
        }

        random.NextBytes(record.AsSpan(reference.Length));
        return record;
    }

    private static byte[] Reference(int stateSize, Random random)
    {
        byte[] reference = new byte[stateSize];
        random.NextBytes(reference);
        return reference;
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(1, 8)]
    [InlineData(7, 8)]
    [InlineData(8, 8)]
    [InlineData(9, 16)]
    [InlineData(63, 8)]
    [InlineData(64, 16)]
    [InlineData(65, 8)]
    [InlineData(512, 8)]
    [InlineData(791, 8)]
    [InlineData(791, 16)]
    public void A_record_decodes_to_itself_and_takes_the_key_the_masks_and_its_differing_bytes(int stateSize, int keySize)
    {
        var random = new Random(stateSize * 31 + keySize);
        byte[] reference = Reference(stateSize, random);
        var codec = new FrontierCodec(reference, keySize);
        int words = Math.Max(1, (stateSize + 7) / 8);
        Assert.Equal(keySize + ((words + 7) / 8) + (9 * words), codec.MaxEncodedSize);
        byte[] encoded = new byte[codec.MaxEncodedSize];
        byte[] decoded = new byte[codec.RecordSize];
        foreach (int changes in new[] { 0, 1, 3, 30, 10_000 })
        {
            for (int trial = 0; trial < 20; trial++)
            {
                byte[] record = Record(reference, keySize, random, changes);
                int length = codec.Encode(record, encoded);
                // A byte mask for each word that differs, and each differing byte.
                int differingWords = 0;
                int differingBytes = 0;
                for (int w = 0; w * 8 < stateSize; w++)
                {
                    int bytes = 0;
                    for (int b = w * 8; b < Math.Min(stateSize, (w * 8) + 8); b++)
                    {
                        bytes += record[b] != reference[b] ? 1 : 0;
                    }

                    differingWords += bytes > 0 ? 1 : 0;
                    differingBytes += bytes;
                }

                Assert.Equal(keySize + ((words + 7) / 8) + differingWords + differingBytes, length);
                Assert.Equal(length, codec.EncodedLength(encoded));
                Array.Fill(decoded, (byte)0xA5);
                Assert.Equal(length, codec.Decode(encoded, decoded));
                Assert.Equal(record, decoded);

                // Cut at its end, as the last record of a level's chunk is: the last words' bytes are read from
                // within it, never past it, and followed by other bytes the same.
                byte[] alone = encoded[..length];
                Array.Fill(decoded, (byte)0x5A);
                Assert.Equal(length, codec.Decode(alone, decoded));
                Assert.Equal(record, decoded);
                Array.Fill(encoded, (byte)0xFF, length, encoded.Length - length);
                Assert.Equal(length, codec.Decode(encoded, decoded));
                Assert.Equal(record, decoded);
            }
        }
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(13, 8)]
    [InlineData(200, 16)]
    [InlineData(791, 8)]
    public void A_successor_encoded_from_its_parents_record_and_patch_equals_the_encoding_of_its_full_record(int stateSize, int keySize)
    {
        var random = new Random(stateSize + keySize);
        byte[] reference = Reference(stateSize, random);
        var codec = new FrontierCodec(reference, keySize);
        int words = (stateSize + 7) / 8;
        byte[] encoded = new byte[codec.MaxEncodedSize];
        byte[] expected = new byte[codec.MaxEncodedSize];
        byte[] actual = new byte[codec.MaxEncodedSize];
        for (int trial = 0; trial < 300; trial++)
        {
            // The parent, encoded as the level holds it.
            byte[] parent = Record(reference, keySize, random, random.Next(0, 60));
            codec.Encode(parent, encoded);

            // A patch: ascending words, some set back to the reference's value, some to new values, the tail word too.
            var patchWords = new List<int>();
            var patchValues = new List<ulong>();
            for (int w = 0; w < words; w++)
            {
                if (random.Next(6) != 0)
                {
                    continue;
                }

                byte[] word = new byte[8];
                int from = w * 8;
                int length = Math.Min(8, stateSize - from);
                (random.Next(2) == 0 ? reference : Record(reference, 0, random, 3 * stateSize)).AsSpan(from, length).CopyTo(word);
                patchWords.Add(w);
                patchValues.Add(BitConverter.ToUInt64(word));
            }

            byte[] successor = (byte[])parent.Clone();
            SuccessorBuffer<ulong, Fingerprint64>.ApplyPatch(patchWords.ToArray(), patchValues.ToArray(), successor.AsSpan(0, stateSize));
            random.NextBytes(successor.AsSpan(stateSize));
            int expectedLength = codec.Encode(successor, expected);
            Array.Clear(actual);
            int actualLength = codec.EncodeSuccessorOf(encoded, patchWords.ToArray(), patchValues.ToArray(), successor.AsSpan(stateSize), actual);
            Assert.Equal(expectedLength, actualLength);
            Assert.True(expected.AsSpan(0, expectedLength).SequenceEqual(actual.AsSpan(0, actualLength)), $"trial {trial}");
        }
    }

    /// <summary>
    /// A checkpoint's records are taken only if some encoding gives them: the search reads a record by its masks, so a
    /// damaged mask must not make it read past the record.
    /// </summary>
    [Fact]
    public void Records_read_from_a_checkpoint_are_checked_before_they_are_taken()
    {
        // 13 bytes: two words, the last one with 5 tail bytes; one mask byte whose bits 2 to 7 lie past the words.
        var random = new Random(13);
        byte[] reference = Reference(13, random);
        var codec = new FrontierCodec(reference, 8);
        byte[] record = (byte[])reference.Clone();
        Array.Resize(ref record, 21);
        record[1] ^= 0x40;
        record[12] ^= 0x01;
        byte[] encoded = new byte[codec.MaxEncodedSize];
        int length = codec.Encode(record, encoded);

        // key 8 | word mask 0b11 | byte masks 0x02, 0x10 | two bytes.
        Assert.Equal(8 + 1 + 2 + 2, length);
        Assert.Equal(length, codec.CheckedLength(encoded.AsSpan(0, length)));
        Assert.Equal(length, codec.CheckedLength(encoded));
        for (int cut = 0; cut < length; cut++)
        {
            Assert.Equal(0, codec.CheckedLength(encoded.AsSpan(0, cut)));
        }

        byte[] damaged = encoded.AsSpan(0, length).ToArray();
        damaged[8] |= 0x04;
        Assert.Throws<InvalidDataException>(() => codec.CheckedLength(damaged));

        damaged = encoded.AsSpan(0, length).ToArray();
        damaged[9] = 0;
        Assert.Throws<InvalidDataException>(() => codec.CheckedLength(damaged));

        damaged = encoded.AsSpan(0, length).ToArray();
        damaged[10] = 0x20;
        Assert.Throws<InvalidDataException>(() => codec.CheckedLength(damaged));
    }

    [Fact]
    public void Records_that_cannot_fit_are_refused()
    {
        // A key shorter than a word leaves no room for the state's last word written whole.
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrontierCodec(new byte[16], 4));
        var codec = new FrontierCodec(new byte[16], 8);
        Assert.Throws<ArgumentException>(() => codec.Encode(new byte[23], new byte[codec.MaxEncodedSize]));
        Assert.Throws<ArgumentException>(() => codec.Encode(new byte[24], new byte[codec.MaxEncodedSize - 1]));
        Assert.Throws<ArgumentException>(() => codec.Decode(new byte[codec.MaxEncodedSize], new byte[23]));
    }

    /// <param name="levelCap">Encoded bytes the level keeps in memory before it spills.</param>
    /// <param name="poolCap">Caps a chunk's size: small ones make a level of many chunks.</param>
    [Theory]
    [InlineData(1L << 30, 1L << 30)]
    [InlineData(40_000, 4_000)]
    [InlineData(40_000, 1L << 30)]
    [InlineData(0, 4_000)]
    public void A_level_reads_back_every_record_in_order_from_chunks_and_spill(long levelCap, long poolCap)
    {
        const int StateSize = 100;
        const int KeySize = 8;
        const int Count = 3_000;
        var random = new Random(7);
        byte[] reference = Reference(StateSize, random);
        var codec = new FrontierCodec(reference, KeySize);
        var pool = new FrontierPool(codec.MaxEncodedSize, poolCap);
        using var level = new Frontier(codec, levelCap, spillDirectory: null, pool);
        var records = new List<byte[]>();
        byte[] batch = new byte[64 * codec.MaxEncodedSize];
        long encodedBytes = 0;
        while (records.Count < Count)
        {
            // Single appends and encoded batches (as the workers hand them over) interleave.
            if (random.Next(2) == 0)
            {
                byte[] record = Record(reference, KeySize, random, random.Next(0, 40));
                records.Add(record);
                level.Append(record);
                encodedBytes += codec.Encode(record, new byte[codec.MaxEncodedSize]);
            }
            else
            {
                int[] lengths = new int[random.Next(1, 64)];
                int at = 0;
                for (int k = 0; k < lengths.Length; k++)
                {
                    byte[] record = Record(reference, KeySize, random, random.Next(0, 40));
                    records.Add(record);
                    lengths[k] = codec.Encode(record, batch.AsSpan(at));
                    at += lengths[k];
                }

                level.AppendEncoded(batch.AsSpan(0, at), lengths);
                encodedBytes += at;
            }
        }

        int total = records.Count;
        Assert.Equal(total, level.Count);
        Assert.Equal(encodedBytes, level.MemoryBytes + level.SpillBytes);
        Assert.True(level.MemoryBytes <= levelCap);
        Assert.Equal(levelCap >= encodedBytes, level.SpillStates == 0);

        // In blocks of several sizes, forwards, then a jump back and one forward.
        byte[] scratch = [];
        foreach (int blockStates in new[] { 1, 7, 256, total })
        {
            for (long start = 0; start < level.Count;)
            {
                ReadOnlyMemory<byte> block = level.Block(start, blockStates, ref scratch);
                int n = block.Length / codec.RecordSize;
                Assert.True(n > 0);
                for (int i = 0; i < n; i++)
                {
                    Assert.True(block.Span.Slice(i * codec.RecordSize, codec.RecordSize).SequenceEqual(records[(int)start + i]), $"state {start + i}");
                }

                start += n;
            }
        }

        foreach (long start in new long[] { 2_500, 10, 1_999, 2_999 })
        {
            ReadOnlyMemory<byte> one = level.Block(start, 1, ref scratch);
            Assert.True(one.Span.SequenceEqual(records[(int)start]));
        }

        // Any in-memory state is found from the index alone, as workers find the first state of their slices, and
        // the records after it follow.
        foreach (long start in new long[] { 0, 1, 63, 64, 65, 100, 1_000, level.MemoryStates - 1, level.MemoryStates })
        {
            if (start < 0 || start >= level.MemoryStates)
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => level.PositionOf(start));
                continue;
            }

            long position = level.PositionOf(start);
            byte[] decoded = new byte[codec.RecordSize];
            for (long i = start; i < Math.Min(level.MemoryStates, start + 200); i++)
            {
                position = level.Normalize(position + codec.Decode(level.EncodedAt(position), decoded));
                Assert.True(decoded.AsSpan().SequenceEqual(records[(int)i]), $"from {start}, state {i}");
            }
        }

        // A checkpoint's copy from the middle holds the encoded records after their length, and reads back into a level
        // that holds the same records.
        using var copy = new MemoryStream();
        copy.WriteByte(0xEE);
        level.WriteTo(copy, 1_000);
        long encodedAfter = 0;
        for (int i = 1_000; i < total; i++)
        {
            encodedAfter += codec.Encode(records[i], new byte[codec.MaxEncodedSize]);
        }

        Assert.Equal(1 + sizeof(long) + encodedAfter, copy.Length);
        Assert.Equal(encodedAfter, BitConverter.ToInt64(copy.ToArray(), 1));
        copy.Position = 1;
        using var read = new Frontier(codec, long.MaxValue, Path.GetTempPath(), new FrontierPool(codec.MaxEncodedSize, 1 << 16));
        read.ReadFrom(copy, total - 1_000);
        Assert.Equal(copy.Length, copy.Position);
        Assert.Equal(total - 1_000, read.Count);
        for (long start = 0; start < read.Count;)
        {
            ReadOnlyMemory<byte> block = read.Block(start, 97, ref scratch);
            int n = block.Length / codec.RecordSize;
            for (int i = 0; i < n; i++)
            {
                Assert.True(block.Span.Slice(i * codec.RecordSize, codec.RecordSize).SequenceEqual(records[1_000 + (int)start + i]), $"state {1_000 + start + i} read back");
            }

            start += n;
        }

        // The bytes before a state are the sum of the encodings before it, while they are in memory.
        long before = 0;
        for (int i = 0; i < total; i++)
        {
            if (i < level.MemoryStates)
            {
                Assert.Equal(before, level.MemoryBytesBefore(i));
            }

            before += codec.Encode(records[i], new byte[codec.MaxEncodedSize]);
        }

        Assert.Equal(level.MemoryBytes, level.MemoryBytesBefore(total));

        // Cleared, the level takes and returns new records.
        level.Clear();
        Assert.Equal(0, level.Count);
        level.Append(records[5]);
        Assert.True(level.Block(0, 10, ref scratch).Span.SequenceEqual(records[5]));
    }
}
