using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vexlab.Results.Documents;

/// <summary>
/// One run as flat values, named as the store's columns are (<c>vcpu_ns_guest</c>,
/// <c>exits_EPT_VIOLATION</c>): the one shape <see cref="RunSummaries"/> averages, whether the run
/// came from a JSON file or a store row.
/// </summary>
public sealed class RunValues
{
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Per task group, in the run's order (a store's come from its <c>tasks</c> table).</summary>
    public List<TaskValues> Tasks { get; } = [];

    /// <summary>
    /// How long the run's tasks were runnable but not running, summed over task groups (<c>guest.tasks[].wait_ns</c>, or
    /// the store's <c>tasks</c> rows); null when the input does not say for every group (a file or store from before
    /// <c>wait_ns</c>), so that no finding reads a missing wait as none.
    /// </summary>
    public double? TaskWaitNs
    {
        get
        {
            double sum = 0;
            foreach (var task in Tasks)
            {
                if (task.WaitNs is not { } wait)
                {
                    return null;
                }

                sum += wait;
            }

            return Tasks.Count == 0 ? null : sum;
        }
    }

    /// <summary>perf kvm stat report's rows (JSON of <c>run --exits</c> only).</summary>
    public List<ExitStat> ExitStats { get; } = [];

    /// <summary>Column names in the order they were added.</summary>
    public IReadOnlyList<string> Names => _order;

    public void Set(string name, object? value)
    {
        if (!_values.ContainsKey(name))
        {
            _order.Add(name);
        }

        _values[name] = value;
    }

    public string? Text(string name) => _values.TryGetValue(name, out var v) && v is not null
        ? Convert.ToString(v, CultureInfo.InvariantCulture)
        : null;

    public double? Number(string name) => _values.TryGetValue(name, out var v) ? v switch
    {
        long l => l,
        int i => i,
        double d => d,
        float f => f,
        decimal m => (double)m,
        ulong u => u,
        System.Numerics.BigInteger b => (double)b,
        _ => null,
    } : null;

    /// <summary>A run of a <c>run</c> JSON (or one entry of a <c>compare</c> JSON), flattened with <c>_</c>.</summary>
    public static RunValues FromJson(JsonObject run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var values = new RunValues();
        Flatten(run, string.Empty, values);
        if (run["guest"]?["tasks"] is JsonArray tasks)
        {
            foreach (var task in tasks.OfType<JsonObject>())
            {
                values.Tasks.Add(new TaskValues(
                    task["name"]?.ToString() ?? "?",
                    Optional(task["work_done"]) ?? 0,
                    Optional(task["share"]),
                    Optional(task["wait_ns"])));
            }
        }

        if (run["exit_stats"]?["events"] is JsonArray events)
        {
            foreach (var e in events.OfType<JsonObject>())
            {
                values.ExitStats.Add(new ExitStat(
                    e["reason"]?.ToString() ?? "?",
                    (long)Double(e["samples"]),
                    Double(e["samples_pct"]),
                    Double(e["time_pct"]),
                    Double(e["avg_ns"]),
                    (long)Double(e["total_ns"])));
            }
        }

        return values;
    }

    /// <summary>A number, or null when the node is absent or not a number.</summary>
    private static double? Optional(JsonNode? node) => Scalar(node) is long or double ? Convert.ToDouble(Scalar(node), CultureInfo.InvariantCulture) : null;

    private static double Double(JsonNode? node) => Scalar(node) is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : 0;

    private static void Flatten(JsonObject obj, string prefix, RunValues into)
    {
        foreach (var (name, value) in obj)
        {
            var key = prefix + name;
            switch (value)
            {
                case JsonObject child when key is not "exit_stats" and not "timing":
                    Flatten(child, key + "_", into);
                    break;
                case JsonArray array:
                    into.Set(key, array.ToJsonString());
                    break;
                case JsonValue scalar:
                    into.Set(key, Scalar(scalar));
                    break;
            }
        }
    }

    private static object? Scalar(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.TryGetValue<long>(out var l) ? l : value.GetValue<double>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        };
    }
}
