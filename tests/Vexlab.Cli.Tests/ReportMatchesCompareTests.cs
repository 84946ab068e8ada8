using System.Net;
using System.Text.RegularExpressions;

namespace Vexlab.Cli.Tests;

/// <summary>
/// report's page names and orders the rows it shares with compare's table as the table does. It once said
/// "vCPU in guest (work)" and "vCPU idle (nothing to run)" where the table said "vCPU in guest" and "vCPU idle", and
/// listed exits in the order the entries first named them: sync's, then kvm-pf's HLT, then ve's VMCALL.
/// </summary>
public sealed partial class ReportMatchesCompareTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-labels-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void VcpuAndExitRows_HaveTheTablesLabels_InTheTablesOrder()
    {
        var json = Path.Combine(_dir, "c.json");
        var html = Path.Combine(_dir, "c.html");
        var compare = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "sync,kvm-pf,ve", "--duration", "20ms", "--json", json);
        Assert.Equal(0, compare.ExitCode);
        Assert.Equal(0, CliRunner.Run("report", json, "--out", html).ExitCode);

        // The table goes to stderr when JSON takes stdout; a file keeps stdout for it. Here the JSON went to a file.
        var table = compare.Stdout.Split('\n')
            .Where(l => l.StartsWith("│ ", StringComparison.Ordinal))
            .Select(l => l.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0])
            .ToList();
        var page = HeaderCell().Matches(File.ReadAllText(html)).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();

        static List<string> Shared(IEnumerable<string> rows) =>
            [.. rows.Select(r => r.EndsWith(" (%)", StringComparison.Ordinal) ? r[..^4] : r)
                .Where(r => r.StartsWith("vCPU ", StringComparison.Ordinal) || r.StartsWith("exits: ", StringComparison.Ordinal) || r.StartsWith("injected: ", StringComparison.Ordinal))];

        var fromTable = Shared(table);
        Assert.Contains("exits: HLT", fromTable);
        Assert.Contains("exits: VMCALL", fromTable);
        Assert.Contains("vCPU idle", fromTable);
        Assert.Equal(fromTable, Shared(page));
    }

    /// <summary>
    /// The page's per-task rows (processor share, waiting for a vCPU) hold the table's figures, protocol by protocol:
    /// the page once had only work done per task, so a protocol that starved one group showed nowhere but the table.
    /// </summary>
    [Fact]
    public void TaskShareAndWaitRows_HoldTheTablesFigures()
    {
        var json = Path.Combine(_dir, "t.json");
        var html = Path.Combine(_dir, "t.html");
        var compare = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", "20ms", "--json", json);
        Assert.Equal(0, compare.ExitCode);
        Assert.Equal(0, CliRunner.Run("report", json, "--out", html).ExitCode);
        var page = File.ReadAllText(html);

        var rows = compare.Stdout.Split('\n')
            .Where(l => l.StartsWith("│ cpu share: ", StringComparison.Ordinal) || l.StartsWith("│ waiting: ", StringComparison.Ordinal))
            .Select(l => l.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        Assert.Equal(6, rows.Count); // app, io and kworker, two rows each
        foreach (var cells in rows)
        {
            var share = cells[0].StartsWith("cpu share: ", StringComparison.Ordinal);
            var metric = share ? "task_share:" + cells[0]["cpu share: ".Length..] : "task_wait_ns:" + cells[0]["waiting: ".Length..];
            var row = Regex.Match(page, $"<tr data-metric=\"{Regex.Escape(metric)}\"><th>[^<]*</th>(.*?)</tr>");
            Assert.True(row.Success, $"no row {metric} in the page");
            var onPage = DataCell().Matches(row.Groups[1].Value).Select(m => m.Groups[1].Value).ToList();
            var inTable = cells.Skip(1).Select(c => share ? c.TrimEnd('%') : c.Replace(" ms", string.Empty, StringComparison.Ordinal)).ToList();
            Assert.Equal(inTable, onPage);
        }
    }

    [GeneratedRegex("<tr data-metric=\"[^\"]*\"><th>([^<]*)</th>")]
    private static partial Regex HeaderCell();

    [GeneratedRegex("<td class=\"n\">([^<]*)</td>")]
    private static partial Regex DataCell();
}
