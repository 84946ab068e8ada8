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
    [InlineData("vexlab: --max-states: must be at least 1 to allow the initial state, got 0", "check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--max-states", "0")]
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

    /// <summary>
    /// A command line that does not parse is said as every other error is: it began with the command's path
    /// ("vexlab explain costs: unexpected argument"), which the help it points to still names.
    /// </summary>
    [Theory]
    [InlineData("vexlab: unexpected argument \"foo\" (see 'vexlab explain costs --help')", "explain", "costs", "foo")]
    [InlineData("vexlab: unknown option \"--bogus\" (see 'vexlab run --help')", "run", "--bogus")]
    [InlineData("vexlab: unknown command 'mrege'; did you mean merge? (expected one of run, merge) (see 'vexlab sweep --help')", "sweep", "mrege")]
    [InlineData("vexlab: unknown command 'chek'; did you mean check? (expected one of", "chek")]
    public void Usage_errors_start_with_vexlab(string expected, params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(expected, result.Stderr, StringComparison.Ordinal);
        AssertEveryLineStartsWithVexlab(result.Stderr);
    }

    /// <summary>A partial sweep merge says so as a partial swarm merge does; it began "vexlab sweep merge:".</summary>
    [Fact]
    public void A_partial_sweep_merge_says_so_in_a_vexlab_line()
    {
        var sweep = Path.Combine(_folder, "tiny.yaml");
        File.WriteAllText(sweep, "scenario: swap-overcommit\nset:\n  duration: 1ms\nprotocols: [sync]\naxes:\n  - {name: latency, key: host.latency, unit: us, values: [10, 100]}\n");
        var shard = Path.Combine(_folder, "a.duckdb");
        var run = CliRunner.Run("sweep", "run", sweep, "--db", shard, "--shard", "1/2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var merge = CliRunner.Run("sweep", "merge", Path.Combine(_folder, "m.duckdb"), shard, "--allow-partial");
        Assert.True(merge.ExitCode == 0, merge.Stderr);
        // How many runs a shard holds is up to the sharding; the other shard's are missing.
        Assert.Single(merge.Stderr.Split('\n'), l => l.StartsWith("vexlab: sweep merge: partial: ", StringComparison.Ordinal) && l.EndsWith(" of the sweep's 2 runs are missing (--allow-partial)", StringComparison.Ordinal));
        AssertEveryLineStartsWithVexlab(merge.Stderr);
    }

    /// <summary>Standard error's lines, the replay and seed lines included, all start with "vexlab: ".</summary>
    private static void AssertEveryLineStartsWithVexlab(string stderr)
    {
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("vexlab: ", line, StringComparison.Ordinal);
        }
    }
}
