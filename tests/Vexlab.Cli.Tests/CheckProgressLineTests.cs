using Vexlab.Checking.Engine;
using Vexlab.Cli.Commands;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>
/// check's progress line names spill only while the frontier's spill files hold bytes; docs/checking.md listed spill
/// among its fields as if always there.
/// </summary>
public sealed class CheckProgressLineTests
{
    [Theory]
    [InlineData(0L, "check: 5,792,915 states, depth 83, frontier 61,476, 579,156 states/s, 511 MiB, 10 s\n")]
    [InlineData(3L << 20, "check: 5,792,915 states, depth 83, frontier 61,476, 579,156 states/s, 511 MiB, spill 3 MiB, 10 s\n")]
    public void Spill_is_said_while_the_frontier_has_spilled(long spillBytes, string line)
    {
        var error = new StringWriter { NewLine = "\n" };
        var progress = new CheckCommand.Progress(new CliContext(TextWriter.Null, error, errorIsTerminal: false, color: false));
        progress.Report(new CheckProgress(5_792_915, 83, 61_476, 579_156, 511L << 20, TimeSpan.FromSeconds(10)) { SpillBytes = spillBytes });
        Assert.Equal(line, error.ToString());
    }
}
