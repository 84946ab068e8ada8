using System.Globalization;
using System.IO.Hashing;
using Vexlab.Model.Configuration;
using Vexlab.Model.Protocols;
using System.Text;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Files;

namespace Vexlab.Results.Sweeps;

/// <summary>
/// Reads sweep files (YAML). Every error is one <see cref="InputException"/> naming the file,
/// line, column and key, as scenario files do.
/// </summary>
public static class SweepFile
{
    /// <summary>The most values one axis may have.</summary>
    public const int MaxAxisValues = 1_000_000;

    /// <summary>Column names an axis may not take: they hold the run's identity.</summary>
    public static readonly IReadOnlySet<string> ReservedColumns = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "run_key", "protocol", "variant", "seed", "scenario_hash", "vexlab_version", "scenario", "replay",
        "simulated_ns", "events", "digest", "work_done", "task", "name", "count", "finished_ns",
        "signals", "cpu_ns", "wait_ns", "migrations", "share", "incomplete",
        "guest_outcome", "guest_panic", "guest_error_returns", "host_evictions",
    };

    /// <summary>
    /// Starts of the columns a run's objects flatten into (<c>exits_EPT_VIOLATION</c>, a task's
    /// <c>requests_arrived</c>): an axis named like one would take that field's place in the row.
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedPrefixes =
    [
        "guest_page_cache_", "signals_", "fault_latency_ns_", "vcpu_ns_", "exits_", "injected_",
        "host_async_", "host_swap_device_", "host_reclaim_", "timing_", "requests_", "exit_stats_",
    ];

    private static readonly string[] s_topKeys = ["name", "description", "scenario", "set", "protocols", "seeds", "axes"];

    /// <summary>The keys a sweep file's top level may hold, in the order messages list them.</summary>
    public static IReadOnlyList<string> TopLevelKeys => s_topKeys;
    private static readonly string[] s_axisKeys = ["name", "key", "unit", "values", "range", "log"];

    /// <summary>Reads and parses a sweep file.</summary>
    public static SweepDefinition Load(string path)
    {
        var text = InputFile.ReadText(path, "sweep file");
        if (string.IsNullOrWhiteSpace(text))
        {
            throw InputException.At(ErrorText.Path(path), 1, 1, null, "the sweep file is empty; write at least its scenario");
        }

        var full = Path.GetFullPath(path);
        return Parse(text, ErrorText.Path(path), Path.GetDirectoryName(full) ?? ".", Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Parses sweep YAML. Scenario file paths are relative to <paramref name="directory"/>.</summary>
    public static SweepDefinition Parse(string yaml, string file, string? directory = null, string? defaultName = null)
    {
        var root = ScenarioDocument.Parse(yaml, file, "sweep file").Root;
        foreach (var entry in root.Entries)
        {
            if (!s_topKeys.Contains(entry.Key.Value))
            {
                // A scenario key written at the top (duration:, guest.vcpus:) is the likeliest slip: say where it goes.
                throw entry.Key.Error(UnknownKey("sweep key", entry.Key.Value, s_topKeys) + "; scenario keys and knobs go under set:");
            }
        }

        var name = OptionalScalar(root, "name")?.Value ?? defaultName ?? "sweep";
        var description = OptionalScalar(root, "description")?.Value ?? string.Empty;
        var scenarioNode = RequiredScalar(root, "scenario", "the base scenario: a built-in name such as postcopy, or a file");
        var scenario = ReadScenario(scenarioNode, directory);
        var sets = ReadSets(root);
        var protocols = ReadProtocols(root);
        var seeds = ReadSeeds(root);
        var axes = ReadAxes(root);
        // A protocol entry's knob against an axis of the same key is as contradictory as a set: entry.
        SweepDefinition.RefuseSeedSets([.. sets, .. protocols.SelectMany(p => p.Overrides)]);
        SweepDefinition.RefuseEntryDurations(protocols);
        SweepDefinition.RefuseAxisKeys([.. sets, .. protocols.SelectMany(p => p.Overrides)], axes);
        return new SweepDefinition
        {
            Name = name,
            Description = description,
            Source = file,
            Scenario = scenario,
            Sets = sets,
            Protocols = protocols,
            Seeds = seeds,
            Axes = axes,
        };
    }

    private static ScenarioRef ReadScenario(ScalarNode node, string? directory)
    {
        var value = node.Value.Trim();
        if (value.Length == 0)
        {
            throw node.Error("expected a built-in scenario name such as postcopy, or a scenario file");
        }

        var isFile = value.Contains('/', StringComparison.Ordinal) || value.EndsWith(".yaml", StringComparison.Ordinal)
            || value.EndsWith(".yml", StringComparison.Ordinal);
        if (!isFile)
        {
            if (!value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw node.Error($"\"{value}\" is not a built-in scenario name (kebab-case) nor a .yaml file");
            }

            return ScenarioRef.Builtin(value) with { Origin = Where(node) };
        }

        var path = Path.GetFullPath(Path.Combine(directory ?? Directory.GetCurrentDirectory(), value));
        string text;
        try
        {
            text = InputFile.ReadText(path, "scenario file");
        }
        catch (InputException e)
        {
            throw node.Error("cannot read the scenario file " + e.Message);
        }

        return new ScenarioRef(null, path, ScenarioContentHash(path, text)) { Origin = Where(node), Text = text };
    }

    /// <summary>
    /// The hash of a scenario file's text and of every latency CSV it reads (<see cref="LatencyCsvReferences"/>): the
    /// text names a CSV, not its rows, so a sweep run again after the CSV was edited kept the rows of the old data
    /// under the same run keys ("already in"). A scenario that reads none keeps the hash of its text alone; one that
    /// does not parse is hashed as text, and its runs report the fault.
    /// </summary>
    private static string ScenarioContentHash(string path, string text)
    {
        var hashed = new StringBuilder(text);
        try
        {
            var document = ScenarioDocument.Parse(text, path);
            foreach (var (written, csv) in LatencyCsvReferences.Of(document, Path.GetDirectoryName(path)))
            {
                if (File.Exists(csv))
                {
                    hashed.Append("\ncsv:").Append(written).Append('=').Append(CanonicalHash.Compute(InputFile.ReadText(csv, "latency CSV")));
                }
            }
        }
        catch (InputException)
        {
        }

        return Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(hashed.ToString())));
    }

    private static List<Override> ReadSets(MappingNode root)
    {
        var sets = new List<Override>();
        if (!root.TryGetValue("set", out var node) || node is ScalarNode { IsNull: true })
        {
            return sets;
        }

        if (node is not MappingNode mapping)
        {
            throw node.Error($"expected a mapping of scenario keys to values, got {node.Description}");
        }

        foreach (var entry in mapping.Entries)
        {
            if (entry.Value is not ScalarNode scalar)
            {
                throw entry.Value.Error($"expected one value, got {entry.Value.Description}; write nested keys dotted");
            }

            sets.Add(ParseSetAt(entry.Key, entry.Key.Value, scalar.Value));
        }

        return sets;
    }

    /// <summary>Builds an override for <paramref name="key"/>, reporting a bad key at <paramref name="at"/>.</summary>
    internal static Override ParseSetAt(DocumentNode at, string key, string value)
    {
        var quoted = "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
        try
        {
            return Overrides.ParseSet(key + "=" + quoted, Where(at));
        }
        catch (InputException)
        {
            throw at.Error($"\"{key}\" is not a scenario key; expected a dotted key such as guest.vcpus or tasks[0].count");
        }
    }

    private static string Where(DocumentNode node) =>
        string.Create(CultureInfo.InvariantCulture, $"{node.File}:{node.Line}:{node.Column}");

    private static List<ProtocolEntry> ReadProtocols(MappingNode root)
    {
        if (!root.TryGetValue("protocols", out var node))
        {
            throw root.Error("missing key 'protocols': a list of protocol entries such as [kvm-pf-int, ve], or all");
        }

        var items = new List<ScalarNode>();
        switch (node)
        {
            case ScalarNode { Value: "all" }:
                return ProtocolCatalog.Names.Select(n => new ProtocolEntry(n, n, [])).ToList();
            case ScalarNode scalar when !scalar.IsNull:
                items.Add(scalar);
                break;
            case SequenceNode sequence:
                foreach (var item in sequence.Items)
                {
                    items.Add(item as ScalarNode ?? throw item.Error($"expected a protocol entry such as ve[guest.ve.can_continue=user], got {item.Description}"));
                }

                break;
            default:
                throw node.Error($"expected a list of protocol entries or 'all', got {node.Description}");
        }

        if (items.Count == 0)
        {
            throw node.Error("the protocol list is empty");
        }

        var entries = new List<ProtocolEntry>();
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            // The entry's field with its place, as this file's other errors name theirs ("protocols[1]: ..."); an
            // unknown protocol or a malformed entry said only the place.
            var parsed = Overrides.ParseProtocols(item.Value, $"{Where(item)}: {item.Path}");
            foreach (var entry in parsed)
            {
                if (!labels.Add(entry.Label))
                {
                    throw item.Error($"protocol entry \"{entry.Label}\" is listed twice");
                }

                entries.Add(entry);
            }
        }

        return entries;
    }

    private static List<long> ReadSeeds(MappingNode root)
    {
        if (!root.TryGetValue("seeds", out var node))
        {
            return [1];
        }

        if (node is ScalarNode scalar)
        {
            if (!long.TryParse(scalar.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > 100_000)
            {
                throw node.Error($"expected a number of seeds from 1 to 100000 (seeds 1..N) or a list of seeds, got \"{scalar.Value}\"");
            }

            return Enumerable.Range(1, (int)count).Select(i => (long)i).ToList();
        }

        if (node is not SequenceNode sequence || sequence.Items.Count == 0)
        {
            throw node.Error($"expected a number of seeds or a non-empty list of seeds, got {node.Description}");
        }

        var seeds = new List<long>();
        foreach (var item in sequence.Items)
        {
            if (item is not ScalarNode s || !long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed))
            {
                throw item.Error("expected a whole-number seed");
            }

            if (seeds.Contains(seed))
            {
                throw item.Error(string.Create(CultureInfo.InvariantCulture, $"seed {seed} is listed twice"));
            }

            seeds.Add(seed);
        }

        return seeds;
    }

    private static List<SweepAxis> ReadAxes(MappingNode root)
    {
        var axes = new List<SweepAxis>();
        if (!root.TryGetValue("axes", out var node) || node is ScalarNode { IsNull: true })
        {
            return axes;
        }

        if (node is not SequenceNode sequence)
        {
            throw node.Error($"expected a list of axes, got {node.Description}");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in sequence.Items)
        {
            if (item is not MappingNode axisNode)
            {
                throw item.Error($"expected an axis (name, key, and values, range or log), got {item.Description}");
            }

            var axis = ReadAxis(axisNode);
            if (!names.Add(axis.Name))
            {
                throw axisNode.Error($"axis name \"{axis.Name}\" is used twice");
            }

            if (!keys.Add(axis.Key))
            {
                throw axisNode.Error($"key \"{axis.Key}\" is swept by two axes");
            }

            axes.Add(axis);
        }

        return axes;
    }

    private static SweepAxis ReadAxis(MappingNode node)
    {
        foreach (var entry in node.Entries)
        {
            if (!s_axisKeys.Contains(entry.Key.Value))
            {
                throw entry.Key.Error(UnknownKey("axis key", entry.Key.Value, s_axisKeys));
            }
        }

        var nameNode = RequiredScalar(node, "name", "the axis's column name, such as latency");
        var name = nameNode.Value;
        if (name.Length == 0 || !(char.IsAsciiLetterLower(name[0]) || name[0] == '_')
            || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw nameNode.Error($"an axis name is a column name: lower-case letters, digits and _, got \"{name}\"");
        }

        if (ReservedColumns.Contains(name))
        {
            throw nameNode.Error($"\"{name}\" is a column of every result; name the axis differently");
        }

        if (ReservedPrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.Ordinal)) is { } prefix)
        {
            throw nameNode.Error($"\"{name}\" is named like the result columns {prefix}*; name the axis differently");
        }

        var keyNode = RequiredScalar(node, "key", "the scenario key or knob the axis sets, such as host.latency");
        var key = ParseSetAt(keyNode, keyNode.Value, "0").Key;
        if (string.Equals(key, "seed", StringComparison.Ordinal))
        {
            // Each run's seed is set after the axes: an axis on it ran every point with the same seed.
            throw keyNode.Error(SweepDefinition.SeedProblem);
        }

        var unitNode = OptionalScalar(node, "unit");
        var unit = unitNode?.Value;
        if (unit is not null && (unit.Length == 0 || !unit.All(c => char.IsAsciiLetter(c) || c is '%' or '/' or 'µ')))
        {
            throw unitNode!.Error($"expected a unit such as us, ms or GiB, got \"{unit}\"");
        }

        var given = s_axisKeys[3..].Where(k => node.TryGetValue(k, out _)).ToList();
        if (given.Count != 1)
        {
            throw node.Error(given.Count == 0
                ? $"axis {name}: give its values with one of values (a list), range (from, to, step) or log (from, to, points)"
                : $"axis {name}: give one of values, range or log, not {string.Join(" and ", given)}");
        }

        node.TryGetValue(given[0], out var valuesNode);
        var values = given[0] switch
        {
            "values" => ReadList(valuesNode),
            "range" => ReadRange(valuesNode),
            _ => ReadLog(valuesNode),
        };

        if (unit is not null && values.Any(v => v.Number is null))
        {
            throw unitNode!.Error("a unit needs numeric values");
        }

        return new SweepAxis(name, key, unit, values, node.Line) { KeyOrigin = Where(keyNode) };
    }

    private static List<AxisValue> ReadList(DocumentNode node)
    {
        if (node is not SequenceNode sequence || sequence.Items.Count == 0)
        {
            throw node.Error($"expected a non-empty list of values, got {node.Description}");
        }

        var values = new List<AxisValue>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in sequence.Items)
        {
            if (item is not ScalarNode scalar || scalar.IsNull)
            {
                throw item.Error($"expected a value, got {item.Description}");
            }

            var value = (!scalar.IsQuoted && TryNumber(scalar.Value, out var number)
                ? new AxisValue(number, scalar.Value)
                : new AxisValue(null, scalar.Value)) with { Origin = Where(scalar) };
            // Numbers compare as numbers: 1 and 1.0 are one point of the column (and of the run), not two runs of it.
            if (!seen.Add(value.Number is { } n ? AxisValue.FormatNumber(n) : value.Text))
            {
                throw item.Error($"value \"{value.Text}\" is listed twice");
            }

            values.Add(value);
        }

        return values;
    }

    private static List<AxisValue> ReadRange(DocumentNode node)
    {
        var map = node as MappingNode ?? throw node.Error($"expected a range such as {{from: 1, to: 16, step: 1}}, got {node.Description}");
        CheckKeys(map, "from", "to", "step");
        var from = Number(map, "from");
        var to = Number(map, "to");
        var step = Number(map, "step");
        if (step <= 0)
        {
            throw Child(map, "step").Error("the step must be greater than 0");
        }

        if (to < from)
        {
            throw Child(map, "to").Error("the range must not end before it starts");
        }

        decimal dFrom, dStep;
        try
        {
            dFrom = (decimal)from;
            dStep = (decimal)step;
        }
        catch (OverflowException)
        {
            throw map.Error("the range bounds are too large");
        }

        if (dStep == 0)
        {
            // 1e-300 is a positive double but rounds to a decimal zero: no range could hold its values.
            throw Child(map, "step").Error(string.Create(CultureInfo.InvariantCulture, $"the step is too small: the range would have more than {MaxAxisValues} values"));
        }

        decimal count;
        try
        {
            count = Math.Floor(((decimal)to - dFrom) / dStep) + 1;
        }
        catch (OverflowException)
        {
            count = decimal.MaxValue;
        }

        if (count > MaxAxisValues)
        {
            throw map.Error(string.Create(CultureInfo.InvariantCulture, $"the range has {count:N0} values, more than {MaxAxisValues:N0}"));
        }

        var values = new List<AxisValue>();
        for (var i = 0; i < (int)count; i++)
        {
            values.Add(AxisValue.Of((double)(dFrom + (i * dStep))) with { Origin = Where(map) });
        }

        return values;
    }

    private static List<AxisValue> ReadLog(DocumentNode node)
    {
        var map = node as MappingNode ?? throw node.Error($"expected a log range such as {{from: 1, to: 10000, points: 9}}, got {node.Description}");
        CheckKeys(map, "from", "to", "points");
        var from = Number(map, "from");
        var to = Number(map, "to");
        var pointsNode = Child(map, "points");
        if (pointsNode is not ScalarNode ps || !int.TryParse(ps.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var points)
            || points < 2 || points > MaxAxisValues)
        {
            throw pointsNode.Error(string.Create(CultureInfo.InvariantCulture, $"expected a number of points from 2 to {MaxAxisValues}"));
        }

        if (from <= 0)
        {
            throw Child(map, "from").Error("a log range starts above 0");
        }

        if (to <= from)
        {
            throw Child(map, "to").Error("a log range ends above where it starts");
        }

        // Four significant digits: 1, 3.162, 10, 31.62, ... whole ends, readable values.
        var values = new List<AxisValue>();
        for (var i = 0; i < points; i++)
        {
            var raw = i == points - 1 ? to : from * Math.Pow(to / from, (double)i / (points - 1));
            var rounded = double.Parse(raw.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (values.Count > 0 && values[^1].Number == rounded)
            {
                continue;
            }

            values.Add(AxisValue.Of(rounded) with { Origin = Where(map) });
        }

        return values;
    }

    private static void CheckKeys(MappingNode map, params string[] keys)
    {
        foreach (var entry in map.Entries)
        {
            if (!keys.Contains(entry.Key.Value))
            {
                throw entry.Key.Error(UnknownKey("key", entry.Key.Value, keys));
            }
        }
    }

    /// <summary>
    /// "unknown sweep key; did you mean set? (expected one of ...)": the nearest name, as a scenario's and a model
    /// file's keys are answered (<see cref="NearestName"/>). The key itself is the error's place, before it.
    /// </summary>
    private static string UnknownKey(string kind, string key, string[] keys) =>
        $"unknown {kind}{NearestName.Hint(key, keys)} (expected one of {string.Join(", ", keys)})";

    private static DocumentNode Child(MappingNode map, string key) =>
        map.TryGetValue(key, out var node) ? node : throw map.Error($"missing key '{key}'");

    private static double Number(MappingNode map, string key)
    {
        var node = Child(map, key);
        if (node is not ScalarNode scalar || !TryNumber(scalar.Value, out var value))
        {
            throw node.Error("expected a number");
        }

        return value;
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static ScalarNode? OptionalScalar(MappingNode map, string key)
    {
        if (!map.TryGetValue(key, out var node))
        {
            return null;
        }

        return node as ScalarNode ?? throw node.Error($"expected one value, got {node.Description}");
    }

    private static ScalarNode RequiredScalar(MappingNode map, string key, string what)
    {
        var scalar = OptionalScalar(map, key) ?? throw map.Error($"missing key '{key}': {what}");
        return scalar.IsNull ? throw scalar.Error("expected " + what) : scalar;
    }
}
