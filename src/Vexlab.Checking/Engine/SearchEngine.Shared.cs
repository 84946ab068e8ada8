using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// Several workers on one block, all of them inserting into the one fingerprint table (without the liveness graph).
/// </summary>
/// <remarks>
/// Three phases a block, each over contiguous slices of the block in block order:
/// 1. expand: each worker keeps the successors absent from the table (read only meanwhile) that its own
///    <see cref="FirstSeen{TKey, TScheme}"/> set takes first, with their patches (its candidates); the workers take
///    their slices in pairs, one from the front of the pair's segment and one from its back, chunk by chunk, until
///    they meet (<see cref="SegmentClaims"/>), so that a worker slowed by its core does not hold the other up;
/// 2. keep: a worker owns a candidate unless a lower worker's set holds the fingerprint too (that worker's slice,
///    earlier in the block, met it first);
/// 3. commit: owned successors take ids in (parent, action) order, which is worker order and, inside a worker,
///    candidate order, then every worker inserts its own into the table with compare-and-swap on the key word,
///    writes parents and action indices by id and encodes its records, which then join the next level in worker order.
/// The ids, parents and levels are therefore those a single thread assigns, whatever the number of workers.
/// </remarks>
internal sealed partial class SearchEngine<TKey, TScheme>
{
    private SharedWorker[]? _sharedPool;

    // Where the shared path's wall clock goes (CheckResult.WorkerWaitTime and friends): timestamps of the
    // parallel phases, and the workers' busy time in them.
    private long _sharedTicks;
    private long _phaseTicks;
    private long _busyTicks;

    /// <summary>Every phase runs all the workers (made with the pool).</summary>
    private ParallelOptions? _phaseOptions;

    /// <summary>The block's segments, one for each pair of workers (and one for a last worker alone).</summary>
    private SegmentClaims[] _segments = [];

    /// <summary>The parents of a block's new states, in id order, before they are appended to the links.</summary>
    private int[] _blockParents = [];

    /// <summary>Where the block's states' encoded records lie in the current level (see <see cref="Frontier.PositionOf"/>).</summary>
    private long[] _blockPositions = [];

    private long SharedWorkerBytes
    {
        get
        {
            long bytes = (_blockParents.LongLength * sizeof(int)) + (_blockPositions.LongLength * sizeof(long));
            if (_sharedPool is { } pool)
            {
                foreach (SharedWorker worker in pool)
                {
                    bytes += worker.Bytes;
                }
            }

            return bytes;
        }
    }

    /// <summary>Expands the <paramref name="count"/> states of the current level from <see cref="_position"/> on with every worker.</summary>
    private void ExpandShared(int count, int firstId)
    {
        if (_sharedPool is null)
        {
            _sharedPool = CreateSharedWorkers();
            _phaseOptions = new ParallelOptions { MaxDegreeOfParallelism = _sharedPool.Length };
            _segments = new SegmentClaims[(_sharedPool.Length + 1) / 2];
            for (int g = 0; g < _segments.Length; g++)
            {
                _segments[g] = new SegmentClaims();
            }
        }

        SharedWorker[] pool = _sharedPool;
        TimeProvider clock = _options.TimeProvider;
        long entered = clock.GetTimestamp();

        // In memory each worker reads and decodes its own slice, state by state; a spilled block is read (and
        // decoded whole) in order first.
        long start = _position;
        bool inMemory = start + count <= _current.MemoryStates;
        if (inMemory && _blockPositions.Length < count)
        {
            _blockPositions = new long[count];
        }

        ReadOnlyMemory<byte> block = inMemory ? ReadOnlyMemory<byte>.Empty : _current.Block(start, count, ref _blockScratch);
        long[]? positions = inMemory ? _blockPositions : null;

        // Segment g is workers 2g (from its front) and 2g + 1 (from its back), sized by its workers.
        SegmentClaims[] segments = _segments;
        for (int g = 0; g < segments.Length; g++)
        {
            segments[g].Reset(start, (int)((long)count * (2 * g) / pool.Length), (int)((long)count * Math.Min(2 * g + 2, pool.Length) / pool.Length));
        }

        Phase(w => pool[w].Expand(block, start, segments[w / 2], fromBack: (w & 1) != 0, firstId, positions));
        Phase(w => pool[w].KeepOwned(pool, w));

        long total = 0;
        foreach (SharedWorker worker in pool)
        {
            worker.FirstNew = total;
            total += worker.OwnedCount;
            MergeCounters(worker);
        }

        ReserveTable(total);
        if (_stateCount + total >= int.MaxValue)
        {
            throw new CheckerLimitException("More than 2^31 - 1 states: the state id space is exhausted.");
        }

        if (_blockParents.Length < total)
        {
            _blockParents = new int[Math.Max(total, _blockParents.Length * 2)];
        }

        if (_actions8 is not null)
        {
            _actions8.Extend(total);
        }
        else
        {
            _actions16!.Extend(total);
        }

        int firstNewId = _stateCount;
        Phase(w => pool[w].Commit(firstNewId));
        _table.Added(total);
        _stateCount += (int)total;
        for (int k = 0; k < total; k++)
        {
            _parents.Add(_blockParents[k]);
        }

        // The records, encoded by the workers meanwhile, join the next level in id order: places are taken in worker
        // order, the bytes copied by every worker at once, and what passes the memory cap spills in order after them.
        bool spilling = false;
        foreach (SharedWorker worker in pool)
        {
            worker.Pieces.Clear();
            worker.PlacedBytes = 0;
            worker.Placed = spilling ? 0 : _next.Place(worker.EncodedLengths, worker.Pieces, out worker.PlacedBytes);
            spilling |= worker.Placed < worker.OwnedCount;
        }

        Frontier next = _next;
        Phase(w => next.CopyPlaced(pool[w].Encoded, pool[w].Pieces));
        foreach (SharedWorker worker in pool)
        {
            if (worker.Placed < worker.OwnedCount)
            {
                _next.Spill(worker.Encoded[worker.PlacedBytes..], worker.EncodedLengths[worker.Placed..]);
            }

            for (int k = 0; k < _kindNew.Length; k++)
            {
                _kindNew[k] += worker.KindNew[k];
            }
        }

        _sharedTicks += clock.GetTimestamp() - entered;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for every worker at once and returns when all are done (a barrier), timing the
    /// phase and each worker's part of it: the phase's wall clock times the workers, less their parts, is the workers'
    /// wait for the slowest (and for their threads to start).
    /// </summary>
    private void Phase(Action<int> body)
    {
        TimeProvider clock = _options.TimeProvider;
        long started = clock.GetTimestamp();
        Parallel.For(0, _workers, _phaseOptions!, w =>
        {
            long mine = clock.GetTimestamp();
            body(w);
            Interlocked.Add(ref _busyTicks, clock.GetTimestamp() - mine);
        });
        _phaseTicks += clock.GetTimestamp() - started;
    }

    /// <summary>Grows the table beforehand so that <paramref name="keys"/> more fit without growing.</summary>
    private void ReserveTable(long keys)
    {
        while (_table.Count + keys > _table.GrowAt)
        {
            if (!_table.CanGrow)
            {
                if (_table.Count + keys >= _table.Capacity / 32 * 31)
                {
                    throw new CheckerLimitException("The fingerprint table reached its largest capacity.");
                }

                return;
            }

            GrowTable();
        }
    }

    private SharedWorker[] CreateSharedWorkers()
    {
        var pool = new SharedWorker[_workers];
        for (int w = 0; w < pool.Length; w++)
        {
            pool[w] = new SharedWorker(this);
        }

        return pool;
    }

    private void MergeCounters(SharedWorker worker) =>
        MergeCounters(worker.Transitions, worker.KindTransitions, worker.ViolationSource, worker.ViolationAction, worker.DeadlockState);

    // One merge of a worker's counters for both worker kinds (Worker, SharedWorker): transitions add up,
    // the first violation and deadlock found by any worker stand, in the order the workers are merged.
    private void MergeCounters(long transitions, long[] kindTransitions, int[] violationSource, int[] violationAction, int deadlockState)
    {
        _transitions += transitions;
        for (int k = 0; k < _kindTransitions.Length; k++)
        {
            _kindTransitions[k] += kindTransitions[k];
        }

        for (int p = 0; p < _safetyCount; p++)
        {
            if (_violationSource[p] < 0 && violationSource[p] >= 0)
            {
                _violationSource[p] = violationSource[p];
                _violationAction[p] = violationAction[p];
                _decidedSafety++;
            }
        }

        if (_deadlockState < 0 && deadlockState >= 0)
        {
            _deadlockState = deadlockState;
        }
    }

    private void SetActionIndex(long id, int index)
    {
        if (_actions8 is not null)
        {
            _actions8[id] = (byte)index;
        }
        else
        {
            _actions16![id] = (ushort)index;
        }
    }

    /// <summary>One worker's buffers: its candidates (new successors it may own) as parent position, action and patch.</summary>
    private sealed class SharedWorker
    {
        /// <summary>How many inserts ahead <see cref="Commit"/> prefetches the table.</summary>
        private const int CommitPrefetchDistance = 8;

        /// <summary>The action of a candidate that gave way to one earlier in block order.</summary>
        private const int Dropped = -1;

        private readonly SearchEngine<TKey, TScheme> _engine;
        private readonly ITransitionSystem _system;
        private readonly ulong[] _actions;
        private readonly PendingSuccessors<TKey, TScheme>[] _pending;
        private readonly int _stateSize;
        private readonly int _recordSize;
        private readonly FrontierCodec _codec;
        private readonly byte[] _record;
        private byte[] _encoded = [];
        private int _encodedLength;
        private int[] _encodedLengths = [];
        private long[]? _parentPositions;

        /// <summary>The state being expanded, decoded.</summary>
        private readonly byte[] _decoded;
        private int[] _position = [];
        private int[] _action = [];
        private int[] _kind = [];
        private TKey[] _key = [];

        // The empty slot each candidate's lookup ended at, valid while the table's Layout is _layout.
        private int[] _vacancy = [];
        private long _layout;
        private int[] _patchStart = [0];
        private int[] _patchWords = [];
        private ulong[] _patchValues = [];
        private int[] _owned = [];
        private readonly FirstSeen<TKey, TScheme> _seen = new();

        // The first candidate of each chunk taken, in the order taken (and the count after the last): a worker taking
        // chunks from its segment's back met them in reverse block order.
        private readonly List<int> _chunkCandidates = [];
        private bool _fromBack;
        private int _count;
        private ReadOnlyMemory<byte> _block;
        private int _firstId;

        public SharedWorker(SearchEngine<TKey, TScheme> engine)
        {
            _engine = engine;
            _system = engine._system;
            _stateSize = engine._stateSize;
            _recordSize = engine._recordSize;
            _codec = engine._codec;
            _record = new byte[_recordSize];
            _decoded = new byte[_recordSize];
            _actions = new ulong[engine._actionBuffer.Length];
            _pending = [new PendingSuccessors<TKey, TScheme>(_stateSize, engine._maxActions), new PendingSuccessors<TKey, TScheme>(_stateSize, engine._maxActions)];
            KindTransitions = new long[engine._kindTransitions.Length];
            KindNew = new long[engine._kindTransitions.Length];
            ViolationSource = new int[engine._safetyCount];
            ViolationAction = new int[engine._safetyCount];
        }

        public long Bytes => (_position.LongLength * ((4 * sizeof(int)) + System.Runtime.CompilerServices.Unsafe.SizeOf<TKey>()))
            + (_patchStart.LongLength * sizeof(int)) + (_patchWords.LongLength * (sizeof(int) + sizeof(ulong)))
            + (_owned.LongLength * sizeof(int)) + _seen.Bytes + _pending[0].Bytes + _pending[1].Bytes + _encoded.LongLength + (_encodedLengths.LongLength * sizeof(int));

        /// <summary>The owned successors' records as <see cref="Commit"/> encoded them, in id order.</summary>
        public ReadOnlySpan<byte> Encoded => _encoded.AsSpan(0, _encodedLength);

        /// <summary>The lengths of those records.</summary>
        public ReadOnlySpan<int> EncodedLengths => _encodedLengths.AsSpan(0, OwnedCount);

        /// <summary>Where the next level placed the first <see cref="Placed"/> of them (<see cref="PlacedBytes"/> bytes).</summary>
        public List<Frontier.Piece> Pieces { get; } = [];

        public int Placed;

        public int PlacedBytes;

        public long Transitions { get; private set; }

        public long[] KindTransitions { get; }

        public long[] KindNew { get; }

        public int[] ViolationSource { get; }

        public int[] ViolationAction { get; }

        public int DeadlockState { get; private set; }

        public int OwnedCount { get; private set; }

        /// <summary>Index of this worker's first owned successor among the block's new states.</summary>
        public long FirstNew { get; set; }

        /// <summary>
        /// Expands the chunks this worker takes of <paramref name="segment"/> (from its back with
        /// <paramref name="fromBack"/>), of ids from <paramref name="firstId"/> on and the current level's states from
        /// <paramref name="start"/> on. With <paramref name="positions"/> the states are read from the level (in
        /// memory) and decoded one by one, and where their records lie is noted there for <see cref="Commit"/>;
        /// without, from the decoded <paramref name="memory"/> (a spilled block), and new records are then encoded from
        /// their whole bytes.
        /// </summary>
        public void Expand(ReadOnlyMemory<byte> memory, long start, SegmentClaims segment, bool fromBack, int firstId, long[]? positions)
        {
            Reset(memory, firstId);
            _parentPositions = positions;
            _fromBack = fromBack;
            _chunkCandidates.Clear();

            // The table is read only until the commit: each candidate's vacancy holds unless it grows meanwhile.
            _layout = _engine._table.Layout;
            int from;
            int to;
            while (fromBack ? segment.TakeBack(out from, out to) : segment.TakeFront(out from, out to))
            {
                _chunkCandidates.Add(_count);
                ExpandChunk(memory, start, from, to, firstId, positions);
            }

            _chunkCandidates.Add(_count);
        }

        /// <summary>Expands the block's states [<paramref name="from"/>, <paramref name="to"/>) in order.</summary>
        private void ExpandChunk(ReadOnlyMemory<byte> memory, long start, int from, int to, int firstId, long[]? positions)
        {
            ReadOnlySpan<byte> block = memory.Span;
            Frontier level = _engine._current;
            FrontierCodec codec = _codec;
            IInPlaceTransitionSystem? inPlace;
            byte[] blockArray;
            int blockOffset;
            long position = 0;
            if (positions is not null)
            {
                inPlace = _system as IInPlaceTransitionSystem;
                blockArray = _decoded;
                blockOffset = 0;
                if (from < to)
                {
                    position = level.PositionOf(start + from);
                }
            }
            else
            {
                inPlace = InPlaceOver(_system, memory, out blockArray, out blockOffset);
            }

            SearchEngine<TKey, TScheme> engine = _engine;
            FingerprintTable<TKey, TScheme> table = engine._table;
            IActionKinds? kinds = engine._kinds;
            Span<ulong> actions = _actions;
            for (int i = from; i < to; i++)
            {
                PendingSuccessors<TKey, TScheme> pending = _pending[i & 1];
                int source = firstId + i;
                ReadOnlySpan<byte> record;
                int stateOffset;
                if (positions is not null)
                {
                    positions[i] = position;
                    position = level.Normalize(position + codec.Decode(level.EncodedAt(position), _decoded));
                    record = _decoded;
                    stateOffset = 0;
                }
                else
                {
                    record = block.Slice(i * _recordSize, _recordSize);
                    stateOffset = blockOffset + (i * _recordSize);
                }

                ReadOnlySpan<byte> state = record[.._stateSize];
                TKey hash = MemoryMarshal.Read<TKey>(record[_stateSize..]);
                int n = inPlace is null
                    ? engine.ListActions(state, actions)
                    : engine.ListActions(inPlace, blockArray, stateOffset, actions);

                // The first dead end in block order: a worker taking chunks from the back meets later ones first.
                if (n == 0 && engine._options.CheckDeadlock && (DeadlockState < 0 || source < DeadlockState) && !_system.IsValidEnd(state))
                {
                    DeadlockState = source;
                }

                // All successors first, prefetching their home slots; they are looked up after the next state's
                // successors are generated (see PendingSuccessors), so that the lookups' cache misses overlap.
                pending.Source = source;
                if (pending.Generate(_system, inPlace, state, hash, actions[..n], kinds, KindTransitions, table) != 0)
                {
                    pending.NoteViolations(ViolationSource, ViolationAction);
                }

                pending.ParentAt = i;
                if (i > from)
                {
                    LookUp(_pending[(i - 1) & 1], table);
                }
            }

            if (to > from)
            {
                LookUp(_pending[(to - 1) & 1], table);
            }
        }

        /// <summary>
        /// Looks up one state's successors in the table (read only during the expand phase) and keeps as candidates
        /// those absent that come first, in block and action order, of all this worker has met: a candidate met
        /// before from a later state (in a chunk taken from the back earlier) gives way to it, and is dropped.
        /// </summary>
        private void LookUp(PendingSuccessors<TKey, TScheme> pending, FingerprintTable<TKey, TScheme> table)
        {
            TKey[] keys = pending.Keys;
            int[] kinds = pending.Kinds;
            int n = pending.Count;
            int position = (int)pending.ParentAt;
            for (int a = 0; a < n; a++)
            {
                TKey raw = keys[a];
                TKey key = TScheme.Stored(raw);
                if (table.Find(key, out int vacancy) != -2)
                {
                    continue;
                }

                ref int kept = ref _seen.Claim(key, out bool added);
                if (!added)
                {
                    if (_position[kept] <= position)
                    {
                        continue;
                    }

                    _action[kept] = Dropped;
                }

                kept = _count;
                AddCandidate(position, a, kinds[a], raw, vacancy, pending.Successors.PatchWords(a), pending.Successors.PatchValues(a));
            }

            Transitions += n;
        }

        /// <summary>
        /// Keeps the candidates no lower worker met (<paramref name="self"/> is this worker's index in
        /// <paramref name="pool"/>); run after every worker's <see cref="Expand"/>.
        /// </summary>
        public void KeepOwned(SharedWorker[] pool, int self)
        {
            if (_owned.Length < _count)
            {
                _owned = new int[Math.Max(_count, _owned.Length * 2)];
            }

            // Chunks in block order: a worker that took them from the back met them last first.
            int kept = 0;
            int chunks = _chunkCandidates.Count - 1;
            for (int k = 0; k < chunks; k++)
            {
                int chunk = _fromBack ? chunks - 1 - k : k;
                for (int c = _chunkCandidates[chunk]; c < _chunkCandidates[chunk + 1]; c++)
                {
                    if (_action[c] == Dropped)
                    {
                        continue;
                    }

                    TKey key = TScheme.Stored(_key[c]);
                    bool earlier = false;
                    for (int w = 0; w < self && !earlier; w++)
                    {
                        earlier = pool[w]._seen.Contains(key);
                    }

                    if (!earlier)
                    {
                        _owned[kept++] = c;
                    }
                }
            }

            OwnedCount = kept;
        }

        /// <summary>
        /// Inserts the owned successors into the table, gives them ids from <paramref name="firstNewId"/> +
        /// <see cref="FirstNew"/> on and encodes their records into <see cref="Encoded"/>; run after every
        /// <see cref="KeepOwned"/>.
        /// </summary>
        public void Commit(int firstNewId)
        {
            SearchEngine<TKey, TScheme> engine = _engine;
            FingerprintTable<TKey, TScheme> table = engine._table;
            ReadOnlySpan<byte> block = _block.Span;
            _encodedLength = 0;
            if (_encodedLengths.Length < OwnedCount)
            {
                _encodedLengths = new int[Math.Max(OwnedCount, 2 * _encodedLengths.Length)];
            }

            Frontier level = engine._current;
            Span<byte> key = stackalloc byte[System.Runtime.CompilerServices.Unsafe.SizeOf<TKey>()];
            long id = firstNewId + FirstNew;

            // Unless the table grew since the lookups, each insert probes from the empty slot its lookup ended at.
            bool vacanciesHold = table.Layout == _layout;
            for (int k = 0; k < OwnedCount; k++, id++)
            {
                // The slots a few inserts ahead are loaded meanwhile: inserts then rarely wait for memory.
                if (k + CommitPrefetchDistance < OwnedCount)
                {
                    int ahead = _owned[k + CommitPrefetchDistance];
                    if (vacanciesHold)
                    {
                        table.PrefetchSlot(_vacancy[ahead]);
                    }
                    else
                    {
                        table.Prefetch(TScheme.Stored(_key[ahead]));
                    }
                }

                int c = _owned[k];
                table.InsertAbsent(TScheme.Stored(_key[c]), vacanciesHold ? _vacancy[c] : -1);
                engine._blockParents[FirstNew + k] = _firstId + _position[c];
                engine.SetActionIndex(id, _action[c]);
                KindNew[_kind[c]]++;
                if (_encoded.Length - _encodedLength < _codec.MaxEncodedSize)
                {
                    Array.Resize(ref _encoded, Math.Max(2 * _encoded.Length, 64 * _codec.MaxEncodedSize));
                }

                int length;
                if (_parentPositions is { } positions)
                {
                    // From the parent's encoded record and the successor's patch, without building the successor.
                    int start = _patchStart[c];
                    int patch = _patchStart[c + 1] - start;
                    MemoryMarshal.Write(key, in _key[c]);
                    length = _codec.EncodeSuccessorOf(level.EncodedAt(positions[_position[c]]), _patchWords.AsSpan(start, patch), _patchValues.AsSpan(start, patch),
                        key, _encoded.AsSpan(_encodedLength));
                }
                else
                {
                    WriteRecord(c, block, _record);
                    length = _codec.Encode(_record, _encoded.AsSpan(_encodedLength));
                }

                _encodedLengths[k] = length;
                _encodedLength += length;
            }
        }

        private void WriteRecord(int c, ReadOnlySpan<byte> block, Span<byte> record)
        {
            block.Slice(_position[c] * _recordSize, _stateSize).CopyTo(record);
            int start = _patchStart[c];
            int length = _patchStart[c + 1] - start;
            SuccessorBuffer<TKey, TScheme>.ApplyPatch(_patchWords.AsSpan(start, length), _patchValues.AsSpan(start, length), record[.._stateSize]);
            MemoryMarshal.Write(record[_stateSize..], in _key[c]);
        }

        private void Reset(ReadOnlyMemory<byte> block, int firstId)
        {
            _block = block;
            _firstId = firstId;
            Transitions = 0;
            Array.Clear(KindTransitions);
            Array.Clear(KindNew);
            Array.Fill(ViolationSource, -1);
            DeadlockState = -1;
            _count = 0;
            _seen.Clear();
            OwnedCount = 0;
        }

        private void AddCandidate(int position, int action, int kind, TKey key, int vacancy, ReadOnlySpan<int> words, ReadOnlySpan<ulong> values)
        {
            int c = _count;
            if (c == _position.Length)
            {
                int size = Math.Max(256, c * 2);
                Array.Resize(ref _position, size);
                Array.Resize(ref _action, size);
                Array.Resize(ref _kind, size);
                Array.Resize(ref _key, size);
                Array.Resize(ref _vacancy, size);
                Array.Resize(ref _patchStart, size + 1);
            }

            int start = _patchStart[c];
            int end = start + words.Length;
            if (end > _patchWords.Length)
            {
                int size = Math.Max(Math.Max(1024, end), _patchWords.Length * 2);
                Array.Resize(ref _patchWords, size);
                Array.Resize(ref _patchValues, size);
            }

            words.CopyTo(_patchWords.AsSpan(start));
            values.CopyTo(_patchValues.AsSpan(start));
            _position[c] = position;
            _action[c] = action;
            _kind[c] = kind;
            _key[c] = key;
            _vacancy[c] = vacancy;
            _patchStart[c + 1] = end;
            _count = c + 1;
        }
    }
}
