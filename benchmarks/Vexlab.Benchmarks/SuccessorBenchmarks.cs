using System.IO.Hashing;
using BenchmarkDotNet.Attributes;
using Vexlab.Checking;
using Vexlab.Checking.Engine;

namespace Vexlab.Benchmarks;

/// <summary>
/// Successor generation on the built-in bench model, over the states of a random walk from its initial state (each
/// state's every successor, as the search generates them, so that the branches meet as many different transitions
/// as in a check): the copying way (copy the state, step, hash the whole copy) against the engine's (step in place,
/// compare with the parent, update the fingerprint from the changed words, undo). Both copy each walk state into
/// one parent buffer first, as the search decodes each state into one. One op = one successor.
/// </summary>
[MemoryDiagnoser]
public class SuccessorBenchmarks
{
    private const int Successors = 4096;

    private MachineSystem _system = null!;
    private byte[][] _states = [];
    private ulong[][] _actions = [];
    private ulong[] _hashes = [];
    private byte[] _parent = null!;
    private byte[] _copy = null!;
    private SuccessorBuffer<ulong, Fingerprint64> _buffer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]));
        var states = new List<byte[]>();
        var actions = new List<ulong[]>();
        var total = 0;
        foreach (var (state, enabled, n) in BenchWalk.States(_system, seed: 1))
        {
            var taken = Math.Min(n, Successors - total);
            states.Add((byte[])state.Clone());
            actions.Add(enabled[..taken]);
            total += taken;
            if (total == Successors)
            {
                break;
            }
        }

        _states = [.. states];
        _actions = [.. actions];
        _hashes = [.. states.Select(x => Fingerprint64.Hash(x))];
        _parent = new byte[_system.StateSize];
        _copy = new byte[_system.StateSize];
        _buffer = new SuccessorBuffer<ulong, Fingerprint64>(_system.StateSize, _system.MaxActions);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Successors)]
    public ulong CopyStepAndHashWholeState()
    {
        ulong sink = 0;
        for (var s = 0; s < _states.Length; s++)
        {
            _states[s].CopyTo(_parent, 0);
            foreach (var action in _actions[s])
            {
                _system.Apply(_parent, 0, action, _copy, 0);
                sink ^= XxHash3.HashToUInt64(_copy);
            }
        }

        return sink;
    }

    [Benchmark(OperationsPerInvoke = Successors)]
    public ulong InPlaceStepAndUpdateFingerprint()
    {
        ulong sink = 0;
        for (var s = 0; s < _states.Length; s++)
        {
            _states[s].CopyTo(_parent, 0);
            _buffer.Load(_parent);
            foreach (var action in _actions[s])
            {
                _system.ApplyInPlace(_buffer.Buffer, 0, action);
                sink ^= _buffer.Finish(_parent, _hashes[s]);
            }
        }

        return sink;
    }
}

/// <summary>
/// Fingerprint of the bench model's state (about 800 bytes): whole state against an update of three words. One op =
/// one fingerprint. The update's words, positions and values are fields, so the JIT cannot fold the terms into
/// constants (with literal arguments it did, and the update measured under a nanosecond).
/// </summary>
public class FingerprintUpdateBenchmarks
{
    private byte[] _state = null!;
    private ulong _hash;
    private int[] _index = [3, 17, 40];
    private ulong[] _before = [];
    private ulong[] _after = [];

    [GlobalSetup]
    public void Setup()
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]));
        _state = new byte[system.StateSize];
        system.WriteInitialState(_state);
        _hash = Fingerprint64.Hash(_state);
        _before = [.. _index.Select(i => BitConverter.ToUInt64(_state, i * 8))];
        _after = [.. _before.Select((b, k) => b ^ (1UL << (8 * k)))];
    }

    [Benchmark(Baseline = true)]
    public ulong XxHash3WholeState() => XxHash3.HashToUInt64(_state);

    [Benchmark]
    public ulong WordSumWholeState() => Fingerprint64.Hash(_state);

    [Benchmark]
    public ulong WordSumUpdateThreeWords()
    {
        var h = Fingerprint64.Update(_hash, _index[0], _before[0], _after[0]);
        h = Fingerprint64.Update(h, _index[1], _before[1], _after[1]);
        return Fingerprint64.Update(h, _index[2], _before[2], _after[2]);
    }
}

/// <summary>
/// The fingerprint update over the words real transitions change: a random walk of the bench model from its initial
/// state, each step's every successor compared with its parent, and each changed word's index, old and new value
/// kept. The baseline is the term the fingerprints used before (a finalizer of the finalized word xored with the
/// position's key), the other the one they use now (<see cref="WordMix.Term"/>: one finalizer of the word xored with
/// the key). One op = one changed word (two terms).
/// </summary>
public class FingerprintTermBenchmarks
{
    private const ulong Golden = 0x9E3779B97F4A7C15;

    private const int ChangedWords = 1 << 16;

    private int[] _index = [];
    private ulong[] _before = [];
    private ulong[] _after = [];

    [GlobalSetup]
    public void Setup()
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]));
        var next = new byte[system.StateSize];
        var index = new List<int>();
        var before = new List<ulong>();
        var after = new List<ulong>();
        var words = system.StateSize / 8;
        foreach (var (state, actions, n) in BenchWalk.States(system, seed: 1))
        {
            if (index.Count >= ChangedWords)
            {
                break;
            }

            for (var a = 0; a < n; a++)
            {
                system.Apply(state, actions[a], next);
                for (var w = 0; w < words; w++)
                {
                    var old = BitConverter.ToUInt64(state, w * 8);
                    var now = BitConverter.ToUInt64(next, w * 8);
                    if (old != now)
                    {
                        index.Add(w);
                        before.Add(old);
                        after.Add(now);
                    }
                }
            }
        }

        _index = [.. index[..ChangedWords]];
        _before = [.. before[..ChangedWords]];
        _after = [.. after[..ChangedWords]];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ChangedWords)]
    public ulong FinalizerOfFinalizer()
    {
        ulong hash = 0;
        for (var k = 0; k < _index.Length; k++)
        {
            hash = hash - TwoMixes(_before[k], _index[k]) + TwoMixes(_after[k], _index[k]);
        }

        return hash;
    }

    [Benchmark(OperationsPerInvoke = ChangedWords)]
    public ulong OneFinalizer()
    {
        ulong hash = 0;
        for (var k = 0; k < _index.Length; k++)
        {
            hash = Fingerprint64.Update(hash, _index[k], _before[k], _after[k]);
        }

        return hash;
    }

    private static ulong TwoMixes(ulong word, int index) => WordMix.SplitMix(WordMix.SplitMix(word) ^ (Golden * (ulong)(index + 1)));
}
