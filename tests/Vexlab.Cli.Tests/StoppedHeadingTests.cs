using System.Text.RegularExpressions;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A stopped run or compare says so on standard output, under the heading: which entry stopped, why, where, and
/// which entries never ran. The table used to read as a whole run with a column missing.
/// </summary>
public sealed partial class StoppedHeadingTests
{
    [Fact]
    public void A_stopped_compare_names_the_stop_and_the_entries_that_never_ran()
    {
        var result = CliRunner.Run("compare", "--builtin", "far-memory", "--duration", "1000s", "--protocols", "sync,kvm-pf,ve", "--time-limit", "1s");
        Assert.Equal(3, result.ExitCode);
        var line = result.Stdout.Split('\n')[1];
        Assert.Matches(Stopped("sync", "kvm-pf, ve"), line);
    }

    [Fact]
    public void A_stopped_run_says_it_stopped()
    {
        var result = CliRunner.Run("run", "--builtin", "far-memory", "--duration", "1000s", "--protocol", "sync", "--time-limit", "1s");
        Assert.Equal(3, result.ExitCode);
        Assert.Matches(Stopped("sync", null), result.Stdout.Split('\n')[1]);
    }

    [Fact]
    public void A_whole_run_has_no_such_line()
    {
        var result = CliRunner.Run("run", "--builtin", "far-memory", "--duration", "1ms", "--protocol", "sync");
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("stopped", result.Stdout, StringComparison.Ordinal);
    }

    private static Regex Stopped(string variant, string? neverRan) => new(
        "^stopped at --time-limit: " + Regex.Escape(variant) + @" at [\d,]+\.\d of 1,000,000\.0 ms simulated"
        + (neverRan is null ? string.Empty : "; never ran: " + Regex.Escape(neverRan)) + "$");
}
