using System.Diagnostics;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A file past <c>ulimit -f</c> under SIGXFSZ's default action, as a shell leaves it: vexlab was killed by the signal
/// (a shell's status 153), said nothing and left its <c>.NAME.tmp-*</c> file. It handles the signal, so the write
/// fails with EFBIG and is one line and exit 74, its temp file removed.
/// </summary>
public sealed class FileSizeLimitSignalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-fsize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [BashFact]
    public void A_trace_past_the_limit_with_the_signal_not_ignored_is_one_line_and_exit_74()
    {
        // 200 blocks of 512 bytes: the trace of 20 ms is about 340 KB.
        var trace = Path.Combine(_dir, "t.json");
        var (code, stderr) = RunUnderLimit(200, null, "run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "20ms", "--trace", trace);
        Assert.True(code == 74, $"exit {code}: {stderr}");
        Assert.EndsWith($"vexlab: {trace}: cannot write the trace: File too large\n", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [BashFact]
    public void Standard_output_past_the_limit_is_one_line_and_exit_74()
    {
        // EFBIG on standard output ended as an unhandled exception (exit 134) once the signal no longer killed vexlab:
        // the internal-error path's own log, in the same limit, failed too.
        var (code, stderr) = RunUnderLimit(2, Path.Combine(_dir, "out.txt"), "explain", "rules");
        Assert.True(code == 74, $"exit {code}: {stderr}");
        Assert.Equal("vexlab: cannot write standard output: File too large\n", stderr);
    }

    /// <summary>
    /// Runs vexlab under bash with <c>ulimit -f <paramref name="blocks"/></c> and SIGXFSZ at its default action,
    /// standard output to <paramref name="stdout"/> where given. W^X off: the runtime's double-mapped code heap is a
    /// file that a limit this small refuses at start.
    /// </summary>
    private static (int Code, string Stderr) RunUnderLimit(int blocks, string? stdout, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        info.Environment["VEXLAB_STDOUT"] = stdout ?? "/dev/null";
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"trap - XFSZ; ulimit -f {blocks}; exec dotnet \"$0\" \"$@\" > \"$VEXLAB_STDOUT\"");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vexlab.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var run = Process.Start(info)!;
        var output = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEnd();
        run.WaitForExit();
        _ = output.Result;
        return (run.ExitCode, stderr);
    }
}

/// <summary>A fact that runs a command under bash; skipped, saying so, where bash is not installed.</summary>
internal sealed class BashFactAttribute : FactAttribute
{
    public BashFactAttribute()
    {
        var installed = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, "bash")));
        if (!installed)
        {
            Skip = "bash is not installed";
        }
    }
}
