namespace Vexlab.Scenarios.Values;

/// <summary>The outcome of parsing one scalar: a value, or a one-line error saying what was expected.</summary>
/// <typeparam name="T">The typed value.</typeparam>
/// <param name="Value">The parsed value; meaningless when <paramref name="Error"/> is set.</param>
/// <param name="Error">Null on success, otherwise what was expected and what was found.</param>
public readonly record struct ParseResult<T>(T Value, string? Error)
{
    /// <summary>True when the text parsed.</summary>
    public bool IsOk => Error is null;
}

/// <summary>Factories for <see cref="ParseResult{T}"/>.</summary>
public static class ParseResult
{
    public static ParseResult<T> Ok<T>(T value) => new(value, null);

    public static ParseResult<T> Fail<T>(string error) => new(default!, error);
}
