namespace Vexlab.Cli.Tests;

/// <summary>Command-line mistakes are named in the tool's words, in one line, exit 2.</summary>
public sealed class UsageErrorTests
{
    [Theory]
    [InlineData(new[] { "run", "--frobnicate", "--protocol", "ve" }, "vexlab: unknown option \"--frobnicate\"\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--frob" }, "vexlab: unknown option \"--frob\"\n")]
    // After `--` a word that looks like an option is the FILE it names.
    [InlineData(new[] { "run", "--protocol", "ve", "--", "-x.yaml" }, "vexlab: -x.yaml: no such scenario file\n")]
    [InlineData(new[] { "explain", "bugs", "--nope" }, "vexlab explain bugs: unknown option \"--nope\" (see 'vexlab explain bugs --help')\n")]
    // An unknown option with a value, where FILE is free: the option is taken as FILE and its value is left over.
    [InlineData(new[] { "compare", "--builtin", "postcopy", "--vcpu", "1" }, "vexlab compare: unknown option \"--vcpu\" (see 'vexlab compare --help')\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--frob", "2", "3" }, "vexlab run: unknown option \"--frob\" (see 'vexlab run --help')\n")]
    [InlineData(new[] { "compare", "a.yaml", "b.yaml" }, "vexlab compare: unexpected argument \"b.yaml\" (see 'vexlab compare --help')\n")]
    [InlineData(new[] { "compare", "--", "-a.yaml", "3" }, "vexlab compare: unexpected argument \"3\" (see 'vexlab compare --help')\n")]
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

    // A FILE argument that is a built-in's name, as a new user types it, says which flag takes the name.
    [Theory]
    [InlineData(new[] { "run", "postcopy", "--protocol", "ve" }, "vexlab: postcopy: no such scenario file; for the built-in scenario write --builtin postcopy\n")]
    [InlineData(new[] { "compare", "far-memory" }, "vexlab: far-memory: no such scenario file; for the built-in scenario write --builtin far-memory\n")]
    [InlineData(new[] { "validate", "dax-truncate" }, "vexlab: dax-truncate: no such scenario file; for the built-in scenario write --builtin dax-truncate\n")]
    [InlineData(new[] { "check", "wake-race", "--protocol", "ve" }, "vexlab: wake-race: no such model file; for the built-in model write --builtin wake-race\n")]
    [InlineData(new[] { "sweep", "run", "latency" }, "vexlab: latency: no such sweep file; for the built-in sweep write --builtin latency\n")]
    [InlineData(new[] { "run", "postcopy.yaml", "--protocol", "ve" }, "vexlab: postcopy.yaml: no such scenario file\n")]
    [InlineData(new[] { "check", "latency", "--protocol", "ve" }, "vexlab: latency: no such model file\n")]
    public void A_builtin_name_given_as_a_file_names_the_builtin_flag(string[] args, string expected)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }
}
