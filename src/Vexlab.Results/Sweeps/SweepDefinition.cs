using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;

namespace Vexlab.Results.Sweeps;

/// <summary>The base scenario of a sweep: a built-in scenario name, or a file.</summary>
/// <param name="Name">The built-in name (<c>postcopy</c>), or null for a file.</param>
/// <param name="Path">The full path of the scenario file, or null for a built-in name.</param>
/// <param name="ContentHash">For a file, the hash of its text (part of the sweep hash).</param>
public sealed record ScenarioRef(string? Name, string? Path, string? ContentHash)
{
    public static ScenarioRef Builtin(string name) => new(name, null, null);

    /// <summary>Where the sweep names the scenario (<c>x.yaml:2:11</c>), for messages; null for a built-in sweep.</summary>
    public string? Origin { get; init; }

    /// <summary>
    /// For a file, its text as the sweep read it: the text of <see cref="ContentHash"/>, which every run parses
    /// rather than reading the file again, so a file edited while the sweep runs changes no run of it (those runs
    /// would be stored under keys and a sweep hash of the text before the edit).
    /// </summary>
    public string? Text { get; init; }

    /// <summary>How the scenario appears in the sweep's canonical text.</summary>
    public string Identity => Name is not null ? "builtin:" + Name : "file:" + ContentHash;

    public override string ToString() => Name ?? Path ?? string.Empty;
}

/// <summary>One value of an axis: a number (written without unit) or a text.</summary>
/// <param name="Number">The number, or null for a text value.</param>
/// <param name="Text">The value as the scenario key gets it, without the unit.</param>
public sealed record AxisValue(double? Number, string Text)
{
    /// <summary>
    /// Where the value is written (<c>x.yaml:8:17</c>; for a range or log axis, the range), so an
    /// error in the value names its place in the sweep file; null for a built-in sweep.
    /// </summary>
    public string? Origin { get; init; }

    public static AxisValue Of(double number) => new(number, FormatNumber(number));

    /// <summary>The value stored in the axis column: a long, a double or a string.</summary>
    public object ColumnValue => Number switch
    {
        null => Text,
        var n when n == Math.Floor(n.Value) && Math.Abs(n.Value) < 9e15 => (long)n.Value,
        var n => n.Value,
    };

    public static string FormatNumber(double number) => number.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>One axis: a column name, the scenario key or knob it sets, and its values.</summary>
/// <param name="Name">The column name in the result store.</param>
/// <param name="Key">The scenario key or knob (<c>host.latency</c>, <c>tasks[0].count</c>).</param>
/// <param name="Unit">Appended to each value when setting the key (<c>us</c>), or null.</param>
/// <param name="Values">The values in order.</param>
/// <param name="Line">Where the axis was written, for messages.</param>
public sealed record SweepAxis(string Name, string Key, string? Unit, IReadOnlyList<AxisValue> Values, int Line = 0)
{
    /// <summary>Where the axis's key was written (file:line:column), for a key the scenario does not have.</summary>
    public string? KeyOrigin { get; init; }

    /// <summary>True when every value is a number: the column is numeric.</summary>
    public bool IsNumeric => Values.All(v => v.Number is not null);

    /// <summary>The value in this axis's column: all-whole-number axes are BIGINT, other numeric axes DOUBLE.</summary>
    public object ColumnValue(AxisValue value) => ColumnValue(value, AllWhole);

    /// <summary>Every value of the axis as its column holds it, in order (the axis looked at once, not once a value).</summary>
    public IEnumerable<object> ColumnValues()
    {
        var whole = AllWhole;
        foreach (var value in Values)
        {
            yield return ColumnValue(value, whole);
        }
    }

    private bool AllWhole => Values.All(v => v.ColumnValue is long);

    private static object ColumnValue(AxisValue value, bool allWhole) =>
        value.Number is { } n && !allWhole ? n : value.ColumnValue;

    /// <summary>The <c>key=value</c> text setting this axis to <paramref name="value"/>.</summary>
    public string SetText(AxisValue value) => Key + "=" + value.Text + (Unit ?? string.Empty);
}

/// <summary>A parsed sweep: base scenario, overrides, protocol entries, seeds and axes.</summary>
public sealed record SweepDefinition
{
    /// <summary>The sweep's name (the file name without extension unless given).</summary>
    public required string Name { get; init; }

    public string Description { get; init; } = string.Empty;

    /// <summary>Where the sweep came from: a file path or <c>builtin:NAME</c>.</summary>
    public required string Source { get; init; }

    public required ScenarioRef Scenario { get; init; }

    /// <summary>Overrides of the base scenario: the file's <c>set</c>, then the command line's <c>--set</c>.</summary>
    public IReadOnlyList<Override> Sets { get; init; } = [];

    public required IReadOnlyList<ProtocolEntry> Protocols { get; init; }

    public required IReadOnlyList<long> Seeds { get; init; }

    public required IReadOnlyList<SweepAxis> Axes { get; init; }

    /// <summary>The number of points: the product of the axes' value counts (1 with no axes).</summary>
    public long PointCount
    {
        get
        {
            long count = 1;
            foreach (var axis in Axes)
            {
                count = axis.Values.Count == 0 ? 0 : count > long.MaxValue / axis.Values.Count ? long.MaxValue : count * axis.Values.Count;
            }

            return count;
        }
    }

    /// <summary>The number of runs: points x seeds x protocol entries (saturating).</summary>
    public long RunCount
    {
        get
        {
            var points = PointCount;
            var per = (long)Seeds.Count * Protocols.Count;
            return per == 0 ? 0 : points > long.MaxValue / per ? long.MaxValue : points * per;
        }
    }

    /// <summary>This sweep with more overrides after its own (the command line's <c>--set</c>).</summary>
    /// <exception cref="InputException">An override sets a key one of the axes sets.</exception>
    public SweepDefinition WithSets(IReadOnlyList<Override> extra)
    {
        RefuseSeedSets(extra);
        RefuseAxisKeys(extra, Axes);
        return extra.Count == 0 ? this : this with { Sets = [.. Sets, .. extra] };
    }

    /// <summary>
    /// Refuses an override of <c>seed</c>: every run sets its seed from the sweep's <c>seeds</c> after
    /// the overrides, so a <c>set</c>, <c>--set</c> or protocol entry's seed changed nothing, silently.
    /// </summary>
    /// <exception cref="InputException">One of <paramref name="sets"/> sets the seed.</exception>
    internal static void RefuseSeedSets(IEnumerable<Override> sets) => Overrides.RefuseKeys(sets, ("seed", SeedProblem));

    /// <summary>
    /// Refuses a protocol entry's <c>duration</c>: entry knobs are applied after the sweep's <c>set</c>, its axes
    /// and <c>--set</c>, so <c>ve[duration=1ms]</c> ran 1 ms beside the other entries' duration, silently, as
    /// <c>compare</c> and <c>run</c> refuse it.
    /// </summary>
    /// <exception cref="InputException">One of <paramref name="entries"/> sets the duration.</exception>
    internal static void RefuseEntryDurations(IEnumerable<ProtocolEntry> entries) =>
        Overrides.RefuseKeys(entries.SelectMany(e => e.Overrides), ("duration", "duration: the entries run for one duration; set it for all under set: or with --set duration=T"));

    /// <summary>What a sweep answers a seed given anywhere but its <c>seeds</c>.</summary>
    internal const string SeedProblem = "seed: each run's seed comes from the sweep's seeds; list them there (seeds: N, or a list such as [1, 7, 42])";

    /// <summary>
    /// Refuses an override of a key that an axis sets: every run applies its axis value after the
    /// overrides, so the override would change nothing, silently, while the sweep hash and the replay
    /// lines still carry it. The error names the override's origin (<c>--set</c>, or the sweep file's line).
    /// </summary>
    /// <exception cref="InputException">An override sets a key one of <paramref name="axes"/> sets.</exception>
    internal static void RefuseAxisKeys(IEnumerable<Override> sets, IReadOnlyList<SweepAxis> axes)
    {
        if (axes.Count == 0)
        {
            return;
        }

        var axisKeys = axes.Select(a => (Axis: a, Key: Overrides.ParseSet(a.Key + "=0", "axis " + a.Name))).ToList();
        foreach (var set in sets)
        {
            var axis = axisKeys.FirstOrDefault(a => a.Key.SetsSameKey(set)).Axis;
            if (axis is not null)
            {
                throw InputException.At(set.Origin, 0, 0, null, $"{set.Key} is the sweep's axis {axis.Name}; each run sets it from the axis values");
            }
        }
    }

    /// <summary>
    /// The text the sweep hash is computed from: everything that decides which runs exist and what
    /// they compute (scenario, overrides, protocols, seeds, axes); the description is left out.
    /// </summary>
    public string ToCanonicalText()
    {
        var lines = new List<string> { "name=" + Name };
        lines.AddRange(BaseLines());
        lines.AddRange(Protocols.Select(p => "protocol=" + p.Label));
        lines.Add("seeds=" + string.Join(',', Seeds.Select(s => s.ToString(CultureInfo.InvariantCulture))));
        foreach (var axis in Axes)
        {
            lines.Add($"axis={axis.Name};key={axis.Key};unit={axis.Unit};values={string.Join(',', axis.Values.Select(v => v.Text))}");
        }

        return string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// The base scenario after the overrides, as text, one line each: the scenario (a built-in's name, or a file's
    /// content hash) and every override of <see cref="Sets"/> in order. Part of every run key: a run of another base
    /// (another duration, another <c>--set</c>) is another run. It is the text, not the resolved scenario, so a
    /// respelt value (<c>50ms</c> for <c>50000us</c>) runs again rather than being taken for the same.
    /// </summary>
    public string BaseIdentity => string.Concat(BaseLines().Select(line => line + "\n"));

    private IEnumerable<string> BaseLines() =>
        Sets.Select(s => "set=" + s.Key + "=" + s.Value).Prepend("scenario=" + Scenario.Identity);

    /// <summary>The sweep hash: 32 hex digits.</summary>
    public string ComputeHash() => CanonicalHash.Compute(ToCanonicalText());
}
