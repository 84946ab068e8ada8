using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>Runs a scenario given as YAML text under one protocol, with --set overrides.</summary>
internal static class ScenarioRuns
{
    public static SimulationResult Run(string yaml, string protocol, params string[] sets)
        => ScenarioRunner.Run(Prepare(yaml, protocol, sets));

    /// <summary>The scenario run under the protocol entry with the overrides, prepared as `vexlab run` prepares it.</summary>
    public static PreparedRun Prepare(string yaml, string protocol, string[] sets)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var document = ScenarioDocument.Parse(yaml, "law.yaml");
        return ScenarioRunner.Prepare(document, "law.yaml", entry, Overrides.ParseSets(sets), [entry.Protocol]);
    }

    /// <summary>As <see cref="Run"/>, keeping every trace record the run writes.</summary>
    public static (SimulationResult Result, Tracing.RecordingSink Trace) RunTraced(string yaml, string protocol, params string[] sets)
    {
        var sink = new Tracing.RecordingSink();
        return (ScenarioRunner.Run(Prepare(yaml, protocol, sets), sink), sink);
    }

    /// <summary>
    /// As <see cref="RunTraced"/> on shared pCPUs (host.pcpus below the vCPUs), with the pCPUs'
    /// tick grid the run drew from its seed: it ticks at <c>TickPhaseNs + k x TickNs</c>.
    /// </summary>
    public static (SimulationResult Result, Tracing.RecordingSink Trace, long TickNs, long TickPhaseNs) RunTracedOnSharedPcpus(
        string yaml, string protocol, params string[] sets)
    {
        var (result, sink, simulator) = RunTracedSimulator(yaml, protocol, sets);
        var pcpus = simulator.Pcpus ?? throw new InvalidOperationException("the run has a pCPU for each vCPU: no shared tick grid");
        return (result, sink, pcpus.TickNs, pcpus.TickPhaseNs);
    }

    /// <summary>As <see cref="RunTraced"/>, with the simulator that ran it (to read what it drew from the seed, such as its tick grid).</summary>
    public static (SimulationResult Result, Tracing.RecordingSink Trace, Simulator Simulator) RunTracedSimulator(
        string yaml, string protocol, params string[] sets)
    {
        var sink = new Tracing.RecordingSink();
        var simulator = new Simulator(Prepare(yaml, protocol, sets).Setup, sink);
        return (simulator.Run(), sink, simulator);
    }

    /// <summary>
    /// One vCPU whose only task faults on every touch (a one-page host limit), no guest tick: under
    /// kvm-halt the vCPU sits in KVM's artificial halt most of the time, and Poisson NMIs wake it (and arrive
    /// during wakes, under every protocol that halts).
    /// </summary>
    public const string NmiWakesHaltedVcpu = """
        name: nmi-wakes-halted
        duration: 100ms
        guest:
          tick: 0
          vcpus: 1
        host:
          memory_limit: 4KiB
        nmi:
          rate: 5000/s
        regions:
          - name: heap
            size: 64MiB
            absent: 1.0
        tasks:
          - name: mem
            loop: touch heap random
        """;

    /// <summary>One vCPU; a task that only computes and one that faults on every touch (a one-page host limit).</summary>
    public const string ComputeBesideFaulting = """
        name: compute-beside-faulting
        duration: 1s
        host:
          memory_limit: 4KiB
        regions:
          - name: heap
            size: 64MiB
            absent: 1.0
        tasks:
          - name: mem
            loop: touch heap random
          - name: cpu
            loop: compute 100
        """;

    /// <summary>One vCPU, two tasks that only compute.</summary>
    public static string TwoComputeTasks(int niceA, int niceB) => $"""
        name: two-compute
        duration: 1s
        tasks:
          - name: a
            nice: {niceA}
            loop: compute 10
          - name: b
            nice: {niceB}
            loop: compute 10
        """;

    /// <summary>
    /// One vCPU, no guest tick, one task that touches <paramref name="faults"/> host-absent pages in order
    /// and exits: every touch faults once, and under every protocol but sync each fault halts and wakes the vCPU once.
    /// </summary>
    public static string SequentialFaults(int faults, string duration) => $"""
        name: sequential-faults
        duration: {duration}
        guest:
          tick: 0
          vcpus: 1
          memory: 64MiB
        host:
          absent_at_start: 100%
        regions:
          - name: heap
            size: 64MiB
        tasks:
          - name: mem
            loop: touch heap sequential
            iterations: {faults}
        """;

    /// <summary>
    /// As <see cref="SequentialFaults"/> on two vCPUs, a task on each touching a region of its own: both can wait for a
    /// page at once, so one vCPU's wake and its next step can have the other's completion between them.
    /// </summary>
    public static string TwoVcpusSequentialFaults(int faults) => $$"""
        name: two-vcpus-sequential-faults
        duration: 1s
        guest:
          tick: 0
          vcpus: 2
          memory: 64MiB
        host:
          absent_at_start: 100%
        regions:
          - name: a
            size: 32MiB
          - name: b
            size: 32MiB
        tasks:
          - name: a
            loop: touch a sequential
            iterations: {{faults}}
          - name: b
            loop: touch b sequential
            iterations: {{faults}}
        """;

    /// <summary>
    /// Four vCPUs that never leave the guest on their own, and no host tick: the guest's ticks are the
    /// only exits, PREEMPTION_TIMER and the re-arm's MSR_WRITE (a law that wants the host's tick sets host.hz).
    /// </summary>
    /// <summary>Two vCPUs, each with one task that only computes, pinned there: both always runnable.</summary>
    public const string TwoBusyVcpus = """
        name: two-busy-vcpus
        duration: 100ms
        guest:
          vcpus: 2
        tasks:
          - name: a
            vcpu: 0
            loop: compute 10
          - name: b
            vcpu: 1
            loop: compute 10
        """;

    public const string FourBusyVcpus = """
        name: four-busy
        duration: 50ms
        host:
          hz: 0
        guest:
          vcpus: 4
        tasks:
          - name: cpu
            count: 4
            loop: compute 100
        """;
}
