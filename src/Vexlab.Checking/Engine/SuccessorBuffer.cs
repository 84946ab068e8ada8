using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Vexlab.Checking.Engine;

/// <summary>
/// One thread's buffer for the successors of one state, built in place: the parent is copied in once, each action
/// changes the buffer where it lies, the words it changed are found by comparing with the parent (64 bytes a step,
/// into a bitmap of words), the fingerprint is updated from those words alone, and the changed words are kept as the
/// successor's patch and put back from the parent (the undo). Per transition that is one vector compare over the
/// state and O(changed words) hashing and restoring, instead of a copy and a hash of the whole state; a successor's
/// bytes are written out (parent plus patch) only when it turns out to be new.
/// </summary>
/// <remarks>
/// The fingerprint is a function of the successor's bytes alone, however it was reached, so a transition system that
/// rewrites much of the state (canonicalizing it under a symmetry, say) stays correct.
/// </remarks>
internal sealed class SuccessorBuffer<TKey, TScheme>
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    private readonly int _stateSize;
    private readonly int _words;
    private int[] _patchWords;
    private ulong[] _patchValues;
    private int[] _patchStart;
    private int _patchCount;
    private int _successors;

    /// <summary>Bit w: word w of the successor differs from the parent's (one bit a word, cleared each successor).</summary>
    private readonly ulong[] _differ;

    public SuccessorBuffer(int stateSize, int maxActions)
    {
        _stateSize = stateSize;
        _words = WordMix.Words(stateSize);
        Buffer = new byte[Math.Max(32, stateSize)];
        _differ = new ulong[(_words + 63) / 64];
        _patchWords = new int[_words * 4];
        _patchValues = new ulong[_words * 4];
        _patchStart = new int[Math.Max(1, maxActions) + 1];
    }

    /// <summary>The successor being built (the state is the first StateSize bytes); between successors, the parent.</summary>
    public byte[] Buffer { get; }

    public Span<byte> State => Buffer.AsSpan(0, _stateSize);

    /// <summary>Bytes held.</summary>
    public long Bytes => Buffer.LongLength + (_patchWords.LongLength * (sizeof(int) + sizeof(ulong))) + (_patchStart.LongLength * sizeof(int));

    /// <summary>Copies the parent in and forgets the previous parent's patches; done once per expanded state.</summary>
    public void Load(ReadOnlySpan<byte> parent)
    {
        parent.CopyTo(Buffer);
        _patchCount = 0;
        _successors = 0;
    }

    /// <summary>
    /// Ends the successor now in the buffer: returns its fingerprint, from <paramref name="parentHash"/> and the words
    /// that differ from <paramref name="parent"/>, keeps those words as its patch and restores them from the parent.
    /// Successors are numbered in the order they are ended, from 0 after each <see cref="Load"/>.
    /// </summary>
    /// <remarks>
    /// The compare finds the differing words; then each updates the fingerprint, joins the patch and is put back,
    /// while it is in a register. The update is exact (the fingerprint is a sum of per-word terms), so however many words a
    /// transition changed, the result equals <see cref="IFingerprintScheme{TKey}.Hash"/> of the successor.
    /// </remarks>
    public TKey Finish(ReadOnlySpan<byte> parent, TKey parentHash)
    {
        if (parent.Length < _stateSize)
        {
            throw new ArgumentException("the parent is shorter than a state", nameof(parent));
        }

        _patchStart[_successors] = _patchCount;
        ref byte p = ref MemoryMarshal.GetReference(parent);
        ref byte b = ref MemoryMarshal.GetArrayDataReference(Buffer);
        int size = _stateSize;
        TKey hash = parentHash;

        // A transition changes a few words of a state of hundreds of bytes. First every 64-byte block is compared
        // (two 32-byte compares of four words, their lane masks joined into one byte) and the bytes gathered into a
        // bitmap of the words that differ, a fixed number of iterations with no branch on the data; then the bitmap's
        // set bits are walked once. Branching on each differing block and walking its byte in a call of its own
        // mispredicted twice a differing block (the block's test and the walk's end).
        Span<ulong> differ = _differ;
        nuint whole = (nuint)(size & ~63);
        int block = 0;
        ulong eight = 0;
        for (nuint offset = 0; offset < whole; offset += 64, block++)
        {
            uint same = Vector256.Equals(Vector256.LoadUnsafe(ref p, offset).AsUInt64(), Vector256.LoadUnsafe(ref b, offset).AsUInt64()).ExtractMostSignificantBits()
                | (Vector256.Equals(Vector256.LoadUnsafe(ref p, offset + 32).AsUInt64(), Vector256.LoadUnsafe(ref b, offset + 32).AsUInt64()).ExtractMostSignificantBits() << 4);
            eight |= (ulong)(~same & 0xFF) << ((block & 7) * 8);
            if ((block & 7) == 7)
            {
                differ[block >> 3] = eight;
                eight = 0;
            }
        }

        // The blocks since the last full eight, and nothing above them yet.
        for (int m = block >> 3; m < differ.Length; m++)
        {
            differ[m] = m == block >> 3 ? eight : 0;
        }

        // The last whole words one at a time.
        int tailWords = (size - (int)whole) >> 3;
        for (int t = 0; t < tailWords; t++)
        {
            int w = (block * 8) + t;
            nuint at = whole + (nuint)(t * 8);
            if (Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, at)) != Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, at)))
            {
                differ[w >> 6] |= 1UL << (w & 63);
            }
        }

        for (int m = 0; m < differ.Length; m++)
        {
            ulong bits = differ[m];
            while (bits != 0)
            {
                int at = ((m * 64) + BitOperations.TrailingZeroCount(bits)) * 8;
                bits &= bits - 1;
                ulong before = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, at));
                ref byte word = ref Unsafe.Add(ref b, at);
                ulong after = Unsafe.ReadUnaligned<ulong>(ref word);
                hash = TScheme.Update(hash, at >> 3, before, after);
                AddPatch(at >> 3, after);
                Unsafe.WriteUnaligned(ref word, before);
            }
        }

        // The final partial word, zero-padded past the state's end.
        int last = (int)whole + (tailWords * 8);
        if (last < size)
        {
            int index = last >> 3;
            ulong before = WordMix.Word(parent[..size], index);
            ulong after = WordMix.Word(Buffer.AsSpan(0, size), index);
            if (before != after)
            {
                hash = TScheme.Update(hash, index, before, after);
                AddPatch(index, after);
                parent[last..size].CopyTo(Buffer.AsSpan(last, size - last));
            }
        }

        _successors++;
        _patchStart[_successors] = _patchCount;
        return hash;
    }

    /// <summary>Writes successor <paramref name="successor"/> (the parent with its patch) to <paramref name="destination"/>.</summary>
    public void Write(int successor, ReadOnlySpan<byte> parent, Span<byte> destination)
    {
        parent.CopyTo(destination);
        WritePatch(successor, destination[.._stateSize]);
    }

    /// <summary>Applies successor <paramref name="successor"/>'s patch to a copy of its parent.</summary>
    public void WritePatch(int successor, Span<byte> destination)
        => ApplyPatch(PatchWords(successor), PatchValues(successor), destination);

    /// <summary>Indices of the words successor <paramref name="successor"/> changed.</summary>
    public ReadOnlySpan<int> PatchWords(int successor)
        => _patchWords.AsSpan(_patchStart[successor], _patchStart[successor + 1] - _patchStart[successor]);

    /// <summary>The values of those words in the successor.</summary>
    public ReadOnlySpan<ulong> PatchValues(int successor)
        => _patchValues.AsSpan(_patchStart[successor], _patchStart[successor + 1] - _patchStart[successor]);

    /// <summary>Writes changed words into a copy of the parent (<paramref name="destination"/>, exactly one state long).</summary>
    public static void ApplyPatch(ReadOnlySpan<int> words, ReadOnlySpan<ulong> values, Span<byte> destination)
    {
        int size = destination.Length;
        for (int c = 0; c < words.Length; c++)
        {
            int offset = words[c] * 8;
            ulong value = values[c];
            if (offset + 8 <= size)
            {
                Unsafe.WriteUnaligned(ref destination[offset], value);
            }
            else
            {
                for (int i = offset; i < size; i++, value >>= 8)
                {
                    destination[i] = (byte)value;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddPatch(int word, ulong value)
    {
        if (_patchCount == _patchWords.Length)
        {
            Array.Resize(ref _patchWords, _patchCount * 2);
            Array.Resize(ref _patchValues, _patchCount * 2);
        }

        _patchWords[_patchCount] = word;
        _patchValues[_patchCount] = value;
        _patchCount++;
    }
}
