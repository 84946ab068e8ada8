using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Values;

namespace Vexlab.Scenarios.Documents;

/// <summary>Where a resolved value came from.</summary>
public enum ValueSourceKind
{
    /// <summary>The key's default.</summary>
    Default,

    /// <summary>A scenario document, at a line and column.</summary>
    File,

    /// <summary>A command-line override such as <c>--set k=v</c>.</summary>
    Override,
}

/// <summary>Where a resolved value (or list element) came from.</summary>
/// <param name="Kind">Default, file or override.</param>
/// <param name="Origin">The file name, or the option (<c>--set</c>); null for a default.</param>
/// <param name="Line">1-based line in the file; 0 otherwise.</param>
/// <param name="Column">1-based column in the file; 0 otherwise.</param>
/// <param name="Text">For an override, the <c>key=value</c> text.</param>
public sealed record ValueSource(ValueSourceKind Kind, string? Origin, int Line, int Column, string? Text)
{
    public static ValueSource Default { get; } = new(ValueSourceKind.Default, null, 0, 0, null);

    public static ValueSource InFile(string file, int line, int column) => new(ValueSourceKind.File, file, line, column, null);

    public static ValueSource FromOverride(string origin, string text) => new(ValueSourceKind.Override, origin, 0, 0, text);

    /// <summary>An error placed here, naming <paramref name="key"/>.</summary>
    public InputException Error(string? key, string problem) => Kind switch
    {
        ValueSourceKind.File => InputException.At(Origin, Line, Column, key, problem),
        ValueSourceKind.Override => InputException.At(Origin, 0, 0, key, problem),
        _ => InputException.At("default", 0, 0, key, problem),
    };

    /// <summary><c>default</c>, <c>file.yaml:3:5</c> or <c>--set k=v</c>.</summary>
    public override string ToString() => Kind switch
    {
        ValueSourceKind.File => string.Create(CultureInfo.InvariantCulture, $"{Origin}:{Line}:{Column}"),
        ValueSourceKind.Override => $"{Origin} {Text}",
        _ => "default",
    };
}

/// <summary>One typed value with its key and source.</summary>
/// <param name="Key">Dotted key (relative to the element for list elements).</param>
/// <param name="Kind">The value's kind.</param>
/// <param name="Value">bool, long, <see cref="Rate"/>, double or string, per <see cref="ValueKind"/>.</param>
/// <param name="Source">Where the value came from.</param>
public sealed record ResolvedValue(string Key, ValueKind Kind, object Value, ValueSource Source)
{
    /// <summary>The canonical text of the value.</summary>
    public string Text => ValueFormat.Format(Kind, Value);
}

/// <summary>An immutable, key-ordered map of typed values with typed getters.</summary>
public abstract class TypedValueMap
{
    private readonly ImmutableSortedDictionary<string, ResolvedValue> _values;

    private protected TypedValueMap(IEnumerable<ResolvedValue> values)
    {
        _values = values.ToImmutableSortedDictionary(v => v.Key, v => v, StringComparer.Ordinal);
    }

    /// <summary>All values, ordered by key (ordinal).</summary>
    public IEnumerable<ResolvedValue> Values => _values.Values;

    /// <summary>All keys, ordered (ordinal).</summary>
    public IEnumerable<string> Keys => _values.Keys;

    public int Count => _values.Count;

    /// <exception cref="KeyNotFoundException">The key has no value.</exception>
    public ResolvedValue this[string key] =>
        _values.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no value for {key}");

    public bool Contains(string key) => _values.ContainsKey(key);

    public bool TryGet(string key, out ResolvedValue value) => _values.TryGetValue(key, out value!);

    public bool GetBool(string key) => (bool)Get(key, ValueKind.Bool);

    public long GetInteger(string key) => (long)Get(key, ValueKind.Integer);

    /// <summary>Bytes.</summary>
    public long GetSize(string key) => (long)Get(key, ValueKind.Size);

    /// <summary>Nanoseconds.</summary>
    public long GetDuration(string key) => (long)Get(key, ValueKind.Duration);

    public Rate GetRate(string key) => (Rate)Get(key, ValueKind.Rate);

    public double GetRatio(string key) => (double)Get(key, ValueKind.Ratio);

    /// <summary>The value of an enum or string key.</summary>
    public string GetString(string key)
    {
        var value = this[key];
        return value.Kind is ValueKind.Enum or ValueKind.String
            ? (string)value.Value
            : throw new InvalidOperationException($"{key} is a {value.Kind}, not text");
    }

    private object Get(string key, ValueKind kind)
    {
        var value = this[key];
        return value.Kind == kind ? value.Value : throw new InvalidOperationException($"{key} is a {value.Kind}, not a {kind}");
    }
}

/// <summary>One validated element of a list such as <c>tasks[1]</c>.</summary>
public sealed class ResolvedElement : TypedValueMap
{
    internal ResolvedElement(string listKey, int index, ValueSource source, IEnumerable<ResolvedValue> values)
        : base(values)
    {
        ListKey = listKey;
        Index = index;
        Source = source;
    }

    public string ListKey { get; }

    public int Index { get; }

    /// <summary><c>tasks[1]</c>.</summary>
    public string Path => ListKey + "[" + Index.ToString(CultureInfo.InvariantCulture) + "]";

    /// <summary>Where the element starts (or the override that created it).</summary>
    public ValueSource Source { get; }

    /// <summary>An error at the element's <paramref name="key"/> (or at the element when the key was not written).</summary>
    public InputException ErrorAt(string? key, string problem)
    {
        if (key is null)
        {
            return Source.Error(Path, problem);
        }

        var path = Path + "." + key;
        return TryGet(key, out var value) && value.Source.Kind != ValueSourceKind.Default
            ? value.Source.Error(path, problem)
            : Source.Error(path, problem);
    }
}

/// <summary>
/// Validated scenario settings: every scalar key with its typed value (defaults filled in) and source,
/// and the validated elements of each list.
/// </summary>
public sealed class ResolvedSettings : TypedValueMap
{
    private readonly ImmutableSortedDictionary<string, ImmutableArray<ResolvedElement>> _lists;

    internal ResolvedSettings(
        IEnumerable<ResolvedValue> values,
        IEnumerable<KeyValuePair<string, ImmutableArray<ResolvedElement>>> lists)
        : base(values)
    {
        _lists = lists.ToImmutableSortedDictionary(StringComparer.Ordinal);
    }

    /// <summary>The list keys, ordered.</summary>
    public IEnumerable<string> ListKeys => _lists.Keys;

    /// <summary>The elements of a list; empty when the list was not written.</summary>
    public IReadOnlyList<ResolvedElement> GetList(string key) =>
        _lists.TryGetValue(key, out var elements) ? elements : [];

    /// <summary>An error at the place <paramref name="key"/> was set, for semantic checks.</summary>
    public InputException ErrorAt(string key, string problem) =>
        TryGet(key, out var value) ? value.Source.Error(key, problem) : ValueSource.Default.Error(key, problem);

    /// <summary>An error at an element's key, for checks such as "pinned to a missing vCPU".</summary>
    public static InputException ErrorAt(ResolvedElement element, string? key, string problem) =>
        element.ErrorAt(key, problem);

    /// <summary>
    /// One <c>key=value</c> line per value, keys sorted, values in canonical text, then list
    /// elements as <c>tasks[0].key=value</c>. The input of <see cref="CanonicalHash"/>.
    /// </summary>
    public string ToCanonicalText()
    {
        var builder = new StringBuilder();
        foreach (var value in Values)
        {
            AppendLine(builder, value.Key, value.Text);
        }

        foreach (var (key, elements) in _lists)
        {
            foreach (var element in elements)
            {
                foreach (var value in element.Values)
                {
                    AppendLine(builder, element.Path + "." + value.Key, value.Text);
                }
            }
        }

        return builder.ToString();
    }

    /// <summary>The stable hash of <see cref="ToCanonicalText"/>.</summary>
    public string ComputeHash() => CanonicalHash.Compute(this);

    private static void AppendLine(StringBuilder builder, string key, string text)
    {
        builder.Append(key).Append('=');
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                default: builder.Append(c); break;
            }
        }

        builder.Append('\n');
    }
}
