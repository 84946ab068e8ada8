using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Results.Documents;

/// <summary>
/// Checks the fields <c>plot</c> and <c>report</c> read from a run or compare JSON, as they read it: each of the right
/// type and not negative, and the ones every run has present. <see cref="RunValues"/> reads a value of another type as
/// absent and an absent one as 0, so an edited file drew wrong findings rather than an error: a vcpu_ns.guest of "abc"
/// made a run 93% halted, and a run without fault_latency_ns dropped out of the CDF. A bad field is refused at its place
/// (FILE:LINE:COLUMN: FIELD: ...), a missing one at the object that lacks it.
/// </summary>
internal sealed class RunDocumentCheck
{
    private const string Expected = "expected `vexlab run --json` or `vexlab compare --json` output";

    // Every run has these (docs/output.md); host_exit and steal came later, and a document from before reads them as 0.
    private static readonly string[] s_vcpuParts = ["guest", "host_stalled", "host_halted", "idle"];
    private static readonly string[] s_laterVcpuParts = ["host_exit", "steal"];
    private static readonly string[] s_latencies = ["min", "mean", "p50", "p99", "p999", "max"];

    private readonly string _file;
    private readonly JsonPlaces _places;

    private RunDocumentCheck(string file, JsonPlaces places)
    {
        _file = file;
        _places = places;
    }

    /// <summary>Checks <paramref name="document"/>'s runs when it has the shape of a run or a compare; any other shape is left to the caller.</summary>
    public static void Check(JsonObject document, string file, JsonPlaces places)
    {
        ArgumentNullException.ThrowIfNull(document);
        var check = new RunDocumentCheck(file, places);
        if (document["results"] is JsonArray results)
        {
            for (var i = 0; i < results.Count; i++)
            {
                var entry = Key("results", i);
                if (results[i] is not JsonObject result)
                {
                    throw check.Bad(entry, "expected an object", results[i]);
                }

                if (result["runs"] is { } runsNode)
                {
                    if (runsNode is not JsonArray runs)
                    {
                        throw check.Bad(entry + ".runs", "expected a list of runs", runsNode);
                    }

                    for (var j = 0; j < runs.Count; j++)
                    {
                        var run = Key(entry + ".runs", j);
                        check.Run(runs[j] as JsonObject ?? throw check.Bad(run, "expected an object", runs[j]), run);
                    }
                }
                else
                {
                    check.Run(result, entry);
                }
            }
        }
        else if (document["vcpu_ns"] is JsonObject)
        {
            check.Run(document, string.Empty);
        }
    }

    private static string Key(string parent, int index) => string.Create(CultureInfo.InvariantCulture, $"{parent}[{index}]");

    private static string Key(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    private void Run(JsonObject run, string at)
    {
        Text(run, at, "variant", required: true);
        Text(run, at, "scenario", required: false);
        Text(run, at, "protocol", required: false);
        Text(run, at, "replay", required: false);
        Amount(run, at, "seed", required: false);
        Amount(run, at, "simulated_ns", required: true);
        Amount(run, at, "work_done", required: true);

        var vcpu = Object(run, at, "vcpu_ns", required: true)!;
        foreach (var part in s_vcpuParts)
        {
            Amount(vcpu, Key(at, "vcpu_ns"), part, required: true);
        }

        foreach (var part in s_laterVcpuParts)
        {
            Amount(vcpu, Key(at, "vcpu_ns"), part, required: false);
        }

        var latencyAt = Key(at, "fault_latency_ns");
        var latency = Object(run, at, "fault_latency_ns", required: true)!;
        Amount(latency, latencyAt, "count", required: true);
        foreach (var stat in s_latencies)
        {
            // Null where no fault completed: an empty sample has no latency.
            if (latency[stat] is not null)
            {
                Amount(latency, latencyAt, stat, required: false);
            }
        }

        if (latency["cdf"] is { } cdfNode)
        {
            var cdfAt = Key(latencyAt, "cdf");
            if (cdfNode is not JsonArray cdf)
            {
                throw Bad(cdfAt, "expected a list of [percentile, ns] pairs", cdfNode);
            }

            for (var i = 0; i < cdf.Count; i++)
            {
                var pointAt = Key(cdfAt, i);
                if (cdf[i] is not JsonArray { Count: 2 } point)
                {
                    throw Bad(pointAt, "expected a [percentile, ns] pair", cdf[i]);
                }

                if (Number(point[0]) is not (>= 0 and <= 100))
                {
                    throw Bad(Key(pointAt, 0), "expected a percentile from 0 to 100", point[0]);
                }

                if (Number(point[1]) is not >= 0)
                {
                    throw Bad(Key(pointAt, 1), "expected a latency in ns from 0", point[1]);
                }
            }
        }

        foreach (var counts in new[] { "exits", "injected", "signals" })
        {
            if (Object(run, at, counts, required: false) is { } table)
            {
                foreach (var (name, _) in table)
                {
                    Amount(table, Key(at, counts), name, required: true);
                }
            }
        }

        if (Object(run, at, "guest", required: false) is { } guest)
        {
            var guestAt = Key(at, "guest");
            Text(guest, guestAt, "outcome", required: false);
            Amount(guest, guestAt, "error_returns", required: false);
            if (guest["tasks"] is { } tasksNode)
            {
                var tasksAt = Key(guestAt, "tasks");
                if (tasksNode is not JsonArray tasks)
                {
                    throw Bad(tasksAt, "expected a list of task groups", tasksNode);
                }

                for (var i = 0; i < tasks.Count; i++)
                {
                    var taskAt = Key(tasksAt, i);
                    var task = tasks[i] as JsonObject ?? throw Bad(taskAt, "expected an object", tasks[i]);
                    Text(task, taskAt, "name", required: true);
                    Amount(task, taskAt, "work_done", required: true);
                    Amount(task, taskAt, "share", required: false);
                    Amount(task, taskAt, "wait_ns", required: false);
                }
            }
        }

        if (Object(run, at, "exit_stats", required: false) is { } stats && stats["events"] is { } eventsNode)
        {
            var eventsAt = Key(Key(at, "exit_stats"), "events");
            if (eventsNode is not JsonArray events)
            {
                throw Bad(eventsAt, "expected a list of exit reasons", eventsNode);
            }

            for (var i = 0; i < events.Count; i++)
            {
                var eventAt = Key(eventsAt, i);
                var e = events[i] as JsonObject ?? throw Bad(eventAt, "expected an object", events[i]);
                Text(e, eventAt, "reason", required: true);
                foreach (var field in new[] { "samples", "samples_pct", "time_pct", "avg_ns", "total_ns" })
                {
                    Amount(e, eventAt, field, required: true);
                }
            }
        }
    }

    private void Text(JsonObject parent, string at, string name, bool required)
    {
        var node = Field(parent, at, name, required);
        if (node is not null && (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String))
        {
            throw Bad(Key(at, name), "expected a string", node);
        }
    }

    /// <summary>A count, a time or a share: a number from 0.</summary>
    private void Amount(JsonObject parent, string at, string name, bool required)
    {
        var node = Field(parent, at, name, required);
        if (node is not null && Number(node) is not >= 0)
        {
            throw Bad(Key(at, name), "expected a number from 0", node);
        }
    }

    private JsonObject? Object(JsonObject parent, string at, string name, bool required)
    {
        var node = Field(parent, at, name, required);
        return node is null || node is JsonObject ? (JsonObject?)node : throw Bad(Key(at, name), "expected an object", node);
    }

    /// <summary>The field's value; a required one that is absent or null is refused at the object that lacks it.</summary>
    private JsonNode? Field(JsonObject parent, string at, string name, bool required)
    {
        var node = parent[name];
        if (node is null && required)
        {
            var (line, column) = parent.ContainsKey(name) ? _places.At(Key(at, name)) : _places.At(at);
            throw InputException.At(_file, line, column, Key(at, name), (parent.ContainsKey(name) ? "is null" : "missing") + " (" + Expected + ")");
        }

        return node;
    }

    /// <summary>A finite JSON number's value, else null.</summary>
    private static double? Number(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : null;

    private InputException Bad(string at, string problem, JsonNode? got)
    {
        var (line, column) = _places.At(at);
        return InputException.At(_file, line, column, at, problem + ", got " + Describe(got));
    }

    /// <summary>The value as the file writes it, cut short; a list or object by its kind.</summary>
    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "a list",
        JsonObject => "an object",
        _ => ErrorText.Escape(Cut(node.ToJsonString())),
    };

    private static string Cut(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
