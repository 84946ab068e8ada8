
namespace Vexlab.Checking.Engine;

internal sealed partial class SearchEngine<TKey, TScheme>
{
    /// <summary>
    /// Expands a block in parallel while the liveness graph is built (its edges need every target's id in order):
    /// each worker takes a contiguous slice of the block, drops successors already
    /// in the table (read-only lookups) and buffers the rest; the buffers are then merged in frontier order.
    /// </summary>
    private void ExpandParallel(ReadOnlyMemory<byte> block, int count, int firstId)
    {
        _workerPool ??= CreateWorkers();
        Worker[] pool = _workerPool;
        int chunk = (count + pool.Length - 1) / pool.Length;
        Parallel.For(0, pool.Length, new ParallelOptions { MaxDegreeOfParallelism = pool.Length }, w =>
        {
            int from = Math.Min(count, w * chunk);
            int to = Math.Min(count, from + chunk);
            pool[w].Expand(block, from, to, firstId, _graph is not null);
        });

        foreach (Worker worker in pool)
        {
            Merge(worker);
        }
    }

    private Worker[] CreateWorkers()
    {
        var pool = new Worker[_workers];
        for (int w = 0; w < pool.Length; w++)
        {
            pool[w] = new Worker(this);
        }

        return pool;
    }

    private void Merge(Worker worker)
    {
        MergeCounters(worker.Transitions, worker.KindTransitions, worker.ViolationSource, worker.ViolationAction, worker.DeadlockState);

        StateGraph? graph = _graph;
        if (graph is null)
        {
            for (int c = 0; c < worker.CandidateCount; c++)
            {
                InsertCandidate(worker, c);
            }

            return;
        }

        int edge = 0;
        int obligations = 0;
        for (int s = 0; s < worker.StateCount; s++)
        {
            graph.BeginState(worker.StateEnabled[s], worker.StateFlags[s], worker.Obligations.AsSpan(obligations, _livenessCount));
            obligations += _livenessCount;
            int end = edge + worker.StateEdges[s];
            for (; edge < end; edge++)
            {
                ulong packed = worker.Edges[edge];
                int target = StateGraph.EdgeTarget(packed);
                if (target < 0)
                {
                    target = InsertCandidate(worker, ~target);
                }

                graph.Edges.Add(StateGraph.PackEdge(target, StateGraph.EdgeAction(packed), StateGraph.EdgeClass(packed)));
            }
        }
    }

    private int InsertCandidate(Worker worker, int c)
    {
        int id = Insert(worker.CandidateKeys[c], worker.CandidateSource[c], worker.CandidateAction[c], worker.CandidateKind[c], out bool added);
        if (added)
        {
            AppendNext(worker.CandidateKeys[c], worker.CandidateStates.AsSpan(c * _stateSize, _stateSize));
        }

        return id;
    }

    /// <summary>Thread-local expansion buffers, reused across blocks.</summary>
    private sealed class Worker
    {
        private readonly SearchEngine<TKey, TScheme> _engine;
        private readonly ITransitionSystem _system;
        private readonly ulong[] _actions;
        private readonly int[] _classes;
        private readonly PendingSuccessors<TKey, TScheme> _successors;
        private readonly int _stateSize;
        private readonly int _recordSize;

        public Worker(SearchEngine<TKey, TScheme> engine)
        {
            _engine = engine;
            _system = engine._system;
            _stateSize = engine._stateSize;
            _actions = new ulong[engine._actionBuffer.Length];
            _classes = new int[engine._actionBuffer.Length];
            _recordSize = engine._recordSize;
            _successors = new PendingSuccessors<TKey, TScheme>(_stateSize, engine._maxActions);
            KindTransitions = new long[engine._kindTransitions.Length];
            ViolationSource = new int[engine._safetyCount];
            ViolationAction = new int[engine._safetyCount];
        }

        public long Transitions { get; private set; }

        /// <summary>Bytes of the buffers this worker holds.</summary>
        public long Bytes => (CandidateKeys.LongLength * (System.Runtime.CompilerServices.Unsafe.SizeOf<TKey>() + sizeof(int) + sizeof(ushort) + sizeof(int)))
            + CandidateStates.LongLength + (StateEnabled.LongLength * (sizeof(ulong) + 1 + sizeof(int)))
            + (Obligations.LongLength * sizeof(ulong)) + (Edges.LongLength * sizeof(ulong)) + _successors.Bytes;

        public long[] KindTransitions { get; }

        public int[] ViolationSource { get; }

        public int[] ViolationAction { get; }

        public int DeadlockState { get; private set; }

        public int CandidateCount { get; private set; }

        public TKey[] CandidateKeys { get; private set; } = [];

        public int[] CandidateSource { get; private set; } = [];

        public ushort[] CandidateAction { get; private set; } = [];

        public int[] CandidateKind { get; private set; } = [];

        public byte[] CandidateStates { get; private set; } = [];

        public int StateCount { get; private set; }

        public ulong[] StateEnabled { get; private set; } = [];

        public byte[] StateFlags { get; private set; } = [];

        public int[] StateEdges { get; private set; } = [];

        public ulong[] Obligations { get; private set; } = [];

        public ulong[] Edges { get; private set; } = [];

        public void Expand(ReadOnlyMemory<byte> memory, int from, int to, int firstId, bool graph)
        {
            ReadOnlySpan<byte> block = memory.Span;
            IInPlaceTransitionSystem? inPlace = InPlaceOver(_system, memory, out byte[] blockArray, out int blockOffset);

            Reset();
            SearchEngine<TKey, TScheme> engine = _engine;
            FingerprintTable<TKey, TScheme> table = engine._table;
            IActionKinds? kinds = engine._kinds;
            int liveness = engine._livenessCount;
            Span<ulong> actions = _actions;
            PendingSuccessors<TKey, TScheme> successors = _successors;
            int edgeCount = 0;
            for (int i = from; i < to; i++)
            {
                int source = firstId + i;
                ReadOnlySpan<byte> record = block.Slice(i * _recordSize, _recordSize);
                ReadOnlySpan<byte> state = record[.._stateSize];
                TKey hash = System.Runtime.InteropServices.MemoryMarshal.Read<TKey>(record[_stateSize..]);
                int stateOffset = blockOffset + (i * _recordSize);
                int n = inPlace is null ? engine.ListActions(state, actions) : engine.ListActions(inPlace, blockArray, stateOffset, actions);
                if (n == 0 && engine._options.CheckDeadlock && DeadlockState < 0 && !_system.IsValidEnd(state))
                {
                    DeadlockState = source;
                }

                if (graph)
                {
                    RecordState(state, actions[..n], liveness);
                    EnsureEdges(edgeCount + n);
                }

                successors.Source = source;
                if (successors.Generate(_system, inPlace, state, hash, actions[..n], kinds, KindTransitions, table) != 0)
                {
                    successors.NoteViolations(ViolationSource, ViolationAction);
                }

                for (int a = 0; a < n; a++)
                {
                    TKey key = successors.Keys[a];
                    int found = table.Find(TScheme.Stored(key));
                    int target = found;
                    if (found == -2)
                    {
                        target = ~AddCandidate(key, source, a, successors.Kinds[a], state, a);
                    }

                    if (graph)
                    {
                        Edges[edgeCount++] = StateGraph.PackEdge(target, a, _classes[a]);
                    }
                }

                Transitions += n;
            }
        }

        private void Reset()
        {
            Transitions = 0;
            Array.Clear(KindTransitions);
            Array.Fill(ViolationSource, -1);
            DeadlockState = -1;
            CandidateCount = 0;
            StateCount = 0;
        }

        private void RecordState(ReadOnlySpan<byte> state, ReadOnlySpan<ulong> actions, int liveness)
        {
            if (StateCount == StateEnabled.Length)
            {
                int size = Math.Max(256, StateEnabled.Length * 2);
                StateEnabled = Resized(StateEnabled, size);
                StateFlags = Resized(StateFlags, size);
                StateEdges = Resized(StateEdges, size);
                Obligations = Resized(Obligations, size * liveness);
            }

            var (enabled, flags) = StateGraph.Summarize(_system, state, actions, _classes, Obligations.AsSpan(StateCount * liveness, liveness));

            StateEnabled[StateCount] = enabled;
            StateFlags[StateCount] = flags;
            StateEdges[StateCount] = actions.Length;
            StateCount++;
        }

        private void EnsureEdges(int size)
        {
            if (Edges.Length < size)
            {
                Edges = Resized(Edges, Math.Max(size, Edges.Length * 2));
            }
        }

        private int AddCandidate(TKey key, int source, int actionIndex, int kind, ReadOnlySpan<byte> parent, int successor)
        {
            int c = CandidateCount;
            if (c == CandidateKeys.Length)
            {
                int size = Math.Max(256, c * 2);
                CandidateKeys = Resized(CandidateKeys, size);
                CandidateSource = Resized(CandidateSource, size);
                CandidateAction = Resized(CandidateAction, size);
                CandidateKind = Resized(CandidateKind, size);
                CandidateStates = Resized(CandidateStates, size * _stateSize);
            }

            CandidateKeys[c] = key;
            CandidateSource[c] = source;
            CandidateAction[c] = (ushort)actionIndex;
            CandidateKind[c] = kind;
            _successors.Successors.Write(successor, parent, CandidateStates.AsSpan(c * _stateSize, _stateSize));
            CandidateCount = c + 1;
            return c;
        }

        private static T[] Resized<T>(T[] array, int size)
        {
            var copy = new T[size];
            array.AsSpan().CopyTo(copy);
            return copy;
        }
    }
}
