using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Model.Configuration;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios.Documents;

namespace Vexlab.Results.Store;

/// <summary>The rows one finished run adds: one in <c>results</c>, one per task in <c>tasks</c>.</summary>
public sealed class RunRow
{
    private RunRow(string runKey, List<KeyValuePair<string, object>> result, List<List<KeyValuePair<string, object>>> tasks)
    {
        RunKey = runKey;
        Result = result;
        Tasks = tasks;
    }

    public string RunKey { get; }

    /// <summary>
    /// The <c>results</c> row: column name and value (long, double, bool or string, or <see cref="DBNull"/> for a
    /// number with no value), in order.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object>> Result { get; }

    /// <summary>The <c>tasks</c> rows.</summary>
    public IReadOnlyList<IReadOnlyList<KeyValuePair<string, object>>> Tasks { get; }

    /// <summary>
    /// Flattens a run's JSON with <c>_</c> between levels (<c>fault_latency_ns_p99</c>,
    /// <c>exits_EPT_VIOLATION</c>); <c>guest.tasks</c> goes to the tasks rows.
    /// </summary>
    public static RunRow From(SweepRun run, JsonObject json, string vexlabVersion)
    {
        var identity = new List<KeyValuePair<string, object>> { new("run_key", run.RunKey) };
        identity.AddRange(run.AxisColumns);
        identity.Add(new("protocol", run.Protocol.Protocol));
        identity.Add(new("variant", run.Protocol.Label));
        identity.Add(new("seed", run.Seed));

        var result = new List<KeyValuePair<string, object>>(identity);
        var scenarioHash = json["scenario_hash"] is JsonValue h && h.GetValueKind() == JsonValueKind.String
            ? h.GetValue<string>()
            : ComputeScenarioHash(run);
        result.Add(new("scenario_hash", scenarioHash));
        result.Add(new("vexlab_version", vexlabVersion));

        var taken = new HashSet<string>(result.Select(r => r.Key), StringComparer.OrdinalIgnoreCase);
        var axes = new HashSet<string>(run.Point.Select(p => p.Axis.Name), StringComparer.OrdinalIgnoreCase);
        var tasks = new List<List<KeyValuePair<string, object>>>();
        foreach (var (name, value) in json)
        {
            if (taken.Contains(name))
            {
                RefuseAxisField(name, axes);
                continue;
            }

            if (name == "guest" && value is JsonObject guest)
            {
                foreach (var (gName, gValue) in guest)
                {
                    if (gName == "tasks" && gValue is JsonArray taskArray)
                    {
                        for (var i = 0; i < taskArray.Count; i++)
                        {
                            var row = new List<KeyValuePair<string, object>>(identity) { new("task", (long)i) };
                            if (taskArray[i] is JsonObject task)
                            {
                                Flatten(task, string.Empty, row, new HashSet<string>(row.Select(r => r.Key), StringComparer.OrdinalIgnoreCase), axes);
                            }

                            tasks.Add(row);
                        }
                    }
                    else
                    {
                        Add("guest_" + gName, gValue, result, taken, axes);
                    }
                }

                continue;
            }

            Add(name, value, result, taken, axes);
        }

        return new RunRow(run.RunKey, result, tasks);
    }

    /// <summary>
    /// The scenario hash when the runner gives none: the base scenario and every override, including
    /// the protocol entry's knobs (the resolved scenario's canonical hash is better; the runner has it).
    /// </summary>
    public static string ComputeScenarioHash(SweepRun run)
    {
        var lines = new List<string> { "scenario=" + run.Scenario.Identity };
        lines.AddRange(run.AllOverrides.Select(o => "set=" + o.Key + "=" + o.Value));
        lines.AddRange(run.Protocol.Overrides.Select(o => "knob=" + o.Key + "=" + o.Value));
        return CanonicalHash.Compute(string.Join('\n', lines) + "\n");
    }

    private static void Flatten(JsonObject obj, string prefix, List<KeyValuePair<string, object>> row, HashSet<string> taken, HashSet<string> axes)
    {
        foreach (var (name, value) in obj)
        {
            Add(prefix + name, value, row, taken, axes);
        }
    }

    private static void Add(string name, JsonNode? value, List<KeyValuePair<string, object>> row, HashSet<string> taken, HashSet<string> axes)
    {
        switch (value)
        {
            case null when name.Contains("latency_ns_", StringComparison.Ordinal):
                // A latency statistic of an empty sample (no fault, no request completed): a NULL number, so
                // the column exists for a query even when no run of the store had one, and avg() skips it.
                Put(name, DBNull.Value, row, taken, axes);
                return;
            case null:
                return;
            case JsonObject obj:
                Flatten(obj, name + "_", row, taken, axes);
                return;
            case JsonArray array:
                Put(name, array.ToJsonString(), row, taken, axes);
                return;
            case JsonValue scalar:
                var scalarValue = Scalar(scalar);
                if (scalarValue is not null)
                {
                    Put(name, scalarValue, row, taken, axes);
                }

                return;
        }
    }

    private static void Put(string name, object value, List<KeyValuePair<string, object>> row, HashSet<string> taken, HashSet<string> axes)
    {
        if (taken.Add(name))
        {
            row.Add(new(name, value));
        }
        else
        {
            RefuseAxisField(name, axes);
        }
    }

    /// <summary>
    /// A field of the run that has an axis's column name: the row holds one of them only, so the run's value
    /// would be dropped without a word (an axis named cpu_ns replaced every task's cpu_ns with the axis value).
    /// </summary>
    private static void RefuseAxisField(string name, HashSet<string> axes)
    {
        if (axes.Contains(name))
        {
            throw new InputException($"axis {name}: the run's result has a field {name} of its own, and the column holds one of them; name the axis differently");
        }
    }

    private static object? Scalar(JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return value.GetValue<string>();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Number:
                if (value.TryGetValue<long>(out var l))
                {
                    return l;
                }

                if (value.TryGetValue<int>(out var i))
                {
                    return (long)i;
                }

                if (value.TryGetValue<double>(out var d))
                {
                    return d;
                }

                if (value.TryGetValue<float>(out var f))
                {
                    return (double)f;
                }

                if (value.TryGetValue<decimal>(out var m))
                {
                    return (double)m;
                }

                if (value.TryGetValue<ulong>(out var u))
                {
                    return (double)u;
                }

                return double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
            default:
                return null;
        }
    }
}
