using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Simulation.Tests.Driver;

internal static class BuiltinRuns
{
    public static SimulationResult Run(string builtin, string protocolEntry, double costScale = 1.0, params string[] sets)
    {
        var entry = Overrides.ParseProtocols(protocolEntry)[0];
        var run = Prepare(builtin, entry, costScale, sets);
        return ScenarioRunner.Run(run);
    }

    public static PreparedRun Prepare(string builtin, ProtocolEntry entry, double costScale = 1.0, params string[] sets)
    {
        var costs = CostModel.Default.Scale(costScale);
        return ScenarioRunner.Prepare(Builtins.Load(builtin), "--builtin " + builtin, entry, Overrides.ParseSets(sets), [entry.Protocol], costs);
    }
}
