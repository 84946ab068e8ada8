namespace Vexlab.Fuzz;

/// <summary>How one input ended.</summary>
/// <param name="ExitCode">The exit code, or -1 when it did not end in time.</param>
/// <param name="Stderr">What it printed on standard error.</param>
/// <param name="Elapsed">Wall-clock time taken.</param>
public sealed record Outcome(int ExitCode, string Stderr, TimeSpan Elapsed)
{
    /// <summary>The longest one input may take: parsers and the bounded runs behind them finish in well under this.</summary>
    public static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The invariant: exit 0, 1, 2 or 3 (never 70, never a crash), no internal error, in bounded
    /// time, and every error line free of raw control characters.
    /// </summary>
    public bool Holds =>
        ExitCode is 0 or 1 or 2 or 3
        && !Stderr.Contains("internal error", StringComparison.Ordinal)
        && Elapsed < TimeBound
        && !Stderr.Any(c => char.IsControl(c) && c != '\n');

    public override string ToString() =>
        FormattableString.Invariant($"exit {ExitCode} in {Elapsed.TotalSeconds:F2} s: {Stderr.TrimEnd().Split('\n').LastOrDefault()}");
}
