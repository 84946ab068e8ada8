namespace Vexlab.Scenarios.Files;

/// <summary>
/// Writing an output failed after it was opened (a full disk, /dev/full, a closed pipe). The CLI
/// prints <see cref="Exception.Message"/> as one line and exits 74 (EX_IOERR).
/// </summary>
public sealed class OutputFailedException : IOException
{
    public OutputFailedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public OutputFailedException(string message)
        : base(message)
    {
    }

    public OutputFailedException()
    {
    }
}
