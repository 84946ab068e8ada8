using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// Compact hashing (Cleary, "Compact Hash Tables Using Bidirectional Linear Probing", IEEE Trans. Computers 33(9),
/// 1984) of <see cref="KeyBits"/>-bit fingerprints: a key's home slot already says which part of the key range it is
/// in, so a slot stores only the key's low bits (as many as the home leaves open) beside its probe distance, and the
/// whole key is recovered from the two. Where Cleary sorts each cluster and keeps two flag bits a slot, this keeps
/// plain linear probing and stores the distance (10 bits), so probes stay as short as in the wide table and the keys
/// can be re-placed when the table grows.
/// </summary>
/// <remarks>
/// A key t (the top <see cref="KeyBits"/> bits of the 64-bit fingerprint) has home h = floor(t C / 2^K) in a table
/// of C slots (Lemire's multiply-shift, as the wide table), so t lies in [ceil(h 2^K / C), ceil(h 2^K / C) + 2^K / C):
/// with C at least 2^m, its low K - m bits and h give t back. The slot width follows the capacity: 8 bytes below
/// 2^14 slots, 7 below 2^22, 6 from there (10 distance bits + at least K - m key bits). Keys whose probe would run
/// past the largest distance a slot records (1,022 slots; linear probing at 7/8 load reaches about 850 in a table of
/// 2^24 slots) are
/// kept whole in a small overflow map, which the table re-places when it grows. Lookups and inserts compare whole
/// keys, so the set is exact over its keys: two states collide only when their fingerprints share the top K bits.
/// </remarks>
internal sealed class CompactFingerprintSet
{
    /// <summary>Fingerprint bits kept: the top bits of the 64-bit fingerprint.</summary>
    public const int KeyBits = 60;

    private const int DisplacementBits = 10;
    private const ulong DisplacementMask = (1UL << DisplacementBits) - 1;

    /// <summary>Largest probe distance a slot records (the field holds distance + 1; zero is an empty slot).</summary>
    public const int MaxDisplacement = (int)DisplacementMask - 1;

    /// <summary>Bytes an overflow entry costs in the map (key, value, hash, chain and bucket).</summary>
    private const int OverflowEntryBytes = 32;

    /// <summary>Slots a stripe lock covers (log2): more than the longest probe, so a probe spans two stripes at most.</summary>
    private const int StripeShift = 12;

    private readonly Lock _overflowSync = new();
    private ulong[] _words;
    private int[] _stripes = [];
    private int[]? _ids;
    private Dictionary<ulong, int>? _overflow;
    private ulong _capacity;
    private int _slotBytes;
    private int _remainderBits;
    private ulong _slotMask;
    private ulong _remainderMask;

    public CompactFingerprintSet(long capacity, bool trackIds)
    {
        _words = [];
        Allocate(capacity, trackIds);
    }

    public long Count { get; private set; }

    public long Capacity => (long)_capacity;

    /// <summary>Bytes of each slot at the current capacity.</summary>
    public int SlotBytes => _slotBytes;

    /// <summary>Keys kept whole beside the slots (their probe ran past the largest distance a slot records).</summary>
    public int OverflowCount => _overflow?.Count ?? 0;

    public long Bytes => (_words.LongLength * sizeof(ulong)) + ((_ids?.LongLength ?? 0) * sizeof(int)) + (_stripes.LongLength * sizeof(int))
        + ((long)OverflowCount * OverflowEntryBytes);

    /// <summary>Bytes of the slots, the padding word, the ids and the stripe locks of a table of <paramref name="capacity"/> slots.</summary>
    public static long BytesFor(long capacity, bool trackIds)
        => (WordsFor(capacity, SlotBytesFor(capacity)) * sizeof(ulong)) + (trackIds ? capacity * sizeof(int) : 0)
            + (((capacity + (1L << StripeShift) - 1) >> StripeShift) * sizeof(int));

    /// <summary>Slot width for <paramref name="capacity"/> slots: the distance field and the key bits the home leaves open.</summary>
    public static int SlotBytesFor(long capacity)
    {
        int m = BitOperations.Log2((ulong)capacity);
        return Math.Min(sizeof(ulong), (DisplacementBits + KeyBits - m + 7) / 8);
    }

    /// <summary>The key of a 64-bit fingerprint.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong KeyOf(ulong fingerprint) => fingerprint >> (64 - KeyBits);

    /// <summary>Adds <paramref name="fingerprint"/>'s key with <paramref name="newId"/> if absent and returns it; otherwise the stored id (-1 without ids).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int AddOrGet(ulong fingerprint, int newId)
    {
        ulong key = KeyOf(fingerprint);
        int i = Home(key);
        ulong want = Wanted(key);
        ref byte slots = ref Slots;
        nint width = _slotBytes;
        ulong mask = _slotMask;
        for (int d = 0; d <= MaxDisplacement; d++, want++)
        {
            ref byte slot = ref Unsafe.Add(ref slots, i * width);
            ulong word = Unsafe.ReadUnaligned<ulong>(ref slot);
            ulong value = word & mask;
            if (value == 0)
            {
                Unsafe.WriteUnaligned(ref slot, word | want);
                if (_ids is not null)
                {
                    _ids[i] = newId;
                }

                Count++;
                return newId;
            }

            if (value == want)
            {
                return _ids is null ? -1 : _ids[i];
            }

            i = Next(i);
        }

        return AddOrGetOverflow(key, newId);
    }

    /// <summary>
    /// Starts loading the cache lines of <paramref name="fingerprint"/>'s home slot and the next, as the wide table does
    /// (see <see cref="ProbeLines"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(ulong fingerprint)
        => ProbeLines.Prefetch((byte*)Unsafe.AsPointer(ref Unsafe.Add(ref Slots, (nint)Home(KeyOf(fingerprint)) * _slotBytes)));

    /// <summary>Returns -2 when absent; otherwise the stored id, or -1 when ids are not tracked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ulong fingerprint)
    {
        ulong key = KeyOf(fingerprint);
        int i = Home(key);
        ulong want = Wanted(key);
        ref byte slots = ref Slots;
        nint width = _slotBytes;
        ulong mask = _slotMask;
        for (int d = 0; d <= MaxDisplacement; d++, want++)
        {
            ulong value = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref slots, i * width)) & mask;
            if (value == 0)
            {
                return -2;
            }

            if (value == want)
            {
                return _ids is null ? -1 : _ids[i];
            }

            i = Next(i);
        }

        if (_overflow is not null && _overflow.TryGetValue(key, out int id))
        {
            return _ids is null ? -1 : id;
        }

        return -2;
    }

    /// <summary>
    /// Adds a key known to be absent, from any number of threads at once. A slot is not a machine word here, so it
    /// cannot be claimed with one compare-and-swap: the insert holds the spin locks of the stripe of 4,096 slots
    /// its home lies in and of the next one, which cover its whole probe (at most 1,023 slots) and the bytes the
    /// read-modify-write of its slot touches. Locks are taken in stripe order, so two inserts never wait on each
    /// other in a cycle; the overflow map has a lock of its own. Nobody reads until all inserts are done.
    /// Does not count: <see cref="Added"/> does.
    /// </summary>
    public void InsertAbsent(ulong fingerprint)
    {
        ulong key = KeyOf(fingerprint);
        int stripe = Home(key) >> StripeShift;
        int next = stripe + 1 == _stripes.Length ? 0 : stripe + 1;
        int first = Math.Min(stripe, next);
        int second = Math.Max(stripe, next);
        Acquire(first);
        if (second != first)
        {
            Acquire(second);
        }

        try
        {
            Place(key, -1);
        }
        finally
        {
            if (second != first)
            {
                Volatile.Write(ref _stripes[second], 0);
            }

            Volatile.Write(ref _stripes[first], 0);
        }
    }

    public void Added(long count) => Count += count;

    /// <summary>Moves every key into a table of <paramref name="capacity"/> slots (whose slots may be narrower).</summary>
    public void Resize(long capacity)
    {
        ulong[] oldWords = _words;
        int[]? oldIds = _ids;
        Dictionary<ulong, int>? oldOverflow = _overflow;
        ulong oldCapacity = _capacity;
        int oldWidth = _slotBytes;
        ulong oldMask = _slotMask;
        ulong oldRemainderMask = _remainderMask;

        // ceil(h 2^K / C) = h q + ceil(h r / C) with 2^K = q C + r: one 64-bit division a key.
        ulong q = (1UL << KeyBits) / oldCapacity;
        ulong r = (1UL << KeyBits) % oldCapacity;
        Allocate(capacity, oldIds is not null);
        _overflow = null;
        ref byte oldSlots = ref Unsafe.As<ulong, byte>(ref MemoryMarshal.GetArrayDataReference(oldWords));
        for (ulong j = 0; j < oldCapacity; j++)
        {
            ulong value = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref oldSlots, (nint)j * oldWidth)) & oldMask;
            if (value == 0)
            {
                continue;
            }

            ulong distance = (value & DisplacementMask) - 1;
            ulong home = j >= distance ? j - distance : j + oldCapacity - distance;
            ulong low = home * q + ((home * r) + oldCapacity - 1) / oldCapacity;
            ulong key = low + (((value >> DisplacementBits) - low) & oldRemainderMask);
            Place(key, oldIds is null ? -1 : oldIds[j]);
        }

        if (oldOverflow is not null)
        {
            foreach (KeyValuePair<ulong, int> entry in oldOverflow)
            {
                Place(entry.Key, entry.Value);
            }
        }
    }

    /// <summary>Writes the slots, ids and overflow keys (for a checkpoint); the caller writes the capacity and count.</summary>
    public void WriteTo(BinaryWriter output)
    {
        output.Write(MemoryMarshal.AsBytes(_words.AsSpan()));
        if (_ids is not null)
        {
            output.Write(MemoryMarshal.AsBytes(_ids.AsSpan()));
        }

        output.Write(OverflowCount);
        if (_overflow is not null)
        {
            foreach (KeyValuePair<ulong, int> entry in _overflow)
            {
                output.Write(entry.Key);
                output.Write(entry.Value);
            }
        }
    }

    /// <summary>Replaces the contents with what <see cref="WriteTo"/> wrote for <paramref name="capacity"/> slots holding <paramref name="count"/> keys.</summary>
    public void ReadFrom(BinaryReader input, long capacity, long count)
    {
        Allocate(capacity, _ids is not null);
        input.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_words.AsSpan()));
        if (_ids is not null)
        {
            input.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_ids.AsSpan()));
        }

        int overflow = input.ReadInt32();
        if (overflow < 0 || overflow > count)
        {
            throw new InvalidDataException("bad overflow count");
        }

        _overflow = null;
        for (int k = 0; k < overflow; k++)
        {
            ulong key = input.ReadUInt64();
            int id = input.ReadInt32();
            if (key >> KeyBits != 0 || !(_overflow ??= []).TryAdd(key, id))
            {
                throw new InvalidDataException("bad overflow key");
            }
        }

        Count = count;
    }

    private ref byte Slots => ref Unsafe.As<ulong, byte>(ref MemoryMarshal.GetArrayDataReference(_words));

    /// <summary>Words of slot storage, with one word of padding so that a slot is always read as a whole word.</summary>
    private static long WordsFor(long capacity, int slotBytes) => ((capacity * slotBytes) + 7) / 8 + 1;

    private void Allocate(long capacity, bool trackIds)
    {
        if (capacity < 64 || capacity > FingerprintTable<ulong, Fingerprint64>.MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity));
        }

        _capacity = (ulong)capacity;
        _slotBytes = SlotBytesFor(capacity);
        _slotMask = _slotBytes == sizeof(ulong) ? ulong.MaxValue : (1UL << (8 * _slotBytes)) - 1;
        _remainderBits = Math.Min(KeyBits, (8 * _slotBytes) - DisplacementBits);
        _remainderMask = (1UL << _remainderBits) - 1;
        _words = new ulong[WordsFor(capacity, _slotBytes)];
        _stripes = new int[(capacity + (1L << StripeShift) - 1) >> StripeShift];
        _ids = trackIds ? new int[capacity] : null;
    }

    /// <summary>The slot value of <paramref name="key"/> at distance zero; each further probe adds one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Wanted(ulong key) => ((key & _remainderMask) << DisplacementBits) | 1;

    /// <summary>Puts a key known to be absent into the first empty slot of its probe, or the overflow map.</summary>
    private void Place(ulong key, int id)
    {
        int i = Home(key);
        ulong want = Wanted(key);
        ref byte slots = ref Slots;
        nint width = _slotBytes;
        for (int d = 0; d <= MaxDisplacement; d++, want++)
        {
            ref byte slot = ref Unsafe.Add(ref slots, i * width);
            ulong word = Unsafe.ReadUnaligned<ulong>(ref slot);
            if ((word & _slotMask) == 0)
            {
                Unsafe.WriteUnaligned(ref slot, word | want);
                if (_ids is not null)
                {
                    _ids[i] = id;
                }

                return;
            }

            i = Next(i);
        }

        lock (_overflowSync)
        {
            (_overflow ??= []).Add(key, id);
        }
    }

    private void Acquire(int stripe)
    {
        ref int word = ref _stripes[stripe];
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref word, 1, 0) != 0)
        {
            spin.SpinOnce();
        }
    }

    private int AddOrGetOverflow(ulong key, int newId)
    {
        _overflow ??= [];
        if (_overflow.TryGetValue(key, out int id))
        {
            return _ids is null ? -1 : id;
        }

        _overflow.Add(key, newId);
        Count++;
        return newId;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(ulong key) => (int)Math.BigMul(key << (64 - KeyBits), _capacity, out _);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Next(int i) => (ulong)(i + 1) == _capacity ? 0 : i + 1;
}
