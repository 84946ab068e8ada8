using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Model.Configuration;
using Vexlab.Results.Store;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Results.Documents;

/// <summary>Where results came from: a <c>run</c> JSON, a <c>compare</c> JSON or a sweep store.</summary>
public enum ResultSource
{
    Run,
    Compare,
    Store,
}

/// <summary>The protocol entries of a results file, in the file's order.</summary>
public sealed record ResultSet(string Path, ResultSource Source, IReadOnlyList<RunSummary> Entries)
{
    /// <summary>The store's sweep name, or the scenario of a JSON file.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The column the entries are grouped by (a store's <c>--by</c>): each entry's <see cref="RunSummary.Variant"/> is its value.</summary>
    public string By { get; init; } = "variant";

    /// <summary>The sweep's axes (name and unit) for a store; empty for a JSON file.</summary>
    public IReadOnlyList<(string Name, string Unit)> Axes { get; init; } = [];

    /// <summary>
    /// Set when the entries' means are over different points of the sweep (a shard's store, a --where that keeps
    /// other points for each entry): then they do not compare like for like, and a reader must be told.
    /// </summary>
    public string? Caution { get; init; }

    /// <summary>
    /// Set when the store holds fewer runs than its sweep (or shard) has: a sweep stopped before it finished. Also part
    /// of <see cref="Caution"/>, so that every reader of the caution says it.
    /// </summary>
    public string? Unfinished { get; init; }

    /// <summary>
    /// Set when a run or compare JSON says a limit stopped it before its duration (<c>"complete": false</c>, or an
    /// older document's <c>"incomplete": true</c>). Also the <see cref="Caution"/>.
    /// </summary>
    public string? Stopped { get; init; }

    /// <summary>
    /// A stopped compare's entries that never started, in the order it would have run them (its JSON's
    /// <c>not_run</c>); empty for a whole compare, a run, a store, and a compare written before <c>not_run</c>.
    /// </summary>
    public IReadOnlyList<string> NotRun { get; init; } = [];
}

/// <summary>
/// Reads results into <see cref="RunSummary"/> entries: a JSON file by its shape (an object with
/// <c>results</c> is a <c>compare</c>, one with <c>vcpu_ns</c> a <c>run</c>), anything else as a store.
/// Several runs of one entry (seeds, store rows) are averaged; a CDF is averaged percentile by percentile.
/// </summary>
public static class RunSummaries
{
    public static bool IsJson(string path) => Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Refuses, for a run or compare JSON <paramref name="path"/>, the options that choose among a sweep store's rows:
    /// <c>--where</c> (<paramref name="where"/>) and a <c>--by</c> that was typed (<paramref name="byGiven"/>). A JSON
    /// has no rows to choose and one entry per protocol entry already; either would be ignored.
    /// </summary>
    public static void RefuseRowOptions(string path, string? where, bool byGiven)
    {
        if (!IsJson(path))
        {
            return;
        }

        if (where is not null)
        {
            throw InputException.At(null, 0, 0, "--where", "selects rows of a sweep store; a JSON file has none");
        }

        if (byGiven)
        {
            throw InputException.At(null, 0, 0, "--by", "groups a sweep store's rows; a run or compare JSON has one entry per protocol entry already");
        }
    }

    /// <summary>Loads <paramref name="path"/>; for a store, one entry per value of <paramref name="by"/> over the rows <paramref name="where"/> keeps.</summary>
    public static ResultSet Load(string path, string by = "variant", string? where = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw InputException.At(path, 0, 0, null, Directory.Exists(path) ? "is a folder, not a run or compare JSON or a sweep store" : "no such file");
        }

        return IsJson(path) ? LoadJson(path) : LoadStore(path, by, where);
    }

    public static ResultSet LoadJson(string path)
    {
        // Under the input bounds as every input file: a run's JSON is a few KiB, a 20,000-seed compare's a few MiB.
        var root = InputJson.Read(path, "run or compare JSON", out var places);

        if (root is not JsonObject doc)
        {
            throw InputException.At(path, 1, 1, null, "expected the JSON object of `vexlab run --json` or `vexlab compare --json`");
        }

        // A file may have been edited: every field read is checked first, where FromDocument's reading takes a value
        // of another type for none. The documents vexlab builds itself (compare --plot) need no check.
        RunDocumentCheck.Check(doc, ErrorText.Path(path), places);
        return FromDocument(doc, path);
    }

    /// <summary>The entries of a <c>run</c> or <c>compare</c> document (<paramref name="path"/> names it in errors).</summary>
    public static ResultSet FromDocument(JsonObject document, string path)
    {
        ArgumentNullException.ThrowIfNull(document);

        // Read back from text: numbers then have one representation whatever built the document.
        var doc = JsonNode.Parse(document.ToJsonString(), documentOptions: new JsonDocumentOptions { MaxDepth = InputLimits.MaxDepth })!.AsObject();
        if (doc["results"] is JsonArray results)
        {
            var entries = new List<RunSummary>();
            for (var i = 0; i < results.Count; i++)
            {
                if (results[i] is not JsonObject entry)
                {
                    throw InputException.At(path, 0, 0, $"results[{i}]", "expected an object");
                }

                var runs = entry["runs"] is JsonArray seeds
                    ? seeds.OfType<JsonObject>().Select(RunValues.FromJson).ToList()
                    : [RunValues.FromJson(entry)];
                Require(path, $"results[{i}]", runs);
                entries.Add(Summarize(runs, runs[0].Text("variant") ?? "?"));
            }

            if (entries.Count == 0)
            {
                throw InputException.At(path, 0, 0, "results", "holds no results");
            }

            var notRun = NotRun(doc, path);
            var stopped = StoppedCaution(doc, "compare", notRun);
            return new ResultSet(path, ResultSource.Compare, entries) { Name = entries[0].Scenario, Caution = stopped, Stopped = stopped, NotRun = notRun };
        }

        if (doc["vcpu_ns"] is JsonObject)
        {
            var run = RunValues.FromJson(doc);
            Require(path, null, [run]);
            var entry = Summarize([run], run.Text("variant") ?? "?");
            var stoppedRun = StoppedCaution(doc, "run", []);
            return new ResultSet(path, ResultSource.Run, [entry]) { Name = entry.Scenario, Caution = stoppedRun, Stopped = stoppedRun };
        }

        // A checker counterexample (check --trace) is the file a new user most often has at hand: say what it is.
        var counterexample = doc["actions"] is JsonArray && doc["model"] is not null
            ? "; this is a checker counterexample (check --trace), which vexlab replay FILE --out TIMELINE turns into a timeline"
            : doc["verdict"] is not null && doc["model"] is not null
                ? "; this is a checker result (check --json), which holds no simulated runs; its counterexamples, written with check --trace FILE, replay as timelines"
                : string.Empty;
        throw InputException.At(path, 1, 1, null, "expected the JSON of `vexlab run --json` (with vcpu_ns) or `vexlab compare --json` (with results)" + counterexample);
    }

    /// <summary>
    /// Whether a run or compare document says it was stopped before its duration (--time-limit, a signal):
    /// <c>"complete": false</c>, or <c>"incomplete": true</c> in documents written before <c>complete</c> replaced it.
    /// </summary>
    public static bool StoppedEarly(JsonObject document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return document["complete"] is JsonValue complete && complete.GetValueKind() == JsonValueKind.False
            || document["incomplete"] is JsonValue incomplete && incomplete.GetValueKind() == JsonValueKind.True;
    }

    /// <summary>
    /// The caution a stopped run's numbers need, or null for a whole one; a stopped compare's names the entries that
    /// never ran (<paramref name="notRun"/>), as its table's heading did: without them the report read as a compare
    /// of fewer entries.
    /// </summary>
    private static string? StoppedCaution(JsonObject document, string command, List<string> notRun) => StoppedEarly(document)
        ? $"the {command} was stopped before its duration (--time-limit or a signal; the JSON says complete: false), so its numbers cover only the simulated time it reached"
            + (notRun.Count == 0 ? string.Empty : "; never ran: " + string.Join(", ", notRun))
        : null;

    /// <summary>
    /// A compare document's <c>not_run</c>: the entries a stop left unstarted, in order; empty when it has none or was
    /// written before the field.
    /// </summary>
    private static List<string> NotRun(JsonObject document, string path)
    {
        if (document["not_run"] is not { } node)
        {
            return [];
        }

        if (node is not JsonArray array || array.Any(v => v is not JsonValue value || value.GetValueKind() != JsonValueKind.String))
        {
            throw InputException.At(path, 0, 0, "not_run", "expected an array of protocol entries (strings)");
        }

        return [.. array.Select(v => v!.GetValue<string>())];
    }

    public static ResultSet LoadStore(string path, string by, string? where)
    {
        ResultColumns.Of(path, where);
        var filter = where is null ? string.Empty : $" WHERE ({where})";
        var result = StoreOperations.Query(path, $"SELECT * FROM {SweepStore.ResultsTable}{filter} ORDER BY run_key");
        ResultColumns.Require(path, result.Columns, by, "--by");
        var byIndex = IndexOf(result.Columns, by);

        if (result.Rows.Count == 0)
        {
            throw InputException.At(path, 0, 0, null, where is null ? "holds no results" : $"no results where {where}");
        }

        var tasks = TaskRows(path);
        var groups = new SortedDictionary<string, List<RunValues>>(ByValueOrder.Instance);
        foreach (var row in result.Rows)
        {
            var values = new RunValues();
            for (var c = 0; c < row.Length; c++)
            {
                values.Set(result.Columns[c], row[c]);
            }

            if (values.Text("run_key") is { } runKey && tasks.TryGetValue(runKey, out var runTasks))
            {
                values.Tasks.AddRange(runTasks);
            }

            var key = Convert.ToString(row[byIndex], CultureInfo.InvariantCulture) ?? string.Empty;
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
            }

            list.Add(values);
        }

        var entries = groups.Select(g => Summarize(g.Value, g.Key)).ToList();
        var axes = new List<(string, string)>();
        var definition = StoreOperations.Query(path, $"SELECT value FROM {SweepStore.MetaTable} WHERE key = 'sweep_definition'").Rows;
        foreach (var line in definition.Count > 0 ? ((string?)definition[0][0] ?? string.Empty).Split('\n') : [])
        {
            if (line.StartsWith("axis=", StringComparison.Ordinal))
            {
                var fields = line.Split(';').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
                axes.Add((fields.GetValueOrDefault("axis", "?"), fields.GetValueOrDefault("unit", string.Empty)));
            }
        }

        var name = StoreOperations.Query(path, $"SELECT value FROM {SweepStore.MetaTable} WHERE key = 'sweep_name'").Rows;
        var unmatched = Unmatched(groups, [.. axes.Select(a => a.Item1), "seed"], by);
        var unfinished = Unfinished(path);
        return new ResultSet(path, ResultSource.Store, entries)
        {
            Name = name.Count > 0 ? (string?)name[0][0] ?? Path.GetFileName(path) : Path.GetFileName(path),
            Axes = axes,
            By = by,
            Caution = unfinished is null ? unmatched : unmatched is null ? unfinished : unfinished + "; " + unmatched,
            Unfinished = unfinished,
        };
    }

    /// <summary>
    /// Each run's task groups from the store's <c>tasks</c> rows, by run key, in task order; share and wait null where
    /// the store has no such column (written before it). Empty for a store without task rows.
    /// </summary>
    private static Dictionary<string, List<TaskValues>> TaskRows(string path)
    {
        var tasks = new Dictionary<string, List<TaskValues>>(StringComparer.Ordinal);
        var (columns, _, error) = StoreOperations.ColumnsOf(path, $"SELECT * FROM {SweepStore.TasksTable} LIMIT 0");
        if (error is not null || !columns.Contains("name", StringComparer.Ordinal) || !columns.Contains("work_done", StringComparer.Ordinal))
        {
            return tasks;
        }

        string Optional(string column) => columns.Contains(column, StringComparer.Ordinal) ? $"CAST({column} AS DOUBLE)" : "NULL";
        var rows = StoreOperations.Query(
            path,
            $"SELECT run_key, name, CAST(work_done AS DOUBLE), {Optional("share")}, {Optional("wait_ns")} FROM {SweepStore.TasksTable} ORDER BY run_key, task").Rows;
        foreach (var row in rows)
        {
            if (row[0] is not string runKey)
            {
                continue;
            }

            if (!tasks.TryGetValue(runKey, out var list))
            {
                tasks[runKey] = list = [];
            }

            list.Add(new TaskValues(row[1] as string ?? "?", row[2] as double? ?? 0, row[3] as double?, row[4] as double?));
        }

        return tasks;
    }

    /// <summary>
    /// Null when the store holds every run of the sweep (or of the shard it was run for; a merged store records only the
    /// sweep's count, so one merged with --allow-partial is said too); otherwise how many it holds.
    /// A sweep stopped by a signal, a kill or a full disk keeps its finished runs (SweepStore.Write commits each), and
    /// when those happen to cover the same points for every entry nothing else says the means are not the sweep's.
    /// </summary>
    private static string? Unfinished(string path)
    {
        var meta = StoreOperations.Query(
            path,
            $"SELECT (SELECT count(*) FROM {SweepStore.ResultsTable}), coalesce((SELECT max(value) FROM {SweepStore.MetaTable} WHERE key = '{SweepStore.ShardRunsKey}'), (SELECT max(value) FROM {SweepStore.MetaTable} WHERE key = '{SweepStore.RunsKey}')), (SELECT max(value) FROM {SweepStore.MetaTable} WHERE key = '{SweepStore.ShardKey}')").Rows;
        if (meta.Count == 0
            || !long.TryParse(Convert.ToString(meta[0][1], CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out var expected))
        {
            return null;
        }

        var present = Convert.ToInt64(meta[0][0], CultureInfo.InvariantCulture);
        if (present >= expected)
        {
            return null;
        }

        var shard = meta[0][2] as string;
        var of = shard is null or "1/1" ? "its sweep" : $"shard {shard} of its sweep";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"the store holds {present:N0} of the {expected:N0} runs of {of}: the sweep stopped before it finished, so the means are over the runs that did; run the same vexlab sweep run again to finish it");
    }

    /// <summary>
    /// Null when every entry's runs cover the same points (axis values and seed); otherwise the caution that their
    /// means are not over the same points, with each entry's count of points.
    /// </summary>
    private static string? Unmatched(SortedDictionary<string, List<RunValues>> groups, IReadOnlyList<string> pointColumns, string by)
    {
        HashSet<string>? first = null;
        var same = true;
        foreach (var runs in groups.Values)
        {
            var points = runs.Select(r => string.Join('\u001f', pointColumns.Where(c => c != by).Select(c => r.Text(c) ?? string.Empty))).ToHashSet(StringComparer.Ordinal);
            if (first is null)
            {
                first = points;
            }
            else if (!first.SetEquals(points))
            {
                same = false;
            }
        }

        return same
            ? null
            : $"the entries' means are over different points of the sweep ({string.Join(", ", groups.Select(g => $"{g.Key}: {g.Value.Count} {(g.Value.Count == 1 ? "run" : "runs")}"))}), so they do not compare like for like; choose the same points for each with --where, or merge the shards first";
    }

    /// <summary>Averages runs of one entry.</summary>
    public static RunSummary Summarize(IReadOnlyList<RunValues> runs, string label)
    {
        ArgumentNullException.ThrowIfNull(runs);
        double Mean(string name) => runs.Average(r => r.Number(name) ?? 0);
        IReadOnlyList<(string, double)> Counts(string prefix, bool sum = false)
        {
            var names = new List<string>();
            foreach (var r in runs)
            {
                names.AddRange(r.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && !names.Contains(n) && r.Number(n) is not null));
            }

            return names
                .Select(n => (n[prefix.Length..], sum ? runs.Sum(r => r.Number(n) ?? 0) : Mean(n)))
                .Where(c => c.Item2 != 0)
                .ToList();
        }

        var first = runs[0];
        var latency = new Dictionary<string, double>(StringComparer.Ordinal);
        if (runs.Any(r => r.Number("fault_latency_ns_count") is not null))
        {
            latency["count"] = Mean("fault_latency_ns_count");
        }

        // A run with no completed fault has no latency (null since this version, 0 in older stores): the
        // statistics are means over the runs with faults only, and absent, shown "-", when there are none.
        var withFaults = runs.Where(r => r.Number("fault_latency_ns_count") is > 0).ToList();
        foreach (var stat in new[] { "min", "mean", "p50", "p99", "p999", "max" })
        {
            var values = withFaults.Select(r => r.Number("fault_latency_ns_" + stat)).OfType<double>().ToList();
            if (values.Count > 0)
            {
                latency[stat] = values.Average();
            }
        }

        // Over runs, each task's figure is a mean; share and wait only where every run gives them.
        var tasks = first.Tasks.Select((t, i) => new TaskValues(
            t.Name,
            runs.Average(r => i < r.Tasks.Count ? r.Tasks[i].WorkDone : 0),
            MeanOfAll(runs, r => i < r.Tasks.Count ? r.Tasks[i].Share : null),
            MeanOfAll(runs, r => i < r.Tasks.Count ? r.Tasks[i].WaitNs : null))).ToList();
        var outcomes = runs.Select(r => r.Text("guest_outcome") ?? "running").Distinct(StringComparer.Ordinal).ToList();
        return new RunSummary
        {
            Scenario = first.Text("scenario") ?? "?",
            Protocol = first.Text("protocol") ?? "?",
            Variant = label,
            Seeds = runs.Select(r => (long)(r.Number("seed") ?? 0)).Distinct().ToList(),
            Runs = runs.Count,
            SimulatedNs = Mean("simulated_ns"),
            WorkDone = Mean("work_done"),
            Tasks = tasks,
            TaskWaitNs = MeanOfAll(runs, r => r.TaskWaitNs),
            VcpuNs = [.. RunSummary.VcpuParts.Select(p => Mean("vcpu_ns_" + p))],
            FaultLatency = latency,
            FaultRuns = withFaults.Count,
            Cdf = MeanCdf(runs),
            Exits = Counts("exits_"),
            Injected = Counts("injected_"),
            Signals = Counts("signals_", sum: true),
            ErrorReturns = Mean("guest_error_returns"),
            Outcome = outcomes.Count == 1 ? outcomes[0] : string.Join("/", outcomes),
            ExitStats = first.ExitStats,
            Replays = runs.Select(r => r.Text("replay")).OfType<string>().Distinct(StringComparer.Ordinal).Order(ReplayOrder.Instance).ToList(),
        };
    }

    /// <summary>The mean of <paramref name="pick"/> over <paramref name="runs"/>; null when any run lacks it.</summary>
    private static double? MeanOfAll(IReadOnlyList<RunValues> runs, Func<RunValues, double?> pick)
    {
        double sum = 0;
        foreach (var run in runs)
        {
            if (pick(run) is not { } value)
            {
                return null;
            }

            sum += value;
        }

        return sum / runs.Count;
    }

    /// <summary>The mean over runs of each percentile's latency (runs without a CDF are left out).</summary>
    private static List<(double, double)> MeanCdf(IReadOnlyList<RunValues> runs)
    {
        var sums = new SortedDictionary<double, (double Sum, int N)>();
        foreach (var run in runs)
        {
            if (run.Text("fault_latency_ns_cdf") is not { } text || JsonNode.Parse(text) is not JsonArray points)
            {
                continue;
            }

            foreach (var point in points.OfType<JsonArray>().Where(p => p.Count == 2))
            {
                var p = point[0]!.GetValue<double>();
                var ns = point[1]!.GetValue<double>();
                var (sum, n) = sums.GetValueOrDefault(p);
                sums[p] = (sum + ns, n + 1);
            }
        }

        return sums.Select(kv => (kv.Key, kv.Value.Sum / kv.Value.N)).ToList();
    }

    private static void Require(string path, string? key, List<RunValues> runs)
    {
        if (runs.Count == 0)
        {
            throw InputException.At(path, 0, 0, key, "holds no runs");
        }

        foreach (var field in new[] { "variant", "vcpu_ns_guest", "work_done" })
        {
            if (runs.Any(r => r.Text(field) is null))
            {
                throw InputException.At(path, 0, 0, key is null ? field : key + "." + field.Replace("vcpu_ns_", "vcpu_ns.", StringComparison.Ordinal), "missing (expected `vexlab run --json` or `vexlab compare --json` output)");
            }
        }
    }

    private static int IndexOf(IReadOnlyList<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (string.Equals(columns[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}
