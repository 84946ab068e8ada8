using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>Runs <c>vexlab</c> in process and captures both streams.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = VexlabApp.Run(args, new CliContext(output, error, errorIsTerminal: false, color: false));
        return new Result(code, output.ToString(), error.ToString());
    }

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
