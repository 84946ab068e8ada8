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
