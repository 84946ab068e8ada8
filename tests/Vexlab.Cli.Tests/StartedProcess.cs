using System.Diagnostics;
using System.Text;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A vexlab process whose standard error is read as it comes, so a test can wait until the tool
/// says something (it has then installed its signal handlers) before it sends a signal: a fixed
/// delay is too short on a loaded machine, and a signal before the handlers kills the process.
/// </summary>
public static class StartedProcess
{
    /// <summary>How to start vexlab (this build's) with <paramref name="args"/>, its standard output and error read by the test.</summary>
    public static ProcessStartInfo Info(IEnumerable<string> args) => Info(typeof(VexlabApp).Assembly.Location, args);

    /// <summary>As <see cref="Info(IEnumerable{string})"/>, for another program run by dotnet (<paramref name="dll"/>).</summary>
    public static ProcessStartInfo Info(string dll, IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>Sends <paramref name="signal"/> (INT, TERM, KILL) to <paramref name="process"/>, as kill(1) does.</summary>
    public static void Signal(Process process, string signal)
    {
        ArgumentNullException.ThrowIfNull(process);
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the first line on standard error; returns a task for the whole of it.</summary>
    public static Task<Func<string>> FirstErrorLine(Process process, TimeSpan timeout) => FirstErrorLine(process, _ => true, timeout);

    /// <summary>
    /// Waits for the first line on standard error that <paramref name="wanted"/> takes (a progress line, which a
    /// command writes once its work is under way); returns a task for the whole of it.
    /// </summary>
    public static async Task<Func<string>> FirstErrorLine(Process process, Func<string, bool> wanted, TimeSpan timeout)
    {
        var text = new StringBuilder();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                first.TrySetResult();
                return;
            }

            lock (text)
            {
                text.Append(e.Data).Append('\n');
            }

            if (wanted(e.Data))
            {
                first.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        await first.Task.WaitAsync(timeout);
        return () =>
        {
            process.WaitForExit();
            lock (text)
            {
                return text.ToString();
            }
        };
    }
}
