using System.Collections.Immutable;
using System.Globalization;
using Vexlab.Scenarios.Values;
using Vexlab.Model.Configuration;

namespace Vexlab.Scenarios.Documents;

/// <summary>
/// The registry of typed scenario keys and lists. Callers fill it in once, then resolve documents and
/// overrides against it into <see cref="ResolvedSettings"/>.
/// </summary>
public sealed class KeySchema
{
    private readonly Scope _root = new();
    private readonly Dictionary<string, Scope> _elementScopes = new(StringComparer.Ordinal);

    /// <summary>The scalar keys, sorted.</summary>
    public IEnumerable<KeySpec> Keys => _root.Keys.Values.OrderBy(k => k.Key, StringComparer.Ordinal);

    /// <summary>The list keys, sorted.</summary>
    public IEnumerable<ListSpec> Lists => _root.Lists.Values.OrderBy(l => l.Key, StringComparer.Ordinal);

    /// <summary>Registers a scalar key; the default is parsed and checked.</summary>
    /// <exception cref="ArgumentException">The key clashes with another or its spec is inconsistent.</exception>
    public KeySchema Add(KeySpec spec)
    {
        _root.Add(Normalize(spec));
        return this;
    }

    /// <summary>Registers a list of objects.</summary>
    /// <exception cref="ArgumentException">The key clashes with another or its spec is inconsistent.</exception>
    public KeySchema Add(ListSpec spec)
    {
        var scope = new Scope();
        var elements = new List<KeySpec>();
        foreach (var element in spec.Elements)
        {
            var normalized = Normalize(element);
            scope.Add(normalized);
            elements.Add(normalized);
        }

        foreach (var required in spec.Required)
        {
            if (!scope.Keys.TryGetValue(required, out var element))
            {
                throw new ArgumentException($"{spec.Key}: required key {required} is not an element key", nameof(spec));
            }

            if (element.Default is not null)
            {
                throw new ArgumentException($"{spec.Key}: required key {required} has a default", nameof(spec));
            }
        }

        var normalizedList = spec with { Elements = elements };
        _root.Add(normalizedList);
        _elementScopes.Add(spec.Key, scope);
        return this;
    }

    public bool TryGetKey(string key, out KeySpec spec) => _root.Keys.TryGetValue(key, out spec!);

    public bool TryGetList(string key, out ListSpec spec) => _root.Lists.TryGetValue(key, out spec!);

    /// <summary>The nearest known key or list, or null when nothing is close.</summary>
    public string? Suggest(string unknownKey) => NearestName.Of(unknownKey, _root.Names);

    /// <summary>Resolves one document (or none) plus overrides; later overrides win.</summary>
    /// <exception cref="Vexlab.Model.Configuration.InputException">The input is invalid.</exception>
    public ResolvedSettings Resolve(ScenarioDocument? document, IEnumerable<Override>? overrides = null) =>
        ResolveLayers(document is null ? [] : [document], overrides);

    /// <summary>
    /// Resolves documents in order (a later document's value wins; a list set in a later document
    /// replaces the whole list), then overrides in order.
    /// </summary>
    /// <exception cref="Vexlab.Model.Configuration.InputException">The input is invalid.</exception>
    public ResolvedSettings ResolveLayers(IEnumerable<ScenarioDocument> documents, IEnumerable<Override>? overrides = null)
    {
        var resolver = new Resolver(_root, _elementScopes);
        foreach (var document in documents)
        {
            resolver.Apply(document);
        }

        foreach (var item in overrides ?? [])
        {
            resolver.Apply(item);
        }

        return resolver.Finish();
    }

    /// <summary>
    /// <paramref name="settings"/> with each of <paramref name="keys"/> as though no layer had set it: back at its
    /// default, with the default's source, or absent where it has none. Lists are kept as they are.
    /// </summary>
    public ResolvedSettings Unset(ResolvedSettings settings, IReadOnlyCollection<string> keys)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(keys);
        var values = settings.Values.Where(v => !keys.Contains(v.Key)).ToList();
        foreach (var key in keys)
        {
            if (_root.Keys.TryGetValue(key, out var spec) && spec.Default is not null)
            {
                values.Add(new ResolvedValue(spec.Key, spec.Kind, spec.Default, ValueSource.Default));
            }
        }

        return new ResolvedSettings(values, settings.ListKeys.Select(k => KeyValuePair.Create(k, settings.GetList(k).ToImmutableArray())));
    }

    private static KeySpec Normalize(KeySpec spec)
    {
        Scope.CheckName(spec.Key);
        if (spec.Kind == ValueKind.Enum)
        {
            if (spec.EnumValues is not { Length: > 0 })
            {
                throw new ArgumentException($"{spec.Key}: an enum key needs EnumValues", nameof(spec));
            }

            foreach (var name in spec.EnumValues)
            {
                if (!IsKebab(name))
                {
                    throw new ArgumentException($"{spec.Key}: enum value '{name}' is not kebab-case", nameof(spec));
                }
            }
        }

        if ((spec.Min is not null || spec.Max is not null)
            && spec.Kind is ValueKind.Bool or ValueKind.Enum or ValueKind.String)
        {
            throw new ArgumentException($"{spec.Key}: Min and Max apply to numeric kinds only", nameof(spec));
        }

        if (spec.Default is null)
        {
            return spec;
        }

        object value = spec.Default switch
        {
            string text when spec.Kind != ValueKind.String => ParseDefault(spec, text),
            int i when spec.Kind is ValueKind.Integer or ValueKind.Size or ValueKind.Duration => (long)i,
            int i when spec.Kind is ValueKind.Ratio => (double)i,
            long l when spec.Kind is ValueKind.Ratio => (double)l,
            _ => spec.Default,
        };

        var expected = ValueTypes.ClrType(spec.Kind);
        if (value.GetType() != expected)
        {
            throw new ArgumentException(
                $"{spec.Key}: default of type {value.GetType().Name} does not fit kind {spec.Kind}", nameof(spec));
        }

        if (spec.Kind == ValueKind.Enum)
        {
            var parsed = ScalarParsers.ParseEnum((string)value, spec.EnumValues!);
            if (!parsed.IsOk)
            {
                throw new ArgumentException($"{spec.Key}: default: {parsed.Error}", nameof(spec));
            }
        }

        if (ValueTypes.CheckRange(spec, value) is { } problem)
        {
            throw new ArgumentException($"{spec.Key}: default {problem}", nameof(spec));
        }

        return spec with { Default = value };
    }

    private static object ParseDefault(KeySpec spec, string text)
    {
        var parsed = ScalarParsers.Parse(spec.Kind, text, spec.EnumValues);
        return parsed.IsOk ? parsed.Value : throw new ArgumentException($"{spec.Key}: default: {parsed.Error}", nameof(spec));
    }

    private static bool IsKebab(string value) =>
        value.Length > 0 && value[0] != '-' && value[^1] != '-'
        && !value.Contains("--", StringComparison.Ordinal)
        && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    /// <summary>The keys, lists and groups (key prefixes) visible at one level: the root or a list element.</summary>
    internal sealed class Scope
    {
        public Dictionary<string, KeySpec> Keys { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, ListSpec> Lists { get; } = new(StringComparer.Ordinal);

        /// <summary>Proper prefixes of keys, mapped to one key under them (for examples in messages).</summary>
        public Dictionary<string, string> Groups { get; } = new(StringComparer.Ordinal);

        public IEnumerable<string> Names => Keys.Keys.Concat(Lists.Keys);

        public static void CheckName(string key)
        {
            var segments = key.Split('.');
            foreach (var segment in segments)
            {
                if (segment.Length == 0 || !segment.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
                {
                    throw new ArgumentException(
                        $"'{key}' is not a dotted key of lower-case letters, digits and '_'", nameof(key));
                }
            }
        }

        public void Add(KeySpec spec) => AddName(spec.Key, () => Keys.Add(spec.Key, spec));

        public void Add(ListSpec spec)
        {
            CheckName(spec.Key);
            AddName(spec.Key, () => Lists.Add(spec.Key, spec));
        }

        private void AddName(string key, Action add)
        {
            if (Keys.ContainsKey(key) || Lists.ContainsKey(key) || Groups.ContainsKey(key))
            {
                throw new ArgumentException($"key {key} is already registered or is a group of keys", nameof(key));
            }

            var dot = key.IndexOf('.', StringComparison.Ordinal);
            while (dot > 0)
            {
                var prefix = key[..dot];
                if (Keys.ContainsKey(prefix) || Lists.ContainsKey(prefix))
                {
                    throw new ArgumentException($"key {key} is under {prefix}, which is a value", nameof(key));
                }

                dot = key.IndexOf('.', dot + 1);
            }

            add();
            dot = key.IndexOf('.', StringComparison.Ordinal);
            while (dot > 0)
            {
                Groups.TryAdd(key[..dot], key);
                dot = key.IndexOf('.', dot + 1);
            }
        }
    }
}

internal static class ValueTypes
{
    public static Type ClrType(ValueKind kind) => kind switch
    {
        ValueKind.Bool => typeof(bool),
        ValueKind.Integer or ValueKind.Size or ValueKind.Duration => typeof(long),
        ValueKind.Rate => typeof(Rate),
        ValueKind.Ratio => typeof(double),
        _ => typeof(string),
    };

    /// <summary>What a value of the kind looks like, for "got nothing" messages.</summary>
    public static string Expected(KeySpec spec) => spec.Kind switch
    {
        ValueKind.Bool => ScalarParsers.BoolExpected,
        ValueKind.Integer => ScalarParsers.IntegerExpected,
        ValueKind.Size => ScalarParsers.SizeExpected,
        ValueKind.Duration => ScalarParsers.DurationExpected,
        ValueKind.Rate => ScalarParsers.RateExpected,
        ValueKind.Ratio => ScalarParsers.RatioExpected,
        ValueKind.Enum => "expected one of " + string.Join(", ", spec.EnumValues ?? []),
        _ => "expected text",
    };

    /// <summary>Null when the value is within Min and Max, else the problem.</summary>
    public static string? CheckRange(KeySpec spec, object value)
    {
        var min = spec.Min ?? (spec.Kind is ValueKind.Size or ValueKind.Duration ? 0 : null);
        var max = spec.Max;
        if (min is null && max is null)
        {
            return null;
        }

        int CompareTo(long bound) => spec.Kind switch
        {
            ValueKind.Rate => ((Rate)value).CompareToEventsPerSecond(bound),
            ValueKind.Ratio => ((double)value).CompareTo(bound),
            _ => ((long)value).CompareTo(bound),
        };

        // A ratio is often written as a percentage (150%): both forms are shown, so the message reads either way.
        static string Percent(double ratio) => (ratio * 100).ToString("0.####", CultureInfo.InvariantCulture) + "%";

        string Show(long bound) => spec.Kind switch
        {
            ValueKind.Rate => ValueFormat.FormatRate(Rate.FromEventsPerSecond(Math.Max(0, bound))),
            ValueKind.Ratio => $"{bound.ToString(CultureInfo.InvariantCulture)} ({Percent(bound)})",
            _ => ValueFormat.Format(spec.Kind, bound),
        };

        var shown = spec.Kind == ValueKind.Ratio
            ? $"{ValueFormat.Format(spec.Kind, value)} ({Percent((double)value)})"
            : ValueFormat.Format(spec.Kind, value);
        if (min is { } low && CompareTo(low) < 0)
        {
            return $"must be at least {Show(low)}, got {shown}";
        }

        if (max is { } high && CompareTo(high) > 0)
        {
            return $"must be at most {Show(high)}, got {shown}";
        }

        return null;
    }
}
