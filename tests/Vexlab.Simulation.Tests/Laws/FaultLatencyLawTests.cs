using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tests.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A fault sample (fault_latency_ns) is a guest access the EPT did not map, from the access to its completion. Every
/// such fault costs the guest at least one VM exit (the EPT violation's) or one #VE delivery before the access can
/// complete, even where the host already has the page (a minor EPT fault: kvm_faultin_pfn's non-blocking lookup
/// finds it, or the async work brought it in and the dequeue has not mapped it yet).
/// </summary>
public sealed class FaultLatencyLawTests
{
    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void EveryFault_TakesAtLeastAnExitOrAVe(string builtin, string protocol)
    {
        var prepared = BuiltinRuns.Prepare(builtin, Overrides.ParseProtocols(protocol)[0], 1.0, "duration=20ms");
        var run = prepared with { Setup = prepared.Setup with { KeepFaultLatencies = true } };
        var result = ScenarioRunner.Run(run);
        var costs = run.Setup.Costs;
        var floor = Math.Min(costs[CostKey.VmExitEntry], costs[CostKey.VeDelivery]);

        // Assert.All passes on no samples: every sample recorded must be kept, and every built-in faults within 20 ms.
        Assert.Equal(result.FaultLatency.Count, result.FaultLatency.Samples.Count);
        Assert.True(result.FaultLatency.Count > 0, $"{builtin} under {protocol} completed no fault in 20 ms");
        Assert.All(result.FaultLatency.Samples, ns => Assert.True(ns >= floor, $"a fault completed in {ns} ns, under the {floor} ns of one exit or #VE"));
    }
}
