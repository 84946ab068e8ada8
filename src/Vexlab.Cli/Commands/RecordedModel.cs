using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Model.Machine;
using Vexlab.Scenarios;

namespace Vexlab.Cli.Commands;

/// <summary>
/// Holds a replay to the model its trace was found on. <c>check --trace</c> writes the knobs and bounds it ran with
/// (<c>knobs</c>, <c>bounds</c>) beside the model and the overrides that build them; <c>replay</c> rebuilt the model from
/// the latter and read the former not at all, so a built-in model whose bounds changed since, a model file changed
/// under an older trace's <c>model_file</c>, or an edited file replayed on another machine than the check explored:
/// a divergence blamed on the steps, or a confirmation of a model nobody checked. Traces without the fields are
/// replayed as before.
/// </summary>
internal static class RecordedModel
{
    /// <summary>
    /// Refuses (exit 2) a trace whose recorded knobs or bounds differ from <paramref name="config"/>, the model the
    /// trace's own fields build (before <c>--set</c>, whose changes are the replay's to make), naming the first
    /// difference at its place in the file.
    /// </summary>
    public static void Require(CounterexampleFile trace, MachineConfig config, string path)
    {
        var file = ErrorText.Path(path);
        if (trace.Knobs is { } knobs)
        {
            var built = Values(CheckCommand.KnobsNode(config));
            var recorded = knobs.ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);
            foreach (var key in recorded.Keys.Union(built.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var was = recorded.GetValueOrDefault(key);
                var now = built.GetValueOrDefault(key);
                if (was is not null && Vexlab.Model.Protocols.KnobCatalog.Find(key) is null)
                {
                    // A knob no protocol has: said as such, not as a model that changed under the trace.
                    throw new InputException($"{trace.PlaceOf("knobs." + key, file)}: knobs.{key}: the trace was found with {was}, and vexlab has no such knob: the trace was edited, or written by a vexlab that had it; replaying it would not show what the check found");
                }

                if (was != now)
                {
                    throw Differs(trace.PlaceOf(was is null ? "knobs" : "knobs." + key, file), "knobs." + key, was ?? "its default", now ?? "its default");
                }
            }
        }

        if (trace.Bounds is { } bounds)
        {
            var built = Values(CheckCommand.BoundsNode(config));
            foreach (var (key, was) in bounds)
            {
                var now = built.GetValueOrDefault(key);
                var text = was.ToString(CultureInfo.InvariantCulture);
                if (now != text)
                {
                    throw Differs(trace.PlaceOf("bounds." + key, file), "bounds." + key, text, now ?? "no such bound");
                }
            }
        }
    }

    private static InputException Differs(string place, string field, string was, string now) => new(
        $"{place}: {field}: the trace was found with {was}, the model this replay builds from its model, protocol and overrides has {now}: the model changed since the trace was written, or the trace was edited; replaying it would not show what the check found");

    private static Dictionary<string, string> Values(JsonObject node) =>
        node.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValueKind() == JsonValueKind.String ? kv.Value.GetValue<string>() : kv.Value.ToJsonString(), StringComparer.Ordinal);
}
