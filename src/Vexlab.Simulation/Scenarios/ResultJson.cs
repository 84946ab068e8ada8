using System.Text.Json.Nodes;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Observation;

namespace Vexlab.Simulation.Scenarios;

/// <summary>The JSON result of one run (docs/output.md). Everything but <c>timing</c> is deterministic.</summary>
public static class ResultJson
{
    public static JsonObject Build(PreparedRun run, SimulationResult r, JsonObject? into = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(r);
        var doc = into ?? [];
        doc["scenario"] = run.Scenario;
        doc["scenario_hash"] = run.ScenarioHash;
        doc["protocol"] = run.Protocol;
        doc["variant"] = run.Variant;
        doc["seed"] = run.Setup.Seed;
        doc["replay"] = run.Replay;
        doc["simulated_ns"] = r.SimulatedNs;
        doc["events"] = r.Events;
        doc["digest"] = r.Digest;
        doc["work_done"] = r.WorkDone;
        var tasks = new JsonArray();
        foreach (var t in r.Tasks)
        {
            var task = new JsonObject
            {
                ["name"] = t.Name,
                ["count"] = t.Count,
                ["work_done"] = t.WorkDone,
                ["finished_ns"] = t.FinishedNs < 0 ? null : t.FinishedNs,
                ["signals"] = t.Signals,
                ["cpu_ns"] = t.CpuNs,
                ["wait_ns"] = t.WaitNs,
                ["migrations"] = t.Migrations,
                ["share"] = Math.Round(t.Share, 6),
            };
            if (t.Requests is { } requests)
            {
                var latency = requests.Latency;
                task["requests"] = new JsonObject
                {
                    ["arrived"] = requests.Arrived,
                    ["completed"] = requests.Completed,
                    ["dropped"] = requests.Dropped,
                    ["backlog"] = requests.Waiting,
                    ["latency_ns"] = Latency(latency, new JsonObject()),
                };
            }

            tasks.Add(task);
        }

        doc["guest"] = new JsonObject
        {
            ["outcome"] = SimulationResult.OutcomeName(r.Outcome),
            ["panic"] = r.Outcome == Model.Machine.GuestOutcome.Oops ? r.Panic.ToString() : null,
            ["tasks"] = tasks,
            ["error_returns"] = r.ErrorReturns,
        };
        if (r.PageCache is { } cache)
        {
            doc["guest"]!["page_cache"] = new JsonObject
            {
                ["hits"] = cache.Hits,
                ["misses"] = cache.Misses,
                ["hit_ratio"] = cache.Hits + cache.Misses == 0 ? 0 : Math.Round((double)cache.Hits / (cache.Hits + cache.Misses), 6),
                ["evictions"] = cache.Evictions,
            };
        }
        var signals = new JsonObject();
        foreach (var (k, v) in r.Signals)
        {
            signals[k] = v;
        }

        doc["signals"] = signals;
        doc["fault_latency_ns"] = Latency(r.FaultLatency, new JsonObject { ["count"] = r.FaultLatency.Count });
        doc["fault_latency_ns"]!["cdf"] = Cdf(r.FaultLatency);
        doc["vcpu_ns"] = VcpuNs(r);
        doc["exits"] = Counts(r.Counters.Exits.Snapshot());
        doc["injected"] = Counts(r.Counters.Injections.Snapshot());
        doc["host"] = new JsonObject
        {
            ["evictions"] = r.Evictions,
            ["async"] = Counts(r.Counters.Signals.Snapshot()),
        };
        if (r.Reclaim is { Limited: true } memory)
        {
            doc["host"]!["reclaim"] = new JsonObject
            {
                ["watermarks"] = new JsonObject { ["min"] = memory.MinWatermark, ["low"] = memory.LowWatermark, ["high"] = memory.HighWatermark },
                ["swap_ins"] = memory.SwapIns,
                ["readahead_pages"] = memory.ReadaheadPages,
                ["swap_outs"] = memory.SwapOuts,
                ["kswapd_wakeups"] = memory.KswapdWakeups,
                ["kswapd_reclaimed"] = memory.KswapdReclaimed,
                ["direct_reclaims"] = memory.DirectReclaims,
                ["direct_reclaimed"] = memory.DirectReclaimed,
                ["direct_reclaim_ns"] = memory.DirectReclaimNs,
            };
        }

        if (r.SwapDevice is { } device)
        {
            doc["host"]!["swap_device"] = new JsonObject
            {
                ["reads"] = device.Requests - device.Writes,
                ["writes"] = device.Writes,
                ["wait_mean_ns"] = Math.Round(device.MeanWaitNs, 1),
                ["wait_max_ns"] = device.MaxWaitNs,
                ["busy_ns"] = device.BusyNs,
            };
        }
        doc["timing"] = new JsonObject
        {
            ["wall_ns"] = r.WallNs,
            ["events_per_sec"] = r.WallNs > 0 ? Math.Round(r.Events * 1e9 / r.WallNs) : 0,
            ["simulated_per_wall"] = r.WallNs > 0 ? Math.Round((double)r.SimulatedNs / r.WallNs, 3) : 0,
        };
        return doc;
    }

    /// <summary>
    /// Where the vCPUs' time went, summed over them (<c>vcpu_ns</c>): the same fields in a run's result and a replay's,
    /// summing to vCPUs x <see cref="SimulationResult.SimulatedNs"/>.
    /// </summary>
    public static JsonObject VcpuNs(SimulationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var split = new JsonObject();
        foreach (var f in VcpuTimeFields.All)
        {
            split[f.Key] = f.Ns(r);
        }

        return split;
    }

    /// <summary>
    /// The percentiles <c>cdf</c> holds: dense in the tail, where the protocols differ (a fault that
    /// halts or stalls a vCPU shows at p99, not at p50).
    /// </summary>
    public static readonly double[] CdfPercentiles = [0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100];

    /// <summary>
    /// Adds <c>min</c>, <c>mean</c>, <c>p50</c>, <c>p99</c>, <c>p999</c> and <c>max</c> to <paramref name="o"/>:
    /// null for all of them when nothing was recorded, since a latency of an empty sample is not 0 (the
    /// recorder answers 0 there), and the count beside them says why.
    /// </summary>
    private static JsonObject Latency(LatencyRecorder latency, JsonObject o)
    {
        var any = latency.Count > 0;
        o["min"] = any ? latency.Min : null;
        o["mean"] = any ? Math.Round(latency.Mean, 1) : null;
        o["p50"] = any ? latency.P50 : null;
        o["p99"] = any ? latency.P99 : null;
        o["p999"] = any ? latency.P999 : null;
        o["max"] = any ? latency.Max : null;
        return o;
    }

    /// <summary>
    /// The fault-latency distribution as <c>[percentile, ns]</c> pairs at <see cref="CdfPercentiles"/>
    /// (0 is the exact min, 100 the exact max); empty when no fault completed.
    /// </summary>
    public static JsonArray Cdf(LatencyRecorder latency)
    {
        ArgumentNullException.ThrowIfNull(latency);
        var points = new JsonArray();
        if (latency.Count == 0)
        {
            return points;
        }

        foreach (var p in CdfPercentiles)
        {
            var ns = p switch
            {
                0 => latency.Min,
                100 => latency.Max,
                _ => latency.Percentile(p),
            };
            points.Add(new JsonArray(JsonValue.Create(p), JsonValue.Create(ns)));
        }

        return points;
    }

    /// <summary>Non-zero counts only, in table order.</summary>
    public static JsonObject Counts(IReadOnlyList<KeyValuePair<string, long>> counts)
    {
        var o = new JsonObject();
        foreach (var (k, v) in counts)
        {
            if (v != 0)
            {
                o[k] = v;
            }
        }

        return o;
    }

    /// <summary>Removes <c>timing</c>, for comparing runs.</summary>
    public static string WithoutTiming(JsonObject doc)
    {
        var copy = JsonNode.Parse(doc.ToJsonString())!.AsObject();
        copy.Remove("timing");
        return copy.ToJsonString();
    }

    internal static long Exit(SimulationResult r, ExitReason reason) => r.Counters.Exits[reason];
}
