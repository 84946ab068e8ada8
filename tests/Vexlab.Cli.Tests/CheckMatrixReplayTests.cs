using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A replay line reproduces a result, not how it was shown: run's leaves out --trace and --timeline, check's --json,
/// --wide and --trace, and the matrix's its renderings, --markdown and --transpose.
/// </summary>
public sealed class CheckMatrixReplayTests
{
    [Fact]
    public void The_matrix_replay_line_reruns_the_grid_whatever_it_was_rendered_as()
    {
        var shown = CliRunner.Run("check", "--matrix", "--protocols", "kvm-pf", "--max-states", "1000", "--markdown", "--transpose", "--json");
        var doc = JsonNode.Parse(shown.Stdout)!;
        var replay = (string)doc["replay"]!;
        Assert.Equal("vexlab check --matrix --protocols kvm-pf --max-states 1000", replay);
        Assert.StartsWith("vexlab: replay: " + replay + "\n", shown.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        // The line reruns the same grid: every cell's verdict and properties, and the exit code.
        var rerun = CliRunner.Run([.. replay.Split(' ')[1..], "--json"]);
        Assert.Equal(shown.ExitCode, rerun.ExitCode);
        var rerunDoc = JsonNode.Parse(rerun.Stdout)!;
        Assert.Equal(replay, (string)rerunDoc["replay"]!);
        Assert.Equal(Cells(doc), Cells(rerunDoc));
    }

    private static List<string> Cells(JsonNode doc) =>
        [.. doc["matrix"]!.AsArray().Select(r => $"{r!["model"]} {r["protocol"]} {r["verdict"]} {r["violated"]!.ToJsonString()} {r["states"]}")];
}
