namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The <c>stop_reason</c> values every command's JSON shares for a result stopped before its end: a result says why
/// it is incomplete beside <c>"complete": false</c>, in one spelling wherever it stopped (run, compare, check).
/// </summary>
public static class StopReasons
{
    /// <summary>SIGINT (Ctrl-C): exit 130.</summary>
    public const string Interrupted = "interrupted";

    /// <summary>SIGTERM: exit 143.</summary>
    public const string Terminated = "terminated";

    /// <summary>--time-limit: exit 3.</summary>
    public const string TimeLimit = "time-limit";

    /// <summary>
    /// Why a simulator run stopped early: the signal that arrived, else the wall-clock limit (the only other thing that
    /// cancels its token); null for a run that reached its end.
    /// </summary>
    public static string? Of(bool stoppedEarly, Interruption interrupt)
    {
        ArgumentNullException.ThrowIfNull(interrupt);
        if (!stoppedEarly)
        {
            return null;
        }

        return !interrupt.Signalled ? TimeLimit : interrupt.ExitCode == ExitCodes.Terminated ? Terminated : Interrupted;
    }
}
