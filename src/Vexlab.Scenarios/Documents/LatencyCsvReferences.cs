namespace Vexlab.Scenarios.Documents;

/// <summary>
/// The latency CSVs a scenario file reads: each <c>file=PATH</c> word of a <c>backings[].latency</c> value
/// (<c>empirical file=lat.csv unit=us</c>, also inside a mixture), a relative PATH taken from the scenario file's
/// folder as the simulator takes it. The scenario's text names them and not their rows, so whatever identifies a
/// scenario by its text (a sweep's scenario hash) takes their text in too.
/// </summary>
public static class LatencyCsvReferences
{
    /// <summary>
    /// The CSVs <paramref name="document"/> names, as (the PATH written, the full path), in order of appearance; none
    /// for a document without backings.
    /// </summary>
    public static IReadOnlyList<(string Written, string Path)> Of(ScenarioDocument document, string? folder)
    {
        ArgumentNullException.ThrowIfNull(document);
        var found = new List<(string, string)>();
        if (!document.Root.TryGetValue("backings", out var backings) || backings is not SequenceNode list)
        {
            return found;
        }

        foreach (var item in list.Items)
        {
            if (item is not MappingNode backing || !backing.TryGetValue("latency", out var latency) || latency is not ScalarNode text)
            {
                continue;
            }

            foreach (var word in text.Value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            {
                if (word.StartsWith("file=", StringComparison.Ordinal) && word.Length > "file=".Length)
                {
                    var written = word["file=".Length..];
                    found.Add((written, System.IO.Path.IsPathRooted(written) || string.IsNullOrEmpty(folder) ? written : System.IO.Path.Combine(folder, written)));
                }
            }
        }

        return found;
    }
}
