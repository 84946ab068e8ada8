namespace Vexlab.Cli.Tests;

/// <summary>
/// A bare --json takes the next word as its FILE: <c>sweep run --json mj.yaml</c> was told to "give a sweep file or
/// --builtin NAME", where validate says what happened. sweep run now gives --json's own refusal before it reads the sweep.
/// </summary>
public sealed class SweepJsonArgumentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-sweep-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_sweep_file_taken_by_json_is_refused_as_validate_refuses_it()
    {
        var sweep = Path.Combine(_dir, "mj.yaml");
        const string Text = "scenario: postcopy\nprotocols: [sync]\nseeds: 1\n";
        File.WriteAllText(sweep, Text);
        var validate = CliRunner.Run("validate", "--json", sweep);
        var run = CliRunner.RunFake("sweep", "run", "--json", sweep, "--db", Path.Combine(_dir, "x.duckdb"));
        Assert.Equal(2, validate.ExitCode);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("put --json after the command's arguments", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(validate.Stderr, run.Stderr);
        Assert.Equal(Text, File.ReadAllText(sweep));
        Assert.False(File.Exists(Path.Combine(_dir, "x.duckdb")));
    }
}
