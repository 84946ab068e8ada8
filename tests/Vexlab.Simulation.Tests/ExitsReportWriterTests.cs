using System.Text.RegularExpressions;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests;

public class ExitsReportWriterTests
{
    [Fact]
    public void Table_HasPerfKvmStatShape()
    {
        var ept = new ExitTimes();
        for (var i = 0; i < 30; i++)
        {
            ept.Record(3_000 + (i * 100));
        }

        var hlt = new ExitTimes();
        for (var i = 0; i < 10; i++)
        {
            hlt.Record(50_000);
        }

        var text = ExitsReportWriter.Render([new ExitTimeRow("HLT", hlt), new ExitTimeRow("EPT_VIOLATION", ept)]);
        Assert.Contains("Analyze events for all VMs, all VCPUs:", text, StringComparison.Ordinal);
        var lines = text.Split('\n');
        var header = lines.Single(l => l.Contains("VM-EXIT", StringComparison.Ordinal));
        Assert.Matches(@"^\s+VM-EXIT\s+Samples\s+Samples%\s+Time%\s+Min Time\s+Max Time\s+Avg time", header);

        var row = new Regex(@"^\s+(?<name>[A-Z_]+)\s+(?<n>\d+)\s+(?<sp>\d+\.\d{2})%\s+(?<tp>\d+\.\d{2})%\s+(?<min>\d+\.\d{2})us\s+(?<max>\d+\.\d{2})us\s+(?<avg>\d+\.\d{2})us \( \+-\s+(?<rs>\d+\.\d{2})% \)$");
        var rows = lines.Select(l => row.Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("EPT_VIOLATION", rows[0].Groups["name"].Value); // sorted by samples
        Assert.Equal("30", rows[0].Groups["n"].Value);
        Assert.Equal("75.00", rows[0].Groups["sp"].Value);
        Assert.Equal("3.00", rows[0].Groups["min"].Value);
        Assert.Equal("5.90", rows[0].Groups["max"].Value);
        Assert.Equal("4.45", rows[0].Groups["avg"].Value);
        Assert.Equal("0.00", rows[1].Groups["rs"].Value); // constant HLT time
        Assert.Equal(40, rows[0].Groups["name"].Index + rows[0].Groups["name"].Length); // key column width
        Assert.Contains("Total Samples:40, Total events handled time:633.50us.", text, StringComparison.Ordinal);
    }
}
