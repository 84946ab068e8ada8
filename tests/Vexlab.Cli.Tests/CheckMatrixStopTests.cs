using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A matrix stopped before its verdicts says so: a cell a limit cut short says it is incomplete beside the
/// properties it found.
/// </summary>
public sealed class CheckMatrixStopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-matrix-stop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_cell_stopped_at_a_limit_says_incomplete_beside_the_properties_it_found()
    {
        // At 1,000 states the reenable/kvm-pf cell has found one-node-per-token of the two properties it breaks; it
        // read "one-node-per-token" as if that were its verdict.
        var file = Path.Combine(_dir, "m.json");
        var result = CliRunner.Run("check", "--matrix", "--protocols", "kvm-pf", "--max-states", "1000", "--markdown", "--json", file);
        Assert.Equal(3, result.ExitCode);
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
