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
