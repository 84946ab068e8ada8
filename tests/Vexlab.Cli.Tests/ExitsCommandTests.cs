using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

public class ExitsCommandTests
{
    [Fact]
    public void Exits_TableAndJson_AgreeAndReconcileWithVcpuTime()
    {
        var table = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "5ms", "--exits");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("Analyze events for all VMs, all VCPUs:", table.Stdout, StringComparison.Ordinal);
        // sync's exits are its faults' EPT violations, which stall until the page is back, and simple exits (the host
        // tick's, the guest's MSR writes, its preemption timer) of 1 us each: the stalls make the EPT violations nearly
        // all the time, and every other row is 1.00 us a sample.
        Assert.Matches(@"EPT_VIOLATION +\d+ +\d+\.\d\d% +99\.\d\d% ", table.Stdout);
        var others = table.Stdout.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^ +[A-Z_]+ +\d+ ") && !l.Contains("EPT_VIOLATION", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(others);
        Assert.All(others, l => Assert.Matches(@"^ +[A-Z_]+ +\d+ +\d+\.\d\d% +0\.\d\d% +1\.00us +1\.00us +1\.00us ", l));

        var json = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "5ms", "--exits", "--json");
        Assert.Equal(0, json.ExitCode);
        var doc = JsonNode.Parse(json.Stdout)!;
        var stats = doc["exit_stats"]!;
        var events = stats["events"]!.AsArray();
        Assert.Equal("EPT_VIOLATION", (string)events[0]!["reason"]!);
        var total = (long)stats["total_ns"]!;
        Assert.Equal(total, events.Sum(e => (long)e!["total_ns"]!));
        Assert.Contains($"Total Samples:{(long)stats["total_samples"]!}, Total events handled time:{total / 1000.0:F2}us.", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Exits_Vcpu_NarrowsToOneVcpu_AndRejectsUnknown()
    {
        var all = JsonNode.Parse(CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "5ms", "--exits", "--json").Stdout)!["exit_stats"]!;
        long sum = 0;
        for (var v = 0; v < 4; v++)
        {
            var r = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "5ms", "--exits", "--vcpu", v.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
            Assert.Equal(0, r.ExitCode);
            var one = JsonNode.Parse(r.Stdout)!["exit_stats"]!;
            Assert.Equal(v, (int)one["vcpu"]!);
            sum += (long)one["total_samples"]!;
        }

        Assert.Equal((long)all["total_samples"]!, sum);
        var bad = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "5ms", "--exits", "--vcpu", "9");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--vcpu", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Vcpu_without_exits_is_refused_rather_than_ignored()
    {
        var r = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "5ms", "--vcpu", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("vexlab: --vcpu goes with --exits: it selects the vCPU of the exits table\n", r.Stderr);
        Assert.Equal(string.Empty, r.Stdout);
    }
}
