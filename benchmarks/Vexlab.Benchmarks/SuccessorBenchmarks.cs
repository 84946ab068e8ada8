using System.IO.Hashing;
using BenchmarkDotNet.Attributes;
using Vexlab.Checking;
using Vexlab.Checking.Engine;

namespace Vexlab.Benchmarks;

/// <summary>
/// Successor generation on the built-in bench model, from a state a few steps into the run: the copying way (copy
/// the state, step, hash the whole copy) against the engine's (step in place, compare with the parent, update the
/// fingerprint from the changed words, undo). One op = one successor.
/// </summary>
[MemoryDiagnoser]
public class SuccessorBenchmarks
{
    private const int Successors = 64;

    private MachineSystem _system = null!;
    private byte[] _state = null!;
    private byte[] _copy = null!;
    private ulong[] _actions = null!;
    private int _count;
    private ulong _hash;
    private SuccessorBuffer<ulong, Fingerprint64> _buffer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]));
        _state = new byte[_system.StateSize];
        _copy = new byte[_system.StateSize];
        _actions = new ulong[_system.MaxActions];
        _system.WriteInitialState(_state);
        for (var i = 0; i < 6; i++)
        {
            var n = _system.ListActions(_state, _actions);
            _system.Apply(_state, _actions[i % 2 == 0 ? n - 1 : 0], _copy);
            _copy.CopyTo(_state, 0);
        }

        _count = _system.ListActions(_state, _actions);
        _hash = Fingerprint64.Hash(_state);
        _buffer = new SuccessorBuffer<ulong, Fingerprint64>(_system.StateSize, _system.MaxActions);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Successors)]
    public ulong CopyStepAndHashWholeState()
    {
        ulong sink = 0;
        for (var i = 0; i < Successors; i++)
        {
            _system.Apply(_state, 0, _actions[i % _count], _copy, 0);
            sink ^= XxHash3.HashToUInt64(_copy);
        }

        return sink;
    }

    [Benchmark(OperationsPerInvoke = Successors)]
    public ulong InPlaceStepAndUpdateFingerprint()
    {
        ulong sink = 0;
        for (var i = 0; i < Successors; i++)
        {
            if (i % _count == 0)
            {
                _buffer.Load(_state);
            }

            _system.ApplyInPlace(_buffer.Buffer, 0, _actions[i % _count]);
            sink ^= _buffer.Finish(_state, _hash);
        }

        return sink;
    }
}

/// <summary>Fingerprint of the bench model's state (about 800 bytes): whole state against an update of three words. One op = one fingerprint.</summary>
public class FingerprintUpdateBenchmarks
{
    private byte[] _state = null!;
    private ulong _hash;

    [GlobalSetup]
    public void Setup()
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]));
        _state = new byte[system.StateSize];
        system.WriteInitialState(_state);
        _hash = Fingerprint64.Hash(_state);
    }

    [Benchmark(Baseline = true)]
    public ulong XxHash3WholeState() => XxHash3.HashToUInt64(_state);

    [Benchmark]
    public ulong WordSumWholeState() => Fingerprint64.Hash(_state);

    [Benchmark]
    public ulong WordSumUpdateThreeWords()
    {
        var h = Fingerprint64.Update(_hash, 3, 0, 1);
        h = Fingerprint64.Update(h, 17, 0, 0x100);
        return Fingerprint64.Update(h, 40, 0, 0x10000);
    }
}
