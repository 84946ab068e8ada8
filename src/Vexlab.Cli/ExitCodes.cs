namespace Vexlab.Cli;

/// <summary>The process exit codes every command uses.</summary>
public static class ExitCodes
{
    /// <summary>The command ran to the end, whatever its result says.</summary>
    public const int Done = 0;

    /// <summary>The command found what it looks for (a property violation).</summary>
    public const int Found = 1;

    /// <summary>Bad input or usage.</summary>
    public const int BadInput = 2;

    /// <summary>Stopped cleanly at a limit; the result is marked incomplete.</summary>
    public const int Limit = 3;

    /// <summary>Stopped by SIGINT (Ctrl-C) with the partial result: 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM with the partial result: 128 + 15.</summary>
    public const int Terminated = 143;

    /// <summary>Standard output could not be written: full, closed or failing (BSD sysexits EX_IOERR).</summary>
    public const int OutputFailed = 74;

    /// <summary>An internal error (BSD sysexits EX_SOFTWARE).</summary>
    public const int Internal = 70;
}
