using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// Breadth-first exhaustive search over fingerprints. State ids are assigned in discovery order, which is
/// frontier order times action order, so ids, parents and traces do not depend on the number of workers.
/// A frontier record is the state followed by its fingerprint (before <see cref="IFingerprintScheme{TKey}.Stored"/>),
/// so successors' fingerprints are updated from the words a transition changed.
/// </summary>
internal sealed partial class SearchEngine<TKey, TScheme> : IDisposable
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    /// <summary>Successor slots a block may produce at most: keeps limit checks a few milliseconds apart.</summary>
    private const int BlockSuccessors = 1 << 16;

    /// <summary>Workers from which a search that records a liveness graph expands its levels in parallel.</summary>
    private const int ParallelGraphMinWorkers = 4;

    /// <summary>Bytes of successor states one worker may buffer per block.</summary>
    private const int WorkerBufferBytes = 4 << 20;

    private readonly ITransitionSystem _system;
    private readonly CheckerOptions _options;
    private readonly IActionKinds? _kinds;
    private readonly int _stateSize;
    private readonly int _recordSize;
    private readonly int _maxActions;
    private readonly int _safetyCount;
    private readonly int _livenessCount;
    private readonly int _workers;
    private readonly long _maxStates;
    private readonly FingerprintTable<TKey, TScheme> _table;
    private readonly ParentLinks _parents = new();
    private readonly PagedList<byte>? _actions8;
    private readonly PagedList<ushort>? _actions16;
    private readonly long[] _kindTransitions;
    private readonly long[] _kindNew;
    private readonly int[] _violationSource;
    private readonly int[] _violationAction;
    private readonly List<string> _notes = [];
    private readonly ulong[] _actionBuffer;
    private readonly int[] _classBuffer;
    private readonly ulong[] _obligationBuffer;
    private readonly PendingSuccessors<TKey, TScheme>[] _pending;
    private readonly byte[] _recordScratch;
    private readonly int _directBlockStates;
    private readonly int _workerBlockStates;
    private readonly int _sharedBlockStates;
    private readonly long _maxSpill;
    private long _position;
    private long _lastCheckpointTimestamp;
    private readonly FrontierCodec _codec;
    private readonly FrontierPool _frontierPool;
    private byte[] _blockScratch = [];

    /// <summary>The state the serial path expands, decoded.</summary>
    private readonly byte[] _decoded;
    private Frontier _current;
    private Frontier _next;
    private StateGraph? _graph;
    private Worker[]? _workerPool;
    private int _stateCount;
    private long _transitions;
    private int _deadlockState = -1;
    private int _decidedSafety;
    private bool _memoryExceeded;
    private long _frontierPeak;
    private int _tableGrowths;
    private TimeSpan _tableGrowthTime;

    /// <summary>A span of <see cref="TimeProvider.GetTimestamp"/> ticks of the search's clock.</summary>
    private TimeSpan Ticks(long ticks) => _options.TimeProvider.GetElapsedTime(0, Math.Max(0, ticks));

    /// <summary>What the search held beside its fair-cycle search (<see cref="FittingLiveness"/>).</summary>
    private long _livenessHeld;

    /// <summary>Encoded bytes of the current level's in-memory states that a resumed search did not reload (expanded before the checkpoint).</summary>
    private long _currentDroppedBytes;
    private long _startTimestamp;
    private long _lastProgressTimestamp;
    private int _depth;

    public SearchEngine(ITransitionSystem system, CheckerOptions options)
    {
        _system = system;
        _options = options;
        _kinds = system as IActionKinds;
        _stateSize = system.StateSize;
        _recordSize = _stateSize + Unsafe.SizeOf<TKey>();
        _maxActions = system.MaxActions;
        _safetyCount = Math.Min(64, system.SafetyProperties.Count);
        _livenessCount = options.CheckLiveness ? system.LivenessProperties.Count : 0;
        _workers = options.Workers;
        _maxStates = Math.Min(options.MaxStates, int.MaxValue - 1);
        _table = new FingerprintTable<TKey, TScheme>(Checker.InitialTableLog2, trackIds: _livenessCount > 0, compact: options.Compression == StateCompression.Compact)
        {
            // Every worker waits while the table grows: they all move its keys.
            GrowthThreads = _workers,
            Clock = options.TimeProvider,
        };
        if (_maxActions <= 256)
        {
            _actions8 = new PagedList<byte>();
        }
        else
        {
            _actions16 = new PagedList<ushort>();
        }

        int kindCount = _kinds?.ActionKindNames.Count ?? 1;
        _kindTransitions = new long[kindCount];
        _kindNew = new long[kindCount];
        _violationSource = new int[_safetyCount];
        _violationAction = new int[_safetyCount];
        Array.Fill(_violationSource, -1);
        _actionBuffer = new ulong[Math.Max(1, _maxActions)];
        _classBuffer = new int[Math.Max(1, _maxActions)];
        _obligationBuffer = new ulong[Math.Max(1, _livenessCount)];
        _pending = [new PendingSuccessors<TKey, TScheme>(_stateSize, _maxActions), new PendingSuccessors<TKey, TScheme>(_stateSize, _maxActions)];
        _recordScratch = new byte[_recordSize];
        int actionsPerState = Math.Max(1, _maxActions);
        _directBlockStates = Math.Clamp(BlockSuccessors / actionsPerState, 16, 1 << 14);
        _workerBlockStates = (int)Math.Clamp(WorkerBufferBytes / ((long)actionsPerState * _stateSize), 16, 1 << 12);
        // Shared blocks are larger: each costs three barriers, and the workers' first-seen sets stay small.
        _sharedBlockStates = Math.Clamp(4 * BlockSuccessors / actionsPerState, 256, 1 << 15);
        long frontierBytes = options.FrontierMemoryBytes ?? (options.MaxMemoryBytes / 4);
        _maxSpill = options.MaxSpillBytes ?? DefaultMaxSpill(options.SpillDirectory);
        byte[] reference = new byte[_stateSize];
        system.WriteInitialState(reference);
        _codec = new FrontierCodec(reference, Unsafe.SizeOf<TKey>());
        _decoded = new byte[_recordSize];
        _frontierPool = new FrontierPool(_codec.MaxEncodedSize, frontierBytes / 2);
        _current = new Frontier(_codec, frontierBytes / 2, options.SpillDirectory, _frontierPool);
        _next = new Frontier(_codec, frontierBytes / 2, options.SpillDirectory, _frontierPool);
        if (_livenessCount > 0)
        {
            _graph = new StateGraph(_livenessCount);
        }
    }

    private long ActionIndexBytes => _actions8 is not null ? _actions8.AllocatedBytes : _actions16!.AllocatedBytes;

    private long MemoryBytes => _table.Bytes + _parents.AllocatedBytes + ActionIndexBytes
        + _current.AllocatedBytes + _next.AllocatedBytes + _frontierPool.IdleBytes + (_graph?.Bytes ?? 0) + WorkerBytes + SharedWorkerBytes
        + _pending[0].Bytes + _pending[1].Bytes + _blockScratch.LongLength + _current.ReaderBytes;

    private long WorkerBytes
    {
        get
        {
            long bytes = 0;
            if (_workerPool is { } pool)
            {
                foreach (Worker worker in pool)
                {
                    bytes += worker.Bytes;
                }
            }

            return bytes;
        }
    }

    /// <summary>Half the free space of the spill folder: a runaway frontier never fills the disk.</summary>
    private static long DefaultMaxSpill(string? folder)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(folder ?? Path.GetTempPath())).AvailableFreeSpace / 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 1L << 30;
        }
    }

    public void Dispose()
    {
        _current.Dispose();
        _next.Dispose();
        _table.Dispose();
    }

    public CheckResult Run()
    {
        TimeProvider clock = _options.TimeProvider;
        _startTimestamp = clock.GetTimestamp();
        _lastProgressTimestamp = _startTimestamp;
        _lastCheckpointTimestamp = _startTimestamp;

        if (_options.ResumeDirectory is { } resume)
        {
            ReadCheckpoint(resume);
            RefuseBoundsPassed(resume);
        }
        else
        {
            byte[] initial = new byte[_recordSize];
            _system.WriteInitialState(initial.AsSpan(0, _stateSize));
            TKey hash = TScheme.Hash(initial.AsSpan(0, _stateSize));
            MemoryMarshal.Write(initial.AsSpan(_stateSize), in hash);
            _table.AddOrGet(TScheme.Stored(hash), 0);
            _parents.Add(-1);
            AddActionIndex(0);
            _stateCount = 1;
            _current.FirstId = 0;
            _current.Append(initial);
        }

        _options.Started?.Invoke();
        StopReason stop;
        while (true)
        {
            if (_position == 0)
            {
                // A checkpoint taken after a level's last block resumes with that level empty and the next one filled.
                if (_current.Count == 0 && _next.Count == 0)
                {
                    stop = StopReason.Exhausted;
                    break;
                }

                if (_depth >= _options.MaxDepth)
                {
                    FindDeadEndsAtBound();
                    stop = AllDecided() ? StopReason.AllPropertiesDecided : StopReason.MaxDepth;
                    break;
                }

                if (_next.Count == 0)
                {
                    _next.FirstId = _stateCount;
                }
            }

            if (ExpandLevel() is { } interrupted)
            {
                stop = interrupted;
                NoteFrontierPeak();
                break;
            }

            NoteFrontierPeak();
            (_current, _next) = (_next, _current);
            _next.Clear();
            _position = 0;
            _currentDroppedBytes = 0;
            if (_current.Count > 0)
            {
                _depth++;
            }

            if (_current.Count == 0)
            {
                stop = StopReason.Exhausted;
                break;
            }

            if (AllDecided())
            {
                stop = StopReason.AllPropertiesDecided;
                break;
            }
        }

        string? checkpoint = null;
        // At the depth bound the level at the bound is the frontier, not yet expanded: a resume with a larger
        // --max-depth goes on from it as the search without the bound would have.
        if (_options.CheckpointDirectory is { } folder && stop is not (StopReason.Exhausted or StopReason.AllPropertiesDecided))
        {
            WriteCheckpoint(folder);
            checkpoint = folder;
        }

        ReportProgress(force: true);
        return BuildResult(stop) with { Checkpoint = checkpoint };
    }

    /// <summary>
    /// Lists the actions of the states at the depth bound, which are not expanded, for the first dead end among them:
    /// a dead end is one step past nothing, so a deadlock d steps deep is found with a bound of d, as a safety
    /// violation d steps deep is (the state's successors are never generated).
    /// </summary>
    private void FindDeadEndsAtBound()
    {
        if (!_options.CheckDeadlock || _deadlockState >= 0)
        {
            return;
        }

        Span<ulong> actions = _actionBuffer;
        const int Chunk = 4096;
        for (long start = 0; start < _current.Count && _deadlockState < 0; start += Chunk)
        {
            ReadOnlySpan<byte> block = _current.Block(start, Chunk, ref _blockScratch).Span;
            for (int i = 0; i < block.Length / _recordSize; i++)
            {
                ReadOnlySpan<byte> state = block.Slice(i * _recordSize, _stateSize);
                if (ListActions(state, actions) == 0)
                {
                    NoteDeadEnd(state, checked(_current.FirstId + (int)(start + i)));
                    if (_deadlockState >= 0)
                    {
                        return;
                    }
                }
            }
        }
    }

    /// <summary>Every requested safety property (and deadlock freedom) has a counterexample; liveness needs the whole graph.</summary>
    private bool AllDecided()
    {
        bool anyRequested = _safetyCount > 0 || _options.CheckDeadlock || _livenessCount > 0;
        bool safetyDecided = _decidedSafety == _safetyCount && (!_options.CheckDeadlock || _deadlockState >= 0);
        return anyRequested && safetyDecided && _livenessCount == 0;
    }

    /// <summary>
    /// The largest in-memory frontier so far, in encoded bytes of states: a function of the levels alone, so that it
    /// does not depend on workers, blocks or where a search was resumed.
    /// </summary>
    private void NoteFrontierPeak()
        => _frontierPeak = Math.Max(_frontierPeak, _currentDroppedBytes + _current.MemoryBytes + _next.MemoryBytes);

    /// <summary>
    /// Whether the next block of <paramref name="blockStates"/> states may be expanded: the limits, and the worst
    /// case of the block (every action a new state) against the memory and spill bounds, with the liveness graph
    /// (<paramref name="graph"/>) or without it, on the path <see cref="BlockPlan"/> gives. Lists grow by whole pages,
    /// so their worst case is counted in pages: at small bounds a page is a good part of the bound.
    /// </summary>
    private StopReason? CheckBlockLimits(long blockStates, bool graph)
    {
        if (_stateCount >= _maxStates)
        {
            return StopReason.MaxStates;
        }

        if (_options.TimeLimit is { } limit && _options.TimeProvider.GetElapsedTime(_startTimestamp) >= limit)
        {
            return StopReason.TimeLimit;
        }

        if (_options.CancellationToken.IsCancellationRequested)
        {
            return StopReason.Cancelled;
        }

        long worstNew = blockStates * Math.Max(1, _maxActions);
        long lastSource = _current.FirstId + _position + blockStates - 1;
        long memory = MemoryBytes - (graph ? 0 : _graph?.Bytes ?? 0)
            + _parents.AllocatedBytesAfter(worstNew, lastSource) - _parents.AllocatedBytes
            + (_actions8 is not null
                ? _actions8.AllocatedBytesFor(_actions8.Count + worstNew) - _actions8.AllocatedBytes
                : _actions16!.AllocatedBytesFor(_actions16.Count + worstNew) - _actions16.AllocatedBytes);
        if (_table.Count + worstNew >= _table.GrowAt)
        {
            // Growing holds the larger table (a compact one, its old arrays beside the new).
            memory += _table.PeakBytesFor(_table.Count + worstNew) - _table.Bytes;
        }

        long nextMemoryRoom = _next.MemoryRoomBytes;
        long nextBytes = worstNew * _codec.MaxEncodedSize;
        if (nextMemoryRoom > 0)
        {
            // New chunks, less those idle in the pool, one partly used chunk more.
            memory += Math.Max(0, Math.Min(nextBytes, nextMemoryRoom) + _frontierPool.ChunkBytes - _frontierPool.IdleBytes);
        }

        if (graph && _graph is not null)
        {
            memory += _graph.BytesAfter(blockStates, worstNew) - _graph.Bytes;
        }

        // The block decoded into full records (the parallel paths), and the spill file's read buffer.
        if (BlockPlan(graph).Parallel)
        {
            memory += Math.Max(0, (blockStates * _recordSize) - _blockScratch.LongLength);
        }

        if (_current.SpillStates > 0 && _current.ReaderBytes == 0)
        {
            memory += Frontier.SpillReadBytes;
        }

        if (_workers > 1 && !graph)
        {
            // The workers' first-seen sets (at most half full, a key and its candidate's index a slot) and their
            // candidates' successor patches.
            memory += worstNew * 5 * sizeof(long);
        }

        if (_memoryExceeded || memory > _options.MaxMemoryBytes)
        {
            return StopReason.MaxMemory;
        }

        long spillWorst = Math.Max(0, nextBytes - nextMemoryRoom);
        if (_current.SpillBytes + _next.SpillBytes + spillWorst > _maxSpill)
        {
            return StopReason.MaxSpill;
        }

        return null;
    }

    /// <summary>Expands the current level from <see cref="_position"/> on; returns why it stopped early, or null at its end.</summary>
    private StopReason? ExpandLevel()
    {
        long count = _current.Count;
        (bool parallel, int blockStates) = BlockPlan(_graph is not null);
        while (_position < count)
        {
            int n = (int)Math.Min(blockStates, count - _position);
            StopReason? stop = FitBlock(ref n, _graph is not null);
            if (stop is StopReason.MaxMemory && _graph is not null && !_memoryExceeded)
            {
                // Not one more state fits beside the graph. Without it the safety search may go on, as it would
                // under a smaller bound whose graph went sooner: a larger bound never explores less.
                int without = (int)Math.Min(BlockPlan(graph: false).BlockStates, count - _position);
                StopReason? safety = FitBlock(ref without, graph: false);
                if (safety is null)
                {
                    DropGraph();
                    (parallel, blockStates) = BlockPlan(graph: false);
                    (n, stop) = (without, safety);
                }
            }

            if (stop is not null)
            {
                return stop;
            }

            int firstId = checked(_current.FirstId + (int)_position);

            // Near MaxStates the serial path stops state by state.
            bool nearMaxStates = _stateCount + ((long)n * _maxActions) >= _maxStates;
            if (parallel && n >= 64 * _workers && !nearMaxStates)
            {
                if (_graph is null)
                {
                    ExpandShared(n, firstId);
                }
                else
                {
                    ExpandParallel(_current.Block(_position, n, ref _blockScratch), n, firstId);
                }

                _position += n;
            }
            else
            {
                ReadOnlySpan<byte> encoded = _current.EncodedBlock(_position, n, out n);
                int done = ExpandDirect(encoded, n, firstId, pipelined: _graph is null && !nearMaxStates, out int bytes);
                _current.Advance(done, bytes);
                _position += done;
                if (done < n)
                {
                    return StopReason.MaxStates;
                }
            }

            ReportProgress(force: false);
            CheckpointIfDue();
        }

        return null;
    }

    /// <summary>
    /// Whether the levels are expanded on several threads, and the states a block holds, with the liveness graph
    /// (<paramref name="graph"/>) or without it.
    /// </summary>
    private (bool Parallel, int BlockStates) BlockPlan(bool graph)
    {
        // With a liveness graph the levels' expansion is merged on one thread in order (every edge needs its target's
        // id), and on two workers that merge costs more than the second worker brings: truncate3 under kvm-pf-int
        // (1,392,105 states) took 2.91 s with one worker and 3.71 s with two. So a graph search expands in parallel
        // only from ParallelGraphMinWorkers on; its fair-cycle search still uses every worker.
        bool parallel = graph ? _workers >= ParallelGraphMinWorkers : _workers > 1 || _options.SharedPathWithOneWorker;
        int blockStates = !parallel ? _directBlockStates
            : graph ? _workerBlockStates * _workers
            : _sharedBlockStates * _workers;
        return (parallel, blockStates);
    }

    /// <summary>Halves <paramref name="n"/> until the block fits the bounds or is one state; returns why it does not fit.</summary>
    private StopReason? FitBlock(ref int n, bool graph)
    {
        StopReason? stop = CheckBlockLimits(n, graph);

        // Near the memory or spill bound, smaller blocks get closer to it.
        while (stop is StopReason.MaxMemory or StopReason.MaxSpill && n > 1 && !_memoryExceeded)
        {
            n /= 2;
            stop = CheckBlockLimits(n, graph);
        }

        return stop;
    }

    /// <summary>Drops the liveness graph: liveness is then left undecided, and the other properties' search goes on.</summary>
    private void DropGraph()
    {
        long bytes = _graph!.Bytes;
        _graph = null;
        _notes.Add("liveness incomplete: the state graph does not fit in MaxMemoryBytes");

        // Hand the graph's pages back now rather than at some later full collection, so that resident memory
        // follows MaxMemoryBytes, as after a compact table's growth.
        if (bytes >= 64 << 20)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
        }
    }

    /// <summary>
    /// The in-place view of <paramref name="system"/> when it has one and the frontier block is an
    /// array (states are then listed and applied where they lie); null otherwise.
    /// </summary>
    private static IInPlaceTransitionSystem? InPlaceOver(ITransitionSystem system, ReadOnlyMemory<byte> memory, out byte[] array, out int offset)
    {
        if (system is IInPlaceTransitionSystem inPlace && MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment))
        {
            array = segment.Array!;
            offset = segment.Offset;
            return inPlace;
        }

        array = [];
        offset = 0;
        return null;
    }

    /// <summary>
    /// Expands the first <paramref name="count"/> states <paramref name="encoded"/> holds, in order; stops after the
    /// state that reaches MaxStates. Returns the states expanded, and in <paramref name="bytes"/> their encoded length.
    /// Each state is decoded into <see cref="_decoded"/>; its new successors are encoded from its encoded record.
    /// <paramref name="pipelined"/> (no liveness graph, MaxStates out of reach in this block): a state's successors are
    /// looked up after the next state's are generated (see <see cref="PendingSuccessors{TKey, TScheme}"/>).
    /// </summary>
    private int ExpandDirect(ReadOnlySpan<byte> encoded, int count, int firstId, bool pipelined, out int bytes)
    {
        Span<ulong> actions = _actionBuffer;
        StateGraph? graph = _graph;
        byte[] decoded = _decoded;
        IInPlaceTransitionSystem? inPlace = _system as IInPlaceTransitionSystem;
        int at = 0;

        for (int i = 0; i < count; i++)
        {
            PendingSuccessors<TKey, TScheme> pending = _pending[i & 1];
            int source = firstId + i;
            pending.Source = source;
            pending.ParentAt = at;
            at += _codec.Decode(encoded[at..], decoded);
            ReadOnlySpan<byte> state = decoded.AsSpan(0, _stateSize);
            TKey hash = MemoryMarshal.Read<TKey>(decoded.AsSpan(_stateSize));
            int n = inPlace is null ? ListActions(state, actions) : ListActions(inPlace, decoded, 0, actions);
            if (n == 0)
            {
                NoteDeadEnd(state, source);
            }

            if (graph is not null)
            {
                RecordState(graph, state, actions[..n], _classBuffer, _obligationBuffer);
            }

            // Fingerprint all successors first and prefetch their home slots, so that the table's cache misses
            // overlap instead of being paid one after another; only the new ones are then written out.
            if (pending.Generate(_system, inPlace, state, hash, actions[..n], _kinds, _kindTransitions, _table) != 0)
            {
                _decidedSafety += pending.NoteViolations(_violationSource, _violationAction);
            }

            if (!pipelined)
            {
                InsertSuccessors(pending, encoded, graph);
                if (_stateCount >= _maxStates)
                {
                    bytes = at;
                    return i + 1;
                }
            }
            else if (i > 0)
            {
                InsertSuccessors(_pending[(i - 1) & 1], encoded, graph: null);
            }
        }

        if (pipelined && count > 0)
        {
            InsertSuccessors(_pending[(count - 1) & 1], encoded, graph: null);
        }

        bytes = at;
        return count;
    }

    /// <summary>Looks up one state's successors in action order; the new ones get ids and join the next level.</summary>
    private void InsertSuccessors(PendingSuccessors<TKey, TScheme> pending, ReadOnlySpan<byte> encoded, StateGraph? graph)
    {
        ReadOnlySpan<byte> parentEncoded = encoded[(int)pending.ParentAt..];
        TKey[] keys = pending.Keys;
        int[] kinds = pending.Kinds;
        int n = pending.Count;
        for (int a = 0; a < n; a++)
        {
            int id = Insert(keys[a], pending.Source, a, kinds[a], out bool added);
            if (added)
            {
                AppendNext(keys[a], parentEncoded, pending.Successors, a);
            }

            graph?.Edges.Add(StateGraph.PackEdge(id, a, _classBuffer[a]));
        }

        _transitions += n;
    }

    /// <summary>
    /// Writes successor <paramref name="successor"/> to the next level, encoded from its parent's encoded record
    /// <paramref name="parentEncoded"/> and its patch, as the workers encode theirs.
    /// </summary>
    private void AppendNext(TKey hash, ReadOnlySpan<byte> parentEncoded, SuccessorBuffer<TKey, TScheme> successors, int successor)
    {
        Span<byte> key = stackalloc byte[Unsafe.SizeOf<TKey>()];
        MemoryMarshal.Write(key, in hash);
        Span<byte> room = _next.BeginAppend();
        _next.EndAppend(_codec.EncodeSuccessorOf(parentEncoded, successors.PatchWords(successor), successors.PatchValues(successor), key, room));
    }

    /// <summary>Writes <paramref name="state"/> with fingerprint <paramref name="hash"/> to the next level.</summary>
    private void AppendNext(TKey hash, ReadOnlySpan<byte> state)
    {
        Span<byte> record = _recordScratch;
        state.CopyTo(record);
        MemoryMarshal.Write(record[_stateSize..], in hash);
        _next.Append(record);
    }

    private int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
    {
        int n = _system.ListActions(state, actions);
        if ((uint)n > (uint)_maxActions)
        {
            throw new InvalidOperationException("ListActions returned more than MaxActions actions.");
        }

        return n;
    }

    private int ListActions(IInPlaceTransitionSystem system, byte[] states, int offset, Span<ulong> actions)
    {
        int n = system.ListActions(states, offset, actions);
        if ((uint)n > (uint)_maxActions)
        {
            throw new InvalidOperationException("ListActions returned more than MaxActions actions.");
        }

        return n;
    }

    private void NoteDeadEnd(ReadOnlySpan<byte> state, int source)
    {
        if (_options.CheckDeadlock && _deadlockState < 0 && !_system.IsValidEnd(state))
        {
            _deadlockState = source;
        }
    }

    private void RecordState(StateGraph graph, ReadOnlySpan<byte> state, ReadOnlySpan<ulong> actions, int[] classes, ulong[] obligations)
    {
        var (enabled, flags) = StateGraph.Summarize(_system, state, actions, classes, obligations.AsSpan(0, _livenessCount));
        graph.BeginState(enabled, flags, obligations);
    }

    /// <summary>
    /// Adds a successor's fingerprint; returns its id (-1 for an already known state when ids are not tracked).
    /// <paramref name="added"/>: it is new (the caller writes it to the next level).
    /// </summary>
    private int Insert(TKey hash, int source, int actionIndex, int kind, out bool added)
    {
        if (_table.NeedsGrowth)
        {
            GrowTable();
        }

        int id = _table.AddOrGet(TScheme.Stored(hash), _stateCount);
        added = id == _stateCount;
        if (added)
        {
            _parents.Add(source);
            AddActionIndex(actionIndex);
            _stateCount++;
            _kindNew[kind]++;
            if (_stateCount == int.MaxValue)
            {
                throw new CheckerLimitException("More than 2^31 - 1 states: the state id space is exhausted.");
            }
        }

        return id;
    }

    /// <summary>Grows the table (a rehash in place, see <see cref="FingerprintTable{TKey, TScheme}.Grow"/>).</summary>
    private void GrowTable()
    {
        if (!_table.CanGrow)
        {
            if (_table.IsOverfull)
            {
                throw new CheckerLimitException("The fingerprint table reached its largest capacity.");
            }

            return;
        }

        // A level always completes; a growth past the limit stops the search after it.
        if (MemoryBytes - _table.Bytes + _table.BytesAfterGrowth > _options.MaxMemoryBytes)
        {
            _memoryExceeded = true;
        }

        long started = _options.TimeProvider.GetTimestamp();
        _table.Grow();
        _tableGrowthTime += _options.TimeProvider.GetElapsedTime(started);
        _tableGrowths++;

        // A compact table grows into new arrays: hand large old ones back now rather than at some later full
        // collection, so resident memory follows MaxMemoryBytes (the table grows a few dozen times at most).
        if (_table.IsCompact && _table.Bytes >= 64 << 20)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
        }
    }

    private void AddActionIndex(int index)
    {
        if (_actions8 is not null)
        {
            _actions8.Add((byte)index);
        }
        else
        {
            _actions16!.Add((ushort)index);
        }
    }

    private int ActionIndexOf(int id) => _actions8 is not null ? _actions8[id] : _actions16![id];

    /// <summary>Action indices from the initial state to <paramref name="id"/>, following BFS parents.</summary>
    private List<int> PathTo(int id)
    {
        var path = new List<int>();
        while (id > 0)
        {
            path.Add(ActionIndexOf(id));
            id = _parents[id];
        }

        path.Reverse();
        return path;
    }

    private void ReportProgress(bool force)
    {
        IProgress<CheckProgress>? progress = _options.Progress;
        if (progress is null)
        {
            return;
        }

        TimeProvider clock = _options.TimeProvider;
        long now = clock.GetTimestamp();
        if (!force && clock.GetElapsedTime(_lastProgressTimestamp, now) < _options.ProgressInterval)
        {
            return;
        }

        _lastProgressTimestamp = now;
        TimeSpan elapsed = clock.GetElapsedTime(_startTimestamp, now);
        double rate = elapsed.TotalSeconds > 0 ? _stateCount / elapsed.TotalSeconds : 0;
        progress.Report(new CheckProgress(_stateCount, _depth, _current.Count - _position + _next.Count, rate, MemoryBytes, elapsed)
        {
            SpillBytes = _current.SpillBytes + _next.SpillBytes,
            Final = force,
        });
    }

    private CheckResult BuildResult(StopReason stop)
    {
        var violations = new List<Violation>();
        for (int p = 0; p < _safetyCount; p++)
        {
            if (_violationSource[p] >= 0)
            {
                List<int> path = PathTo(_violationSource[p]);
                path.Add(_violationAction[p]);
                violations.Add(MakeViolation(_system.SafetyProperties[p], ViolationKind.Safety, path, -1));
            }
        }

        if (_deadlockState >= 0)
        {
            violations.Add(MakeViolation(Checker.DeadlockProperty, ViolationKind.Safety, PathTo(_deadlockState), -1));
        }

        bool livenessIncomplete = false;
        if (_livenessCount > 0)
        {
            if (stop != StopReason.Exhausted)
            {
                livenessIncomplete = true;
                _notes.Add("liveness incomplete: the state space was not fully explored");
            }
            else if (_graph is null)
            {
                livenessIncomplete = true;
            }
            else if (FittingLiveness(_graph) is not { } liveness)
            {
                livenessIncomplete = true;
                _notes.Add("liveness incomplete: the fair-cycle search does not fit in MaxMemoryBytes");
            }
            else
            {
                for (int p = 0; p < _livenessCount; p++)
                {
                    if (_system is IQuotientLiveness quotient)
                    {
                        if (quotient.FindLasso(liveness, p, PathTo) is { } real)
                        {
                            violations.Add(real);
                        }
                    }
                    else if (liveness.FindLasso(p) is { } lasso)
                    {
                        List<int> path = PathTo(lasso.Entry);
                        int loopStart = path.Count;
                        path.AddRange(lasso.Loop);
                        violations.Add(MakeViolation(_system.LivenessProperties[p], ViolationKind.Lasso, path, loopStart));
                    }
                }
            }
        }

        bool limited = stop is not (StopReason.Exhausted or StopReason.AllPropertiesDecided);
        Verdict verdict = violations.Count > 0 ? Verdict.Violation
            : limited || livenessIncomplete ? Verdict.Incomplete
            : Verdict.Pass;

        var coverage = new ActionCoverage[_kindTransitions.Length];
        for (int k = 0; k < coverage.Length; k++)
        {
            string name = _kinds is null ? "action" : _kinds.ActionKindNames[k];
            coverage[k] = new ActionCoverage(name, _kindTransitions[k], _kindNew[k]);
        }

        long stateBytes = _table.Bytes + _parents.UsedBytes + (_actions8 is not null ? _actions8.UsedBytes : _actions16!.UsedBytes);
        return new CheckResult
        {
            Verdict = verdict,
            StopReason = stop,
            States = _stateCount,
            Transitions = _transitions,
            Depth = _depth + (_next.Count > 0 ? 1 : 0),
            BytesPerState = (double)stateBytes / _stateCount,
            FrontierPeakBytes = _frontierPeak,
            TableGrowths = _tableGrowths,
            TableGrowthTime = _tableGrowthTime,
            TableFaultInTime = _table.FaultInTime,
            TableFaultInBytes = _table.FaultInBytes,
            SharedPathTime = Ticks(_sharedTicks),
            ParallelPhaseTime = Ticks(_phaseTicks),
            WorkerWaitTime = Ticks((_phaseTicks * _workers) - _busyTicks),
            FrontierSpilledBytes = _current.SpilledBytes + _next.SpilledBytes,
            FrontierWrittenBytes = _current.AppendedBytes + _next.AppendedBytes,
            FingerprintBits = _table.KeyBits,
            Compression = _options.Compression,
            CollisionProbability = Checker.CollisionProbability(_stateCount, _table.KeyBits),
            Coverage = coverage,
            Violations = violations,
            LivenessIncomplete = livenessIncomplete,
            LivenessHeldBytes = _livenessHeld,
            Notes = _notes,
            Elapsed = _options.TimeProvider.GetElapsedTime(_startTimestamp),
        };
    }

    /// <summary>
    /// The fair-cycle search on the most workers up to <c>Workers</c> whose arrays (<see cref="LivenessChecker.PeakBytes"/>)
    /// fit in MaxMemoryBytes beside what the search still holds; null when one worker's do not. Fewer workers find
    /// the same lassos (the search's result does not depend on them), so memory costs time, not the verdict.
    /// First the search hands back what the liveness phase does not read: the frontier's idle chunks, and the
    /// wide table's slots, since the graph's edges hold every id and the traces follow the parent links.
    /// </summary>
    private LivenessChecker? FittingLiveness(StateGraph graph)
    {
        _frontierPool.Trim();
        long held = MemoryBytes;
        if (!_table.IsCompact)
        {
            held -= _table.Bytes;
            _table.Dispose();
        }

        _livenessHeld = held;

        bool allComponents = _system is IQuotientLiveness;
        for (int workers = _workers; workers >= 1; workers--)
        {
            var liveness = new LivenessChecker(graph, _stateCount, _system.FairnessClasses, workers);
            if (held + liveness.PeakBytes(allComponents) <= _options.MaxMemoryBytes)
            {
                if (workers < _workers)
                {
                    _notes.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"liveness: the fair-cycle search ran on {workers} of {_workers} workers to fit in MaxMemoryBytes"));
                }

                return liveness;
            }
        }

        return null;
    }

    private Violation MakeViolation(string property, ViolationKind kind, List<int> indices, int loopStart)
    {
        int[] array = [.. indices];
        ulong[] actions = Checker.ReplayIndices(_system, array);
        return new Violation(property, kind, actions, array, loopStart);
    }
}
