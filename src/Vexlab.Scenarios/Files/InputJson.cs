using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Model.Configuration;

namespace Vexlab.Scenarios.Files;

/// <summary>
/// Reads an input JSON document (a swarm shard, a run or compare result, a counterexample trace) under the same
/// <see cref="InputLimits"/> as YAML: at most <see cref="InputLimits.MaxBytes"/> bytes, so that <c>/dev/zero</c> is
/// refused after 16 MiB rather than read until memory runs out, and at most <see cref="InputLimits.MaxDepth"/> levels.
/// </summary>
public static class InputJson
{
    /// <summary>The document in <paramref name="path"/>; <paramref name="what"/> names it in messages ("swarm shard").</summary>
    public static JsonNode? Read(string path, string what) => Parse(path, what, places: false).Node;

    /// <summary>As <see cref="Read(string, string)"/>, with where each value is, to report a bad one at its place.</summary>
    public static JsonNode? Read(string path, string what, out JsonPlaces places)
    {
        var (node, found) = Parse(path, what, places: true);
        places = found!;
        return node;
    }

    // The places take a second pass over the text and a dictionary of every value's path: only for a reader that
    // reports values at their place (a swarm shard's reader does not).
    private static (JsonNode? Node, JsonPlaces? Places) Parse(string path, string what, bool places)
    {
        var text = InputFile.ReadText(path, what);
        try
        {
            // A key given twice is refused where it is, as the trace reader and YAML refuse it: JsonObject threw on
            // it later, when first indexed, as an internal error.
            var node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = InputLimits.MaxDepth, AllowDuplicateProperties = false });
            return (node, places ? JsonPlaces.Of(text) : null);
        }
        catch (JsonException e)
        {
            throw NotJson(ErrorText.Path(path), e);
        }
    }

    /// <summary>
    /// <paramref name="error"/> as one line at its place: a document nested too deep is refused as YAML's is, naming
    /// the variable that raises the bound, rather than in the reader's words ("The maximum configured depth of 64 has
    /// been exceeded").
    /// </summary>
    public static InputException NotJson(string file, JsonException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return InputException.NotJson(file, error, error.Message.Contains("maximum configured depth", StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"nested deeper than {InputLimits.MaxDepth} levels; set {InputLimits.MaxDepthVariable} to raise the limit")
            : null);
    }
}
