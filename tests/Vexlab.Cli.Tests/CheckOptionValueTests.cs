using Vexlab.Cli.Commands;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;

namespace Vexlab.Cli.Tests;

/// <summary>
/// The check's size and duration options read the units scenario files use (4GiB, 500us), so that one value means
/// the same wherever it is typed, and keep the GNU-style bare K, M, G, T (binary) they always took.
/// </summary>
public sealed class CheckOptionValueTests
{
    [Theory]
    [InlineData("512M", 512L << 20)]
    [InlineData("4G", 4L << 30)]
    [InlineData("4g", 4L << 30)]
    [InlineData("2k", 2L << 10)]
    [InlineData("1T", 1L << 40)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("4096", 4096L)]
    [InlineData("4096B", 4096L)]
    [InlineData(" 1G ", 1L << 30)]
    public void Sizes(string text, long bytes) => Assert.Equal(bytes, CheckCommand.ParseSize(text, "--max-memory"));

    [Theory]
    [InlineData("8EiB")]
    [InlineData("4PiB0")]
    [InlineData("0")]
    [InlineData("0G")]
    [InlineData("-1G")]
    [InlineData("lots")]
    [InlineData("G")]
    [InlineData("1e308G")]
    [InlineData("NaN")]
    [InlineData("")]
    public void Bad_sizes_name_the_option_and_the_units(string text)
    {
        var e = Assert.Throws<InputException>(() => CheckCommand.ParseSize(text, "--max-spill"));
        Assert.StartsWith("--max-spill: expected a size", e.Message, StringComparison.Ordinal);
        Assert.EndsWith($", got \"{text}\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("GiB", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s", 30_000_000_000L)]
    [InlineData("5m", 300_000_000_000L)]
    [InlineData("2h", 7_200_000_000_000L)]
    [InlineData("2.5s", 2_500_000_000L)]
    [InlineData("100ms", 100_000_000L)]
    [InlineData("500us", 500_000L)]
    [InlineData("250ns", 200L)]
    [InlineData("1ns", 100L)]
    [InlineData("8760h", 31_536_000_000_000_000L)]
    public void Durations_to_the_tick(string text, long nanoseconds) =>
        Assert.Equal(TimeSpan.FromTicks(nanoseconds / TimeSpan.NanosecondsPerTick), DurationOption.Parse(text, "--time-limit"));

    [Theory]
    [InlineData("0s")]
    [InlineData("-5s")]
    [InlineData("1d")]
    [InlineData("8761h")]
    [InlineData("1e308s")]
    [InlineData("30")]
    [InlineData("soon")]
    public void Bad_durations_name_the_option_and_the_range(string text)
    {
        var e = Assert.Throws<InputException>(() => DurationOption.Parse(text, "--checkpoint-every"));
        Assert.Equal($"--checkpoint-every: expected a duration from 1ns to a year such as 30s or 5m (units ns, us, ms, s, m, h), got \"{text}\"", e.Message);
    }

    [Fact]
    public void A_binary_unit_on_the_command_line_is_one_line_and_exit_0()
    {
        var ok = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--max-memory", "1GiB", "--time-limit", "500s");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        var bad = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--time-limit", "1d");
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("vexlab: --time-limit: expected a duration", bad.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("got \"1d\"\n", bad.Stderr, StringComparison.Ordinal);
    }

    // Each count out of range is named with its value, not folded into one line listing every rule.
    [Theory]
    [InlineData("--workers: expected a whole number from 1 to 1024, got 0", "--workers", "0")]
    [InlineData("--workers: expected a whole number from 1 to 1024, got -3", "--workers", "-3")]
    [InlineData("--workers: expected a whole number from 1 to 1024, got 1025", "--workers", "1025")]
    [InlineData("--workers: expected a whole number from 1 to 1024, got 0", "--swarm", "--max-depth", "5", "--workers", "0")]
    [InlineData("--members: must be at least 1, got 0", "--swarm", "--members", "0")]
    [InlineData("--swarm-member: must be from 0 to 1 (members are numbered from 0 below --members 2), got 2", "--swarm", "--members", "2", "--swarm-member", "2")]
    [InlineData("--swarm-member: must be from 0 to 15 (members are numbered from 0 below --members 16), got -1", "--swarm", "--swarm-member", "-1")]
    [InlineData("--max-depth: must be at least 1 with --swarm, got 0", "--swarm", "--max-depth", "0")]
    [InlineData("--max-states: must be at least 1 with --swarm, got 0", "--swarm", "--max-states", "0")]
    [InlineData("--shard: shard 4/4 holds no member of --members 2 (members m with m % 4 == 3); use at most 2 shards", "--swarm", "--members", "2", "--shard", "4/4")]
    public void Counts_out_of_range_name_the_option_and_the_value(string message, params string[] extra)
    {
        var r = CliRunner.Run(["check", "--builtin", "wake-race", "--protocol", "ve", .. extra]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("vexlab: " + message, r.Stderr.TrimEnd('\n'));
        Assert.Equal(string.Empty, r.Stdout);
    }

    // As on every command, an option at fault leads the line ("--x: problem"), or the sentence names the options
    // that do not go together; no "check:" prefix that the other commands do not have.
    [Theory]
    [InlineData("--protocol is required: one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve", "check", "--builtin", "wake-race")]
    [InlineData("a model FILE or --builtin NAME is required (or --matrix); 'vexlab models list' lists the built-in models", "check", "--protocol", "ve")]
    [InlineData("--builtin: give a model FILE or --builtin NAME, not both", "check", "m.yaml", "--builtin", "wake-race", "--protocol", "ve")]
    [InlineData("--swarm goes without --symmetry, --checkpoint and --resume", "check", "--builtin", "wake-race", "--protocol", "ve", "--swarm", "--symmetry")]
    [InlineData("--symmetry checks one model; drop --matrix", "check", "--matrix", "--symmetry")]
    [InlineData("--protocols, --markdown and --transpose go with --matrix", "check", "--builtin", "wake-race", "--protocol", "ve", "--markdown")]
    [InlineData("--set: expected key=value such as host.apf.token_never_zero=false, got \"foo\"", "check", "--builtin", "wake-race", "--protocol", "ve", "--set", "foo")]
    [InlineData("--max-states: must be at least 1 to allow the initial state, got 0", "check", "--builtin", "wake-race", "--protocol", "ve", "--max-states", "0")]
    [InlineData("--max-states: must be at least 1 to allow the initial state, got -1", "check", "--builtin", "wake-race", "--protocol", "ve", "--max-states", "-1")]
    [InlineData("--resume: no such folder \"/nonexistent/cp\"", "check", "--builtin", "wake-race", "--protocol", "ve", "--resume", "/nonexistent/cp")]
    public void Refusals_lead_with_the_option(string message, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("vexlab: " + message + "\n", r.Stderr);
        Assert.Equal(string.Empty, r.Stdout);
    }
}
