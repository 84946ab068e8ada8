namespace Vexlab.Cli.Tests;

/// <summary>
/// A device takes any number of the outputs whose format is not read from the name; an output whose format is its
/// name's extension (--timeline, plot --out, report --out) refuses one, which has no extension. docs/output.md said
/// devices took every output, and --timeline /dev/null was refused.
/// </summary>
public sealed class DeviceOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-device-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Outputs_whose_format_is_not_their_name_take_dev_null_together()
    {
        var run = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "2ms", "--json", "/dev/null", "--trace", "/dev/null");
        Assert.True(run.ExitCode == 0, run.Stderr);

        var example = Path.Combine(RepositoryRoot.Path, "docs", "examples", "two-faults.yaml");
        var check = CliRunner.Run("check", example, "--protocol", "kvm-pf-int", "--property", "one-sleeper", "--json", "/dev/null", "--trace", "/dev/null");
        Assert.True(check.ExitCode == 1, check.Stderr);
    }

    [Theory]
    [InlineData("--timeline", "vexlab: --timeline: expected a .csv or .parquet file, got \"/dev/null\"\n", "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "2ms")]
    [InlineData("--out", "vexlab: --out: expected a .png or .svg file, got \"/dev/null\"\n", "plot")]
    [InlineData("--out", "vexlab: --out: expected an .html file, got \"/dev/null\"\n", "report")]
    public void Outputs_whose_format_is_their_name_refuse_a_device(string option, string message, params string[] args)
    {
        var result = Path.Combine(_dir, "r.json");
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "2ms", "--json", result).ExitCode);
        string[] input = args[0] == "run" ? [] : [result];
        var r = CliRunner.Run([.. args, .. input, option, "/dev/null"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(message, r.Stderr);
    }
}
