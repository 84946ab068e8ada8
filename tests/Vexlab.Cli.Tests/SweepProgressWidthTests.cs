using System.Text.RegularExpressions;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>
/// The sweep's bar is one row on a narrow terminal (docs/output.md: one line cut to the terminal's width): at 40
/// columns Spectre dropped the bar and wrapped the rate a word per row, a block of six rows redrawn each time.
/// </summary>
public sealed partial class SweepProgressWidthTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-bar-width-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(40)]
    [InlineData(24)]
    [InlineData(120)]
    public void The_bar_is_one_row_within_the_width(int width)
    {
        File.WriteAllText(Path.Combine(_dir, "mini.yaml"), "name: mini-latency\nscenario: postcopy\nprotocols: [sync, ve]\nseeds: 3\n");
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(output, error, errorIsTerminal: true, color: false) { ErrorTerminalWidth = width, SweepRunner = () => Vexlab.FakeSweep.FakeRunner.Create() };
        Assert.Equal(0, VexlabApp.Run(["sweep", "run", Path.Combine(_dir, "mini.yaml"), "--db", Path.Combine(_dir, "s.duckdb"), "--jobs", "1"], context));

        // A redraw is "\r" and the row: each piece between line ends and returns is what one row shows.
        var rows = Escape().Replace(error.ToString(), string.Empty).Split(['\n', '\r']).ToList();
        Assert.Contains(rows, r => r.StartsWith("sweep mini-latency", StringComparison.Ordinal));
        foreach (var row in rows.Where(r => r.Length > 0 && !r.StartsWith("vexlab: ", StringComparison.Ordinal)))
        {
            Assert.True(row.Length < width, $"{row.Length} columns: {row}");
            if (row.Trim().Length > 0)
            {
                // Every row drawn is the whole line: it starts with the sweep's name.
                Assert.StartsWith("sweep mini", row, StringComparison.Ordinal);
            }
        }
    }

    [GeneratedRegex("\u001b\\[[0-9;?]*[A-Za-z]|\u001b[=>]")]
    private static partial Regex Escape();
}
