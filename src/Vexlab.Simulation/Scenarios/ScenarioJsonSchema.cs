using System.Globalization;
using System.Text.Json.Nodes;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Values;

namespace Vexlab.Simulation.Scenarios;

/// <summary>
/// docs/scenario.schema.json, built from <see cref="ScenarioSchema"/> so that every key the parser
/// accepts (knobs and costs included) is in it: JSON Schema draft 2020-12 of the nested form of a
/// scenario file. Dotted keys in a file are the same as nesting them; the schema shows the nesting.
/// </summary>
public static class ScenarioJsonSchema
{
    public const string Dialect = "https://json-schema.org/draft/2020-12/schema";

    public static JsonObject Build()
    {
        var root = Group();
        root["$schema"] = Dialect;
        root["$id"] = "https://vexlab/scenario.schema.json";
        root["title"] = "Vexlab scenario";
        root["description"] = "A scenario file (docs/scenarios.md), nested; a dotted key at any level is the same as nesting it "
            + "(docs/scenarios-format.md). Generated from the simulator's key schema: dotnet run --project tools/DocsCheck -- --update.";
        foreach (var spec in ScenarioSchema.Instance.Keys)
        {
            Place(root, spec.Key, Value(spec));
        }

        foreach (var list in ScenarioSchema.Instance.Lists)
        {
            var element = Group();
            foreach (var spec in list.Elements)
            {
                Properties(element)[spec.Key] = Value(spec);
            }

            if (list.Required.Length > 0)
            {
                element["required"] = new JsonArray([.. list.Required.Select(r => (JsonNode)r)]);
            }

            Place(root, list.Key, new JsonObject { ["type"] = "array", ["description"] = list.Description, ["items"] = element });
        }

        Sort(root);
        return root;
    }

    private static JsonObject Group() => new() { ["type"] = "object", ["additionalProperties"] = false, ["properties"] = new JsonObject() };

    private static JsonObject Properties(JsonObject group) => (JsonObject)group["properties"]!;

    private static void Place(JsonObject root, string dotted, JsonObject value)
    {
        var parts = dotted.Split('.');
        var group = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var properties = Properties(group);
            if (properties[parts[i]] is not JsonObject next)
            {
                next = Group();
                properties[parts[i]] = next;
            }

            group = next;
        }

        Properties(group)[parts[^1]] = value;
    }

    private static JsonObject Value(KeySpec spec)
    {
        var o = new JsonObject();
        switch (spec.Kind)
        {
            case ValueKind.Bool:
                o["type"] = "boolean";
                break;
            case ValueKind.Integer:
                o["type"] = "integer";
                if (spec.Min is long min)
                {
                    o["minimum"] = min;
                }

                if (spec.Max is long max)
                {
                    o["maximum"] = max;
                }

                break;
            case ValueKind.Enum:
                o["enum"] = new JsonArray([.. (spec.EnumValues ?? []).Select(v => (JsonNode)v)]);
                break;
            case ValueKind.String:
                o["type"] = "string";
                break;
            default:
                // Sizes, durations, rates and ratios are text with a unit, or a bare number.
                o["type"] = new JsonArray("string", spec.Kind is ValueKind.Ratio or ValueKind.Rate ? "number" : "integer");
                break;
        }

        o["description"] = spec.Description + Hint(spec.Kind);
        if (spec.Default is { } value)
        {
            o["default"] = value switch
            {
                bool b => b,
                int i => i,
                long l => l,
                double d => d,
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            };
        }

        return o;
    }

    private static string Hint(ValueKind kind) => kind switch
    {
        ValueKind.Size => " A size such as 4GiB or 4096.",
        ValueKind.Duration => " A duration such as 250us; only 0 may omit the unit.",
        ValueKind.Rate => " A rate such as 1000/s or 1/250us.",
        ValueKind.Ratio => " A ratio such as 0.5 or 50%.",
        _ => string.Empty,
    };

    /// <summary>Properties in ordinal order, so the file does not move when keys are registered in another order.</summary>
    private static void Sort(JsonObject group)
    {
        if (group["properties"] is JsonObject properties)
        {
            var sorted = properties.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
            properties.Clear();
            foreach (var (key, value) in sorted)
            {
                if (value is JsonObject child)
                {
                    Sort(child);
                    if (child["items"] is JsonObject items)
                    {
                        Sort(items);
                    }
                }

                properties[key] = value;
            }
        }
    }
}
