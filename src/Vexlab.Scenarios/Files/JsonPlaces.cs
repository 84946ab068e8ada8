using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vexlab.Scenarios.Files;

/// <summary>
/// Where each value of a JSON document starts (1-based line and column, in bytes as the parser counts them), by its
/// path (<c>results[0].vcpu_ns.guest</c>): a JsonNode keeps no positions, and a bad value is reported at its place,
/// as a YAML one is.
/// </summary>
public sealed class JsonPlaces
{
    private readonly Dictionary<string, (int Line, int Column)> _places = new(StringComparer.Ordinal);

    private JsonPlaces()
    {
    }

    /// <summary>The places of <paramref name="text"/>, a document that parses (an unparsable one gives what it read).</summary>
    public static JsonPlaces Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var places = new JsonPlaces();
        var json = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = InputLimits.MaxDepth });
        var frames = new Stack<(string Path, bool Array, int Index, string? Name)>();
        var line = 1;
        var lineStart = 0;
        var scanned = 0;
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                if (token == JsonTokenType.PropertyName)
                {
                    var (p, a, i, _) = frames.Pop();
                    frames.Push((p, a, i, reader.GetString()));
                    continue;
                }

                if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    frames.Pop();
                    continue;
                }

                var path = string.Empty;
                if (frames.Count > 0)
                {
                    var (parent, array, index, name) = frames.Pop();
                    path = array
                        ? string.Create(CultureInfo.InvariantCulture, $"{parent}[{index}]")
                        : parent.Length == 0 ? name! : parent + "." + name;
                    frames.Push((parent, array, array ? index + 1 : index, name));
                }

                var start = (int)reader.TokenStartIndex;
                for (; scanned < start; scanned++)
                {
                    if (json[scanned] == (byte)'\n')
                    {
                        line++;
                        lineStart = scanned + 1;
                    }
                }

                places._places[path] = (line, start - lineStart + 1);
                if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    frames.Push((path, token == JsonTokenType.StartArray, 0, null));
                }
            }
        }
        catch (JsonException)
        {
            // The document was parsed before; a reader that disagrees leaves the places it found.
        }

        return places;
    }

    /// <summary>The place of the value at <paramref name="path"/> (<c>""</c>: the document), or (0, 0) when it has none.</summary>
    public (int Line, int Column) At(string path) => _places.TryGetValue(path, out var place) ? place : (0, 0);
}
