using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary><c>check --symmetry</c> as people and scripts see it: the classes it found, the group's order, the fewer states.</summary>
public sealed class CheckSymmetryTests
{
    private static readonly string SameTasks = Path.Combine(RepositoryRoot.Path, "docs", "examples", "symtasks.yaml");

    [Fact]
    public void LikeTasksOnOneVcpuAreNamedAndCounted()
    {
        var plain = CliRunner.Run("check", SameTasks, "--protocol", "ve", "--property", "no-deadlock", "--json");
        var reduced = CliRunner.Run("check", SameTasks, "--protocol", "ve", "--property", "no-deadlock", "--symmetry", "--json");
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(0, reduced.ExitCode);
        var sym = JsonNode.Parse(reduced.Stdout)!["symmetry"]!;
        Assert.Equal("[[\"a\",\"b\",\"c\"]]", sym["task_classes"]!.ToJsonString());
        Assert.Empty(sym["vcpu_classes"]!.AsArray());
        Assert.Equal(6, sym["group_order"]!.GetValue<int>());
        Assert.Null(sym["unavailable"]);
        var states = JsonNode.Parse(plain.Stdout)!["states"]!.GetValue<long>();
        var fewer = JsonNode.Parse(reduced.Stdout)!["states"]!.GetValue<long>();
        Assert.True(fewer < states, $"{fewer} states with symmetry, {states} without");

        var text = CliRunner.Run("check", SameTasks, "--protocol", "ve", "--property", "no-deadlock", "--symmetry");
        Assert.Contains("symmetry: tasks {a,b,c} interchangeable (6 permutations)", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelWithNothingAlikeSaysWhy()
    {
        var r = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--property", "no-deadlock", "--symmetry");
        Assert.Contains("symmetry: none (no two vCPUs have identical configurations, and no two tasks of one vCPU the same program); every state stored", r.Stdout, StringComparison.Ordinal);
    }
}
