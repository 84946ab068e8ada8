using System.Text.Encodings.Web;
using System.Text.Json;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.DocsCheck;

/// <summary>
/// Docs files written from the code rather than by hand: <c>--update</c> rewrites them and the
/// docs tests fail while a committed copy differs.
/// </summary>
public static class GeneratedDocs
{
    private static readonly JsonSerializerOptions s_indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Each generated file, relative to the root, with its current text.</summary>
    public static IReadOnlyList<(string Path, string Text)> All() =>
    [
        ("docs/scenario.schema.json", ScenarioJsonSchema.Build().ToJsonString(s_indented) + "\n"),
    ];

    /// <summary>The generated files whose committed text differs (all rewritten when <paramref name="update"/>).</summary>
    public static IReadOnlyList<string> Check(string root, bool update)
    {
        var stale = new List<string>();
        foreach (var (path, text) in All())
        {
            var full = System.IO.Path.Combine(root, path);
            if (!File.Exists(full) || File.ReadAllText(full) != text)
            {
                stale.Add(path);
                if (update)
                {
                    File.WriteAllText(full, text);
                }
            }
        }

        return stale;
    }
}
