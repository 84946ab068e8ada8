using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A matrix stopped before its verdicts says so: Ctrl-C or SIGTERM end it as they end a single check, with the cells
/// done so far, the stopped one and the cells never run (it used to exit 130 with nothing on standard output and no
/// --json file), and a cell a limit cut short says it is incomplete beside the properties it found.
/// </summary>
public sealed class CheckMatrixStopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-matrix-stop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("INT", 130, "interrupted")]
    [InlineData("TERM", 143, "terminated")]
    public async Task A_signal_ends_the_matrix_with_the_cells_done_the_stopped_one_and_the_rest_not_run(string signal, int exit, string reason)
    {
        // One worker makes the grid long enough for the signal to land in it; results do not depend on it. SIGINT
        // writes the JSON to a file beside the Markdown table, SIGTERM to standard output (the table then on stderr).
        var file = Path.Combine(_dir, "m.json");
        string[] args = signal == "INT"
            ? ["check", "--matrix", "--workers", "1", "--markdown", "--json", file]
            : ["check", "--matrix", "--workers", "1", "--json", "-"];
        var info = StartedProcess.Info(args);

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();

        // The matrix's replay line comes once the first cell runs, with the handlers installed.
        var stderr = await StartedProcess.FirstErrorLine(process, TimeSpan.FromMinutes(3));
        Assert.False(process.HasExited, "the matrix ended before the signal");
        StartedProcess.Signal(process, signal);

        Assert.True(process.WaitForExit(60_000));
        var error = stderr();
        var output = await stdout;
        Assert.True(process.ExitCode == exit, error);
        Assert.Single(error.Split('\n'), l => l.StartsWith("vexlab: check --matrix: stopped by SIG" + signal + " in ", StringComparison.Ordinal));

        var doc = JsonNode.Parse(signal == "INT" ? File.ReadAllText(file) : output)!;
        Assert.False((bool)doc["complete"]!);
        Assert.Equal(reason, (string?)doc["stop_reason"]);

        // The cells that ran, then those never run, are the whole grid in the order it runs (models, then entries);
        // the last cell that ran is the one stopped, by the signal, and no other.
        var rows = doc["matrix"]!.AsArray();
        var notRun = doc["not_run"]!.AsArray();
        var models = JsonNode.Parse(CliRunner.Run("models", "list", "--json").Stdout)!["models"]!.AsArray()
            .Where(m => (bool)m!["in_matrix"]!).Select(m => (string)m!["name"]!).ToList();
        string[] protocols = ["sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve"];
        var grid = models.SelectMany(m => protocols.Select(p => (m, p))).ToList();
        Assert.Equal(grid, [.. rows.Concat(notRun).Select(c => ((string)c!["model"]!, (string)c["protocol"]!))]);
        Assert.NotEmpty(notRun);
        Assert.Equal(reason, (string?)rows[^1]!["stop_reason"]);
        Assert.False((bool)rows[^1]!["complete"]!);
        Assert.All(rows.Take(rows.Count - 1), c => Assert.NotEqual(reason, (string?)c!["stop_reason"]));

        // The table is printed for what ran: its heading names the stop, and each cell never run says so.
        var human = signal == "INT" ? output : error;
        Assert.Contains($"stopped by SIG{signal}: {rows[^1]!["model"]} under {rows[^1]!["protocol"]} at ", human, StringComparison.Ordinal);
        if (signal == "INT")
        {
            var cells = human.Split('\n').Where(l => l.StartsWith('|')).Skip(2).SelectMany(l => l.Trim('|', ' ').Split(" | ").Skip(1)).ToList();
            Assert.Equal(grid.Count, cells.Count);
            Assert.Equal(notRun.Count, cells.Count(c => c == "not run"));
        }
    }

    [Fact]
    public void A_cell_stopped_at_a_limit_says_incomplete_beside_the_properties_it_found()
    {
        // At 1,000 states the reenable/kvm-pf cell has found one-node-per-token of the two properties it breaks; it
        // read "one-node-per-token" as if that were its verdict.
        var file = Path.Combine(_dir, "m.json");
        var result = CliRunner.Run("check", "--matrix", "--protocols", "kvm-pf", "--max-states", "1000", "--markdown", "--json", file);

        // Cells found violations before the limit stopped others: exit 1, as a single check's found before its limit.
        Assert.Equal(1, result.ExitCode);
        var rows = JsonNode.Parse(File.ReadAllText(file))!["matrix"]!.AsArray();
        var shown = result.Stdout.Split('\n').Where(l => l.StartsWith('|')).Skip(2)
            .Select(l => l.Trim('|', ' ').Split(" | "))
            .ToDictionary(c => c[0], c => c[1]);
        foreach (var row in rows)
        {
            var violated = string.Join(", ", row!["violated"]!.AsArray().Select(v => (string)v!));
            var complete = (bool)row["complete"]!;
            var expected = (string)row["verdict"]! switch
            {
                "pass" => "pass",
                "violation" => violated + (complete ? string.Empty : " (incomplete)"),
                _ => "incomplete",
            };
            Assert.Equal(expected, shown[(string)row["model"]!]);
            Assert.Equal(complete, (string?)row["stop_reason"] is "exhausted" or "all-properties-decided");
        }

        Assert.Contains(rows, r => (string)r!["verdict"]! == "violation" && !(bool)r["complete"]!);
    }
}
