namespace Vexlab.Checking.Engine;

/// <summary>A checkpoint cannot be read, is damaged, or was written for a different check.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException()
    {
    }

    public CheckpointException(string message)
        : base(message)
    {
    }

    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
