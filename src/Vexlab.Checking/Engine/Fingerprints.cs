using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vexlab.Checking.Engine;

/// <summary>
/// How a packed state becomes a fingerprint key. The fingerprint is a sum over the state's 8-byte words (the last one
/// zero-padded) of a per-position mix of each word, so a transition that changes k words changes the fingerprint by
/// k terms: <see cref="Update"/> costs O(changed words), not O(state) (Zobrist hashing over words instead of bytes).
/// The mix is a bijection for each position, so states that differ in one word never collide. The all-zero key marks
/// an empty table slot; <see cref="Stored"/> maps a zero sum to one.
/// </summary>
internal interface IFingerprintScheme<TKey>
    where TKey : unmanaged
{
    static abstract int Bits { get; }

    /// <summary>The fingerprint of the whole state (the sum of <see cref="WordMix.Term"/> over its words).</summary>
    static abstract TKey Hash(ReadOnlySpan<byte> state);

    /// <summary>The fingerprint after word <paramref name="index"/> changed from <paramref name="before"/> to <paramref name="after"/>.</summary>
    static abstract TKey Update(TKey hash, int index, ulong before, ulong after);

    /// <summary>The key stored in the table for a fingerprint (zero is the empty slot).</summary>
    static abstract TKey Stored(TKey hash);

    static abstract bool IsEmpty(TKey key);

    static abstract bool Equal(TKey a, TKey b);

    /// <summary>The low 64 bits: picks the home slot, and is never zero in a stored key (the word a slot is claimed by).</summary>
    static abstract ulong Slot(TKey key);

    /// <summary>The bits above <see cref="Slot"/> (none for 64-bit keys).</summary>
    static abstract ulong High(TKey key);
}

/// <summary>The per-word terms of the fingerprints: SplitMix64's and MurmurHash3's 64-bit finalizers.</summary>
internal static class WordMix
{
    /// <summary>Weyl increment of SplitMix64 (2^64 / golden ratio): spreads positions over the word.</summary>
    private const ulong Golden = 0x9E3779B97F4A7C15;

    private const ulong Second = 0xD6E8FEB86659FD93;

    /// <summary>
    /// Term of word <paramref name="word"/> at <paramref name="index"/>: one finalizer of the word xored with the
    /// position's key (a multiple of the Weyl increment), a bijection of the word at each position. The position enters
    /// before the mix, so two positions trade values and keep the sum only if the values change by the xor of their
    /// two keys as well (word a at i and b at j against b ^ k_i ^ k_j at i and a ^ k_i ^ k_j at j): 64-bit patterns that
    /// a state's fields do not take, where xoring the position into the mixed word would let any two words trade.
    /// </summary>
    /// <remarks>
    /// One finalizer, not a finalizer of the finalized word: a transition's update is two terms a changed word, each
    /// a chain of two dependent multiplies instead of four, and that chain was most of a profile's samples in
    /// <see cref="SuccessorBuffer{TKey, TScheme}"/>'s patch loop (a tenth of the bench check).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Term(ulong word, int index) => SplitMix(word ^ (Golden * (ulong)(index + 1)));

    /// <summary>An independent term for the upper half of 128-bit fingerprints: another finalizer, another key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Term2(ulong word, int index) => Murmur(word ^ (Second * (ulong)(index + 1)));

    /// <summary>Word <paramref name="index"/> of <paramref name="state"/>, zero-padded past its end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Word(ReadOnlySpan<byte> state, int index)
    {
        int offset = index * 8;
        if (offset + 8 <= state.Length)
        {
            return Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref MemoryMarshal.GetReference(state), offset));
        }

        // The last, partial word: the state's last 8 bytes shifted down leave its bytes alone, zeros above them.
        if (state.Length >= 8 && offset < state.Length)
        {
            return Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref MemoryMarshal.GetReference(state), state.Length - 8)) >> (8 * (offset + 8 - state.Length));
        }

        ulong word = 0;
        for (int i = state.Length - 1; i >= offset; i--)
        {
            word = (word << 8) | state[i];
        }

        return word;
    }

    public static int Words(int stateSize) => (stateSize + 7) / 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong SplitMix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Murmur(ulong z)
    {
        z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCD;
        z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53;
        return z ^ (z >> 33);
    }
}

/// <summary>64-bit incremental fingerprints.</summary>
internal readonly struct Fingerprint64 : IFingerprintScheme<ulong>
{
    public static int Bits => 64;

    public static ulong Hash(ReadOnlySpan<byte> state)
    {
        ulong h = 0;
        int words = WordMix.Words(state.Length);
        for (int i = 0; i < words; i++)
        {
            h += WordMix.Term(WordMix.Word(state, i), i);
        }

        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Update(ulong hash, int index, ulong before, ulong after)
        => hash - WordMix.Term(before, index) + WordMix.Term(after, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Stored(ulong hash) => hash == 0 ? 1 : hash;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsEmpty(ulong key) => key == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(ulong a, ulong b) => a == b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Slot(ulong key) => key;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong High(ulong key) => 0;
}

/// <summary>128-bit incremental fingerprints: two independent 64-bit sums (a zero low half is stored as one).</summary>
internal readonly struct Fingerprint128 : IFingerprintScheme<UInt128>
{
    public static int Bits => 128;

    public static UInt128 Hash(ReadOnlySpan<byte> state)
    {
        ulong low = 0;
        ulong high = 0;
        int words = WordMix.Words(state.Length);
        for (int i = 0; i < words; i++)
        {
            ulong word = WordMix.Word(state, i);
            low += WordMix.Term(word, i);
            high += WordMix.Term2(word, i);
        }

        return new UInt128(high, low);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Update(UInt128 hash, int index, ulong before, ulong after)
    {
        ulong low = (ulong)hash - WordMix.Term(before, index) + WordMix.Term(after, index);
        ulong high = (ulong)(hash >> 64) - WordMix.Term2(before, index) + WordMix.Term2(after, index);
        return new UInt128(high, low);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Stored(UInt128 hash) => (ulong)hash == 0 ? hash | UInt128.One : hash;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsEmpty(UInt128 key) => (ulong)key == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(UInt128 a, UInt128 b) => a == b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Slot(UInt128 key) => (ulong)key;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong High(UInt128 key) => (ulong)(key >> 64);
}

/// <summary>
/// Open-addressing (linear probing) set of fingerprints, optionally mapping each to a state id. The home slot is the
/// key's low word scaled to the capacity (Lemire's multiply-shift), so the capacity need not be a power of two: the
/// table grows by an eighth at 7/8 load and stays between 77% and 88% full, where doubling at 3/4 would leave it
/// 37% to 75% full (8 bytes a slot is 9.1 to 10.3 bytes a state instead of 10.7 to 21.3). Growing more often costs
/// little: homes keep their order as the capacity grows, so a rehash in place moves the keys almost sequentially.
/// Concurrent <see cref="Find(TKey)"/> calls are safe while nobody adds; concurrent <see cref="InsertAbsent(TKey)"/> calls are safe
/// with each other. Compact, the keys live in a <see cref="CompactFingerprintSet"/> (64-bit fingerprints only): the
/// same probing and growth, 6 to 8 bytes a slot instead of 8 (+4 with ids), <see cref="CompactFingerprintSet.KeyBits"/>
/// fingerprint bits compared instead of 64.
/// </summary>
internal sealed unsafe class FingerprintTable<TKey, TScheme> : IDisposable
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    /// <summary>Largest capacity (slots).</summary>
    public const long MaxCapacity = 1L << 30;

    private readonly CompactFingerprintSet? _compact;
    private readonly bool _trackIds;

    // The keys' and ids' memory, each grown in place (SlotMemory).
    private readonly SlotMemory<TKey>? _keyMemory;
    private readonly SlotMemory<int>? _idMemory;
    private TKey* _keys;
    private int* _ids;
    private ulong _capacity;
    private long _count;
    private long _growAt;

    public FingerprintTable(int capacityLog2, bool trackIds, bool compact = false)
    {
        long capacity = 1L << capacityLog2;
        _trackIds = trackIds;
        if (compact)
        {
            if (Unsafe.SizeOf<TKey>() != sizeof(ulong))
            {
                throw new ArgumentException("A compact table stores 64-bit fingerprints only.", nameof(compact));
            }

            _compact = new CompactFingerprintSet(capacity, trackIds);
        }
        else
        {
            _keyMemory = new SlotMemory<TKey>(MaxCapacity);
            _idMemory = trackIds ? new SlotMemory<int>(MaxCapacity) : null;
            _keys = _keyMemory.Zeroed(capacity);
            _ids = _idMemory is null ? null : _idMemory.Zeroed(capacity);
        }

        Resized(capacity);
    }

    public long Count => _compact?.Count ?? _count;

    public long Capacity => (long)_capacity;

    public bool TracksIds => _trackIds;

    public bool IsCompact => _compact is not null;

    /// <summary>Fingerprint bits two states must share to be taken for one.</summary>
    public int KeyBits => _compact is null ? TScheme.Bits : CompactFingerprintSet.KeyBits;

    /// <summary>Keys the compact table keeps whole beside its slots (zero for the wide table).</summary>
    public int OverflowCount => _compact?.OverflowCount ?? 0;

    public static int SlotBytes(bool trackIds) => Unsafe.SizeOf<TKey>() + (trackIds ? sizeof(int) : 0);

    public long Bytes => _compact?.Bytes ?? Capacity * SlotBytes(TracksIds);

    /// <summary>Bytes the next growth holds at its most: the grown table and the keys it takes out meanwhile.</summary>
    public long BytesAfterGrowth => BytesFor(GrownCapacity(Capacity)) + GrowthScratchBytes(Capacity);

    /// <summary>Changes whenever keys may have moved (a growth, a checkpoint read): slots found before are then stale.</summary>
    public long Layout { get; private set; }

    /// <summary>Keys the table takes before it must grow (7/8 of its slots).</summary>
    public long GrowAt => _growAt;

    /// <summary>The next insertion needs <see cref="Grow"/> to keep the load at or below 7/8.</summary>
    public bool NeedsGrowth => Count >= _growAt;

    public bool CanGrow => Capacity < MaxCapacity;

    /// <summary>Hard fullness: above 31/32 the table must not take more keys.</summary>
    public bool IsOverfull => Count >= Capacity / 32 * 31;

    /// <summary>
    /// Adds <paramref name="key"/> with id <paramref name="newId"/> if absent and returns <paramref name="newId"/>;
    /// otherwise returns the stored id (or -1 when ids are not tracked).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int AddOrGet(TKey key, int newId)
    {
        if (_compact is not null)
        {
            return _compact.AddOrGet(TScheme.Slot(key), newId);
        }

        int i = Probe(key, out bool found);
        if (found)
        {
            return _ids == null ? -1 : _ids[i];
        }

        _keys[i] = key;
        if (_ids != null)
        {
            _ids[i] = newId;
        }

        _count++;
        return newId;
    }

    /// <summary>
    /// The first slot from <paramref name="key"/>'s home that is empty or holds it (<paramref name="found"/>): where a
    /// lookup ends. 64-bit keys are tested four slots a compare where the slots lie before the table's end.
    /// </summary>
    /// <remarks>
    /// A breadth-first search mostly looks up states it inserted lately, which linear probing left at the ends of
    /// their clusters: on the bench check a hit walked 16 slots on average and a miss 18, where a slot a compare cost a
    /// fifteenth of the one-worker check. Four at a time, a walk is a few compares and one branch that mispredicts.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Probe(TKey key, out bool found)
    {
        TKey* keys = _keys;
        int i = Home(key);
        if (typeof(TKey) == typeof(ulong) && Vector256.IsHardwareAccelerated)
        {
            // The home slot alone first: most keys sit there or next to it, where a vector's setup would cost more.
            TKey first = keys[i];
            if (TScheme.IsEmpty(first) || TScheme.Equal(first, key))
            {
                found = !TScheme.IsEmpty(first);
                return i;
            }

            i = Next(i);
            ulong* words = (ulong*)keys;
            ulong wanted = TScheme.Slot(key);
            Vector256<ulong> target = Vector256.Create(wanted);
            int end = (int)_capacity - 4;
            for (; i <= end; i += 4)
            {
                Vector256<ulong> slots = Vector256.Load(words + i);
                uint hit = Vector256.Equals(slots, target).ExtractMostSignificantBits();
                uint empty = Vector256.Equals(slots, Vector256<ulong>.Zero).ExtractMostSignificantBits();
                if ((hit | empty) != 0)
                {
                    // A stored key is never zero, so a slot is a hit or empty, not both.
                    int lane = BitOperations.TrailingZeroCount(hit | empty);
                    found = (hit >> lane & 1) != 0;
                    return i + lane;
                }
            }

            // The last compare may end exactly at the table's end: the walk goes on from its first slot.
            if (i == (int)_capacity)
            {
                i = 0;
            }
        }

        while (true)
        {
            TKey slot = keys[i];
            if (TScheme.IsEmpty(slot))
            {
                found = false;
                return i;
            }

            if (TScheme.Equal(slot, key))
            {
                found = true;
                return i;
            }

            i = Next(i);
        }
    }

    /// <summary>
    /// Adds a key known to be absent, from any number of threads at once, each with its own absent key: claims the
    /// first empty slot by compare-and-swap on the key's low word (its high word, for 128-bit keys, follows; nobody
    /// reads it until all inserts are done). Grow beforehand: this never grows; <see cref="Added"/> counts them after.
    /// </summary>
    public void InsertAbsent(TKey key)
    {
        if (_compact is not null)
        {
            _compact.InsertAbsent(TScheme.Slot(key));
            return;
        }

        Claim(key, Home(key));
    }

    /// <summary>
    /// As <see cref="InsertAbsent(TKey)"/>, probing from <paramref name="vacancy"/>: the empty slot a
    /// <see cref="Find(TKey, out int)"/> of this key met while the <see cref="Layout"/> was what it is now (-1: none
    /// known). Keys are never removed, so every slot from the key's home up to that one is still taken, and the
    /// first empty slot from there is the first from the home: the insert lands where a full probe would put it,
    /// without walking the cluster again.
    /// </summary>
    public void InsertAbsent(TKey key, int vacancy)
    {
        if (_compact is not null || vacancy < 0)
        {
            InsertAbsent(key);
            return;
        }

        Claim(key, vacancy);
    }

    /// <summary><see cref="InsertAbsent(TKey)"/> into this table's own array from slot <paramref name="from"/> on, returning the slot claimed.</summary>
    private int Claim(TKey key, int from)
    {
        TKey* keys = _keys;
        ulong low = TScheme.Slot(key);
        int i = from;
        while (true)
        {
            ref ulong word = ref *(ulong*)(keys + i);
            if (word == 0 && Interlocked.CompareExchange(ref word, low, 0) == 0)
            {
                if (Unsafe.SizeOf<TKey>() > sizeof(ulong))
                {
                    Unsafe.Add(ref word, 1) = TScheme.High(key);
                }

                return i;
            }

            i = Next(i);
        }
    }

    /// <summary>Counts keys <see cref="InsertAbsent(TKey)"/> added.</summary>
    public void Added(long count)
    {
        if (_compact is not null)
        {
            _compact.Added(count);
        }
        else
        {
            _count += count;
        }
    }

    /// <summary>Returns -2 when absent; otherwise the stored id, or -1 when ids are not tracked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(TKey key) => Find(key, out _);

    /// <summary>
    /// As <see cref="Find(TKey)"/>; when the key is absent, <paramref name="vacancy"/> is the empty slot that ended the
    /// probe (for <see cref="InsertAbsent(TKey, int)"/>), -1 for a compact table or a key found.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(TKey key, out int vacancy)
    {
        vacancy = -1;
        if (_compact is not null)
        {
            return _compact.Find(TScheme.Slot(key));
        }

        int i = Probe(key, out bool found);
        if (found)
        {
            return _ids == null ? -1 : _ids[i];
        }

        vacancy = i;
        return -2;
    }

    /// <summary>Writes capacity, count, keys and ids (for a checkpoint).</summary>
    public void WriteTo(BinaryWriter output)
    {
        output.Write(Capacity);
        output.Write(Count);
        if (_compact is not null)
        {
            _compact.WriteTo(output);
            return;
        }

        output.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(_keys, (int)Capacity)));
        if (_ids != null)
        {
            output.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<int>(_ids, (int)Capacity)));
        }
    }

    /// <summary>Replaces the contents with what <see cref="WriteTo"/> wrote.</summary>
    public void ReadFrom(BinaryReader input)
    {
        long capacity = input.ReadInt64();
        long count = input.ReadInt64();
        if (capacity < 1 || capacity > MaxCapacity || count < 0 || count > capacity)
        {
            throw new InvalidDataException("bad fingerprint table header");
        }

        if (_compact is not null)
        {
            if (capacity < 64)
            {
                throw new InvalidDataException("bad fingerprint table header");
            }

            _compact.ReadFrom(input, capacity, count);
            Resized(capacity);
            return;
        }

        _keys = _keyMemory!.Zeroed(capacity);
        input.BaseStream.ReadExactly(MemoryMarshal.AsBytes(new Span<TKey>(_keys, (int)capacity)));
        if (_idMemory is not null)
        {
            _ids = _idMemory.Zeroed(capacity);
            input.BaseStream.ReadExactly(MemoryMarshal.AsBytes(new Span<int>(_ids, (int)capacity)));
        }

        _count = count;
        Resized(capacity);
    }

    /// <summary>
    /// Grows the table by an eighth, rehashing in place: the arrays are extended at their end (see
    /// <see cref="SlotMemory{T}"/>) and the keys moved from the last slot down, by <see cref="GrowthThreads"/> threads.
    /// </summary>
    /// <remarks>
    /// A key's new home is its old one scaled by the growth (multiply-shift keeps the homes' order), so it moves up, and
    /// at the time a key at slot j moves, every slot above j holds only keys already where they will stay. A key whose
    /// new home is above j is therefore placed by probing up from its home through those slots, as an insert into the
    /// new table would be; a key whose new home is j stays. A key whose new home is below j (in the first slots, where
    /// an eighth of the home is less than the key's distance from it), or whose probe would wrap past the end into the
    /// slots not yet moved, is taken out and inserted once all others are in place. No slot between a placed key's
    /// home and its slot ever empties again, so every key is found where a probe from its home looks.
    /// <para>
    /// With several threads the old slots are cut into equal ranges, each moved from its top down by one thread
    /// with the same rule, except that a probe must stay below its range's end: above it lie the next range's
    /// slots, which that thread is still emptying. A range's keys near its end, whose new homes are past it (those
    /// in its last ninth, about), are taken out as the wrapping ones are; when every range is done, all the keys
    /// taken out are inserted by every thread at once, claiming empty slots by compare-and-swap as
    /// <see cref="InsertAbsent(TKey)"/> does. The keys end where a probe finds them; which of two such keys takes
    /// which slot depends on the threads' timing, which nothing reads.
    /// </para>
    /// </remarks>
    public void Grow()
    {
        long grown = GrownCapacity(Capacity);
        if (_compact is not null)
        {
            _compact.Resize(grown);
            Resized(grown);
            return;
        }

        int oldCapacity = (int)Capacity;
        _keys = _keyMemory!.Extended(oldCapacity, grown);
        _ids = _idMemory is null ? null : _idMemory.Extended(oldCapacity, grown);
        Resized(grown);
        int parts = GrowthParts(oldCapacity);
        if (parts == 1)
        {
            // The new slots are faulted in first, all at once (the writes would fault them in one by one), and timed.
            FaultIn(oldCapacity, grown);
            var later = new Displaced(0, _ids != null);
            MoveUp(0, oldCapacity, (int)grown, oldCapacity, later);
            later.ClaimAll(this);
            return;
        }

        var displaced = new Displaced[parts];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = parts };
        Parallel.For(0, parts, parallel, t =>
        {
            int from = RangeStart(oldCapacity, parts, t);
            int to = RangeStart(oldCapacity, parts, t + 1);

            // A range's keys past about 8/9 of its end have new homes past it (its last ninth, at most every slot).
            displaced[t] = new Displaced(t == parts - 1 ? 0 : DisplacedSlots(oldCapacity, parts, t), _ids != null);
            if (t == 0)
            {
                // The top range moves keys into the new slots from their top down while the bottom one's thread
                // faults them in from their bottom up; they meet about halfway.
                FaultIn(oldCapacity, grown);
            }

            MoveUp(from, to, t == parts - 1 ? (int)grown : to, oldCapacity, displaced[t]);
        });
        Parallel.For(0, parts, parallel, t => displaced[t].ClaimAll(this));
    }

    /// <summary>
    /// Threads a growth may use (1 by default); the table takes more than one only once it is large enough
    /// (<see cref="ParallelGrowthSlots"/>) for the threads' start to be small beside the moves.
    /// </summary>
    public int GrowthThreads { get; set; } = 1;

    /// <summary>The clock <see cref="FaultInTime"/> is measured with.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>
    /// The time the growths spent having the kernel fault in their new slots (the wide table's, where the kernel takes
    /// MADV_POPULATE_WRITE), and the bytes it faulted in: memory the process never touched before, which the kernel
    /// zeroes, and which a virtual machine's host may first have to back. With several growth threads this ran on one
    /// of them while the others moved keys.
    /// </summary>
    public TimeSpan FaultInTime => Clock.GetElapsedTime(0, _faultInTicks);

    /// <inheritdoc cref="FaultInTime"/>
    public long FaultInBytes => _faultInBytes;

    private long _faultInTicks;
    private long _faultInBytes;

    private void FaultIn(int oldCapacity, long grown)
    {
        long started = Clock.GetTimestamp();
        long bytes = _keyMemory!.Populate(oldCapacity, grown) + (_idMemory?.Populate(oldCapacity, grown) ?? 0);
        _faultInTicks += Clock.GetTimestamp() - started;
        _faultInBytes += bytes;
    }

    /// <summary>Fewest slots a table needs before its growth is shared among threads.</summary>
    public const int ParallelGrowthSlots = 1 << 18;

    private int GrowthParts(int oldCapacity) => oldCapacity < ParallelGrowthSlots ? 1 : Math.Clamp(GrowthThreads, 1, 8);

    /// <summary>
    /// Slots of range <paramref name="part"/> (of <paramref name="parts"/>, from the bottom) whose keys a growth of
    /// <paramref name="oldCapacity"/> slots takes out: those whose new home, about 9/8 of the slot, is past the
    /// range's end, a ninth of that end (at most the whole range).
    /// </summary>
    private static int DisplacedSlots(int oldCapacity, int parts, int part)
    {
        int end = RangeStart(oldCapacity, parts, part + 1);
        return Math.Min(end - RangeStart(oldCapacity, parts, part), (end / 9) + 1024);
    }

    /// <summary>First old slot of range <paramref name="part"/> of <paramref name="parts"/> equal ranges (<paramref name="parts"/>: the end).</summary>
    private static int RangeStart(int oldCapacity, int parts, int part) => (int)((long)oldCapacity * part / parts);

    /// <summary>Bytes a growth of <paramref name="oldCapacity"/> slots holds beside the table while it runs (the keys it takes out).</summary>
    private long GrowthScratchBytes(long oldCapacity)
    {
        int parts = _compact is null ? GrowthParts((int)Math.Min(oldCapacity, MaxCapacity)) : 1;
        long slots = 0;
        for (int t = 0; t < parts - 1; t++)
        {
            slots += DisplacedSlots((int)oldCapacity, parts, t);
        }

        return slots * (Unsafe.SizeOf<TKey>() + (_trackIds ? sizeof(int) : 0));
    }

    /// <summary>
    /// Moves the keys of old slots [<paramref name="from"/>, <paramref name="to"/>) to their places in the grown table,
    /// from the top down, probing no higher than <paramref name="limit"/>; the keys it cannot place so go to
    /// <paramref name="later"/>. <paramref name="oldCapacity"/>: the table's slots before the growth.
    /// </summary>
    /// <remarks>
    /// A probe's loads read slots the moves just before may have written, so a move waited for the one before it:
    /// four times the memory traffic and the hash together (<c>GrowthMoveBenchmarks</c>). 64-bit keys are therefore
    /// moved <see cref="WindowSources"/> old slots at a time: the occupancy of the <see cref="WindowSlots"/> new slots
    /// their homes fall in is read once into a bitmap, and a key's slot is the bitmap's first clear bit from its home,
    /// found and then set in registers. The keys land where the probe puts them (the bitmap is those slots' contents):
    /// every slot of the window lies above the old slots being moved, where only this loop writes. A key whose home
    /// falls outside the window, or whose probe runs past it, probes memory as before.
    /// </remarks>
    private void MoveUp(int from, int to, int limit, int oldCapacity, Displaced later)
    {
        TKey* keys = _keys;
        int* ids = _ids;
        int j = to - 1;
        if (typeof(TKey) == typeof(ulong) && Vector256.IsHardwareAccelerated)
        {
            j = MoveUpWindowed(from, j, limit, oldCapacity, later);
        }

        for (; j >= from; j--)
        {
            TKey key = keys[j];
            if (TScheme.IsEmpty(key))
            {
                continue;
            }

            int home = Home(key);
            if (home == j)
            {
                continue;
            }

            int id = ids == null ? 0 : ids[j];
            keys[j] = default;
            if (ids != null)
            {
                ids[j] = 0;
            }

            int i = home > j ? FirstEmpty(keys, home, limit) : home;
            if (home < j || i >= limit)
            {
                later.Add(key, id);
                continue;
            }

            keys[i] = key;
            if (ids != null)
            {
                ids[i] = id;
            }
        }
    }

    /// <summary>Old slots moved a window at a time (see <see cref="MoveUp"/>).</summary>
    private const int WindowSources = 32;

    /// <summary>New slots a window's bitmap covers: the homes of <see cref="WindowSources"/> old slots and their probes.</summary>
    private const int WindowSlots = 128;

    /// <summary>
    /// <see cref="MoveUp"/>'s windowed part for 64-bit keys: moves old slots from <paramref name="top"/> down while a
    /// window fits above them (all but the table's lowest slots); returns the next old slot to move.
    /// </summary>
    private int MoveUpWindowed(int from, int top, int limit, int oldCapacity, Displaced later)
    {
        ulong* keys = (ulong*)_keys;
        int* ids = _ids;
        ulong grown = _capacity;
        int j = top;
        while (j - WindowSources + 1 >= from)
        {
            int low = j - WindowSources + 1;

            // The new homes of the keys in old slots [low, j] lie from about low x grown / old up; the few
            // keys displaced far below their homes fall under the window and probe memory.
            // At the table's top the window ends with it.
            int window = (int)Math.Min((ulong)low * grown / (ulong)oldCapacity - (WindowSlots / 8), grown - WindowSlots);
            if (window <= j)
            {
                break;
            }

            // Slots at or past the limit count as taken, so no key is placed there from the window.
            ulong taken0 = Taken(keys + window) | Taken(keys + window + 16) << 16 | Taken(keys + window + 32) << 32 | Taken(keys + window + 48) << 48;
            ulong taken1 = Taken(keys + window + 64) | Taken(keys + window + 80) << 16 | Taken(keys + window + 96) << 32 | Taken(keys + window + 112) << 48;
            int open = limit - window;
            if (open < WindowSlots)
            {
                taken1 |= open <= 64 ? ulong.MaxValue : ulong.MaxValue << (open - 64);
                taken0 |= open <= 0 ? ulong.MaxValue : open < 64 ? ulong.MaxValue << open : 0;
            }

            for (; j >= low; j--)
            {
                ulong key = keys[j];
                if (key == 0)
                {
                    continue;
                }

                int home = (int)Math.BigMul(key, grown, out _);
                if (home == j)
                {
                    continue;
                }

                int id = ids == null ? 0 : ids[j];
                keys[j] = 0;
                if (ids != null)
                {
                    ids[j] = 0;
                }

                if (home < j)
                {
                    later.Add(Unsafe.As<ulong, TKey>(ref key), id);
                    continue;
                }

                int at = home - window;
                int i = -1;
                if ((uint)at < WindowSlots)
                {
                    ulong free0 = at < 64 ? ~taken0 & (ulong.MaxValue << at) : 0;
                    ulong free1 = ~taken1 & (at < 64 ? ulong.MaxValue : ulong.MaxValue << (at - 64));
                    if (free0 != 0)
                    {
                        int bit = BitOperations.TrailingZeroCount(free0);
                        taken0 |= 1UL << bit;
                        i = window + bit;
                    }
                    else if (free1 != 0)
                    {
                        int bit = BitOperations.TrailingZeroCount(free1);
                        taken1 |= 1UL << bit;
                        i = window + 64 + bit;
                    }
                    else
                    {
                        // Every slot from the home to the window's end is taken: the probe goes on past it.
                        i = FirstEmpty((TKey*)keys, window + WindowSlots, limit);
                    }
                }
                else
                {
                    i = FirstEmpty((TKey*)keys, home, limit);
                    int placed = i - window;
                    if ((uint)placed < 64)
                    {
                        taken0 |= 1UL << placed;
                    }
                    else if ((uint)placed < WindowSlots)
                    {
                        taken1 |= 1UL << (placed - 64);
                    }
                }

                if (i >= limit)
                {
                    later.Add(Unsafe.As<ulong, TKey>(ref key), id);
                    continue;
                }

                keys[i] = key;
                if (ids != null)
                {
                    ids[i] = id;
                }
            }
        }

        return j;

        // Bit s set where slot s of the 16 at p holds a key.
        static ulong Taken(ulong* p)
        {
            uint empty = Vector256.Equals(Vector256.Load(p), Vector256<ulong>.Zero).ExtractMostSignificantBits()
                | (Vector256.Equals(Vector256.Load(p + 4), Vector256<ulong>.Zero).ExtractMostSignificantBits() << 4)
                | (Vector256.Equals(Vector256.Load(p + 8), Vector256<ulong>.Zero).ExtractMostSignificantBits() << 8)
                | (Vector256.Equals(Vector256.Load(p + 12), Vector256<ulong>.Zero).ExtractMostSignificantBits() << 12);
            return ~empty & 0xFFFFUL;
        }
    }

    /// <summary>The first empty slot from <paramref name="i"/> below <paramref name="limit"/> (<paramref name="limit"/> where none is).</summary>
    private static int FirstEmpty(TKey* keys, int i, int limit)
    {
        while (i < limit && !TScheme.IsEmpty(keys[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>Keys a growth took out of their slots, with their ids, to insert once the others are in place.</summary>
    private sealed class Displaced(int expected, bool withIds)
    {
        private TKey[] _keys = new TKey[expected];
        private int[] _ids = withIds ? new int[expected] : [];
        private int _count;

        public void Add(TKey key, int id)
        {
            if (_count == _keys.Length)
            {
                int size = Math.Max(256, _count + (_count / 4));
                Array.Resize(ref _keys, size);
                if (withIds)
                {
                    Array.Resize(ref _ids, size);
                }
            }

            _keys[_count] = key;
            if (withIds)
            {
                _ids[_count] = id;
            }

            _count++;
        }

        /// <summary>Inserts them all into <paramref name="table"/> (safe beside other threads doing the same).</summary>
        public void ClaimAll(FingerprintTable<TKey, TScheme> table)
        {
            int* ids = table._ids;
            for (int k = 0; k < _count; k++)
            {
                int slot = table.Claim(_keys[k], table.Home(_keys[k]));
                if (withIds)
                {
                    ids[slot] = _ids[k];
                }
            }
        }
    }

    public void Dispose()
    {
        _keyMemory?.Dispose();
        _idMemory?.Dispose();
        _keys = null;
        _ids = null;
    }

    /// <summary>
    /// The most bytes the table holds on the way to taking <paramref name="keys"/> keys in all: the wide table grows in
    /// place (beside the keys a growth on several threads takes out), the compact one holds its old and new arrays
    /// while it grows.
    /// </summary>
    public long PeakBytesFor(long keys)
    {
        long capacity = Capacity;
        long previous = 0;
        while (keys > capacity / 8 * 7 && capacity < MaxCapacity)
        {
            previous = capacity;
            capacity = GrownCapacity(capacity);
        }

        // The compact table's overflow map (usually empty) stays beside both arrays.
        return previous == 0 ? Bytes
            : _compact is null ? BytesFor(capacity) + GrowthScratchBytes(previous)
            : Bytes - BytesFor(Capacity) + BytesFor(previous) + BytesFor(capacity);
    }

    /// <summary>Bytes of a table of <paramref name="capacity"/> slots in this table's layout.</summary>
    private long BytesFor(long capacity) => _compact is null
        ? capacity * SlotBytes(TracksIds)
        : CompactFingerprintSet.BytesFor(capacity, TracksIds);

    private static long GrownCapacity(long capacity) => Math.Min(MaxCapacity, capacity + Math.Max(1024, capacity / 8));

    private void Resized(long capacity)
    {
        Layout++;
        _capacity = (ulong)capacity;
        _growAt = capacity / 8 * 7;
    }

    /// <summary>
    /// Starts loading the home slot of <paramref name="key"/> and the next cache line without waiting for them (see
    /// <see cref="ProbeLines"/>), so that several lookups' cache misses overlap each other and the work between them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(TKey key)
    {
        if (_compact is not null)
        {
            _compact.Prefetch(TScheme.Slot(key));
            return;
        }

        ProbeLines.Prefetch((byte*)(_keys + Home(key)));
    }

    /// <summary>As <see cref="Prefetch"/>, for slot <paramref name="slot"/> (a vacancy; -1 or a compact table: nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchSlot(int slot)
    {
        if (_compact is null && slot >= 0 && Sse.IsSupported)
        {
            Sse.Prefetch0(_keys + slot);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(TKey key) => (int)Math.BigMul(TScheme.Slot(key), _capacity, out _);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Next(int i) => (ulong)(i + 1) == _capacity ? 0 : i + 1;
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

    public long AllocatedBytes => AllocatedBytesFor(_count);

    /// <summary>What <see cref="AllocatedBytes"/> is once the list holds <paramref name="count"/> elements: whole pages.</summary>
    public long AllocatedBytesFor(long count) => ((count + PageMask) >> Shift) * PageSize * (long)Unsafe.SizeOf<T>();

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

    /// <summary>Appends <paramref name="count"/> default elements, to be set (from several threads at once) by index.</summary>
    public void Extend(long count)
    {
        long end = _count + count;
        for (long page = (_count + PageMask) >> Shift; page << Shift < end; page++)
        {
            AddPage(page);
        }

        _count = end;
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
