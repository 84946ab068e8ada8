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

    // A conflict that only one point makes in the base scenario (8MiB of memory under a 32MiB region) was said at the
    // scenario's key (builtin:swap-overcommit:16:11), a place that is right at every other point: it is said where the
    // sweep file writes the value, or the range that makes it, with the scenario's place after it.
    [Theory]
    [InlineData("values: [64MiB, 8MiB]", ":7:21: ", "mem=8MiB")]
    [InlineData("range: {from: 8, to: 64, step: 56}\n    unit: MiB", ":7:12: ", "mem=8")]
    public void A_point_that_fails_in_the_scenario_is_named_at_its_value_in_the_sweep_file(string values, string place, string point)
    {
        var sweep = Path.Combine(_dir, "c9.yaml");
        File.WriteAllText(sweep, $"scenario: swap-overcommit\nprotocols: [sync]\nseeds: 1\naxes:\n  - name: mem\n    key: guest.memory\n    {values}\n");
        foreach (var args in new[] { new[] { "validate", sweep }, ["sweep", "run", sweep, "--db", Path.Combine(_dir, "s.duckdb")] })
        {
            var result = CliRunner.RunFake(args);
            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith($"vexlab: {sweep}{place}regions[0].size: ", result.Stderr, StringComparison.Ordinal);
            Assert.EndsWith($"(at the sweep's point {point} under sync; in the scenario at builtin:swap-overcommit:16:11)\n", result.Stderr, StringComparison.Ordinal);
            Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
            Assert.False(File.Exists(Path.Combine(_dir, "s.duckdb")));
        }
    }
}
