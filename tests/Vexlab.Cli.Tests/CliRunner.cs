using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>Runs <c>vexlab</c> in process and captures both streams.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => Run(null, args);

    /// <summary>Runs with <paramref name="sweepRunner"/> as the sweep runner (the simulator when null).</summary>
    public static Result Run(Func<Vexlab.Results.Sweeps.RunPoint>? sweepRunner, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = sweepRunner is null
            ? new CliContext(output, error, errorIsTerminal: false, color: false)
            : new CliContext(output, error, errorIsTerminal: false, color: false) { SweepRunner = sweepRunner };

        var code = VexlabApp.Run(args, context);
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs with the fake sweep runner (numbers made up from the run's point and seed).</summary>
    public static Result RunFake(params string[] args) => Run(() => Vexlab.FakeSweep.FakeRunner.Create(), args);

    /// <summary>Runs <paramref name="action"/> with an environment variable set (or removed, for null).</summary>
    public static T WithEnvironment<T>(string name, string? value, Func<T> action)
    {
        lock (CliEnvironment.Gate)
        {
            var old = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
            try
            {
                return action();
            }
            finally
            {
                Environment.SetEnvironmentVariable(name, old);
            }
        }
    }
}

/// <summary>Environment changes for in-process runs; tests that touch it run one at a time.</summary>
public static class CliEnvironment
{
    public static readonly Lock Gate = new();
}
