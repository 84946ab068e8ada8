using Vexlab.Cli.Commands;
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
        Assert.StartsWith($"check: --max-spill {text}: expected a size", e.Message, StringComparison.Ordinal);
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
        Assert.Equal(TimeSpan.FromTicks(nanoseconds / TimeSpan.NanosecondsPerTick), CheckCommand.ParseDuration(text, "--time-limit"));

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
        var e = Assert.Throws<InputException>(() => CheckCommand.ParseDuration(text, "--checkpoint-every"));
        Assert.StartsWith($"check: --checkpoint-every {text}: expected a duration from 1ns to a year", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_binary_unit_on_the_command_line_is_one_line_and_exit_0()
    {
        var ok = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--max-memory", "1GiB", "--time-limit", "500s");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        var bad = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--time-limit", "1d");
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("--time-limit 1d", bad.Stderr, StringComparison.Ordinal);
    }

    // Each count out of range is named with its value, not folded into one line listing every rule.
    [Theory]
    [InlineData("check: --workers must be from 1 to 1024, got 0", "--workers", "0")]
    [InlineData("check: --workers must be from 1 to 1024, got -3", "--workers", "-3")]
    [InlineData("check: --workers must be from 1 to 1024, got 1025", "--workers", "1025")]
    [InlineData("check: --workers must be from 1 to 1024, got 0", "--swarm", "--max-depth", "5", "--workers", "0")]
    [InlineData("check: --members must be at least 1, got 0", "--swarm", "--members", "0")]
    [InlineData("check: --swarm-member must be from 0 to 1 (members are numbered from 0 below --members 2), got 2", "--swarm", "--members", "2", "--swarm-member", "2")]
    [InlineData("check: --swarm-member must be from 0 to 15 (members are numbered from 0 below --members 16), got -1", "--swarm", "--swarm-member", "-1")]
    [InlineData("check: --max-depth must be at least 1 with --swarm, got 0", "--swarm", "--max-depth", "0")]
    [InlineData("check: --max-states must be at least 1 with --swarm, got 0", "--swarm", "--max-states", "0")]
    public void Counts_out_of_range_name_the_option_and_the_value(string message, params string[] extra)
    {
        var r = CliRunner.Run(["check", "--builtin", "wake-race", "--protocol", "ve", .. extra]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("vexlab: " + message, r.Stderr.TrimEnd('\n'));
        Assert.Equal(string.Empty, r.Stdout);
    }
}
