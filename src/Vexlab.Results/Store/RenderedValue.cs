using System.Text;
using System.Text.Json.Nodes;

namespace Vexlab.Results.Store;

/// <summary>
/// A value of a type with no plain .NET counterpart (list, struct, map, blob, date, time, timestamp, interval, ...),
/// as DuckDB writes it: <paramref name="Text"/> as its CLI prints it (for the table and CSV), <paramref name="Json"/>
/// as its <c>to_json</c> writes it (lists as arrays, structs and maps as objects, numbers as numbers, the rest as strings).
/// </summary>
public sealed record RenderedValue(string Text, string Json)
{
    /// <summary>
    /// The JSON as a node. DuckDB writes non-finite doubles as the bare words NaN, Infinity and -Infinity, which
    /// are not JSON: they become the strings a non-finite double of a plain column is written as.
    /// </summary>
    public JsonNode? ToJson() => JsonNode.Parse(QuoteNonFinite(Json));

    private static string QuoteNonFinite(string json)
    {
        var text = new StringBuilder(json.Length);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                text.Append(c);
                if (c == '\\' && i + 1 < json.Length)
                {
                    text.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
                text.Append(c);
                continue;
            }

            var word = json.AsSpan(i) switch
            {
                var rest when rest.StartsWith("NaN", StringComparison.Ordinal) => "NaN",
                var rest when rest.StartsWith("Infinity", StringComparison.Ordinal) => "Infinity",
                var rest when rest.StartsWith("-Infinity", StringComparison.Ordinal) => "-Infinity",
                _ => null,
            };
            if (word is null)
            {
                text.Append(c);
                continue;
            }

            text.Append('"').Append(word).Append('"');
            i += word.Length - 1;
        }

        return text.ToString();
    }
}
