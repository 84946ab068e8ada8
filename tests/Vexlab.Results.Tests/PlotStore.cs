using System.Globalization;
using System.Text.Json.Nodes;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;

namespace Vexlab.Results.Tests;

/// <summary>
/// A store of <see cref="Support.SmallSweep"/> whose rows have the run JSON's full shape (a CDF,
/// the vCPU split, exits), with numbers made up from the point: latency grows with the axis, and
/// the <c>ve</c> entries stall the vCPU where <c>sync</c> does too.
/// </summary>
public static class PlotStore
{
    public static string Create(TempDir dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var db = dir.File("plots.duckdb");
        using var store = SweepStore.Open(db);
        store.Bind(Support.Small(), force: false);
        foreach (var run in SweepPlan.Runs(Support.Small()))
        {
            store.Write(RunRow.From(run, Json(run), "0.0.0"));
        }

        return db;
    }

    public static JsonObject Json(SweepRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var latencyUs = Convert.ToDouble(run.AxisColumns.First(c => c.Key == "latency").Value, CultureInfo.InvariantCulture);
        var factor = run.Protocol.Label switch { "sync" => 3.0, "ve" => 2.0, _ => 1.0 };
        var baseNs = (long)(latencyUs * 1000 * factor) + run.Seed;
        var cdf = new JsonArray();
        foreach (var p in new[] { 0.0, 10, 50, 90, 99, 99.9, 100 })
        {
            cdf.Add(new JsonArray(p, (long)(baseNs * (1 + (p * p / 500)))));
        }

        var guest = (long)(300_000_000 / factor);
        return new JsonObject
        {
            ["scenario"] = "postcopy",
            ["protocol"] = run.Protocol.Protocol,
            ["variant"] = run.Protocol.Label,
            ["seed"] = run.Seed,
            ["replay"] = $"vexlab run --builtin postcopy --protocol {run.Protocol.Label} --seed {run.Seed}",
            ["simulated_ns"] = 300_000_000,
            ["work_done"] = (long)(100_000 / factor),
            ["guest"] = new JsonObject { ["outcome"] = "running", ["error_returns"] = 0 },
            ["fault_latency_ns"] = new JsonObject { ["count"] = 100, ["min"] = baseNs, ["p50"] = baseNs * 6, ["p99"] = baseNs * 20, ["max"] = baseNs * 21, ["cdf"] = cdf },
            ["vcpu_ns"] = new JsonObject { ["guest"] = guest, ["host_stalled"] = 300_000_000 - guest, ["host_halted"] = 0, ["idle"] = 0 },
            ["exits"] = new JsonObject { ["EPT_VIOLATION"] = 100 },
        };
    }
}
