namespace Vexlab.Cli.Tests;

/// <summary>
/// Every line the CLI writes to standard error to say what went wrong or what to do next starts with
/// <c>vexlab</c>, as the one-line input errors do, so that a script or a log reader finds them by one prefix.
/// The limit advice once started with <c>check:</c> and the partial swarm merge with <c>swarm merge:</c>.
/// </summary>
public sealed class ErrorLinePrefixTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vexlab-prefix-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("vexlab: stopped at --max-states; add --checkpoint DIR to keep the work for --resume", "check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--max-states", "5")]
    [InlineData("vexlab: stopped at --max-states; checkpoint in CP: run the same command with --resume CP and a larger --max-states to continue", "check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--max-states", "5", "--checkpoint", "CP")]
    [InlineData("vexlab: --max-states: must allow the initial state", "check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--max-states", "0")]
    public void Limit_lines_start_with_vexlab(string expected, params string[] args)
    {
        var cp = Path.Combine(_folder, "cp");
        var result = CliRunner.Run([.. args.Select(a => a == "CP" ? cp : a)]);
        Assert.Contains(expected.Replace("CP", cp, StringComparison.Ordinal), result.Stderr.Split('\n'));
        AssertEveryLineStartsWithVexlab(result.Stderr);
    }

    [Fact]
    public void A_partial_swarm_merge_says_so_in_a_vexlab_line()
    {
        var shard = Path.Combine(_folder, "shard1.json");
        Assert.Equal(3, CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "2", "--shard", "1/2", "--max-states", "200", "--json", shard).ExitCode);
        var merge = CliRunner.Run("check", "--swarm-merge", shard);
        Assert.Contains("vexlab: swarm merge: 1 of 2 members missing", merge.Stderr, StringComparison.Ordinal);
        AssertEveryLineStartsWithVexlab(merge.Stderr);
        var partial = CliRunner.Run("check", "--swarm-merge", shard, "--allow-partial");
        Assert.Contains("vexlab: swarm merge: partial: 1 of 2 members missing", partial.Stderr, StringComparison.Ordinal);
        AssertEveryLineStartsWithVexlab(partial.Stderr);
    }

    /// <summary>Standard error's lines, the replay and seed lines included, all start with "vexlab".</summary>
    private static void AssertEveryLineStartsWithVexlab(string stderr)
    {
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("vexlab", line, StringComparison.Ordinal);
        }
    }
}
