using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Vexlab.Checking.Engine;

/// <summary>
/// A frontier record (a state, then its fingerprint) stored as its difference from a reference state: the fingerprint,
/// a bit mask of the state's 8-byte words that differ from the reference, and those words. States of a level share
/// most of their words with the initial state (on the bench model a state of 791 bytes differs from it in about 28
/// of its 99 words), so a record takes about a third of its full size; the full record is rebuilt where it is read.
/// </summary>
/// <remarks>
/// Encoded: <c>key | mask (one bit a word, ceil(words / 8) bytes) | the differing words, little-endian, in order</c>.
/// The last word of a state whose size is not a multiple of 8 holds its tail bytes, zero above them. An encoded
/// record's length follows from its mask alone, so records lie back to back without lengths.
/// </remarks>
internal sealed class FrontierCodec
{
    private readonly ulong[] _reference;
    private readonly int _stateSize;
    private readonly int _keySize;
    private readonly int _words;
    private readonly int _maskBytes;
    private readonly int _tailBytes;

    /// <param name="reference">The state records are compared with (the initial state).</param>
    /// <param name="keySize">Bytes of the fingerprint after the state in a full record.</param>
    public FrontierCodec(ReadOnlySpan<byte> reference, int keySize)
    {
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

    /// <summary>The longest an encoded record can be (every word differs).</summary>
    public int MaxEncodedSize => _keySize + _maskBytes + (8 * _words);

    /// <summary>Bytes of an encoded record before its words: the fingerprint and the mask.</summary>
    public int HeaderSize => _keySize + _maskBytes;

    /// <summary>The length of the encoded record that starts <paramref name="encoded"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int EncodedLength(ReadOnlySpan<byte> encoded)
    {
        ReadOnlySpan<byte> mask = encoded.Slice(_keySize, _maskBytes);
        int words = 0;
        int i = 0;
        for (; i + 8 <= mask.Length; i += 8)
        {
            words += BitOperations.PopCount(BinaryPrimitives.ReadUInt64LittleEndian(mask[i..]));
        }

        for (; i < mask.Length; i++)
        {
            words += BitOperations.PopCount(mask[i]);
        }

        return _keySize + _maskBytes + (8 * words);
    }

    /// <summary>Encodes the full <paramref name="record"/> into <paramref name="output"/> (at least <see cref="MaxEncodedSize"/> bytes); returns its length.</summary>
    public int Encode(ReadOnlySpan<byte> record, Span<byte> output)
    {
        if (record.Length != RecordSize || output.Length < MaxEncodedSize)
        {
            throw new ArgumentException("A full record and room for its longest encoding are needed.");
        }

        record.Slice(_stateSize, _keySize).CopyTo(output);

        // The mask first, four words a compare where vectors are fast (a branch a word mispredicts on about a
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
        ref byte target = ref MemoryMarshal.GetReference(output);
        int at = _keySize + _maskBytes;
        for (int m = 0; m < mask.Length; m++)
        {
            ulong bits = mask[m];
            while (bits != 0)
            {
                int word = (m * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                ulong value = word == last ? tail : Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ulong, byte>(ref Unsafe.Add(ref state, word)));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, at), value);
                at += 8;
            }
        }

        return at;
    }

    /// <summary>
    /// Encodes a successor without building it: its parent's encoded record <paramref name="parentEncoded"/> with the
    /// words <paramref name="patchWords"/> (ascending) set to <paramref name="patchValues"/>, and its fingerprint
    /// <paramref name="key"/>. The bytes are those <see cref="Encode"/> writes for the successor's full record: the
    /// mask is the parent's with the patched words' bits recomputed, and the words are the parent's stored words and
    /// the patch merged in order, so no word of the state is compared and only the parent's record (a few cache
    /// lines, not the whole state) is read.
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

        // The successor's words are the parent's stored words with, at each patched word's rank among them, the
        // word replaced, dropped (back to the reference) or inserted (newly different): the runs between patched
        // words are copied whole, a few block copies instead of a test a word.
        ref byte parentWords = ref Unsafe.Add(ref MemoryMarshal.GetReference(parentEncoded), _keySize + _maskBytes);
        ref byte target = ref MemoryMarshal.GetReference(output);
        int at = _keySize + _maskBytes;
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
            CopyWords(ref target, at, ref parentWords, copied, rank - copied);
            at += 8 * (rank - copied);
            copied = rank;
            if (patchValues[c] != Unsafe.Add(ref reference, w))
            {
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, at), patchValues[c]);
                at += 8;
            }

            if ((parentMask[m] & (below + 1)) != 0)
            {
                copied++;
            }
        }

        for (; rankLong < parentMask.Length; rankLong++)
        {
            rankBase += BitOperations.PopCount(parentMask[rankLong]);
        }

        CopyWords(ref target, at, ref parentWords, copied, rankBase - copied);
        return at + (8 * (rankBase - copied));
    }

    /// <summary>Copies <paramref name="count"/> stored words from the parent's word <paramref name="from"/> to byte <paramref name="at"/> of the output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyWords(ref byte target, int at, ref byte parentWords, int from, int count)
    {
        if (count > 0)
        {
            Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref target, at), ref Unsafe.Add(ref parentWords, from * 8), (uint)(count * 8));
        }
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
        int at = _keySize + _maskBytes;
        int last = _words - 1;
        for (int m = 0; m < mask.Length; m++)
        {
            ulong bits = mask[m];
            while (bits != 0)
            {
                int w = (m * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                WriteWord(record, ref target, w, last, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, at)));
                at += 8;
            }
        }

        encoded[.._keySize].CopyTo(record[_stateSize..]);
        return at;
    }

    /// <summary>Writes state word <paramref name="w"/>; of the last one only the state's tail bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteWord(Span<byte> record, ref byte target, int w, int last, ulong word)
    {
        if (w != last)
        {
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, w * 8), word);
        }
        else
        {
            for (int t = 0; t < _tailBytes; t++)
            {
                record[(w * 8) + t] = (byte)(word >> (8 * t));
            }
        }
    }

    /// <summary>The state's last word: its tail bytes, zero above them.</summary>
    private ulong ReadTail(ReadOnlySpan<byte> record)
    {
        Span<byte> tail = stackalloc byte[8];
        tail.Clear();
        record.Slice(8 * (_words - 1), _tailBytes).CopyTo(tail);
        return BinaryPrimitives.ReadUInt64LittleEndian(tail);
    }
}
