using BenchmarkDotNet.Attributes;
using Vexlab.Checking;
using Vexlab.Checking.Engine;
using Vexlab.Model.Machine;

namespace Vexlab.Benchmarks;

/// <summary>
/// The checker's hot paths on the built-in bench model, from a state a few steps into the run
/// (both vCPUs faulting, host work in flight). One op = one call.
/// </summary>
[MemoryDiagnoser]
public class CheckerBenchmarks
{
    private const int MidRunSteps = 6;

    private MachineSystem _system = null!;
    private Machine _machine = null!;
    private byte[] _state = null!;
    private byte[] _scratch = null!;
    private MachineAction[] _buffer = null!;
    private ulong[] _actions = null!;
    private ulong _action;

    [GlobalSetup]
    public void Setup()
    {
        _system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]));
        _machine = _system.CreateMachine();
        _state = new byte[_system.StateSize];
        _scratch = new byte[_system.StateSize];
        _buffer = new MachineAction[_system.MaxActions];
        _actions = new ulong[_system.MaxActions];
        _system.WriteInitialState(_state);

        // Walk a fixed path: always the last enabled action (the host side first), then the first.
        for (var i = 0; i < MidRunSteps; i++)
        {
            var n = _system.ListActions(_state, _actions);
            var pick = i % 2 == 0 ? n - 1 : 0;
            _system.Apply(_state, _actions[pick], _scratch);
            _scratch.CopyTo(_state, 0);
        }

        _system.ListActions(_state, _actions);
        _action = _actions[0];
        _machine.LoadState(_state);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Dispose();

    [Benchmark]
    public int MachineEnabledActions()
    {
        _machine.Attach(_state, 0);
        return _machine.EnabledActions(_buffer);
    }

    [Benchmark]
    public int MachineApply()
    {
        _state.CopyTo(_scratch, 0);
        _machine.Attach(_scratch, 0);
        var sink = default(NullSink);
        _machine.Apply(MachineAction.Unpack(_action), ref sink);
        return _scratch[0];
    }

    [Benchmark]
    public int SystemListActions() => _system.ListActions(_state, 0, _actions);

    [Benchmark]
    public ulong SystemApplySpan() => _system.Apply(_state, _action, _scratch);

    [Benchmark]
    public ulong SystemApplyInPlace() => _system.Apply(_state, 0, _action, _scratch, 0);

    private struct NullSink : IModelEventSink
    {
        public readonly void On(in ModelEvent e)
        {
        }
    }
}

/// <summary>
/// Fingerprint table inserts of fresh SplitMix64 keys into a table sized for them (no growth), wide (8-byte slots)
/// and compact (<c>check --compress compact</c>: 6-byte slots at this size, 60-bit keys). One op = one insert.
/// </summary>
public class FingerprintTableBenchmarks
{
    private const int Keys = 1 << 20;

    private ulong[] _keys = null!;

    [GlobalSetup]
    public void Setup() => _keys = CheckerBaseline.Keys(Keys);

    [Benchmark(OperationsPerInvoke = Keys, Baseline = true)]
    public long FingerprintInsert() => Insert(compact: false);

    [Benchmark(OperationsPerInvoke = Keys)]
    public long CompactFingerprintInsert() => Insert(compact: true);

    private long Insert(bool compact)
    {
        var table = new FingerprintTable<ulong, Fingerprint64>(22, trackIds: false, compact);
        var id = 0;
        foreach (var key in _keys)
        {
            if (table.AddOrGet(key, id) == id)
            {
                id++;
            }
        }

        return table.Count;
    }
}

/// <summary>
/// Lookups in a wide fingerprint table at 7/8 load (where it grows next), as a breadth-first search makes them: hits
/// on keys of the last eighth inserted (a level just written), which linear probing left at the ends of their
/// clusters; hits on keys of the first eighth; misses, keys never inserted. In a table that fits the caches
/// (2^16 slots) the walks are what is timed; in one the size of the bench check's (2^24 slots, 128 MiB) the
/// cache misses too. One op = one lookup.
/// </summary>
public class FingerprintLookupBenchmarks : IDisposable
{
    private const int Lookups = 1 << 12;

    private FingerprintTable<ulong, Fingerprint64> _table = null!;
    private ulong[] _oldest = null!;
    private ulong[] _recent = null!;
    private ulong[] _absent = null!;

    [Params(16, 24)]
    public int CapacityLog2 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _table = new FingerprintTable<ulong, Fingerprint64>(CapacityLog2, trackIds: false);
        int stored = (int)_table.GrowAt - 1;
        ulong[] keys = CheckerBaseline.Keys(stored + Lookups);
        for (int i = 0; i < stored; i++)
        {
            _table.AddOrGet(keys[i], i);
        }

        var random = new Random(1);
        int eighth = stored / 8;
        _oldest = Sample(keys.AsSpan(0, eighth), random);
        _recent = Sample(keys.AsSpan(stored - eighth, eighth), random);
        _absent = keys[stored..];
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _table?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public long OldestHits() => FindAll(_oldest);

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long RecentHits() => FindAll(_recent);

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long Misses() => FindAll(_absent);

    private static ulong[] Sample(ReadOnlySpan<ulong> keys, Random random)
    {
        var sample = new ulong[Lookups];
        for (int i = 0; i < Lookups; i++)
        {
            sample[i] = keys[random.Next(keys.Length)];
        }

        return sample;
    }

    private long FindAll(ulong[] keys)
    {
        long sum = 0;
        foreach (ulong key in keys)
        {
            sum += _table.Find(key);
        }

        return sum;
    }
}

/// <summary>
/// One growth of a full wide fingerprint table (7/8 of 2^22 slots; the bench check's table grows past 2^24 in 72 such
/// growths) by an eighth, in place, against inserting the same number of keys into a presized table: the
/// rehash's cost per key as a ratio to an insert. One op = one key. One invocation an iteration for both, so that they
/// share a job and the ratio is computed (the growth needs a freshly filled table each time).
/// </summary>
[InvocationCount(1)]
public class FingerprintGrowBenchmarks : IDisposable
{
    private const int Slots = 1 << 22;
    private const int Keys = Slots / 8 * 7;

    private ulong[] _keys = null!;
    private FingerprintTable<ulong, Fingerprint64>? _table;

    [GlobalSetup]
    public void Setup() => _keys = CheckerBaseline.Keys(Keys);

    [IterationSetup(Targets = [nameof(GrowByAnEighth), nameof(GrowByAnEighthOnTwoThreads)])]
    public void FillTable()
    {
        _table?.Dispose();
        _table = new FingerprintTable<ulong, Fingerprint64>(22, trackIds: false);
        var id = 0;
        foreach (var key in _keys)
        {
            _table.AddOrGet(key, id++);
        }
    }

    [Benchmark(OperationsPerInvoke = Keys, Baseline = true)]
    public long InsertPresized()
    {
        using var table = new FingerprintTable<ulong, Fingerprint64>(22, trackIds: false);
        var id = 0;
        foreach (var key in _keys)
        {
            table.AddOrGet(key, id++);
        }

        return table.Count;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public long GrowByAnEighth()
    {
        _table!.Grow();
        return _table.Capacity;
    }

    /// <summary>The same growth with two threads moving the keys (as a check with two workers grows its table).</summary>
    [Benchmark(OperationsPerInvoke = Keys)]
    public long GrowByAnEighthOnTwoThreads()
    {
        _table!.GrowthThreads = 2;
        _table.Grow();
        return _table.Capacity;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _table?.Dispose();
        _table = null;
        GC.SuppressFinalize(this);
    }
}
