using System.Globalization;
using System.Text;
using System.Text.Json;
using Vexlab.Model.Configuration;
using Vexlab.Model.Machine;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A counterexample as <c>check --trace</c> writes it, read back for <c>replay</c>. The reader
/// walks the JSON token by token so every error names file:line:column and the field; duplicate
/// keys, wrong types and action words that are no action are refused, never thrown as internal errors.
/// </summary>
public sealed record CounterexampleFile(
    string Model,
    string? ModelFilePath,
    string? ModelSource,
    string Protocol,
    string? Property,
    IReadOnlyList<KeyValuePair<string, string>> Overrides,
    IReadOnlyList<MachineAction> Actions)
{
    /// <summary>
    /// For a lasso (<c>"kind": "lasso"</c>), the index of the loop's first action (the action count: the trace ends in a
    /// dead end that stutters); -1 for a safety trace, or a trace that does not say (written before the field was).
    /// </summary>
    public int LoopStart { get; init; } = -1;

    /// <summary>The trace says what it shows (<c>kind</c> was written): a replay can confirm it.</summary>
    public bool HasKind { get; init; }

    /// <summary>
    /// The knob values the check ran with (<c>knobs</c>: the protocol's knobs off their defaults), which a replay's model
    /// must have; null for a trace without the field.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Knobs { get; init; }

    /// <summary>The machine's size and bounds the check ran with (<c>bounds</c>); null for a trace without the field.</summary>
    public IReadOnlyList<KeyValuePair<string, long>>? Bounds { get; init; }

    /// <summary>
    /// Where each field's value is written (<c>t.json:1:10</c>), by field name (<c>model</c>,
    /// <c>protocol</c>, <c>overrides</c>), so a value the replay refuses later names its place too.
    /// </summary>
    public IReadOnlyDictionary<string, string> Places { get; init; } = new Dictionary<string, string>();

    /// <summary>The place of <paramref name="field"/>'s value, or the file alone when unknown.</summary>
    public string PlaceOf(string field, string file) => Places.TryGetValue(field, out var place) ? place : file;

    /// <summary>The largest action kind a trace may name.</summary>
    private static readonly int s_maxKind = Enum.GetValues<ActionKind>().Max(k => (int)k);

    public static CounterexampleFile Load(string path)
    {
        var text = InputFile.ReadText(path, "counterexample trace");
        return Parse(Encoding.UTF8.GetBytes(text), ErrorText.Path(path));
    }

    public static CounterexampleFile Parse(byte[] json, string file)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            MaxDepth = InputLimits.MaxDepth,
            CommentHandling = JsonCommentHandling.Disallow,
        });
        try
        {
            return new Walker(json, file).Read(ref reader);
        }
        catch (JsonException e)
        {
            throw InputJson.NotJson(file, e);
        }
    }

    private sealed class Walker(byte[] json, string file)
    {
        public CounterexampleFile Read(ref Utf8JsonReader reader)
        {
            if (!reader.Read())
            {
                throw InputException.At(file, 1, 1, null, "the counterexample trace is empty");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Error(reader, null, "expected a JSON object written by vexlab check --trace");
            }

            var start = Place(reader);
            var places = new Dictionary<string, string>(StringComparer.Ordinal);
            string? model = null, modelFile = null, modelSource = null, protocol = null, property = null, kind = null;
            int? loopStart = null;
            var overrides = new List<KeyValuePair<string, string>>();
            List<MachineAction>? actions = null;
            List<KeyValuePair<string, string>>? knobs = null;
            List<KeyValuePair<string, long>>? bounds = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                if (!seen.Add(key))
                {
                    throw Error(reader, key, "duplicate key");
                }

                reader.Read();
                places[key] = Place(reader);
                switch (key)
                {
                    case "schema_version": SchemaVersion(ref reader, key); break;
                    case "model": model = String(ref reader, key); break;
                    case "model_file": modelFile = String(ref reader, key); break;
                    case "model_source": modelSource = String(ref reader, key); break;
                    case "protocol": protocol = String(ref reader, key); break;
                    case "property": property = reader.TokenType == JsonTokenType.Null ? null : String(ref reader, key); break;
                    case "overrides": ReadOverrides(ref reader, overrides); break;
                    case "actions": actions = ReadActions(ref reader); break;
                    case "knobs": knobs = ReadObject(ref reader, key, places, (ref r, k) => String(ref r, k)); break;
                    case "bounds": bounds = ReadObject(ref reader, key, places, (ref r, k) => Count(ref r, k)); break;
                    case "kind": kind = String(ref reader, key); break;
                    case "loop_start": loopStart = reader.TokenType == JsonTokenType.Null ? null : Index(ref reader, key); break;
                    default: reader.Skip(); break;
                }
            }

            // The document must end where the object ends: one object, nothing after it.
            if (reader.Read())
            {
                throw Error(reader, null, "text after the end of the trace object");
            }

            var steps = actions?.Count ?? 0;
            switch (kind)
            {
                case null when loopStart is not null:
                    throw new InputException(places["loop_start"] + ": loop_start: goes with \"kind\": \"lasso\", which the trace does not give");
                case "safety" when loopStart is not null:
                    throw new InputException(places["loop_start"] + ": loop_start: a safety trace has no loop; expected null");
                case "lasso" when loopStart is null:
                    throw new InputException(places["kind"] + ": kind: a lasso needs loop_start, the index of its loop's first action");
                case "lasso" when loopStart > steps:
                    throw new InputException(places["loop_start"] + string.Create(CultureInfo.InvariantCulture, $": loop_start: {loopStart} is past the trace's {steps} actions"));
                case null or "safety" or "lasso":
                    break;
                default:
                    throw new InputException(places["kind"] + ": kind: expected safety or lasso, got " + ErrorText.Quote(kind));
            }

            // The checker's result (check --json) is the file a new user most often has at hand instead.
            if (actions is null && seen.Contains("verdict") && seen.Contains("violations"))
            {
                throw new InputException(start + ": this is the result of vexlab check --json, not a counterexample; check --trace FILE writes the first counterexample for replay");
            }

            return new CounterexampleFile(
                model ?? throw Missing(start, "model"),
                modelFile,
                modelSource,
                protocol ?? throw Missing(start, "protocol"),
                property,
                overrides,
                actions ?? throw Missing(start, "actions"))
            {
                Places = places,
                LoopStart = kind == "lasso" ? loopStart!.Value : -1,
                HasKind = kind is not null,
                Knobs = knobs,
                Bounds = bounds,
            };
        }

        /// <summary>A missing field is reported at the object that lacks it.</summary>
        private static InputException Missing(string place, string key) =>
            new($"{place}: {key}: missing; is this a trace written by vexlab check --trace?");

        private string Place(Utf8JsonReader reader)
        {
            var (line, column) = Position(reader);
            return string.Create(CultureInfo.InvariantCulture, $"{file}:{line}:{column}");
        }

        private string String(ref Utf8JsonReader reader, string key)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw Error(reader, key, $"expected a string, got {Describe(reader.TokenType)}");
            }

            return reader.GetString()!;
        }

        private int Index(ref Utf8JsonReader reader, string key)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value) || value < 0)
            {
                var got = reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : Describe(reader.TokenType);
                throw Error(reader, key, $"expected an action index (a whole number from 0) or null, got {got}");
            }

            return value;
        }

        private delegate T ValueReader<T>(ref Utf8JsonReader reader, string key);

        /// <summary>An object of fields (<c>knobs</c>, <c>bounds</c>), each value's place kept as <c>knobs.KEY</c>.</summary>
        private List<KeyValuePair<string, T>> ReadObject<T>(ref Utf8JsonReader reader, string field, Dictionary<string, string> places, ValueReader<T> value)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Error(reader, field, $"expected an object, got {Describe(reader.TokenType)}");
            }

            var entries = new List<KeyValuePair<string, T>>();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = field + "." + reader.GetString()!;
                if (places.ContainsKey(key))
                {
                    throw Error(reader, key, "duplicate key");
                }

                reader.Read();
                places[key] = Place(reader);
                entries.Add(new(key[(field.Length + 1)..], value(ref reader, key)));
            }

            return entries;
        }

        /// <summary>
        /// The trace's form (<see cref="ResultDocument.SchemaVersion"/>): a later one may give a field this reader
        /// does not know another meaning, so it is refused rather than replayed as if it were this form.
        /// </summary>
        private void SchemaVersion(ref Utf8JsonReader reader, string key)
        {
            var version = Count(ref reader, key);
            if (version is < 1 or > ResultDocument.SchemaVersion)
            {
                throw Error(reader, key, string.Create(CultureInfo.InvariantCulture, $"the trace is of form {version}, and this vexlab reads form {ResultDocument.SchemaVersion}; replay it with the vexlab that wrote it (its vexlab_version)"));
            }
        }

        private long Count(ref Utf8JsonReader reader, string key)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0)
            {
                var got = reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : Describe(reader.TokenType);
                throw Error(reader, key, $"expected a whole number from 0, got {got}");
            }

            return value;
        }

        private void ReadOverrides(ref Utf8JsonReader reader, List<KeyValuePair<string, string>> overrides)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Error(reader, "overrides", $"expected a list of \"KEY=VALUE\" strings, got {Describe(reader.TokenType)}");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var key = string.Create(CultureInfo.InvariantCulture, $"overrides[{overrides.Count}]");
                var text = String(ref reader, key);
                var eq = text.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw Error(reader, key, "expected KEY=VALUE, got " + ErrorText.Quote(text));
                }

                overrides.Add(new(text[..eq], text[(eq + 1)..]));
            }
        }

        private List<MachineAction> ReadActions(ref Utf8JsonReader reader)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Error(reader, "actions", $"expected a list of action words, got {Describe(reader.TokenType)}");
            }

            var actions = new List<MachineAction>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var key = string.Create(CultureInfo.InvariantCulture, $"actions[{actions.Count}]");
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt32(out var word))
                {
                    // A number out of range is quoted as written ("got a number" did not say which), as Count and Index quote theirs.
                    var got = reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : Describe(reader.TokenType);
                    throw Error(reader, key, $"expected an action word (a whole number from 0 to {uint.MaxValue}), got {got}");
                }

                var action = MachineAction.Unpack(word);
                if ((int)action.Kind > s_maxKind)
                {
                    throw Error(reader, key, string.Create(CultureInfo.InvariantCulture, $"action kind {(int)action.Kind} does not exist (0 to {s_maxKind})"));
                }

                actions.Add(action);
            }

            return actions;
        }

        private static string Describe(JsonTokenType token) => token switch
        {
            JsonTokenType.Number => "a number",
            JsonTokenType.String => "a string",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            JsonTokenType.StartArray => "a list",
            JsonTokenType.StartObject => "an object",
            _ => token.ToString().ToLowerInvariant(),
        };

        private InputException Error(Utf8JsonReader reader, string? key, string problem)
        {
            var (line, column) = Position(reader);
            return InputException.At(file, line, column, key, problem);
        }

        private (int Line, int Column) Position(Utf8JsonReader reader)
        {
            var index = (int)Math.Min(reader.TokenStartIndex, json.Length);
            var line = 1;
            var lineStart = 0;
            for (var i = 0; i < index; i++)
            {
                if (json[i] == (byte)'\n')
                {
                    line++;
                    lineStart = i + 1;
                }
            }

            return (line, index - lineStart + 1);
        }
    }
}
