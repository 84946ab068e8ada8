using System.Text.RegularExpressions;
using Vexlab.Checking;
using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>
/// docs/model.md's "State" table gives the bytes of each region's record; they are the sizes the machine lays its
/// state array out with (<c>Machine.Layout</c>), so a field added to a record fails here until the table
/// says so.
/// </summary>
public sealed partial class StateLayoutDocsTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Fact]
    public void The_state_table_gives_each_records_size()
    {
        // The sleep table is the PV APF guest's (kvm-pf, kvm-pf-int), the wakeup ring the #VE design's: a layout of each.
        var apf = Layout("kvm-pf-int");
        var ve = Layout("ve");
        Assert.True(apf.SleepCapacity > 0 && ve.RingCapacity > 0 && apf.WorkCapacity > 0, "every region has records in one of them");
        var actual = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["globals"] = apf.VcpuOffset,
            ["VcpuState"] = (apf.TaskOffset - apf.VcpuOffset) / apf.Vcpus,
            ["TaskState"] = (apf.FrameOffset - apf.TaskOffset) / apf.Tasks,
            ["Frame"] = (apf.WorkOffset - apf.FrameOffset) / (apf.Tasks * apf.MaxDepth),
            ["WorkItem"] = (apf.SleepOffset - apf.WorkOffset) / apf.WorkCapacity,
            ["SleepNode"] = (apf.RingOffset - apf.SleepOffset) / apf.SleepCapacity,
            ["WakeRecord"] = (ve.PageOffset - ve.RingOffset) / (ve.Vcpus * ve.RingCapacity),
            ["PageState"] = (apf.Size - apf.PageOffset) / apf.Pages,
        };

        var documented = File.ReadLines(Path.Combine(Root, "docs", "model.md"))
            .Select(line => Row().Match(line))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups["region"].Value, m => int.Parse(m.Groups["bytes"].Value, System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);

        Assert.Equal(actual.OrderBy(p => p.Key, StringComparer.Ordinal), documented.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    private static Vexlab.Model.Machine.StateLayout Layout(string protocol)
    {
        using var system = ModelCheck.BuildSystem(CheckRequest.Of("wake-race", protocol));
        return system.CreateMachine().Layout;
    }

    [GeneratedRegex(@"^\| `?(?<region>[A-Za-z]+)`? \| [^|]+ \| (?<bytes>\d+) \|")]
    private static partial Regex Row();
}
