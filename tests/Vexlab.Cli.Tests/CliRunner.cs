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
}
