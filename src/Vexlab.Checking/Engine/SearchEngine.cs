using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// Breadth-first exhaustive search over fingerprints. State ids are assigned in discovery order, which is
/// frontier order times action order, so ids, parents and traces do not depend on the number of workers.
/// </summary>
internal sealed partial class SearchEngine<TKey, TScheme> : IDisposable
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    private const int DirectBlockStates = 1 << 14;
    private const int WorkerBlockStates = 1 << 12;

    private readonly ITransitionSystem _system;
    private readonly CheckerOptions _options;
    private readonly IActionKinds? _kinds;
    private readonly int _stateSize;
    private readonly int _maxActions;
    private readonly int _safetyCount;
    private readonly int _livenessCount;
    private readonly int _workers;
    private readonly long _maxStates;
    private readonly FingerprintTable<TKey, TScheme> _table;
    private readonly PagedList<int> _parents = new();
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
    private readonly byte[] _successorBuffer;
    private readonly TKey[] _keyBuffer;
    private readonly int[] _kindBuffer;
    private ulong _touchSink;
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
    private long _startTimestamp;
    private long _lastProgressTimestamp;
    private int _depth;

    public SearchEngine(ITransitionSystem system, CheckerOptions options)
    {
        _system = system;
        _options = options;
        _kinds = system as IActionKinds;
        _stateSize = system.StateSize;
        _maxActions = system.MaxActions;
        _safetyCount = Math.Min(64, system.SafetyProperties.Count);
        _livenessCount = options.CheckLiveness ? system.LivenessProperties.Count : 0;
        _workers = options.Workers;
        _maxStates = Math.Min(options.MaxStates, int.MaxValue - 1);
        _table = new FingerprintTable<TKey, TScheme>(Checker.InitialTableLog2, trackIds: _livenessCount > 0);
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
        _successorBuffer = new byte[Math.Max(1, _maxActions) * _stateSize];
        _keyBuffer = new TKey[Math.Max(1, _maxActions)];
        _kindBuffer = new int[Math.Max(1, _maxActions)];
        long frontierBytes = options.FrontierMemoryBytes ?? (options.MaxMemoryBytes / 4);
        _current = new Frontier(_stateSize, frontierBytes / 2, options.SpillDirectory);
        _next = new Frontier(_stateSize, frontierBytes / 2, options.SpillDirectory);
        if (_livenessCount > 0)
        {
            _graph = new StateGraph(_livenessCount);
        }
    }

    private long ActionIndexBytes => _actions8 is not null ? _actions8.AllocatedBytes : _actions16!.AllocatedBytes;

    private long MemoryBytes => _table.Bytes + _parents.AllocatedBytes + ActionIndexBytes
        + _current.AllocatedBytes + _next.AllocatedBytes + (_graph?.Bytes ?? 0);

    public void Dispose()
    {
        _current.Dispose();
        _next.Dispose();
    }

    public CheckResult Run()
    {
        TimeProvider clock = _options.TimeProvider;
        _startTimestamp = clock.GetTimestamp();
        _lastProgressTimestamp = _startTimestamp;

        byte[] initial = new byte[_stateSize];
        _system.WriteInitialState(initial);
        _table.AddOrGet(TScheme.Hash(initial), 0);
        _parents.Add(-1);
        AddActionIndex(0);
        _stateCount = 1;
        _current.FirstId = 0;
        _current.Append(initial);

        StopReason stop = StopReason.Exhausted;
        byte[] scratch = [];
        while (true)
        {
            if (_current.Count == 0)
            {
                stop = StopReason.Exhausted;
                break;
            }

            if (_depth >= _options.MaxDepth)
            {
                stop = StopReason.MaxDepth;
                break;
            }

            _next.FirstId = _stateCount;
            ExpandLevel(ref scratch);
            _frontierPeak = Math.Max(_frontierPeak, _current.AllocatedBytes + _next.AllocatedBytes);
            (_current, _next) = (_next, _current);
            _next.Clear();
            if (_current.Count > 0)
            {
                _depth++;
            }

            if (_graph is not null && MemoryBytes > _options.MaxMemoryBytes)
            {
                _graph = null;
                _notes.Add("liveness incomplete: the state graph does not fit in MaxMemoryBytes");
            }

            if (_current.Count == 0)
            {
                stop = StopReason.Exhausted;
                break;
            }

            StopReason? limit = CheckLimits();
            if (limit is { } reason)
            {
                stop = reason;
                break;
            }
        }

        ReportProgress(force: true);
        return BuildResult(stop);
    }

    private StopReason? CheckLimits()
    {
        bool anyRequested = _safetyCount > 0 || _options.CheckDeadlock || _livenessCount > 0;
        bool safetyDecided = _decidedSafety == _safetyCount && (!_options.CheckDeadlock || _deadlockState >= 0);
        if (anyRequested && safetyDecided && _livenessCount == 0)
        {
            return StopReason.AllPropertiesDecided;
        }

        if (_stateCount >= _maxStates)
        {
            return StopReason.MaxStates;
        }

        if (_memoryExceeded || MemoryBytes >= _options.MaxMemoryBytes)
        {
            return StopReason.MaxMemory;
        }

        // The next level may need the table's growth step: refuse to start it when that cannot fit.
        long worstNew = _current.Count * (long)_maxActions;
        if (_table.Count + worstNew >= _table.Capacity / 4 * 3
            && MemoryBytes - _table.Bytes + _table.BytesAfterGrowth > _options.MaxMemoryBytes)
        {
            return StopReason.MaxMemory;
        }

        if (_options.TimeLimit is { } limit && _options.TimeProvider.GetElapsedTime(_startTimestamp) >= limit)
        {
            return StopReason.TimeLimit;
        }

        if (_options.CancellationToken.IsCancellationRequested)
        {
            return StopReason.Cancelled;
        }

        return null;
    }

    private void ExpandLevel(ref byte[] scratch)
    {
        long count = _current.Count;
        int blockStates = _workers > 1 ? WorkerBlockStates * _workers : DirectBlockStates;
        for (long start = 0; start < count;)
        {
            ReadOnlyMemory<byte> block = _current.Block(start, blockStates, ref scratch);
            int n = block.Length / _stateSize;
            int firstId = checked(_current.FirstId + (int)start);
            if (_workers > 1 && n >= 64 * _workers)
            {
                ExpandParallel(block, n, firstId);
            }
            else
            {
                ExpandDirect(block, n, firstId);
            }

            start += n;
            ReportProgress(force: false);
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

    private void ExpandDirect(ReadOnlyMemory<byte> memory, int count, int firstId)
    {
        Span<ulong> actions = _actionBuffer;
        StateGraph? graph = _graph;
        ReadOnlySpan<byte> block = memory.Span;
        IInPlaceTransitionSystem? inPlace = InPlaceOver(_system, memory, out byte[] blockArray, out int blockOffset);

        for (int i = 0; i < count; i++)
        {
            int source = firstId + i;
            ReadOnlySpan<byte> state = block.Slice(i * _stateSize, _stateSize);
            int stateOffset = blockOffset + (i * _stateSize);
            int n = inPlace is null ? ListActions(state, actions) : ListActions(inPlace, blockArray, stateOffset, actions);
            if (n == 0)
            {
                NoteDeadEnd(state, source);
            }

            if (graph is not null)
            {
                RecordState(graph, state, actions[..n], _classBuffer, _obligationBuffer);
            }

            // Generate and hash all successors first and touch their home slots, so that the table's cache
            // misses overlap instead of being paid one after another.
            Span<byte> successors = _successorBuffer;
            Span<TKey> keys = _keyBuffer;
            ulong touched = 0;
            for (int a = 0; a < n; a++)
            {
                ulong action = actions[a];
                Span<byte> next = successors.Slice(a * _stateSize, _stateSize);
                ulong violated = inPlace is null
                    ? _system.Apply(state, action, next)
                    : inPlace.Apply(blockArray, stateOffset, action, _successorBuffer, a * _stateSize);
                int kind = _kinds is null ? 0 : _kinds.ActionKind(action);
                _kindBuffer[a] = kind;
                _kindTransitions[kind]++;
                if (violated != 0)
                {
                    NoteViolation(violated, source, a);
                }

                keys[a] = TScheme.Hash(next);
                touched ^= TScheme.Slot(_table.Touch(keys[a]));
            }

            _touchSink = touched;
            for (int a = 0; a < n; a++)
            {
                int id = Insert(keys[a], source, a, _kindBuffer[a], successors.Slice(a * _stateSize, _stateSize));
                graph?.Edges.Add(StateGraph.PackEdge(id, a, _classBuffer[a]));
            }

            _transitions += n;
        }
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

    private void NoteViolation(ulong violated, int source, int actionIndex)
    {
        for (int p = 0; p < _safetyCount; p++)
        {
            if ((violated & (1UL << p)) != 0 && _violationSource[p] < 0)
            {
                _violationSource[p] = source;
                _violationAction[p] = actionIndex;
                _decidedSafety++;
            }
        }
    }

    private void RecordState(StateGraph graph, ReadOnlySpan<byte> state, ReadOnlySpan<ulong> actions, int[] classes, ulong[] obligations)
    {
        var (enabled, flags) = Summarize(_system, state, actions, classes, obligations.AsSpan(0, _livenessCount));
        graph.BeginState(enabled, flags, obligations);
    }

    /// <summary>
    /// What the liveness graph keeps of a state: the fairness classes enabled in it (and each
    /// action's class into <paramref name="classes"/>), its alive and dead-end flags, and the
    /// obligations pending for each liveness property.
    /// </summary>
    private static (ulong Enabled, byte Flags) Summarize(
        ITransitionSystem system, ReadOnlySpan<byte> state, ReadOnlySpan<ulong> actions, Span<int> classes, Span<ulong> obligations)
    {
        ulong enabled = 0;
        for (int a = 0; a < actions.Length; a++)
        {
            int c = system.FairnessClass(actions[a]);
            classes[a] = c;
            if (c >= 0)
            {
                enabled |= 1UL << c;
            }
        }

        byte flags = system.IsAlive(state) ? StateGraph.AliveFlag : (byte)0;
        if (actions.Length == 0 && !system.IsValidEnd(state))
        {
            flags |= StateGraph.DeadEndFlag;
        }

        for (int p = 0; p < obligations.Length; p++)
        {
            obligations[p] = system.PendingObligations(state, p);
        }

        return (enabled, flags);
    }

    /// <summary>Adds a successor; returns its id (-1 for an already known state when ids are not tracked).</summary>
    private int Insert(TKey key, int source, int actionIndex, int kind, ReadOnlySpan<byte> next)
    {
        if (_table.NeedsGrowth)
        {
            GrowTable();
        }

        int id = _table.AddOrGet(key, _stateCount);
        if (id == _stateCount)
        {
            _parents.Add(source);
            AddActionIndex(actionIndex);
            _next.Append(next);
            _stateCount++;
            _kindNew[kind]++;
            if (_stateCount == int.MaxValue)
            {
                throw new CheckerLimitException("More than 2^31 - 1 states: the state id space is exhausted.");
            }
        }

        return id;
    }

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

        _table.Grow();
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
        progress.Report(new CheckProgress(_stateCount, _depth, _current.Count + _next.Count, rate, MemoryBytes, elapsed));
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
            else
            {
                var liveness = new LivenessChecker(_graph, _stateCount, _system.FairnessClasses);
                for (int p = 0; p < _livenessCount; p++)
                {
                    if (liveness.FindLasso(p) is { } lasso)
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
            Depth = _depth,
            BytesPerState = (double)stateBytes / _stateCount,
            FrontierPeakBytes = _frontierPeak,
            FrontierSpilledBytes = _current.SpilledBytes + _next.SpilledBytes,
            FingerprintBits = TScheme.Bits,
            CollisionProbability = Checker.CollisionProbability(_stateCount, TScheme.Bits),
            Coverage = coverage,
            Violations = violations,
            LivenessIncomplete = livenessIncomplete,
            Notes = _notes,
            Elapsed = _options.TimeProvider.GetElapsedTime(_startTimestamp),
        };
    }

    private Violation MakeViolation(string property, ViolationKind kind, List<int> indices, int loopStart)
    {
        int[] array = [.. indices];
        ulong[] actions = Checker.ReplayIndices(_system, array);
        return new Violation(property, kind, actions, array, loopStart);
    }
}
