using Vexlab.Model.Configuration;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Commands;

/// <summary>
/// What <c>vexlab replay --set KEY=VALUE</c> takes. The counterexample's model sets the machine (vCPUs, tasks, pages)
/// and its steps say when every tick, NMI, entry and completion happens, so of the simulator's scenario keys only those
/// that time the steps apply: the costs (<c>cost.*</c>), the backing store whose sampled latency a completion waits
/// for (<c>host.backing</c>, <c>host.latency</c>), the swap device it queues on (<c>host.swap.queue_depth</c>,
/// <c>host.swap.bandwidth</c>) and the seed of those samples (<c>seed</c>). A protocol knob the
/// trace's protocol reads is applied on top of the trace's own, and the replay says where the changed model stops
/// following the steps (<c>diverged at step N</c>), as it would for a trace written before a change to the model.
/// </summary>
internal sealed class ReplaySettings
{
    /// <summary>
    /// The scenario keys a replay takes, besides the costs: what times a completion. The swap device's queue and
    /// bandwidth time every host fetch (HostMemory.SwapInLatency submits each read to it), a replay's too.
    /// </summary>
    private static readonly string[] s_hostKeys = ["host.backing", "host.latency", "host.swap.queue_depth", "host.swap.bandwidth", "seed"];

    /// <summary>
    /// Scenario keys a replay refuses with a reason of their own: the replayed run reads them only where the model
    /// gives it something a counterexample's model never has.
    /// </summary>
    private static readonly Dictionary<string, string> s_notRead = new(StringComparer.Ordinal)
    {
        // swap_cluster_readahead reads the slots around a page that host reclaim swapped out; HostMemory reads a
        // cluster only under a host memory limit, and a counterexample's model has none: each absent page is fetched alone.
        ["host.swap.page_cluster"] = "swap readahead reads the pages around one that host reclaim swapped out (under host.memory_limit), "
            + "and a replay has no host memory limit: each of the model's absent pages is fetched alone, whatever the cluster",
    };

    private ReplaySettings(IReadOnlyList<KeyValuePair<string, string>> given, IReadOnlyList<KeyValuePair<string, string>> knobs, CostModel costs, BackingStore backing, ulong seed,
        int swapQueueDepth, long swapBandwidth)
    {
        Given = given;
        Knobs = knobs;
        Costs = costs;
        Backing = backing;
        Seed = seed;
        SwapQueueDepth = swapQueueDepth;
        SwapBandwidthBytesPerSecond = swapBandwidth;
    }

    /// <summary>Every key given, in order, with its value as the replay used it (canonical text: <c>100us</c>, <c>false</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Given { get; }

    /// <summary>The protocol knobs given, for the model's build after the trace's own overrides.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Knobs { get; }

    public CostModel Costs { get; }

    /// <summary>The backing store of the model's absent pages (the replay's one store: the built-in models use store 0).</summary>
    public BackingStore Backing { get; }

    public ulong Seed { get; }

    /// <summary>Host fetches the device serves at once (<c>host.swap.queue_depth</c>; 0: no device queue).</summary>
    public int SwapQueueDepth { get; }

    /// <summary>The device's bytes per second (<c>host.swap.bandwidth</c>; 0: no transfer time).</summary>
    public long SwapBandwidthBytesPerSecond { get; }

    /// <summary>
    /// True for a scenario key <see cref="Parse"/> takes: a cost or a key that times a completion. Protocol knobs,
    /// which it also takes, are not scenario keys; check points people here only for the keys this says yes to.
    /// </summary>
    public static bool Takes(string key) =>
        CostModel.Defaults.Any(c => string.Equals(c.Key, key, StringComparison.Ordinal)) || Array.IndexOf(s_hostKeys, key) >= 0;

    /// <summary>The keys a replay takes, for messages: the knobs are named by the protocol, not listed.</summary>
    public static string Accepted => "cost.* (vexlab explain costs), " + string.Join(", ", s_hostKeys) + " and the protocol's knobs";

    /// <summary>
    /// Reads the <c>--set</c> values for a trace under <paramref name="protocol"/>: an unknown key, a scenario key the
    /// replay has no use for, a knob the protocol does not read, a bad value or a key given twice is one line naming
    /// the key (exit 2).
    /// </summary>
    public static ReplaySettings Parse(IReadOnlyList<string> texts, string protocol)
    {
        var sets = Overrides.ParseSets(texts);
        SimulationOptions.RequireOnce(sets);
        var simulator = new List<Override>();
        var knobs = new List<KeyValuePair<string, string>>();
        var replayKeys = CostModel.Defaults.Select(c => c.Key).Concat(s_hostKeys).ToList();
        foreach (var set in sets)
        {
            if (KnobCatalog.Find(set.Key) is not null)
            {
                KnobCatalog.RequireUsed(set.Key, [protocol], set.Origin);
                knobs.Add(new(set.Key, set.Value));
            }
            else if (replayKeys.Contains(set.Key, StringComparer.Ordinal))
            {
                simulator.Add(set);
            }
            else if (s_notRead.TryGetValue(set.Key, out var why))
            {
                throw InputException.At(set.Origin, 0, 0, set.Key, "a replay does not read this key: " + why);
            }
            else if ((set.ListKey is null && ScenarioSchema.Instance.TryGetKey(set.Key, out _)) || (set.ListKey is { } list && ScenarioSchema.Instance.TryGetList(list, out _)))
            {
                // guest.vcpus, duration, host.hz, tasks[0].count...: the model and the trace's steps decide them.
                throw InputException.At(set.Origin, 0, 0, set.Key,
                    "a scenario key that a replay does not take: the counterexample's model sets the machine and its steps say when each tick, NMI, entry and completion happens; replay takes " + Accepted);
            }
            else
            {
                throw InputException.At(set.Origin, 0, 0, set.Key,
                    "unknown key" + NearestName.Hint(set.Key, replayKeys.Concat(KnobCatalog.All.Select(k => k.Key))) + " (replay takes " + Accepted + ")");
            }
        }

        // Values are checked as run checks them (a duration's units, a range), and a knob's as check does.
        var settings = ScenarioSchema.Instance.Resolve(null, simulator);
        var canonicalKnobs = KnobSet.Create(protocol, knobs, Overrides.SetOption).Overrides;
        var backingName = settings.GetString("host.backing");
        if (Array.IndexOf(ScenarioSchema.BackingKinds, backingName) < 0)
        {
            throw InputException.At(Overrides.SetOption, 0, 0, "host.backing",
                $"unknown backing store '{backingName}'{NearestName.Hint(backingName, ScenarioSchema.BackingKinds)} (a replay takes a built-in: {string.Join(", ", ScenarioSchema.BackingKinds)})");
        }

        var backing = BackingStore.Create(backingName);
        var latency = settings.GetDuration("host.latency");
        var given = sets.Select(o => new KeyValuePair<string, string>(o.Key, KnobCatalog.Find(o.Key) is null ? settings[o.Key].Text : canonicalKnobs[o.Key])).ToList();
        return new ReplaySettings(
            given,
            knobs,
            ScenarioBuilder.CostsOf(settings),
            latency > 0 ? backing.WithMean(latency) : backing,
            (ulong)settings.GetInteger("seed"),
            (int)settings.GetInteger("host.swap.queue_depth"),
            settings.GetSize("host.swap.bandwidth"));
    }
}
