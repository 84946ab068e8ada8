using System.Numerics;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The BFS parent of every state, by id, in about half a byte a state. Ids follow (parent id, action index) order
/// level after level, so parent ids never decrease along the ids: each state stores the step from the previous
/// state's parent in unary (that many zero bits, then a one), about two bits a state, and every 64th state the parent
/// and bit position outright, so a lookup (only for counterexamples) reads at most 64 codes.
/// </summary>
internal sealed class ParentLinks
{
    private const int SampleShift = 6;
    private const int SampleMask = (1 << SampleShift) - 1;

    private readonly PagedList<ulong> _bits = new();
    private readonly PagedList<int> _sampleParent = new();
    private readonly PagedList<long> _sampleBit = new();
    private long _bitCount;
    private long _count;
    private int _last;

    public long Count => _count;

    public long UsedBytes => ((_bitCount + 63) / 64 * sizeof(ulong)) + (_sampleParent.Count * (sizeof(int) + sizeof(long)));

    public long AllocatedBytes => _bits.AllocatedBytes + _sampleParent.AllocatedBytes + _sampleBit.AllocatedBytes;

    /// <summary>
    /// At most what <see cref="AllocatedBytes"/> is after <paramref name="added"/> more states whose parents are at most
    /// <paramref name="lastParent"/>: each takes its step's zero bits and a one, every 64th a sample.
    /// </summary>
    public long AllocatedBytesAfter(long added, long lastParent)
    {
        long bits = _bitCount + added + Math.Max(0, lastParent - _last);
        long samples = (_count + added + SampleMask) >> SampleShift;
        return _bits.AllocatedBytesFor((bits + 63) >> 6) + _sampleParent.AllocatedBytesFor(samples) + _sampleBit.AllocatedBytesFor(samples);
    }

    /// <summary>Appends the parent of the next id; parents never decrease after the initial state's -1.</summary>
    public void Add(int parent)
    {
        if ((_count & SampleMask) == 0)
        {
            _sampleParent.Add(parent);
            _sampleBit.Add(_bitCount);
        }
        else
        {
            if (parent < _last)
            {
                throw new InvalidOperationException("parent ids must not decrease");
            }

            // The code of the step: (parent - last) zero bits, then a one.
            _bitCount += parent - _last;
            SetBit(_bitCount);
            _bitCount++;
        }

        _last = parent;
        _count++;
    }

    public int this[long id]
    {
        get
        {
            long sample = id >> SampleShift;
            int parent = _sampleParent[sample];
            long bit = _sampleBit[sample];
            for (long k = id & SampleMask; k > 0; k--)
            {
                long one = NextOne(bit);
                parent += (int)(one - bit);
                bit = one + 1;
            }

            return parent;
        }
    }

    /// <summary>Writes the count and the parents (for a checkpoint).</summary>
    public void WriteTo(BinaryWriter output)
    {
        output.Write(_count);
        for (long id = 0; id < _count; id++)
        {
            output.Write(this[id]);
        }
    }

    /// <summary>Appends what <see cref="WriteTo"/> wrote; the links must be empty.</summary>
    public void ReadFrom(BinaryReader input)
    {
        long count = input.ReadInt64();
        if (count < 0 || count > int.MaxValue || _count != 0)
        {
            throw new InvalidDataException("bad parent list header");
        }

        for (long id = 0; id < count; id++)
        {
            int parent = input.ReadInt32();
            if (id > 0 && (id & SampleMask) != 0 && parent < _last)
            {
                throw new InvalidDataException("parent ids decrease");
            }

            Add(parent);
        }
    }

    private void SetBit(long bit)
    {
        long word = bit >> 6;
        while (_bits.Count <= word)
        {
            _bits.Add(0);
        }

        _bits[word] |= 1UL << (int)(bit & 63);
    }

    /// <summary>Position of the first one bit at or after <paramref name="bit"/>.</summary>
    private long NextOne(long bit)
    {
        long word = bit >> 6;
        ulong bits = _bits[word] >> (int)(bit & 63);
        if (bits != 0)
        {
            return bit + BitOperations.TrailingZeroCount(bits);
        }

        for (word++; ; word++)
        {
            if (_bits[word] != 0)
            {
                return (word << 6) + BitOperations.TrailingZeroCount(_bits[word]);
            }
        }
    }
}
