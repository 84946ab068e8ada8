namespace Vexlab.Cli.Tests;

/// <summary>Command-line mistakes are named in the tool's words, in one line, exit 2.</summary>
public sealed class UsageErrorTests
{
    [Theory]
    [InlineData(new[] { "run", "--frobnicate", "--protocol", "ve" }, "vexlab: unknown option \"--frobnicate\"\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--frob" }, "vexlab: unknown option \"--frob\"\n")]
    [InlineData(new[] { "explain", "bugs", "--nope" }, "vexlab explain bugs: unknown option \"--nope\" (see 'vexlab explain bugs --help')\n")]
    public void Unknown_options_are_named_as_unknown_options(string[] args, string expected)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Stderr);
    }

    [Fact]
    public void A_value_that_does_not_parse_never_shows_a_type_name()
    {
        var result = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--seed", "abc");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vexlab run: --seed: expected a whole number, got \"abc\" (see 'vexlab run --help')\n", result.Stderr);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("1e308s")]
    [InlineData("-5s")]
    [InlineData("Infinity")]
    public void Time_limits_that_are_not_durations_are_refused(string value)
    {
        var result = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "ve", "--time-limit", value);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Control_characters_in_a_message_are_escaped()
    {
        var result = CliRunner.Run("run", "bad\u001b]0;title\u0007.yaml", "--protocol", "ve");
        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain('\u001b', result.Stderr);
        Assert.DoesNotContain('\u0007', result.Stderr);
        Assert.Contains("bad\\u001b]0;title\\u0007.yaml", result.Stderr, StringComparison.Ordinal);
    }
}
