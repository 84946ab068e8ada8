using System.Diagnostics;
using System.IO.Hashing;
using BenchmarkDotNet.Attributes;
using Vexlab.Checking;
using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;

namespace Vexlab.Benchmarks;

/// <summary>
/// One fair-cycle search on a property with a single obligation bit (task a's: b never sleeps nor touches a
/// truncated page), so bit-level parallelism cannot split it, on the state graph of a model of millions of states,
/// with 1 worker (Tarjan) and the parallel search on 2 and 4, with and without coloring. One op = one <c>FindLasso</c>. <c>one-waiter</c> (no-lost-wakeup, which holds: a
/// restriction without cycles, decided by trimming) and <c>truncate-busy</c> (unrecoverable-terminates under
/// kvm-pf, violated: a's retry loop under every step of b, a core of cycles and states between them). The graph is
/// explored once, breadth-first, as the checker stores it. Besides BenchmarkDotNet's wall time, the cleanup prints
/// the process CPU time per op, which tells a second core's work from a machine that has none to give.
/// </summary>
public class LivenessSearchBenchmarks
{
    /// <summary>Two vCPUs: a faults on three host-absent pages, b computes and makes syscalls; one tick and one NMI anywhere.</summary>
    private const string OneWaiter = """
        name: one-waiter
        vcpus: 2
        pages: 3
        host_absent: [0, 1, 2]
        knobs: {host.apf.ready_target: any}
        bounds: {ticks: 1, nmis: 1}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0; touch 1; touch 2"}
          - {name: b, mode: user, vcpu: 1, program: "compute; syscall; sysret; compute; syscall; sysret; compute"}
        """;

    /// <summary>Two vCPUs: a touches a page, computes, then touches a DAX page that may be truncated; b as above; two ticks, one NMI.</summary>
    private const string TruncateBusy = """
        name: truncate-busy
        vcpus: 2
        pages: 2
        host_absent: [0, 1]
        dax: [0]
        bounds: {truncations: 1, ticks: 2, nmis: 1}
        knobs: {host.apf.ready_target: any, host.apf.token_id_bits: 2}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 1; compute; touch 0"}
          - {name: b, mode: user, vcpu: 1, program: "compute; syscall; sysret; compute; syscall; sysret; compute"}
        """;

    private StateGraph _graph = null!;
    private int _states;
    private int _fairnessClasses;
    private TimeSpan _cpu;
    private TimeSpan _cpuAtStart;
    private int _ops;

    [Params("one-waiter", "truncate-busy")]
    public string Model { get; set; } = "one-waiter";

    /// <summary>1: Tarjan, as the checker runs one search on one worker; more: the parallel search.</summary>
    [Params(1, 2, 4)]
    public int Workers { get; set; }

    /// <summary>Whether the parallel search colors what trimming leaves (the checker does from <see cref="LivenessChecker.ColoringWorkers"/> workers).</summary>
    [Params(false, true)]
    public bool Coloring { get; set; }

    /// <summary>Each model's graph, explored once for all the cases that search it.</summary>
    private static readonly Dictionary<string, (StateGraph Graph, int States, int FairnessClasses)> Explored = [];

    [GlobalSetup]
    public void Setup()
    {
        if (!Explored.TryGetValue(Model, out var explored))
        {
            var request = Model == "one-waiter"
                ? CheckRequest.ForFile(ModelFile.Parse(OneWaiter, "one-waiter.yaml"), "kvm-pf-int", [], ["no-lost-wakeup"])
                : CheckRequest.ForFile(ModelFile.Parse(TruncateBusy, "truncate-busy.yaml"), "kvm-pf", [], ["unrecoverable-terminates"]);
            using var system = ModelCheck.BuildSystem(request);
            (StateGraph graph, int states) = Explore(system);
            explored = (graph, states, system.FairnessClasses);
            Explored[Model] = explored;
        }

        (_graph, _states, _fairnessClasses) = explored;
        long restricted = 0;
        for (int s = 0; s < _states; s++)
        {
            restricted += (_graph.Flags[s] & StateGraph.AliveFlag) != 0 && _graph.Obligation(s, 0) != 0 ? 1 : 0;
        }

        Console.WriteLine($"// {Model}: {_states:N0} states, {_graph.Edges.Count:N0} edges, {restricted:N0} with the obligation pending");
    }

    [IterationSetup]
    public void StartClock() => _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;

    [IterationCleanup]
    public void StopClock()
    {
        _cpu += Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart;
        _ops++;
    }

    [GlobalCleanup]
    public void Report() => Console.WriteLine($"// {Model}, workers {Workers}, coloring {Coloring}: CPU time {_cpu.TotalSeconds / Math.Max(1, _ops):F2} s per op over {_ops} ops");

    [Benchmark]
    public int FindLasso() => new LivenessChecker(
        _graph, _states, _fairnessClasses, Workers, coloringRounds: Coloring ? LivenessChecker.DefaultColoringRounds : 0, parallelFrom: 2).FindLasso(0)?.Entry ?? -1;

    /// <summary>Breadth-first exploration into a state graph, level by level (only a level's states are held).</summary>
    private static (StateGraph Graph, int States) Explore(MachineSystem system)
    {
        int properties = system.LivenessProperties.Count;
        var graph = new StateGraph(properties);
        var ids = new Dictionary<UInt128, int>();
        var initial = new byte[system.StateSize];
        system.WriteInitialState(initial);
        ids[XxHash128.HashToUInt128(initial)] = 0;
        var level = new List<byte[]> { initial };
        var actions = new ulong[Math.Max(1, system.MaxActions)];
        var obligations = new ulong[Math.Max(1, properties)];
        var classes = new int[actions.Length];
        while (level.Count > 0)
        {
            var next = new List<byte[]>();
            foreach (byte[] state in level)
            {
                int n = system.ListActions(state, actions);
                var (enabled, flags) = StateGraph.Summarize(system, state, actions.AsSpan(0, n), classes, obligations.AsSpan(0, properties));
                graph.BeginState(enabled, flags, obligations);
                for (int a = 0; a < n; a++)
                {
                    var successor = new byte[system.StateSize];
                    system.Apply(state, actions[a], successor);
                    UInt128 key = XxHash128.HashToUInt128(successor);
                    if (!ids.TryGetValue(key, out int target))
                    {
                        target = ids.Count;
                        ids[key] = target;
                        next.Add(successor);
                    }

                    graph.Edges.Add(StateGraph.PackEdge(target, a, system.FairnessClass(actions[a])));
                }
            }

            level = next;
        }

        return (graph, ids.Count);
    }
}
