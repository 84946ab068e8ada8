namespace Vexlab.Cli.Tests;

/// <summary>The conventions every command follows: exit codes, one-line errors, help and version.</summary>
public sealed class ConventionTests
{
    [Fact]
    public void Version_PrintsVersionAndExitsZero()
    {
        var result = CliRunner.Run("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.Stdout);
    }

    [Fact]
    public void Help_ListsCommandsAndExitsZero()
    {
        var result = CliRunner.Run("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("explain", result.Stdout);
    }

    [Theory]
    [InlineData("--no-such-option")]
    [InlineData("no-such-command")]
    [InlineData("explain", "--bogus")]
    public void UnknownInput_IsOneLineAndExitTwo(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }
}
