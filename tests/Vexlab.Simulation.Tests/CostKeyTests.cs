using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Simulation.Tests;

/// <summary>Every cost is a scenario key that --set and compare entries change.</summary>
public sealed class CostKeyTests
{
    public static TheoryData<string> Keys()
    {
        var data = new TheoryData<string>();
        foreach (var d in CostModel.Defaults)
        {
            data.Add(d.Key);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void EachCostKey_IsASettableScenarioKey(string key)
    {
        Assert.StartsWith("cost.", key, StringComparison.Ordinal);
        var entry = Overrides.ParseProtocols("sync[" + key + "=7777ns]")[0];
        var run = ScenarioRunner.Prepare(Builtins.Load("swap-overcommit"), "--builtin swap-overcommit", entry, [], [entry.Protocol]);
        Assert.True(CostModel.TryParseKey(key, out var id));
        Assert.Equal(7777, run.Setup.Costs[id]);
        var plain = ScenarioRunner.Prepare(Builtins.Load("swap-overcommit"), "--builtin swap-overcommit", Overrides.ParseProtocols("sync")[0], [], ["sync"]);
        Assert.Equal(CostModel.Default[id], plain.Setup.Costs[id]);
    }

    [Fact]
    public void ACostKey_OverridesAScaledModel()
    {
        var entry = Overrides.ParseProtocols("sync")[0];
        var run = ScenarioRunner.Prepare(Builtins.Load("swap-overcommit"), "--builtin swap-overcommit", entry,
            Overrides.ParseSets(["cost.context_switch=2us"]), [entry.Protocol], CostModel.Default.Scale(1.3));
        Assert.Equal(2_000, run.Setup.Costs.ContextSwitch);
        Assert.Equal((long)Math.Round(CostModel.Default.VmExitEntry * 1.3), run.Setup.Costs.VmExitEntry);
    }
}
