using System.Diagnostics;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>Runs the real <c>trace-cmd</c> (Debian package trace-cmd; ./test.sh installs it).</summary>
internal static class TraceCmd
{
    public static string? Path { get; } = Find();

    /// <summary><c>trace-cmd report</c> of a file; plugins off (-N) so every event prints with its format file's print fmt.</summary>
    public static string Report(string file, params string[] extra)
    {
        var psi = new ProcessStartInfo(Path ?? throw new InvalidOperationException("trace-cmd is not installed"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("report");
        foreach (var e in extra)
        {
            psi.ArgumentList.Add(e);
        }

        psi.ArgumentList.Add("-i");
        psi.ArgumentList.Add(file);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"trace-cmd report exited {p.ExitCode}: {stderr.Result}");
        }

        return stdout + stderr.Result;
    }

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, "trace-cmd");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact that needs trace-cmd; skipped, saying so, where it is not installed.</summary>
internal sealed class TraceCmdFactAttribute : FactAttribute
{
    public TraceCmdFactAttribute()
    {
        if (TraceCmd.Path is null)
        {
            Skip = "trace-cmd is not installed: ./test.sh installs it (apt-get install trace-cmd)";
        }
    }
}

/// <summary>A theory that needs trace-cmd; skipped, saying so, where it is not installed.</summary>
internal sealed class TraceCmdTheoryAttribute : TheoryAttribute
{
    public TraceCmdTheoryAttribute()
    {
        if (TraceCmd.Path is null)
        {
            Skip = "trace-cmd is not installed: ./test.sh installs it (apt-get install trace-cmd)";
        }
    }
}
