using System.Buffers.Binary;

namespace Vexlab.Checking.Engine;

/// <summary>
/// A synthetic transition system with a large reachable space: <c>counters</c> counters modulo <c>modulus</c>,
/// one action per counter (increment modulo). States are the counters as 32-bit words, padded to
/// <c>stateSize</c> bytes with a mixed word so the bytes are not trivially sparse. Reachable states: modulus^counters.
/// </summary>
public sealed class CounterSystem : ITransitionSystem, IActionKinds
{
    private static readonly string[] KindNames = ["increment"];
    private readonly int _counters;
    private readonly uint _modulus;

    public CounterSystem(int counters, int modulus, int stateSize = 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(counters, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(modulus, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(stateSize, counters * 4);
        _counters = counters;
        _modulus = (uint)modulus;
        StateSize = stateSize;
    }

    public int StateSize { get; }

    public int MaxActions => _counters;

    public IReadOnlyList<string> SafetyProperties => [];

    public IReadOnlyList<string> LivenessProperties => [];

    public int FairnessClasses => 0;

    public IReadOnlyList<string> ActionKindNames => KindNames;

    public long ReachableStates => (long)Math.Pow(_modulus, _counters);

    public void WriteInitialState(Span<byte> state) => state.Clear();

    public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
    {
        for (int i = 0; i < _counters; i++)
        {
            actions[i] = (ulong)i;
        }

        return _counters;
    }

    public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
    {
        state.CopyTo(next);
        int offset = (int)action * 4;
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(state[offset..]) + 1;
        BinaryPrimitives.WriteUInt32LittleEndian(next[offset..], value == _modulus ? 0 : value);
        if (StateSize >= (_counters * 4) + 4)
        {
            uint mix = 0;
            for (int i = 0; i < _counters; i++)
            {
                mix = (mix * 0x9E3779B1) ^ BinaryPrimitives.ReadUInt32LittleEndian(next[(i * 4)..]);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(next[(_counters * 4)..], mix);
        }

        return 0;
    }

    public ulong PendingObligations(ReadOnlySpan<byte> state, int property) => 0;

    public int FairnessClass(ulong action) => -1;

    public bool IsValidEnd(ReadOnlySpan<byte> state) => true;

    public bool IsAlive(ReadOnlySpan<byte> state) => true;

    public int ActionKind(ulong action) => 0;
}

/// <summary>Engine throughput on <see cref="CounterSystem"/>, with one and two workers, next to the table baseline.</summary>
public sealed record EngineBenchmarkResult(
    long States,
    long Transitions,
    double BytesPerState,
    TimeSpan OneWorker,
    TimeSpan TwoWorkers,
    double StatesPerSecondOneWorker,
    double StatesPerSecondTwoWorkers,
    BaselineResult Baseline);

public static class SyntheticBenchmark
{
    /// <summary>Runs the engine on modulus^counters states (default 56^4, about 9.8 M states of 16 bytes).</summary>
    public static EngineBenchmarkResult Run(int counters = 4, int modulus = 56, int stateSize = 16)
    {
        var system = new CounterSystem(counters, modulus, stateSize);
        CheckResult one = Checker.Run(system, new CheckerOptions { Workers = 1 });
        CheckResult two = Checker.Run(system, new CheckerOptions { Workers = 2 });
        if (one.States != two.States || one.Transitions != two.Transitions || one.States != system.ReachableStates)
        {
            throw new InvalidOperationException("Worker counts disagree or states are missing.");
        }

        BaselineResult baseline = CheckerBaseline.Run(one.States);
        return new EngineBenchmarkResult(
            one.States,
            one.Transitions,
            one.BytesPerState,
            one.Elapsed,
            two.Elapsed,
            one.States / one.Elapsed.TotalSeconds,
            two.States / two.Elapsed.TotalSeconds,
            baseline);
    }
}
