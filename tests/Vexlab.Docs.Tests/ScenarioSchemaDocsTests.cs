using System.Text.Json.Nodes;
using Json.Schema;
using Vexlab.DocsCheck;
using Vexlab.Model.Protocols;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Scenarios;
using YamlDotNet.RepresentationModel;

namespace Vexlab.Docs.Tests;

/// <summary>docs/scenario.schema.json and docs/scenarios.md name every key the scenario parser accepts.</summary>
public sealed class ScenarioSchemaDocsTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Fact]
    public void Generated_docs_files_are_what_the_code_generates()
    {
        var stale = GeneratedDocs.Check(Root, update: false);
        Assert.True(stale.Count == 0, $"{string.Join(", ", stale)} differ; regenerate with: {DocsRun.UpdateCommand}");
    }

    [Fact]
    public void Every_key_the_parser_accepts_is_in_the_json_schema()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "docs", "scenario.schema.json")))!.AsObject();
        var missing = new List<string>();
        foreach (var spec in ScenarioSchema.Instance.Keys)
        {
            if (Find(schema, spec.Key) is null)
            {
                missing.Add(spec.Key);
            }
        }

        foreach (var list in ScenarioSchema.Instance.Lists)
        {
            var items = Find(schema, list.Key)?["items"]?.AsObject();
            if (items is null)
            {
                missing.Add(list.Key + "[]");
                continue;
            }

            missing.AddRange(list.Elements.Where(e => items["properties"]?[e.Key] is null).Select(e => list.Key + "[]." + e.Key));
        }

        Assert.Empty(missing);
        Assert.NotNull(Find(schema, "host.latency"));
        Assert.NotNull(Find(schema, "host.overcommit"));
    }

    [Fact]
    public void Every_key_the_parser_accepts_is_in_scenarios_md()
    {
        var text = File.ReadAllText(Path.Combine(Root, "docs", "scenarios.md"));
        var rows = text.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();
        var missing = new List<string>();
        foreach (var spec in ScenarioSchema.Instance.Keys)
        {
            // Costs and protocol knobs are rows of their own catalogues (explain costs, explain keys),
            // which the page names by their prefix rows.
            var covered = CostModel.Defaults.Any(c => c.Key == spec.Key)
                ? rows.Any(r => r.StartsWith("| `cost.*`", StringComparison.Ordinal))
                : KnobCatalog.Find(spec.Key) is not null
                    ? rows.Any(r => r.Contains("vexlab explain keys", StringComparison.Ordinal))
                    : rows.Any(r => r.StartsWith("| `" + spec.Key + "`", StringComparison.Ordinal));
            if (!covered)
            {
                missing.Add(spec.Key);
            }
        }

        foreach (var list in ScenarioSchema.Instance.Lists)
        {
            var row = rows.FirstOrDefault(r => r.StartsWith("| `" + list.Key + "[]`", StringComparison.Ordinal));
            if (row is null)
            {
                missing.Add(list.Key + "[]");
                continue;
            }

            missing.AddRange(list.Elements.Where(e => !row.Contains("`" + e.Key + "`", StringComparison.Ordinal)).Select(e => list.Key + "[]." + e.Key));
        }

        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("scenarios/postcopy.yaml")]
    [InlineData("scenarios/swap-overcommit.yaml")]
    [InlineData("scenarios/kernel-heavy.yaml")]
    [InlineData("scenarios/dax-truncate.yaml")]
    [InlineData("scenarios/far-memory.yaml")]
    public void Scenario_files_validate_against_the_json_schema(string file)
    {
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Root, "docs", "scenario.schema.json")));
        var instance = YamlToJson.Load(File.ReadAllText(Path.Combine(Root, file)));
        var result = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, SchemaErrors.Describe(result));
    }

    [Fact]
    public void A_key_the_parser_rejects_fails_the_json_schema()
    {
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Root, "docs", "scenario.schema.json")));
        var instance = YamlToJson.Load("host:\n  fault_latency: 250us\n");
        Assert.False(schema.Evaluate(instance).IsValid);
    }

    private static JsonObject? Find(JsonObject schema, string dotted)
    {
        JsonObject? node = schema;
        foreach (var part in dotted.Split('.'))
        {
            node = node?["properties"]?[part] as JsonObject;
        }

        return node;
    }
}

/// <summary>A YAML scenario as the JSON a schema checks: dotted keys nested, plain scalars typed as YAML 1.2 core reads them.</summary>
internal static class YamlToJson
{
    public static JsonNode Load(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return Convert(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var o = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    var parts = ((YamlScalarNode)key).Value!.Split('.');
                    var target = o;
                    foreach (var part in parts[..^1])
                    {
                        target = target[part] as JsonObject ?? (JsonObject)(target[part] = new JsonObject());
                    }

                    target[parts[^1]] = Convert(value);
                }

                return o;
            case YamlSequenceNode list:
                return new JsonArray([.. list.Children.Select(Convert)]);
            case YamlScalarNode scalar:
                var s = scalar.Value ?? string.Empty;
                if (scalar.Style != YamlDotNet.Core.ScalarStyle.Plain)
                {
                    return s;
                }

                if (s is "true" or "false")
                {
                    return s == "true";
                }

                if (long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l))
                {
                    return l;
                }

                if (double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d))
                {
                    return d;
                }

                return s;
            default:
                return null;
        }
    }
}

/// <summary>A schema evaluation's failures as text for an assertion message.</summary>
internal static class SchemaErrors
{
    public static string Describe(EvaluationResults result) =>
        string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")).Take(20));
}
