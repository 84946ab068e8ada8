using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Writes one JSON result: <c>schema_version</c> and <c>vexlab_version</c> first, then the
/// command's fields. A file is written whole or not at all (<see cref="OutputFile"/>).
/// </summary>
public static class ResultDocument
{
    /// <summary>Bumped whenever a field changes meaning or disappears.</summary>
    public const int SchemaVersion = 1;

    private static readonly JsonSerializerOptions s_options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string VexlabVersion { get; } = ReadVersion();

    /// <summary>A new result object with the two header fields already in place.</summary>
    public static JsonObject Create() => new()
    {
        ["schema_version"] = SchemaVersion,
        ["vexlab_version"] = VexlabVersion,
    };

    public static string Serialize(JsonNode document) => document.ToJsonString(s_options);

    /// <summary>
    /// Writes <paramref name="document"/> to <paramref name="target"/>; a failure names the file as
    /// <paramref name="what"/>, so that another JSON output than the result (check's --trace) says which failed.
    /// </summary>
    public static void Write(CliContext context, JsonTarget target, JsonNode document, string what = "JSON result")
    {
        if (!target.Enabled)
        {
            return;
        }

        var text = Serialize(document) + "\n";
        if (target.Path is null)
        {
            // In an ASCII locale the characters above ASCII go as \u escapes, the same JSON, rather than through
            // the transliteration that makes tables readable (a 'µ' in a string would become 'u').
            context.Output.Write(context.Unicode ? text : OutputCharset.EscapeJson(text));
            context.Output.Flush();
            return;
        }

        OutputFile.WriteAllText(target.Path, what, text);
    }

    private static string ReadVersion()
    {
        var info = typeof(ResultDocument).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return info ?? "0.0.0";
    }
}
