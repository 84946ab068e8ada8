namespace Vexlab.Cli.Tests;

/// <summary>
/// An axis's errors name the line at fault: an unknown key (<c>key: host.latencyy</c> on line 8) was reported at the
/// values line (<c>:9:14</c>); a bad value stays at the value.
/// </summary>
public sealed class SweepAxisPlaceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-axisplace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("host.latencyy", "[1us, 2us]", ":8:10: host.latencyy: unknown key; did you mean host.latency?")]
    [InlineData("tasks[0].cont", "[1, 2]", ":8:10: tasks[0].cont: unknown key in an element of tasks; did you mean tasks[0].count?")]
    [InlineData("tasks[9].count", "[1, 2]", ":8:10: tasks[9].count: index 9 is out of range")]
    [InlineData("host.latency", "[1us, bogus]", ":9:19: host.latency: expected a duration")]
    public void An_axis_error_names_the_line_at_fault(string key, string values, string expected)
    {
        var sweep = Path.Combine(_dir, "sw1.yaml");
        File.WriteAllText(sweep, $"scenario: swap-overcommit\nprotocols: [sync]\nseeds: 1\nset:\n  duration: 5ms\naxes:\n  - name: lat\n    key: {key}\n    values: {values}\n");
        var result = CliRunner.RunFake("sweep", "run", sweep, "--db", Path.Combine(_dir, "s.duckdb"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {sweep}{expected}", result.Stderr, StringComparison.Ordinal);
    }
}
