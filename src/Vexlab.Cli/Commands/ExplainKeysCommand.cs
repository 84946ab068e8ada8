using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Values;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain keys</c>: every model knob with its type, defaults, values, protocols and source.</summary>
public static class ExplainKeysCommand
{
    public static Command Create(CliContext context) =>
        ReportCommand.Create(
            context,
            "keys",
            "Print every model knob: type, default, values, protocols and source; and every scenario key",
            new Argument<string?>("KEY") { Description = "Only this key, or the keys under it (such as guest.apf, or tasks[])", Arity = ArgumentArity.ZeroOrOne },
            WriteHuman,
            BuildDocument);

    /// <summary>
    /// Whether <paramref name="key"/> is selected by <paramref name="selected"/>: every key without a selection, else
    /// the key itself and the keys under it, a dotted segment at a time (guest.apf selects guest.apf.dummy_entries,
    /// not guest.apfx).
    /// </summary>
    internal static bool Selects(string? selected, string key) =>
        selected is null || key == selected || (key.StartsWith(selected, StringComparison.Ordinal)
            && (selected.EndsWith('.') || selected.EndsWith(']') || key[selected.Length] is '.' or '['));

    private static void RequireSelection(string? selected)
    {
        if (selected is null)
        {
            return;
        }

        var all = KnobCatalog.All.Select(k => k.Key).Concat(ScenarioKeys().Select(k => k.Key)).ToList();
        if (!all.Any(k => Selects(selected, k)))
        {
            // A selection may be a prefix (guest.apf, tasks[]), so the nearest is sought among the prefixes too:
            // against whole keys alone, guest.ap was refused with no word of guest.apf (docs/scenarios-format.md).
            var names = all.Concat(all.SelectMany(Prefixes)).Distinct(StringComparer.Ordinal);
            throw new InputException($"no key {ErrorText.Quote(selected)} and none under it{NearestName.Aside(selected, names)}");
        }
    }

    /// <summary>The selections above <paramref name="key"/>, a dotted segment at a time: guest and guest.apf for guest.apf.enabled, tasks[] for tasks[].loop.</summary>
    private static IEnumerable<string> Prefixes(string key)
    {
        for (var i = 1; i < key.Length; i++)
        {
            if (key[i] is '.' or '[')
            {
                yield return key[..i];
            }
        }
    }

    internal static JsonObject BuildDocument(string? selected = null)
    {
        RequireSelection(selected);
        var doc = ResultDocument.Create();
        var keys = new JsonArray();
        foreach (var knob in KnobCatalog.All.Where(k => Selects(selected, k.Key)))
        {
            var protocols = new JsonArray();
            foreach (var p in Protocols(knob))
            {
                protocols.Add(p);
            }

            var perProtocol = new JsonObject();
            foreach (var p in Protocols(knob))
            {
                perProtocol[p] = knob.DefaultFor(p);
            }

            var entry = new JsonObject
            {
                ["key"] = knob.Key,
                ["type"] = TypeName(knob.Kind),
                ["default"] = knob.Default,
                ["protocol_defaults"] = perProtocol,
                ["protocols"] = protocols,
                ["source"] = knob.Source,
                ["description"] = knob.Description,
            };
            if (knob.Kind == KnobKind.Enum)
            {
                var values = new JsonArray();
                foreach (var v in knob.Values ?? [])
                {
                    values.Add(v);
                }

                entry["values"] = values;
            }
            else if (knob.Kind == KnobKind.Integer)
            {
                entry["min"] = knob.Min;
                entry["max"] = knob.Max;
            }
            else
            {
                entry["values"] = new JsonArray("true", "false");
            }

            keys.Add(entry);
        }

        doc["keys"] = keys;
        var scenario = new JsonArray();
        foreach (var (key, spec) in ScenarioKeys().Where(k => Selects(selected, k.Key)))
        {
            var entry = new JsonObject
            {
                ["key"] = key,
                ["type"] = spec.Kind.ToString().ToLowerInvariant(),
                ["default"] = DefaultText(spec),
                ["description"] = spec.Description,
            };
            if (spec.Unit is not null)
            {
                entry["unit"] = spec.Unit;
            }

            if (spec.EnumValues is not null)
            {
                entry["values"] = new JsonArray([.. spec.EnumValues.Select(v => (JsonNode)v)]);
            }

            scenario.Add(entry);
        }

        doc["scenario_keys"] = scenario;
        return doc;
    }

    /// <summary>The simulator's scenario keys (list elements as <c>tasks[].loop</c>), knobs left to the table above.</summary>
    private static IEnumerable<(string Key, KeySpec Spec)> ScenarioKeys()
    {
        var schema = ScenarioSchema.Instance;
        foreach (var spec in schema.Keys)
        {
            if (KnobCatalog.Find(spec.Key) is null)
            {
                yield return (spec.Key, spec);
            }
        }

        foreach (var list in schema.Lists)
        {
            foreach (var element in list.Elements)
            {
                var required = Array.IndexOf(list.Required, element.Key) >= 0;
                yield return ($"{list.Key}[].{element.Key}", required && element.Default is null ? element with { Default = RequiredMark } : element);
            }
        }
    }

    private const string RequiredMark = "(required)";

    private static string DefaultText(KeySpec spec) => spec.Default switch
    {
        null => "-",
        string text => text,
        var value => ValueFormat.Format(spec.Kind, value),
    };

    private static string[] Protocols(KnobInfo knob) => knob.Protocols.Length == 0 ? ProtocolCatalog.Names : knob.Protocols;

    private static string TypeName(KnobKind kind) => kind switch
    {
        KnobKind.Bool => "bool",
        KnobKind.Integer => "int",
        _ => "enum",
    };

    private static string ValuesText(KnobInfo knob) => knob.Kind switch
    {
        KnobKind.Bool => "true, false",
        KnobKind.Integer => string.Create(CultureInfo.InvariantCulture, $"{knob.Min}..{knob.Max}"),
        _ => string.Join(", ", knob.Values ?? []),
    };

    private static string DefaultText(KnobInfo knob)
    {
        var text = knob.Default;
        foreach (var (protocol, value) in knob.ProtocolDefaults)
        {
            text += $" ({protocol}: {value})";
        }

        return text;
    }

    private static void WriteHuman(IAnsiConsole console, int width, string? selected)
    {
        var table = new FittedTable(TableShape.Records, "Model knobs")
            .Column("key")
            .Column("type")
            .Column("default")
            .Column("values")
            .Column("protocols")
            .Column("source");
        foreach (var knob in KnobCatalog.All.Where(k => Selects(selected, k.Key)))
        {
            table.Row(
                knob.Key,
                TypeName(knob.Kind),
                DefaultText(knob),
                ValuesText(knob),
                knob.Protocols.Length == 0 ? "all" : string.Join(", ", knob.Protocols),
                knob.Source);
        }

        if (table.RowCount > 0)
        {
            table.Write(console, width);
        }

        var scenario = new FittedTable(TableShape.Records, "Scenario keys (YAML, --set, or the run's JSON)")
            .Column("key")
            .Column("type")
            .Column("default")
            .Column("description");
        foreach (var (key, spec) in ScenarioKeys().Where(k => Selects(selected, k.Key)))
        {
            var type = spec.Kind.ToString().ToLowerInvariant() + (spec.EnumValues is null ? string.Empty : $" ({string.Join(", ", spec.EnumValues)})");
            scenario.Row(key, type, DefaultText(spec), spec.Description);
        }

        if (scenario.RowCount > 0)
        {
            scenario.Write(console, width);
        }
    }
}
