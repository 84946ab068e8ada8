using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The host's fetches as a queue: a backing store of fixed latency gives every fault that latency
/// plus a constant of the protocol, Little's law holds for the host's I/O queue and for the guest's
/// outstanding faults, and every swap-in is a fetch that completed or is still in flight.
/// </summary>
public sealed class HostQueueLawTests
{
    public static TheoryData<string> Protocols => EveryProtocol.Names;

    /// <summary>
    /// One task touching host-absent pages from a store of fixed latency; no tick (the guest's or
    /// the host's: a host tick exit at a random phase would lengthen some faults by its cost), no host limit.
    /// </summary>
    private static string FixedStore(string latency) => $"""
        name: fixed-store
        duration: 60ms
        guest:
          tick: 0
        host:
          hz: 0
          backing: fix
        backings:
          - name: fix
            latency: fixed {latency}
        regions:
          - name: heap
            size: 16MiB
            absent: 1.0
        tasks:
          - name: mem
            loop: touch heap random
        """;

    /// <summary>Eight tasks on four vCPUs touching a 1 GiB region all on swap, two device slots, exponential service.</summary>
    private const string SharedDevice = """
        name: shared-device
        duration: 150ms
        guest:
          vcpus: 4
          memory: 1GiB
        host:
          backing: exp
          swap:
            queue_depth: 2
        backings:
          - name: exp
            latency: exponential mean=50us
        cost:
          host_swapin_overhead: 5us
        regions:
          - name: heap
            size: 1GiB
            absent: 1.0
        tasks:
          - name: mem
            count: 8
            loop: touch heap random; compute 20us
        """;

    [Theory]
    [MemberData(nameof(Protocols))]
    public void AFixedLatencyStore_GivesEveryFaultThatLatencyPlusAConstantOfTheProtocol(string protocol)
    {
        // With nothing else going on, a fault is the store's latency L plus the protocol's own
        // path (exits, injections, wakeups): the same for every fault and for every L, and at least
        // the host's swap-in overhead (5 us) above L.
        long? overhead = null;
        foreach (var (text, ns) in new[] { ("10us", 10_000L), ("100us", 100_000L), ("2ms", 2_000_000L) })
        {
            var r = ScenarioRuns.Run(FixedStore(text), protocol);
            var latency = r.FaultLatency;
            Assert.True(latency.Count >= 20, $"{protocol}, L={text}: {latency.Count} faults");
            Assert.Equal(latency.Min, latency.Max);
            Assert.True(latency.Min >= ns + 5_000, $"{protocol}, L={text}: fault {latency.Min} ns");
            overhead ??= latency.Min - ns;
            Assert.Equal(overhead, latency.Min - ns);
        }

        // The protocol's constant is microseconds, not a multiple of the store's latency.
        Assert.InRange(overhead!.Value, 5_000, 50_000);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void TheHostIoQueue_ObeysLittlesLaw(string protocol)
    {
        // L = lambda W for the host's fetches: the time-average of the device_queue_depth counter
        // against reads per ns times each read's time in the host (the swap-in overhead, the wait
        // for a device slot, the service).
        var (r, records) = Traced(SharedDevice, protocol);
        var device = r.SwapDevice!;
        var measured = TimeAverage(records, r.SimulatedNs, Simulator.DeviceQueueDepth);
        var lambda = (double)device.Requests / r.SimulatedNs;
        var w = 5_000 + device.MeanWaitNs + ((double)device.BusyNs / device.Requests);
        Assert.True(device.Requests > 2_000, $"{device.Requests} reads");
        Assert.True(device.MeanWaitNs > 0, "the device must queue");
        Assert.InRange(measured, lambda * w * 0.98, lambda * w * 1.02);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void OutstandingFaults_ObeyLittlesLaw(string protocol)
    {
        // L = lambda W for the guest's faults: the time-average number begun and not ended against
        // completed faults per ns times their mean latency (faults still open at the end make the
        // difference, a few of thousands).
        var (r, records) = Traced(SharedDevice, protocol);
        long area = 0, level = 0, last = 0;
        foreach (var rec in records.Where(x => x.Kind is TraceKind.FaultBegin or TraceKind.FaultEnd).OrderBy(x => x.TimeNs))
        {
            area += level * (rec.TimeNs - last);
            last = rec.TimeNs;
            level += rec.Kind == TraceKind.FaultBegin ? 1 : -1;
        }

        area += level * (r.SimulatedNs - last);
        var measured = (double)area / r.SimulatedNs;
        var little = (double)r.FaultLatency.Count / r.SimulatedNs * r.FaultLatency.Mean;
        Assert.True(r.FaultLatency.Count > 2_000);
        Assert.InRange(measured, little * 0.98, little * 1.02);
    }

    [Theory]
    [InlineData("swap-overcommit")]
    [InlineData("kernel-heavy")]
    [InlineData("far-memory")]
    [InlineData("postcopy")]
    public void EverySwapIn_IsAFetchThatCompletedOrIsInFlight(string builtin)
    {
        foreach (var protocol in ProtocolCatalog.Names)
        {
            var entry = Overrides.ParseProtocols(protocol)[0];
            var run = Driver.BuiltinRuns.Prepare(builtin, entry, 1.0, "duration=30ms", "host.memory_limit=2MiB");
            var trace = new RecordingSink();
            var r = ScenarioRunner.Run(run, trace);
            var fetched = trace.Records.Count(x => x.Kind == TraceKind.HostWork);
            var depth = trace.Records.LastOrDefault(x => x.Kind == TraceKind.Counter && x.Label == Simulator.DeviceQueueDepth).Value;
            var swapIns = r.Reclaim!.SwapIns;
            Assert.True(swapIns > 0, $"{builtin} {protocol}: no swap-ins");
            Assert.Equal(swapIns, fetched + depth);
            if (protocol == "sync")
            {
                // Synchronous: each swap-in is one EPT violation the host resolved before re-entry,
                // and each completed fault took at least one (more when the page was reclaimed
                // while its task was preempted before the retry).
                Assert.Equal(swapIns, r.Counters.Exits[ExitReason.EptViolation]);
                Assert.True(swapIns >= r.FaultLatency.Count, $"{builtin}: {swapIns} swap-ins, {r.FaultLatency.Count} faults");
            }
        }
    }

    private static (SimulationResult Result, List<TraceRecord> Records) Traced(string yaml, string protocol)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var document = ScenarioDocument.Parse(yaml, "law.yaml");
        var run = ScenarioRunner.Prepare(document, "law.yaml", entry, [], [entry.Protocol]);
        var trace = new RecordingSink();
        var r = ScenarioRunner.Run(run, trace);
        return (r, trace.Records);
    }

    /// <summary>The time-average of a counter over [0, end): each value holds until the next.</summary>
    private static double TimeAverage(List<TraceRecord> records, long end, string label)
    {
        long area = 0, value = 0, last = 0;
        foreach (var rec in records.Where(x => x.Kind == TraceKind.Counter && x.Label == label))
        {
            area += value * (rec.TimeNs - last);
            last = rec.TimeNs;
            value = rec.Value;
        }

        area += value * (end - last);
        return (double)area / end;
    }
}
