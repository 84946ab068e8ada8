using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>How a packed state becomes a fingerprint key. The all-zero key marks an empty slot.</summary>
internal interface IFingerprintScheme<TKey>
    where TKey : unmanaged
{
    static abstract int Bits { get; }

    static abstract TKey Hash(ReadOnlySpan<byte> state);

    static abstract bool IsEmpty(TKey key);

    static abstract bool Equal(TKey a, TKey b);

    /// <summary>Bits used to pick the home slot.</summary>
    static abstract ulong Slot(TKey key);
}

/// <summary>64-bit XxHash3 fingerprints; a hash of 0 is mapped to 1.</summary>
internal readonly struct Fingerprint64 : IFingerprintScheme<ulong>
{
    public static int Bits => 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(ReadOnlySpan<byte> state)
    {
        ulong h = XxHash3.HashToUInt64(state);
        return h == 0 ? 1 : h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsEmpty(ulong key) => key == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(ulong a, ulong b) => a == b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Slot(ulong key) => key;
}

/// <summary>128-bit XxHash128 fingerprints; a hash of 0 is mapped to 1.</summary>
internal readonly struct Fingerprint128 : IFingerprintScheme<UInt128>
{
    public static int Bits => 128;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Hash(ReadOnlySpan<byte> state)
    {
        UInt128 h = XxHash128.HashToUInt128(state);
        return h == UInt128.Zero ? UInt128.One : h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsEmpty(UInt128 key) => key == UInt128.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(UInt128 a, UInt128 b) => a == b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Slot(UInt128 key) => (ulong)key;
}

/// <summary>
/// Open-addressing (linear probing) set of fingerprints, optionally mapping each to a state id.
/// Grows by doubling at 3/4 load. Concurrent <see cref="Find"/> calls are safe while nobody adds.
/// </summary>
internal sealed class FingerprintTable<TKey, TScheme>
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    /// <summary>Largest capacity (slots).</summary>
    public const long MaxCapacity = 1L << 30;

    private TKey[] _keys;
    private int[]? _ids;
    private int _mask;
    private long _count;
    private long _growAt;

    public FingerprintTable(int capacityLog2, bool trackIds)
    {
        long capacity = 1L << capacityLog2;
        _keys = new TKey[capacity];
        _ids = trackIds ? new int[capacity] : null;
        _mask = (int)(capacity - 1);
        _growAt = capacity / 4 * 3;
    }

    public long Count => _count;

    public long Capacity => _keys.LongLength;

    public bool TracksIds => _ids is not null;

    public static int SlotBytes(bool trackIds) => Unsafe.SizeOf<TKey>() + (trackIds ? sizeof(int) : 0);

    public long Bytes => Capacity * SlotBytes(TracksIds);

    /// <summary>Bytes held while growing (old and new arrays together).</summary>
    public long BytesDuringGrowth => Bytes * 3;

    public long BytesAfterGrowth => Bytes * 2;

    /// <summary>The next insertion needs <see cref="Grow"/> to keep the load at or below 3/4.</summary>
    public bool NeedsGrowth => _count >= _growAt;

    public bool CanGrow => Capacity < MaxCapacity;

    /// <summary>Hard fullness: above 15/16 the table must not take more keys.</summary>
    public bool IsOverfull => _count >= Capacity / 16 * 15;

    /// <summary>
    /// Adds <paramref name="key"/> with id <paramref name="newId"/> if absent and returns <paramref name="newId"/>;
    /// otherwise returns the stored id (or -1 when ids are not tracked).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int AddOrGet(TKey key, int newId)
    {
        ref TKey keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        int mask = _mask;
        int i = (int)TScheme.Slot(key) & mask;
        while (true)
        {
            ref TKey slot = ref Unsafe.Add(ref keys, i);
            if (TScheme.IsEmpty(slot))
            {
                slot = key;
                if (_ids is not null)
                {
                    _ids[i] = newId;
                }

                _count++;
                return newId;
            }

            if (TScheme.Equal(slot, key))
            {
                return _ids is null ? -1 : _ids[i];
            }

            i = (i + 1) & mask;
        }
    }

    /// <summary>Loads the home slot of <paramref name="key"/> so that a following insert finds it in cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TKey Touch(TKey key)
        => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_keys), (int)TScheme.Slot(key) & _mask);

    /// <summary>Returns -2 when absent; otherwise the stored id, or -1 when ids are not tracked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(TKey key)
    {
        ref TKey keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        int mask = _mask;
        int i = (int)TScheme.Slot(key) & mask;
        while (true)
        {
            TKey slot = Unsafe.Add(ref keys, i);
            if (TScheme.IsEmpty(slot))
            {
                return -2;
            }

            if (TScheme.Equal(slot, key))
            {
                return _ids is null ? -1 : _ids[i];
            }

            i = (i + 1) & mask;
        }
    }

    /// <summary>Writes capacity, count, keys and ids (for a checkpoint).</summary>
    public void WriteTo(BinaryWriter output)
    {
        output.Write(_keys.LongLength);
        output.Write(_count);
        output.Write(MemoryMarshal.AsBytes(_keys.AsSpan()));
        if (_ids is not null)
        {
            output.Write(MemoryMarshal.AsBytes(_ids.AsSpan()));
        }
    }

    /// <summary>Replaces the contents with what <see cref="WriteTo"/> wrote.</summary>
    public void ReadFrom(BinaryReader input)
    {
        long capacity = input.ReadInt64();
        long count = input.ReadInt64();
        if (capacity < 1 || capacity > MaxCapacity || (capacity & (capacity - 1)) != 0 || count < 0 || count > capacity)
        {
            throw new InvalidDataException("bad fingerprint table header");
        }

        var keys = new TKey[capacity];
        input.BaseStream.ReadExactly(MemoryMarshal.AsBytes(keys.AsSpan()));
        int[]? ids = null;
        if (_ids is not null)
        {
            ids = new int[capacity];
            input.BaseStream.ReadExactly(MemoryMarshal.AsBytes(ids.AsSpan()));
        }

        _keys = keys;
        _ids = ids;
        _count = count;
        _mask = (int)(capacity - 1);
        _growAt = capacity / 4 * 3;
    }

    public void Grow()
    {
        TKey[] oldKeys = _keys;
        int[]? oldIds = _ids;
        long capacity = oldKeys.LongLength * 2;
        var keys = new TKey[capacity];
        int[]? ids = oldIds is null ? null : new int[capacity];
        int mask = (int)(capacity - 1);
        for (int j = 0; j < oldKeys.Length; j++)
        {
            TKey key = oldKeys[j];
            if (TScheme.IsEmpty(key))
            {
                continue;
            }

            int i = (int)TScheme.Slot(key) & mask;
            while (!TScheme.IsEmpty(keys[i]))
            {
                i = (i + 1) & mask;
            }

            keys[i] = key;
            if (ids is not null)
            {
                ids[i] = oldIds![j];
            }
        }

        _keys = keys;
        _ids = ids;
        _mask = mask;
        _growAt = capacity / 4 * 3;
    }
}

/// <summary>An append-only array in fixed pages, so growth never copies.</summary>
internal sealed class PagedList<T>
    where T : unmanaged
{
    private const int Shift = 14;
    private const int PageSize = 1 << Shift;
    private const int PageMask = PageSize - 1;

    private T[][] _pages = new T[16][];
    private long _count;

    public long Count => _count;

    public long AllocatedBytes => ((_count + PageMask) >> Shift) * PageSize * (long)Unsafe.SizeOf<T>();

    public long UsedBytes => _count * Unsafe.SizeOf<T>();

    public T this[long index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _pages[index >> Shift][index & PageMask];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => _pages[index >> Shift][index & PageMask] = value;
    }

    /// <summary>Writes the count and the elements (for a checkpoint).</summary>
    public void WriteTo(BinaryWriter output)
    {
        output.Write(_count);
        for (long page = 0; page << Shift < _count; page++)
        {
            int used = (int)Math.Min(PageSize, _count - (page << Shift));
            output.Write(MemoryMarshal.AsBytes(_pages[page].AsSpan(0, used)));
        }
    }

    /// <summary>Appends what <see cref="WriteTo"/> wrote; the list must be empty.</summary>
    public void ReadFrom(BinaryReader input)
    {
        long count = input.ReadInt64();
        if (count < 0 || count > int.MaxValue * 4L || _count != 0)
        {
            throw new InvalidDataException("bad list header");
        }

        while (_count < count)
        {
            long page = _count >> Shift;
            AddPage(page);
            int used = (int)Math.Min(PageSize, count - _count);
            input.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_pages[page].AsSpan(0, used)));
            _count += used;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(T value)
    {
        long page = _count >> Shift;
        int offset = (int)(_count & PageMask);
        if (offset == 0)
        {
            AddPage(page);
        }

        _pages[page][offset] = value;
        _count++;
    }

    private void AddPage(long page)
    {
        if (page >= _pages.Length)
        {
            Array.Resize(ref _pages, _pages.Length * 2);
        }

        _pages[page] = new T[PageSize];
    }
}
