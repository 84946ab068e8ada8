using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>
/// Long commands tell people they are alive (one progress line per interval when standard error is
/// a log) and stop cleanly on Ctrl-C with the partial result and exit 130.
/// </summary>
public sealed class ProgressAndSignalTests
{
    [Fact]
    public void Run_with_stderr_a_log_prints_progress_lines_and_never_redraws()
    {
        var (code, stdout, stderr) = RunLogged(TimeSpan.Zero, "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "2s", "--json");
        Assert.Equal(0, code);
        // A line every 2^20 events at most: a 2 s postcopy run has several million.
        var lines = stderr.Split('\n').Where(l => l.Contains("% of ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(@"^ve \[[#.]{20}\] +\d+\.\d% of 2 s simulated, \d+ s$", l));
        Assert.DoesNotContain('\r', stderr);
        Assert.NotNull(JsonNode.Parse(stdout));
    }

    [Fact]
    public void Sweep_with_stderr_a_log_prints_progress_lines()
    {
        var dir = Directory.CreateTempSubdirectory("vexlab-progress-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "s.yaml"), "name: s\nscenario: postcopy\nprotocols: [sync, ve]\nseeds: 2\naxes:\n  - name: latency\n    key: host.latency\n    unit: us\n    values: [1, 10]\n");
            var output = new StringWriter();
            var error = new StringWriter();
            var context = new CliContext(output, error, errorIsTerminal: false, color: false)
            {
                ProgressInterval = TimeSpan.Zero,
                SweepRunner = () => Vexlab.FakeSweep.FakeRunner.Create(),
            };
            Assert.Equal(0, VexlabApp.Run(["sweep", "run", Path.Combine(dir, "s.yaml"), "--db", Path.Combine(dir, "s.duckdb"), "--jobs", "1"], context));
            Assert.Contains("sweep s: 8/8 runs, ", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_line_redrawn_on_a_terminal_stays_within_its_width()
    {
        // A line that reaches the terminal's last column wraps, and each \r then redraws only its second row:
        // at 80 columns check's line (81 characters at a million states) left a trail of first rows.
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(output, error, errorIsTerminal: true, color: false) { ErrorTerminalWidth = 40 };
        var model = Path.Combine(RepositoryRoot.Path, "docs", "examples", "large.yaml");
        Assert.Equal(ExitCodes.Limit, VexlabApp.Run(["check", model, "--protocol", "kvm-pf-int", "--time-limit", "2s"], context));

        // The replay line comes first, on a line of its own; then the line redrawn in place.
        var lines = error.ToString().Split('\n');
        Assert.StartsWith("vexlab: replay: vexlab check ", lines[0], StringComparison.Ordinal);
        var redrawn = lines[1].Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(redrawn);
        Assert.All(redrawn, l => Assert.True(l.Replace("\u001b[K", string.Empty, StringComparison.Ordinal).Length < 40, l));
        Assert.StartsWith("check: ", redrawn[0], StringComparison.Ordinal);

        Assert.Equal("check: 1,234 states", new CliContext(output, error, true, false) { ErrorTerminalWidth = 20 }.FitToTerminal("check: 1,234 states, depth 5"));
        Assert.Equal("check: 1,234 states, depth 5", new CliContext(output, error, true, false) { Columns = "100" }.FitToTerminal("check: 1,234 states, depth 5"));
    }

    [Fact]
    public void Progress_lines_wait_for_the_interval()
    {
        var (code, _, stderr) = RunLogged(TimeSpan.FromHours(1), "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "100ms");
        Assert.Equal(0, code);
        Assert.DoesNotContain("% of ", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "--protocol", "ve")]
    [InlineData("compare", "--protocols", "sync,ve")]
    public async Task CtrlC_stops_a_run_with_the_partial_result_and_exit_130(params string[] command)
    {
        string[] args = [command[0], "--builtin", "postcopy", command[1], command[2], "--duration", "1h", "--json"];
        var info = StartedProcess.Info(args);

        using var process = Process.Start(info)!;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();

            // run's seed line, or compare's first progress line (10 s in): the handlers are installed.
            var stderr = await StartedProcess.FirstErrorLine(process, TimeSpan.FromMinutes(3));
            Assert.False(process.HasExited, "the run ended before Ctrl-C");
            StartedProcess.Signal(process, "INT");

            Assert.True(process.WaitForExit(60_000));
            var error = stderr();
            Assert.True(process.ExitCode == 130, error);
            Assert.Contains("stopped by SIGINT", error, StringComparison.Ordinal);
            var doc = JsonNode.Parse(await stdout)!;
            Assert.False((bool)doc["complete"]!);
            Assert.Null(doc["incomplete"]);
            Assert.Equal("interrupted", (string?)doc["stop_reason"]);
            var first = command[0] == "run" ? doc : doc["results"]![0]!;
            Assert.InRange((long)first["simulated_ns"]!, 1, 3_600_000_000_000 - 1);
            if (command[0] == "compare")
            {
                // Stopped in the first entry (sync): ve is not started after the signal.
                Assert.Single(doc["results"]!.AsArray());
                // One message of the stop, and the table's heading (on standard error beside --json) names ve as never run.
                Assert.Single(error.Split('\n'), l => l.StartsWith("vexlab: ", StringComparison.Ordinal) && l.Contains("stopped by SIGINT", StringComparison.Ordinal));
                Assert.Single(error.Split('\n'), l => l.StartsWith("stopped by SIGINT: sync at ", StringComparison.Ordinal) && l.EndsWith("; never ran: ve", StringComparison.Ordinal));
            }
        }
        finally
        {
            // A failed assertion must not leave an hour-long run behind.
            StopIfRunning(process);
        }
    }

    [Fact]
    public async Task CtrlC_stops_a_sweep_with_exit_130_keeping_every_finished_run_in_the_store()
    {
        var dir = Directory.CreateTempSubdirectory("vexlab-sweep-int-").FullName;
        Process? process = null;
        try
        {
            var db = Path.Combine(dir, "s.duckdb");
            var json = Path.Combine(dir, "s.json");
            var info = StartedProcess.Info(["sweep", "run", "--builtin", "latency", "--db", db, "--jobs", "1", "--json", json]);
            info.WorkingDirectory = dir;

            process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();

            // The first progress line (10 s in): runs have finished and the handlers are installed.
            var stderr = await StartedProcess.FirstErrorLine(process, TimeSpan.FromMinutes(3));
            Assert.False(process.HasExited, "the sweep ended before Ctrl-C");
            StartedProcess.Signal(process, "INT");

            Assert.True(process.WaitForExit(60_000));
            var error = stderr();
            Assert.True(process.ExitCode == 130, error);
            Assert.Contains("vexlab: sweep run: stopped by SIGINT; every finished run is in", error, StringComparison.Ordinal);
            Assert.Contains(" before SIGINT in ", await stdout, StringComparison.Ordinal);

            // The store holds the finished runs, and only them: a second run would do the rest.
            var query = CliRunner.Run("results", "query", db, "select count(*) as n from results", "--format", "csv");
            Assert.Equal(0, query.ExitCode);
            var done = int.Parse(query.Stdout.Split('\n')[1], CultureInfo.InvariantCulture);
            Assert.InRange(done, 1, 324);

            // The JSON is the partial result, said so as run's and check's are: it wrote none before.
            var doc = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
            Assert.False((bool)doc["complete"]!);
            Assert.Equal("interrupted", (string?)doc["stop_reason"]);
            Assert.True((long)doc["runs"]! > done, "every run finished before the stop");
            Assert.Equal(done, (long)doc["ran"]!);
        }
        finally
        {
            // A failed assertion must not leave the sweep running in the folder it is about to lose.
            StopIfRunning(process);
            process?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Kills <paramref name="process"/> and its children if a failed assertion left it running.</summary>
    private static void StopIfRunning(Process? process)
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    private static (int Code, string Stdout, string Stderr) RunLogged(TimeSpan interval, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(output, error, errorIsTerminal: false, color: false) { ProgressInterval = interval };
        var code = VexlabApp.Run(args, context);
        return (code, output.ToString(), error.ToString());
    }
}
