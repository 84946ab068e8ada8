using Vexlab.Checking.Models;
using Vexlab.Model.Configuration;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A file of one kind given to a command that takes another (a simulator scenario, a checker model file, a sweep
/// file), named as what it is with the command that takes it. <c>check so.yaml</c> said "duration: unknown key
/// 'duration' (expected one of name, vcpus, ...)", <c>run two-faults.yaml</c> "vcpus: unknown key; did you mean
/// guest.vcpus?", <c>validate mini.yaml</c> "scenario: unknown key" and <c>sweep run wakeup.yaml</c> "duration:
/// unknown sweep key", as if the file were a mistyped one of the right kind. A file is plainly the other kind when
/// none of its top-level keys is one only the expected kind has and at least one is one only the other kind has;
/// <c>name</c> (every kind has it) and <c>tasks</c> (scenarios and model files) say nothing between the kinds that
/// have them, nor does a key neither has (a typo).
/// </summary>
internal static class OtherFileKind
{
    private static readonly Kind s_scenario = new(
        InputFileKind.Scenario,
        "simulator scenario",
        "a scenario's",
        [.. ScenarioSchema.Instance.Keys.Select(k => k.Key).Concat(ScenarioSchema.Instance.Lists.Select(l => l.Key)).Select(Top)],
        file => $"run it with vexlab run {file} --protocol P, or vexlab compare {file}");

    private static readonly Kind s_model = new(
        InputFileKind.Model,
        "checker model file",
        "a model file's",
        [.. ModelFile.TopLevelKeys],
        file => $"check it with vexlab check {file} --protocol P");

    private static readonly Kind s_sweep = new(
        InputFileKind.Sweep,
        "sweep file",
        "a sweep file's",
        [.. SweepFile.TopLevelKeys],
        file => $"run it with vexlab sweep run {file}");

    /// <summary>
    /// Refuses an output of vexlab's given where <paramref name="expected"/> goes ("simulator scenario"), named as what
    /// it is and with what reads it: <c>validate full.duckdb</c> said "the scenario file is not UTF-8 text", and
    /// <c>validate kh.json</c> "schema_version: unknown key", as if the store or the result were a damaged scenario.
    /// </summary>
    public static void RefuseOutput(string path, string expected)
    {
        if (OutputKind.HeldBy(path) is not { } output)
        {
            return;
        }

        var readBy = output.What switch
        {
            "result store" => "; results query, plot, report and sweep merge read it",
            "JSON result" => "; plot and report read a run's or a compare's",
            "counterexample" => "; replay runs it",
            _ => string.Empty,
        };
        throw new InputException($"{ErrorText.Path(path)}: is {OutputKind.Article(output.What)} {output.What} (an output of vexlab), not {OutputKind.Article(expected)} {expected}{readBy}");
    }

    /// <summary>Refuses a scenario document that is plainly a checker model file or a sweep file (run, compare, validate).</summary>
    public static void RefuseOtherAsScenario(ScenarioDocument document, string path)
    {
        ArgumentNullException.ThrowIfNull(document);
        Refuse(document.Root, path, s_scenario, [s_model, s_sweep]);
    }

    /// <summary>
    /// Called where <c>check FILE</c> refused the file: throws the plainer message when the file is plainly a
    /// simulator scenario or a sweep file, and returns otherwise (the caller then throws its own).
    /// </summary>
    public static void RefuseOtherAsModel(string path) => RefuseLoaded(path, s_model, [s_scenario, s_sweep]);

    /// <summary>
    /// Called where <c>sweep run FILE</c> refused the file: throws the plainer message when the file is plainly a
    /// simulator scenario or a checker model file, and returns otherwise (the caller then throws its own).
    /// </summary>
    public static void RefuseOtherAsSweep(string path) => RefuseLoaded(path, s_sweep, [s_scenario, s_model]);

    private static void RefuseLoaded(string path, Kind expected, Kind[] others)
    {
        RefuseOutput(path, expected.Name);
        ScenarioDocument document;
        try
        {
            document = ScenarioDocument.Load(path, expected.Name);
        }
        catch (InputException)
        {
            return;
        }

        Refuse(document.Root, path, expected, others);
    }

    /// <summary>
    /// What a file given to <c>validate</c> is: a checker model file or a sweep file when it is plainly one by the rule
    /// above, otherwise a simulator scenario (a file that does not load is left to the scenario's loader to name its fault).
    /// </summary>
    public static InputFileKind Classify(string path)
    {
        RefuseOutput(path, "scenario, sweep or checker model file");
        ScenarioDocument document;
        try
        {
            document = ScenarioDocument.Load(path, s_scenario.Name);
        }
        catch (InputException)
        {
            return InputFileKind.Scenario;
        }

        return Plainly(document.Root, s_scenario, [s_model, s_sweep]) is ({ } kind, _) ? kind.Of : InputFileKind.Scenario;
    }

    /// <summary>Throws when the file is plainly one of <paramref name="others"/> (see <see cref="Plainly"/>).</summary>
    private static void Refuse(MappingNode root, string path, Kind expected, Kind[] others)
    {
        if (Plainly(root, expected, others) is ({ } kind, { } key))
        {
            var file = ScenarioRunner.FileArgument(path);
            throw InputException.At(
                key.File, key.Line, key.Column, key.Value,
                $"this is a {kind.Name} (its top-level keys are {kind.Owner}: {OtherKeys(root, expected.Keys, kind.Keys)}), not a {expected.Name}; {kind.Use(file)}");
        }
    }

    /// <summary>
    /// The one of <paramref name="others"/> the file plainly is, and its first key of that kind: where two could be (a
    /// model file given to <c>sweep run</c> has <c>tasks</c>, which scenarios have too), the one that has more of the
    /// file's keys.
    /// </summary>
    private static (Kind? Kind, ScalarNode? Key) Plainly(MappingNode root, Kind expected, Kind[] others) => others
        .Select(other => (Other: other, Key: FirstKeyOfOther(root, own: expected.Keys, other: other.Keys)))
        .Where(c => c.Key is not null)
        .OrderByDescending(c => root.Entries.Count(e => c.Other.Keys.Contains(Top(e.Key.Value))))
        .Select(c => ((Kind?)c.Other, c.Key))
        .FirstOrDefault();

    /// <summary>The first top-level key only <paramref name="other"/> has, when no key is one only <paramref name="own"/> has.</summary>
    private static ScalarNode? FirstKeyOfOther(MappingNode root, HashSet<string> own, HashSet<string> other)
    {
        ScalarNode? first = null;
        foreach (var entry in root.Entries)
        {
            var key = Top(entry.Key.Value);
            var ours = own.Contains(key);
            var theirs = other.Contains(key);
            if (ours && !theirs)
            {
                return null;
            }

            if (theirs && !ours)
            {
                first ??= entry.Key;
            }
        }

        return first;
    }

    private static string OtherKeys(MappingNode root, HashSet<string> own, HashSet<string> other) => string.Join(
        ", ",
        root.Entries.Select(e => e.Key.Value).Where(k => other.Contains(Top(k)) && !own.Contains(Top(k))));

    private static string Top(string key)
    {
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? key : key[..dot];
    }

    /// <summary>A kind of input file: its name in messages, its top-level keys, and the command that takes it.</summary>
    /// <param name="Of">Which kind it is.</param>
    /// <param name="Name">"sweep file".</param>
    /// <param name="Owner">"a sweep file's": whose keys the file's are.</param>
    /// <param name="Keys">The first segment of every top-level key and list (<c>guest</c> of <c>guest.vcpus</c>).</param>
    /// <param name="Use">The command that takes such a file, given the file as the command line writes it.</param>
    private sealed record Kind(InputFileKind Of, string Name, string Owner, HashSet<string> Keys, Func<string, string> Use);
}
