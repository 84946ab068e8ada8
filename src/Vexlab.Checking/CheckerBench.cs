using Vexlab.Checking.Engine;

namespace Vexlab.Checking;

/// <summary>The checker's throughput on the built-in <c>bench</c> model, beside the bare fingerprint table.</summary>
public sealed record CheckerBenchResult(
    long States,
    long Transitions,
    double StatesPerSec,
    double TransitionsPerSec,
    double Branching,
    double BytesPerState,
    int Workers,
    double BaselineStatesPerSec,
    TimeSpan Elapsed);

public static class CheckerBench
{
    public static CheckerBenchResult Run(int workers, long maxStates = int.MaxValue - 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        var request = new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]);
        using var system = ModelCheck.BuildSystem(request);
        var result = Checker.Run(system, new CheckerOptions { Workers = workers, MaxStates = maxStates, CheckLiveness = false, CheckDeadlock = true });
        var seconds = Math.Max(1e-9, result.Elapsed.TotalSeconds);
        var baseline = CheckerBaseline.Run(Math.Max(1_000, Math.Min(result.States, 10_000_000)));
        return new CheckerBenchResult(
            result.States,
            result.Transitions,
            result.States / seconds,
            result.Transitions / seconds,
            result.States == 0 ? 0 : (double)result.Transitions / result.States,
            result.BytesPerState,
            workers,
            baseline.KeysPerSecond,
            result.Elapsed);
    }
}
