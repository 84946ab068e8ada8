using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// One fair-cycle search on several threads (trimming, coloring rounds, Tarjan on what is left) finds the
/// components one-thread Tarjan finds, so the accepted components, the pending components and the lasso are the
/// same for any number of workers: on the state graph of every built-in model under every protocol, and on
/// random graphs with self-loops, chains and nested cycles.
/// </summary>
public sealed class ParallelComponentsTests
{
    /// <summary>States explored per model: enough for cycles of every kind, few enough for seconds per model.</summary>
    private const int MaxStates = 20_000;

    public static TheoryData<string, string> ModelsAndProtocols() => WorkerDeterminismTests.ModelsAndProtocols();

    [Theory]
    [MemberData(nameof(ModelsAndProtocols))]
    public void Parallel_search_finds_the_components_of_tarjan_on_every_model(string model, string protocol)
    {
        using var system = ModelCheck.BuildSystem(CheckRequest.Of(model, protocol));
        (StateGraph graph, int states) = Explore(system, MaxStates);
        AssertSameSearch(graph, states, system.FairnessClasses, system.LivenessProperties.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Parallel_search_finds_the_components_of_tarjan_on_random_graphs(int seed)
    {
        var random = new Random(seed);
        const int states = 3_000;
        var graph = new StateGraph(1);
        Span<ulong> obligation = stackalloc ulong[1];
        for (int s = 0; s < states; s++)
        {
            // Mostly forward edges (chains and trees, which trimming removes), some back edges (cycles), self-loops.
            obligation[0] = random.Next(10) < 8 ? (ulong)random.Next(1, 4) : 0;
            byte flags = random.Next(20) == 0 ? (byte)0 : StateGraph.AliveFlag;
            graph.BeginState((ulong)random.Next(0, 8), flags, obligation);
            int edges = random.Next(0, 4);
            for (int e = 0; e < edges; e++)
            {
                int target = random.Next(10) switch
                {
                    0 => s,
                    < 3 => random.Next(Math.Max(0, s - 50), s + 1),
                    _ => Math.Min(states - 1, s + random.Next(1, 40)),
                };
                graph.Edges.Add(StateGraph.PackEdge(target, e, random.Next(-1, 3)));
            }
        }

        AssertSameSearch(graph, states, fairnessClasses: 3, properties: 1);
    }

    /// <summary>
    /// A check whose one liveness search has a single obligation bit (a's: b never touches the DAX page) and a
    /// restriction of about 190,000 states, above <see cref="LivenessChecker.DefaultParallelMinimum"/>: with 2 and
    /// 4 workers the search runs on several threads, and the result, lasso included, is one worker's.
    /// </summary>
    [Fact]
    public void Workers_do_not_change_a_check_whose_one_search_runs_in_parallel()
    {
        const string truncateBusy = """
            name: truncate-busy
            vcpus: 2
            pages: 2
            host_absent: [0, 1]
            dax: [0]
            bounds: {truncations: 1, ticks: 1, nmis: 1}
            knobs: {host.apf.ready_target: any, host.apf.token_id_bits: 2}
            tasks:
              - {name: a, mode: user, vcpu: 0, program: "touch 1; compute; touch 0"}
              - {name: b, mode: user, vcpu: 1, program: "compute; syscall; sysret; compute; syscall; sysret; compute"}
            """;
        var request = CheckRequest.ForFile(ModelFile.Parse(truncateBusy, "truncate-busy.yaml"), "kvm-pf", [], ["unrecoverable-terminates"]);
        CheckResult Run(int workers) => ModelCheck.Run(request, new CheckerOptions { Workers = workers, MaxMemoryBytes = 1L << 30 }).Result;

        CheckResult reference = Run(1);
        Violation lasso = Assert.Single(reference.Violations);
        Assert.True(lasso.LoopStart < lasso.Actions.Count, "a loop, not a dead end");
        using (var system = ModelCheck.BuildSystem(request))
        {
            Models.SymmetricLivenessTests.AssertRealFairLasso(system, lasso);
        }

        foreach (int workers in new[] { 2, 4 })
        {
            CheckResult other = Run(workers);
            CheckerTests.AssertSameResult(reference, other);
            Assert.Equal(lasso.ActionIndices, other.Violations[0].ActionIndices);
            Assert.Equal(lasso.LoopStart, other.Violations[0].LoopStart);
        }
    }

    private static void AssertSameSearch(StateGraph graph, int states, int fairnessClasses, int properties)
    {
        var reference = new LivenessChecker(graph, states, fairnessClasses, workers: 1);
        foreach (int workers in new[] { 2, 4 })
        {
            // Rounds of coloring before the rest goes to Tarjan: none (trimming, then Tarjan), one, and as many as needed.
            foreach (int rounds in new[] { 0, 1, 1000 })
            {
                var parallel = new LivenessChecker(graph, states, fairnessClasses, workers, parallelMinimum: 0, coloringRounds: rounds, parallelFrom: 2);
                for (int p = 0; p < properties; p++)
                {
                    ulong bits = 0;
                    for (int s = 0; s < states; s++)
                    {
                        bits |= graph.Obligation(s, p);
                    }

                    for (int bit = 0; bit < 64; bit++)
                    {
                        if ((bits & (1UL << bit)) != 0)
                        {
                            AssertSameComponents(reference.AcceptedComponents(p, 1UL << bit, judgeFairness: true), parallel.AcceptedComponents(p, 1UL << bit, judgeFairness: true));
                            AssertSameComponents(reference.AcceptedComponents(p, 1UL << bit, judgeFairness: false), parallel.AcceptedComponents(p, 1UL << bit, judgeFairness: false));
                        }
                    }

                    AssertSameComponents(reference.PendingComponents(p), parallel.PendingComponents(p));
                    Lasso? expected = reference.FindLasso(p);
                    Lasso? actual = parallel.FindLasso(p);
                    Assert.Equal(expected?.Entry, actual?.Entry);
                    Assert.Equal(expected?.Loop, actual?.Loop);
                }

                if (HasPending(graph, states, properties))
                {
                    Assert.True(parallel.ParallelSearches > 0, "the parallel decomposition did not run");
                }
            }
        }
    }

    private static bool HasPending(StateGraph graph, int states, int properties)
    {
        for (int s = 0; s < states; s++)
        {
            for (int p = 0; p < properties; p++)
            {
                if ((graph.Flags[s] & StateGraph.AliveFlag) != 0 && graph.Obligation(s, p) != 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void AssertSameComponents(List<(int Entry, int[] Members)> expected, List<(int Entry, int[] Members)> actual)
    {
        Assert.Equal(expected.Select(c => c.Entry), actual.Select(c => c.Entry));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Members, actual[i].Members);
        }
    }

    /// <summary>The state graph of <paramref name="system"/> breadth-first, as the checker stores it, up to <paramref name="maxStates"/> states (edges to states beyond are left out).</summary>
    internal static (StateGraph Graph, int States) Explore(ITransitionSystem system, int maxStates)
    {
        int properties = system.LivenessProperties.Count;
        var graph = new StateGraph(properties);
        var ids = new Dictionary<string, int>();
        var queue = new List<byte[]>();
        var initial = new byte[system.StateSize];
        system.WriteInitialState(initial);
        ids[Convert.ToBase64String(initial)] = 0;
        queue.Add(initial);
        var actions = new ulong[Math.Max(1, system.MaxActions)];
        var obligations = new ulong[Math.Max(1, properties)];
        var classes = new int[actions.Length];
        for (int id = 0; id < queue.Count; id++)
        {
            byte[] state = queue[id];
            int n = system.ListActions(state, actions);
            var (enabled, flags) = StateGraph.Summarize(system, state, actions.AsSpan(0, n), classes, obligations.AsSpan(0, properties));
            graph.BeginState(enabled, flags, obligations);
            for (int a = 0; a < n; a++)
            {
                var next = new byte[system.StateSize];
                system.Apply(state, actions[a], next);
                string key = Convert.ToBase64String(next);
                if (!ids.TryGetValue(key, out int target))
                {
                    if (queue.Count >= maxStates)
                    {
                        continue;
                    }

                    target = queue.Count;
                    ids[key] = target;
                    queue.Add(next);
                }

                graph.Edges.Add(StateGraph.PackEdge(target, a, system.FairnessClass(actions[a])));
            }
        }

        return (graph, queue.Count);
    }
}
