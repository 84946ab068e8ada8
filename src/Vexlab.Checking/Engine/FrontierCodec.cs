using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Vexlab.Checking.Engine;

/// <summary>
/// A frontier record (a state, then its fingerprint) stored as its difference from a reference state, byte by byte:
/// the fingerprint, a bit mask of the state's 8-byte words that differ from the reference, one byte mask for each of
/// those words (which of its bytes differ), and those bytes xor the reference's. States of a level share most of their words with
/// the initial state, and most of the words they change change in a byte or two: on the bench model a state of 791
/// bytes differs from it in about 30 of its 99 words and 1.8 bytes of each, so a record takes about 104 bytes, where
/// whole differing words took about 260; the full record is rebuilt where it is read.
/// </summary>
/// <remarks>
/// Encoded: <c>key | word mask (one bit a word, ceil(words / 8) bytes) | a byte mask for each differing word, in order
/// | the differing bytes xor the reference's, word after word, each word's in ascending order</c>. Stored as differences, a
/// word is rebuilt with one shuffle and one xor. The last word of a state whose size is
/// not a multiple of 8 holds its tail bytes, zero above them (in the reference too, so no byte above them is ever
/// stored). An encoded record's length follows from its masks alone, so records lie back to back without lengths.
/// A word's bytes are gathered and scattered with one byte shuffle (<c>pshufb</c>, or <c>tbl</c> on Arm) driven by a
/// table indexed by its byte mask, not with <c>pext</c>/<c>pdep</c>, which some x86 processors run in microcode.
/// </remarks>
internal sealed class FrontierCodec
{
    private readonly ulong[] _reference;

    /// <summary>For each byte mask, the shuffle of a word's bytes that packs those it selects at the start, zero after them.</summary>
    private readonly Vector128<byte>[] _gather = Shuffles(gather: true);

    /// <summary>For each byte mask, the shuffle that puts packed bytes back where it selects, zero elsewhere.</summary>
    private readonly Vector128<byte>[] _scatter = Shuffles(gather: false);
    private readonly int _stateSize;
    private readonly int _keySize;
    private readonly int _words;
    private readonly int _maskBytes;
    private readonly int _tailBytes;

    /// <param name="reference">The state records are compared with (the initial state).</param>
    /// <param name="keySize">
    /// Bytes of the fingerprint after the state in a full record: at least 8, so that a full record has room for the
    /// state's last word whole and an encoded one holds 8 bytes before its first differing byte (<see cref="Decode"/>).
    /// </param>
    public FrontierCodec(ReadOnlySpan<byte> reference, int keySize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keySize, sizeof(ulong));
        _stateSize = reference.Length;
        _keySize = keySize;
        _words = Math.Max(1, (_stateSize + 7) / 8);
        _maskBytes = (_words + 7) / 8;
        _tailBytes = _stateSize - (8 * (_words - 1));
        _reference = new ulong[_words];
        reference.CopyTo(MemoryMarshal.AsBytes(_reference.AsSpan()));
    }

    /// <summary>Bytes of a full record: the state, then its fingerprint.</summary>
    public int RecordSize => _stateSize + _keySize;

    /// <summary>The longest an encoded record can be (every byte differs: a byte mask and eight bytes a word).</summary>
    public int MaxEncodedSize => _keySize + _maskBytes + (9 * _words);

    /// <summary>Bytes of an encoded record before its byte masks: the fingerprint and the word mask.</summary>
    public int HeaderSize => _keySize + _maskBytes;

    /// <summary>
    /// The length of the encoded record that starts <paramref name="encoded"/> (at least <see cref="HeaderSize"/> bytes).
    /// Where its byte masks are not all there, the length up to their end, longer than <paramref name="encoded"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int EncodedLength(ReadOnlySpan<byte> encoded)
    {
        int words = BitCount(encoded.Slice(_keySize, _maskBytes));
        int masksEnd = HeaderSize + words;
        return masksEnd > encoded.Length ? masksEnd : masksEnd + BitCount(encoded.Slice(HeaderSize, words));
    }

    /// <summary>
    /// The length of the encoded record at the start of <paramref name="encoded"/>, read from outside (a checkpoint)
    /// and checked: 0 where the span ends before the record does; <see cref="InvalidDataException"/> where no encoding
    /// gives these bytes (a word past the state's, an empty byte mask, a byte past the state's end), so that the search,
    /// which reads records by their masks, never reads past one.
    /// </summary>
    public int CheckedLength(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < HeaderSize)
        {
            return 0;
        }

        ReadOnlySpan<byte> wordMask = encoded.Slice(_keySize, _maskBytes);
        int spare = (8 * _maskBytes) - _words;
        if (spare > 0 && (wordMask[^1] >> (8 - spare)) != 0)
        {
            throw new InvalidDataException("frontier record: a word past the state's");
        }

        int words = BitCount(wordMask);
        if (encoded.Length < HeaderSize + words)
        {
            return 0;
        }

        ReadOnlySpan<byte> byteMasks = encoded.Slice(HeaderSize, words);
        if (byteMasks.Contains((byte)0))
        {
            throw new InvalidDataException("frontier record: an empty byte mask");
        }

        bool lastStored = (wordMask[(_words - 1) >> 3] & (1 << ((_words - 1) & 7))) != 0;
        if (lastStored && (byteMasks[^1] >> _tailBytes) != 0)
        {
            throw new InvalidDataException("frontier record: a byte past the state's end");
        }

        int length = HeaderSize + words + BitCount(byteMasks);
        return length <= encoded.Length ? length : 0;
    }

    /// <summary>Encodes the full <paramref name="record"/> into <paramref name="output"/> (at least <see cref="MaxEncodedSize"/> bytes); returns its length.</summary>
    public int Encode(ReadOnlySpan<byte> record, Span<byte> output)
    {
        if (record.Length != RecordSize || output.Length < MaxEncodedSize)
        {
            throw new ArgumentException("A full record and room for its longest encoding are needed.");
        }

        record.Slice(_stateSize, _keySize).CopyTo(output);

        // The word mask first, four words a compare where vectors are fast (a branch a word mispredicts on about a
        // third of them), then the differing words by walking its set bits.
        Span<ulong> mask = stackalloc ulong[MaskLongs];
        mask.Clear();
        ref ulong state = ref Unsafe.As<byte, ulong>(ref MemoryMarshal.GetReference(record));
        ref ulong reference = ref MemoryMarshal.GetArrayDataReference(_reference);
        int last = _words - 1;
        int w = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; w + 4 <= last; w += 4)
            {
                uint equal = Vector256.Equals(Vector256.LoadUnsafe(ref state, (nuint)w), Vector256.LoadUnsafe(ref reference, (nuint)w)).ExtractMostSignificantBits();
                mask[w >> 6] |= (ulong)(~equal & 0xF) << (w & 63);
            }
        }

        for (; w < last; w++)
        {
            if (Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ulong, byte>(ref Unsafe.Add(ref state, w))) != Unsafe.Add(ref reference, w))
            {
                mask[w >> 6] |= 1UL << (w & 63);
            }
        }

        ulong tail = ReadTail(record);
        if (tail != Unsafe.Add(ref reference, last))
        {
            mask[last >> 6] |= 1UL << (last & 63);
        }

        MemoryMarshal.AsBytes(mask)[.._maskBytes].CopyTo(output[_keySize..]);
        ref Vector128<byte> gather = ref MemoryMarshal.GetArrayDataReference(_gather);
        int masksAt = HeaderSize;
        int dataAt = masksAt + BitCount(mask);
        for (int m = 0; m < mask.Length; m++)
        {
            ulong bits = mask[m];
            while (bits != 0)
            {
                int word = (m * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                ulong value = word == last ? tail : Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ulong, byte>(ref Unsafe.Add(ref state, word)));
                dataAt = PutWord(output, ref masksAt, dataAt, value ^ Unsafe.Add(ref reference, word), ref gather);
            }
        }

        return dataAt;
    }

    /// <summary>
    /// Encodes a successor without building it: its parent's encoded record <paramref name="parentEncoded"/> with the
    /// words <paramref name="patchWords"/> (ascending) set to <paramref name="patchValues"/>, and its fingerprint
    /// <paramref name="key"/>. The bytes are those <see cref="Encode"/> writes for the successor's full record: the
    /// word mask is the parent's with the patched words' bits recomputed, and the byte masks and bytes are the
    /// parent's with the patched words' merged in order, so no word of the state is compared and only the parent's
    /// record (a few cache lines, not the whole state) is read.
    /// </summary>
    public int EncodeSuccessorOf(ReadOnlySpan<byte> parentEncoded, ReadOnlySpan<int> patchWords, ReadOnlySpan<ulong> patchValues, ReadOnlySpan<byte> key, Span<byte> output)
    {
        if (parentEncoded.Length < HeaderSize || key.Length != _keySize || output.Length < MaxEncodedSize || patchValues.Length != patchWords.Length)
        {
            throw new ArgumentException("A parent record, a patch, a fingerprint and room for the longest encoding are needed.");
        }

        Span<ulong> parentMask = stackalloc ulong[MaskLongs];
        parentMask[^1] = 0;
        parentEncoded.Slice(_keySize, _maskBytes).CopyTo(MemoryMarshal.AsBytes(parentMask));
        Span<ulong> mask = stackalloc ulong[MaskLongs];
        parentMask.CopyTo(mask);
        ref ulong reference = ref MemoryMarshal.GetArrayDataReference(_reference);
        for (int c = 0; c < patchWords.Length; c++)
        {
            int w = patchWords[c];
            ulong bit = 1UL << (w & 63);
            mask[w >> 6] = patchValues[c] != Unsafe.Add(ref reference, w) ? mask[w >> 6] | bit : mask[w >> 6] & ~bit;
        }

        key.CopyTo(output);
        MemoryMarshal.AsBytes(mask)[.._maskBytes].CopyTo(output[_keySize..]);
        int parentWords = BitCount(parentMask);
        if (parentEncoded.Length < HeaderSize + parentWords)
        {
            throw new ArgumentException("The parent's record is cut short.", nameof(parentEncoded));
        }

        // The successor's stored words are the parent's with, at each patched word's rank among them, the word
        // replaced, dropped (back to the reference) or inserted (newly different): the runs between patched words
        // (their byte masks, and their bytes) are copied whole, a few block copies instead of a test a word.
        ref byte parent = ref MemoryMarshal.GetReference(parentEncoded);
        ref byte target = ref MemoryMarshal.GetReference(output);
        ref Vector128<byte> gather = ref MemoryMarshal.GetArrayDataReference(_gather);
        int parentMasks = HeaderSize;
        int parentData = parentMasks + parentWords;
        int masksAt = HeaderSize;
        int dataAt = masksAt + BitCount(mask);

        // Each stored word has at least one byte after the masks.
        bool overRead = parentWords >= 8;
        int copied = 0;
        int rankBase = 0;
        int rankLong = 0;
        for (int c = 0; c < patchWords.Length; c++)
        {
            int w = patchWords[c];
            int m = w >> 6;
            for (; rankLong < m; rankLong++)
            {
                rankBase += BitOperations.PopCount(parentMask[rankLong]);
            }

            ulong below = (1UL << (w & 63)) - 1;
            int rank = rankBase + BitOperations.PopCount(parentMask[m] & below);
            CopyStored(ref target, ref masksAt, ref dataAt, ref parent, parentMasks + copied, ref parentData, rank - copied, overRead);
            copied = rank;
            ulong difference = patchValues[c] ^ Unsafe.Add(ref reference, w);
            if (difference != 0)
            {
                dataAt = PutWord(output, ref masksAt, dataAt, difference, ref gather);
            }

            if ((parentMask[m] & (below + 1)) != 0)
            {
                parentData += BitOperations.PopCount((uint)Unsafe.Add(ref parent, parentMasks + copied));
                copied++;
            }
        }

        CopyStored(ref target, ref masksAt, ref dataAt, ref parent, parentMasks + copied, ref parentData, parentWords - copied, overRead);
        return dataAt;
    }

    /// <summary>
    /// Copies <paramref name="count"/> stored words of the parent (their byte masks from byte <paramref name="masksFrom"/>
    /// of the parent's record, their bytes from <paramref name="dataFrom"/>, which moves past them) to the output.
    /// <paramref name="overRead"/>: the parent's record holds at least 8 bytes after its byte masks, so 8 bytes may be
    /// read from any of them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyStored(ref byte target, ref int masksAt, ref int dataAt, ref byte parent, int masksFrom, ref int dataFrom, int count, bool overRead)
    {
        if (count <= 0)
        {
            return;
        }

        ref byte masks = ref Unsafe.Add(ref parent, masksFrom);
        int bytes = BitCount(ref masks, count, overRead);
        Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref target, masksAt), ref masks, (uint)count);
        Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref target, dataAt), ref Unsafe.Add(ref parent, dataFrom), (uint)bytes);
        masksAt += count;
        dataAt += bytes;
        dataFrom += bytes;
    }

    /// <summary>
    /// Writes a differing word (<paramref name="difference"/>, its xor with the reference's, not zero): its byte mask at
    /// <paramref name="masksAt"/>, which moves past it, and its nonzero bytes at <paramref name="dataAt"/>; returns where
    /// the bytes end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PutWord(Span<byte> output, ref int masksAt, int dataAt, ulong difference, ref Vector128<byte> gather)
    {
        // The caller checked that the output has room for the longest encoding: the byte mask lies within it.
        uint byteMask = NonZeroBytes(difference);
        ref byte target = ref MemoryMarshal.GetReference(output);
        Unsafe.Add(ref target, masksAt++) = (byte)byteMask;
        ulong packed = Shuffle(difference, Unsafe.Add(ref gather, (int)byteMask));
        int count = BitOperations.PopCount(byteMask);
        if (dataAt + 8 <= output.Length)
        {
            // Eight bytes at once: those past the word's are zero, and the next word's bytes or nothing follow.
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, dataAt), packed);
        }
        else
        {
            for (int b = 0; b < count; b++)
            {
                output[dataAt + b] = (byte)(packed >> (8 * b));
            }
        }

        return dataAt + count;
    }

    /// <summary>Longs of a record's word mask while it is built.</summary>
    private int MaskLongs => (_words + 63) / 64;

    /// <summary>
    /// Rebuilds the full record encoded at the start of <paramref name="encoded"/> into <paramref name="record"/>;
    /// returns the encoded length. The reference is copied whole first: restoring only the words the record before
    /// differed in, and writing this one's, was tried and measured slower (FrontierBenchmarks, 62 against 49 ns a
    /// bench record), a copy of 800 bytes in cache being cheaper than two walks over the masks' bits.
    /// </summary>
    public int Decode(ReadOnlySpan<byte> encoded, Span<byte> record)
    {
        if (record.Length != RecordSize)
        {
            throw new ArgumentException("A full record's room is needed.", nameof(record));
        }

        MemoryMarshal.AsBytes(_reference.AsSpan())[.._stateSize].CopyTo(record);
        Span<ulong> mask = stackalloc ulong[MaskLongs];
        mask[^1] = 0;
        encoded.Slice(_keySize, _maskBytes).CopyTo(MemoryMarshal.AsBytes(mask));
        ref byte source = ref MemoryMarshal.GetReference(encoded);
        ref byte target = ref MemoryMarshal.GetReference(record);
        ref ulong reference = ref MemoryMarshal.GetArrayDataReference(_reference);
        ref Vector128<byte> scatter = ref MemoryMarshal.GetArrayDataReference(_scatter);
        int length = encoded.Length;
        int masksAt = HeaderSize;
        int dataAt = masksAt + BitCount(mask);
        if (dataAt > length)
        {
            throw new ArgumentException("The record is cut short.", nameof(encoded));
        }

        // Every word is written whole, the last one too: the key after the state is at least 8 bytes (see the
        // constructor), so the record has room for it, its bytes above the state's tail are zero, and the key written
        // last covers them. A word's bytes are read as the 8 that start at them, or, for the last few of a span that
        // ends less than 8 bytes after them, as the span's last 8 shifted down: the key comes first, so a span holds
        // at least 8 bytes, and the loop has no call or branch on the data beyond its own. A call in the loop (to read
        // those last bytes one at a time) had made the JIT keep the data's position on the stack, a store and a load
        // on the chain from one word to the next.
        int lastRead = length - 8;
        for (int m = 0; m < mask.Length; m++)
        {
            ulong bits = mask[m];
            while (bits != 0)
            {
                int w = (m * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                int byteMask = Unsafe.Add(ref source, masksAt++);
                int at = Math.Min(dataAt, lastRead);
                ulong packed = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, at)) >> (8 * (dataAt - at));
                ulong word = Unsafe.Add(ref reference, w) ^ Shuffle(packed, Unsafe.Add(ref scatter, byteMask));
                dataAt += BitOperations.PopCount((uint)byteMask);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, w * 8), word);
            }
        }

        // The key 8 bytes at a time (the last 8 overlapping where its size is not a multiple of 8), not with a call
        // to copy it: a call after the loop, with the data's position live across it, had the JIT keep that position
        // on the stack in the loop too.
        ref byte key = ref Unsafe.Add(ref target, _stateSize);
        for (int k = 0; k < _keySize - 8; k += 8)
        {
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref key, k), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, k)));
        }

        Unsafe.WriteUnaligned(ref Unsafe.Add(ref key, _keySize - 8), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, _keySize - 8)));
        return dataAt;
    }

    /// <summary>The state's last word: its tail bytes, zero above them.</summary>
    private ulong ReadTail(ReadOnlySpan<byte> record)
    {
        Span<byte> tail = stackalloc byte[8];
        tail.Clear();
        record.Slice(8 * (_words - 1), _tailBytes).CopyTo(tail);
        return BinaryPrimitives.ReadUInt64LittleEndian(tail);
    }

    /// <summary>Bit b of the result is set when byte b of <paramref name="x"/> is not zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NonZeroBytes(ulong x)
    {
        // Fold each byte's bits into its lowest bit, then gather the eight lowest bits into the top byte.
        ulong t = x | (x >> 4);
        t |= t >> 2;
        t |= t >> 1;
        return (uint)(((t & 0x0101010101010101UL) * 0x0102040810204080UL) >> 56);
    }

    /// <summary>Byte i of the result is byte <c>indices[i]</c> of <paramref name="word"/>, or zero where that index is 0x80.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Shuffle(ulong word, Vector128<byte> indices)
    {
        Vector128<byte> bytes = Vector128.CreateScalar(word).AsByte();
        if (Ssse3.IsSupported)
        {
            return Ssse3.Shuffle(bytes, indices).AsUInt64().ToScalar();
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.VectorTableLookup(bytes, indices).AsUInt64().ToScalar();
        }

        ulong result = 0;
        for (int i = 0; i < 8; i++)
        {
            byte index = indices.GetElement(i);
            if (index < 8)
            {
                result |= ((word >> (8 * index)) & 0xFF) << (8 * i);
            }
        }

        return result;
    }

    /// <summary>The shuffle indices for every byte mask (0x80 marks a zero byte: both pshufb and tbl read it so).</summary>
    private static Vector128<byte>[] Shuffles(bool gather)
    {
        var table = new Vector128<byte>[256];
        Span<byte> indices = stackalloc byte[16];
        for (int byteMask = 0; byteMask < 256; byteMask++)
        {
            indices.Fill(0x80);
            int rank = 0;
            for (int b = 0; b < 8; b++)
            {
                if ((byteMask & (1 << b)) != 0)
                {
                    if (gather)
                    {
                        indices[rank] = (byte)b;
                    }
                    else
                    {
                        indices[b] = (byte)rank;
                    }

                    rank++;
                }
            }

            table[byteMask] = Vector128.Create((ReadOnlySpan<byte>)indices);
        }

        return table;
    }

    /// <summary>Set bits of <paramref name="bytes"/>.</summary>
    private static int BitCount(ReadOnlySpan<byte> bytes) => BitCount(ref MemoryMarshal.GetReference(bytes), bytes.Length);

    /// <summary>Set bits of a word mask.</summary>
    private static int BitCount(ReadOnlySpan<ulong> mask)
    {
        int bits = 0;
        foreach (ulong word in mask)
        {
            bits += BitOperations.PopCount(word);
        }

        return bits;
    }

    /// <summary>
    /// Set bits of the <paramref name="count"/> bytes from <paramref name="start"/>; <paramref name="overRead"/>: the 8
    /// bytes from any of them may be read (the last bytes are then counted from one read, those past them masked off).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BitCount(ref byte start, int count, bool overRead = false)
    {
        int bits = 0;
        int i = 0;
        for (; i + 8 <= count; i += 8)
        {
            bits += BitOperations.PopCount(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
        }

        int rest = count - i;
        if (rest == 0)
        {
            return bits;
        }

        if (overRead)
        {
            return bits + BitOperations.PopCount(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)) & ((1UL << (8 * rest)) - 1));
        }

        for (; i < count; i++)
        {
            bits += BitOperations.PopCount((uint)Unsafe.Add(ref start, i));
        }

        return bits;
    }
}
