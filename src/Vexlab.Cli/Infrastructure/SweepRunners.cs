using Vexlab.Model.Configuration;
using Vexlab.Results.Sweeps;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Where <c>vexlab sweep run</c> gets the runner that simulates one run. The simulator fills
/// <see cref="Simulator"/> (a factory returning a <see cref="RunPoint"/> that resolves the run's
/// scenario, applies its overrides and protocol knobs, and returns the <c>vexlab run --json</c>
/// document); until then a sweep stops with "the simulator is not available". The environment
/// variable <c>VEXLAB_FAKE_RUNNER</c> (<c>fast</c>, <c>slow</c> or <c>cpu</c>) selects the
/// deterministic fake runner instead, for tests and for trying the sweep machinery.
/// </summary>
public static class SweepRunners
{
    public const string FakeVariable = "VEXLAB_FAKE_RUNNER";

    /// <summary>The real runner's factory: the timed simulator.</summary>
    public static Func<RunPoint>? Simulator { get; set; } = SimulatorSweepRunner.Create;

    /// <summary>The real runner's input check: resolves each run without simulating it.</summary>
    public static Func<CheckPoint>? SimulatorCheck { get; set; } = SimulatorSweepRunner.CreateCheck;

    /// <summary>
    /// The check a sweep runs over every point before it opens the store: the simulator's, or for
    /// the fake runner (which reads no scenario) the parse of each point's overrides.
    /// </summary>
    public static CheckPoint DefaultCheck
    {
        get
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(FakeVariable)) || SimulatorCheck is null)
            {
                return run => _ = run.AllOverrides;
            }

            return SimulatorCheck();
        }
    }

    /// <summary>The runner a sweep uses.</summary>
    /// <exception cref="InputException">Neither a fake runner nor the simulator is available.</exception>
    public static RunPoint Default
    {
        get
        {
            var fake = Environment.GetEnvironmentVariable(FakeVariable);
            if (!string.IsNullOrEmpty(fake))
            {
                var mode = FakeRunner.ParseMode(fake)
                    ?? throw InputException.At(null, 0, 0, FakeVariable, $"expected fast, slow or cpu, got \"{fake}\"");
                return FakeRunner.Create(mode);
            }

            var simulator = Simulator
                ?? throw new InputException("vexlab sweep run: the simulator is not available in this build; sweeps need the timed simulator (vexlab run)");
            return simulator();
        }
    }
}
