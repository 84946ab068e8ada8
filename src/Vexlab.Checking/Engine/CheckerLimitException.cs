namespace Vexlab.Checking.Engine;

/// <summary>A search limit is too small to hold even the initial state, or is otherwise unusable.</summary>
public sealed class CheckerLimitException : ArgumentException
{
    public CheckerLimitException()
    {
    }

    public CheckerLimitException(string message)
        : base(message)
    {
    }

    public CheckerLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CheckerLimitException(string message, string paramName)
        : base(message, paramName)
    {
    }
}
