using System.Collections.Immutable;
using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Values;

namespace Vexlab.Scenarios.Documents;

/// <summary>Applies documents and overrides over the defaults of a schema, validating as it goes.</summary>
internal sealed class Resolver
{
    private readonly KeySchema.Scope _root;
    private readonly Dictionary<string, KeySchema.Scope> _elementScopes;
    private readonly Dictionary<string, ResolvedValue> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ElementBuilder>> _lists = new(StringComparer.Ordinal);

    public Resolver(KeySchema.Scope root, Dictionary<string, KeySchema.Scope> elementScopes)
    {
        _root = root;
        _elementScopes = elementScopes;
        foreach (var spec in root.Keys.Values)
        {
            if (spec.Default is not null)
            {
                _values[spec.Key] = new ResolvedValue(spec.Key, spec.Kind, spec.Default, ValueSource.Default);
            }
        }
    }

    public void Apply(ScenarioDocument document)
    {
        var seen = new Dictionary<string, ScalarNode>(StringComparer.Ordinal);
        Walk(_root, document.Root, string.Empty, string.Empty, _values, _lists, seen);
    }

    public void Apply(Override item)
    {
        if (item.ListKey is null)
        {
            ApplyScalar(item);
            return;
        }

        var listKey = item.ListKey;
        if (!_root.Lists.TryGetValue(listKey, out var list))
        {
            throw InputException.At(item.Origin, 0, 0, item.Key, "unknown list" + NearestName.Hint(listKey, _root.Lists.Keys));
        }

        var scope = _elementScopes[listKey];
        var elements = _lists.TryGetValue(listKey, out var existing) ? existing : _lists[listKey] = [];
        if (item.Index > elements.Count)
        {
            var range = elements.Count == 0
                ? $"{listKey} has no elements; set {listKey}[0] first"
                : $"{listKey} has {elements.Count} elements, {listKey}[0] to {listKey}[{elements.Count - 1}]; "
                  + $"{listKey}[{elements.Count}] adds one";
            throw InputException.At(item.KeyOrigin ?? item.Origin, 0, 0, item.Key, Invariant($"index {item.Index} is out of range: {range}"));
        }

        if (item.Index == elements.Count)
        {
            elements.Add(new ElementBuilder(list, item.Index, ValueSource.FromOverride(item.Origin, item.Text), scope));
        }

        var element = elements[item.Index];
        var elementKey = item.ElementKey!;
        if (!scope.Keys.TryGetValue(elementKey, out var spec))
        {
            var problem = scope.Groups.TryGetValue(elementKey, out var example)
                ? $"is a group of keys; set one of them, such as {element.Path}.{example}"
                : $"unknown key in an element of {listKey}" + NearestName.Hint(elementKey, scope.Names, element.Path + ".");
            throw InputException.At(item.KeyOrigin ?? item.Origin, 0, 0, item.Key, problem);
        }

        element.Values[elementKey] = ParseOverride(spec, elementKey, item);
    }

    public ResolvedSettings Finish()
    {
        var lists = new List<KeyValuePair<string, ImmutableArray<ResolvedElement>>>();
        foreach (var (key, builders) in _lists)
        {
            var elements = ImmutableArray.CreateBuilder<ResolvedElement>(builders.Count);
            foreach (var builder in builders)
            {
                foreach (var required in builder.List.Required)
                {
                    if (!builder.Values.ContainsKey(required))
                    {
                        throw builder.Source.Error(
                            builder.Path,
                            $"missing required key {required} (each element of {key} needs {string.Join(", ", builder.List.Required)})");
                    }
                }

                elements.Add(new ResolvedElement(key, builder.Index, builder.Source, builder.Values.Values));
            }

            lists.Add(new(key, elements.MoveToImmutable()));
        }

        return new ResolvedSettings(_values.Values, lists);
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static ResolvedValue ParseOverride(KeySpec spec, string key, Override item)
    {
        var source = ValueSource.FromOverride(item.Origin, item.Text);
        if (item.IsNull)
        {
            throw InputException.At(item.Origin, 0, 0, item.Key, $"{ValueTypes.Expected(spec)}, got nothing");
        }

        var parsed = ScalarParsers.Parse(spec.Kind, item.Value, spec.EnumValues);
        if (!parsed.IsOk)
        {
            throw InputException.At(item.Origin, 0, 0, item.Key, parsed.Error!);
        }

        if (ValueTypes.CheckRange(spec, parsed.Value) is { } problem)
        {
            throw InputException.At(item.Origin, 0, 0, item.Key, problem);
        }

        return new ResolvedValue(key, spec.Kind, parsed.Value, source);
    }

    private static ResolvedValue ParseNode(KeySpec spec, string key, DocumentNode node, string display)
    {
        if (node is not ScalarNode scalar || scalar.IsNull)
        {
            throw InputException.At(node.File, node.Line, node.Column, display, $"{ValueTypes.Expected(spec)}, got {node.Description}");
        }

        var parsed = ScalarParsers.Parse(spec.Kind, scalar.Value, spec.EnumValues);
        if (!parsed.IsOk)
        {
            throw InputException.At(node.File, node.Line, node.Column, display, parsed.Error!);
        }

        if (ValueTypes.CheckRange(spec, parsed.Value) is { } problem)
        {
            throw InputException.At(node.File, node.Line, node.Column, display, problem);
        }

        return new ResolvedValue(key, spec.Kind, parsed.Value, ValueSource.InFile(node.File, node.Line, node.Column));
    }

    private void ApplyScalar(Override item)
    {
        var key = item.Key;
        if (_root.Keys.TryGetValue(key, out var spec))
        {
            _values[key] = ParseOverride(spec, key, item);
            return;
        }

        string problem;
        if (_root.Lists.ContainsKey(key))
        {
            var example = _elementScopes[key].Keys.Keys.Order(StringComparer.Ordinal).FirstOrDefault() ?? "key";
            problem = $"is a list; set a key of one element, such as {key}[0].{example}=...";
        }
        else if (_root.Groups.TryGetValue(key, out var example))
        {
            problem = $"is a group of keys; set one of them, such as {example}=...";
        }
        else
        {
            problem = "unknown key" + NearestName.Hint(key, _root.Names);
        }

        throw InputException.At(item.KeyOrigin ?? item.Origin, 0, 0, key, problem);
    }

    private void Walk(
        KeySchema.Scope scope,
        MappingNode mapping,
        string prefix,
        string displayPrefix,
        Dictionary<string, ResolvedValue> values,
        Dictionary<string, List<ElementBuilder>>? lists,
        Dictionary<string, ScalarNode> seen)
    {
        foreach (var (keyNode, valueNode) in mapping.Entries)
        {
            var name = prefix + keyNode.Value;
            var display = displayPrefix + name;
            if (scope.Keys.TryGetValue(name, out var spec))
            {
                CheckSeen(seen, name, keyNode, display);
                values[name] = ParseNode(spec, name, valueNode, display);
            }
            else if (lists is not null && scope.Lists.TryGetValue(name, out var list))
            {
                CheckSeen(seen, name, keyNode, display);
                lists[name] = ReadList(list, valueNode, display);
            }
            else if (scope.Groups.TryGetValue(name, out var example))
            {
                if (valueNode is not MappingNode nested)
                {
                    throw InputException.At(
                        valueNode.File, valueNode.Line, valueNode.Column, display,
                        $"expected a mapping of keys under {display} (such as {displayPrefix}{example}), got {valueNode.Description}");
                }

                Walk(scope, nested, name + ".", displayPrefix, values, lists, seen);
            }
            else
            {
                throw InputException.At(
                    keyNode.File, keyNode.Line, keyNode.Column, display,
                    "unknown key" + NearestName.Hint(name, scope.Names, displayPrefix));
            }
        }
    }

    private static void CheckSeen(Dictionary<string, ScalarNode> seen, string name, ScalarNode keyNode, string display)
    {
        if (seen.TryGetValue(name, out var first))
        {
            throw InputException.At(
                keyNode.File, keyNode.Line, keyNode.Column, display,
                Invariant($"duplicate key (first defined at line {first.Line}, column {first.Column})"));
        }

        seen.Add(name, keyNode);
    }

    private List<ElementBuilder> ReadList(ListSpec list, DocumentNode node, string display)
    {
        var elements = new List<ElementBuilder>();
        if (node is ScalarNode { IsNull: true })
        {
            return elements;
        }

        if (node is not SequenceNode sequence)
        {
            throw InputException.At(
                node.File, node.Line, node.Column, display, $"expected a list of mappings, got {node.Description}");
        }

        var scope = _elementScopes[list.Key];
        foreach (var item in sequence.Items)
        {
            var builder = new ElementBuilder(list, elements.Count, ValueSource.InFile(item.File, item.Line, item.Column), scope);
            if (item is not MappingNode mapping)
            {
                throw InputException.At(
                    item.File, item.Line, item.Column, builder.Path,
                    $"expected a mapping with keys such as {string.Join(", ", scope.Keys.Keys.Order(StringComparer.Ordinal).Take(4))}, got {item.Description}");
            }

            var seen = new Dictionary<string, ScalarNode>(StringComparer.Ordinal);
            Walk(scope, mapping, string.Empty, builder.Path + ".", builder.Values, null, seen);
            elements.Add(builder);
        }

        return elements;
    }

    private sealed class ElementBuilder
    {
        public ElementBuilder(ListSpec list, int index, ValueSource source, KeySchema.Scope scope)
        {
            List = list;
            Index = index;
            Source = source;
            foreach (var spec in scope.Keys.Values)
            {
                if (spec.Default is not null)
                {
                    Values[spec.Key] = new ResolvedValue(spec.Key, spec.Kind, spec.Default, ValueSource.Default);
                }
            }
        }

        public ListSpec List { get; }

        public int Index { get; }

        public ValueSource Source { get; }

        public string Path => List.Key + "[" + Index.ToString(CultureInfo.InvariantCulture) + "]";

        public Dictionary<string, ResolvedValue> Values { get; } = new(StringComparer.Ordinal);
    }
}
