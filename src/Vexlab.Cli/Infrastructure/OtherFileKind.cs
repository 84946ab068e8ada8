using Vexlab.Checking.Models;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A simulator scenario given to <c>check</c>, or a checker model file given to <c>run</c>, <c>compare</c> or
/// <c>validate</c>, named as what it is with the command that takes it. <c>check so.yaml</c> said "duration: unknown
/// key 'duration' (expected one of name, vcpus, ...)" and <c>run two-faults.yaml</c> "vcpus: unknown key; did you
/// mean guest.vcpus?", as if the file were a mistyped one of the right kind. A file is plainly the other kind when
/// none of its top-level keys is one only the expected kind has and at least one is one only the other kind has;
/// <c>name</c> and <c>tasks</c>, which both kinds have, say nothing, nor does a key neither has (a typo).
/// </summary>
internal static class OtherFileKind
{
    /// <summary>A scenario's top-level keys: the first segment of every key and list (<c>guest</c> of <c>guest.vcpus</c>).</summary>
    private static readonly HashSet<string> s_scenarioKeys = new(
        ScenarioSchema.Instance.Keys.Select(k => k.Key).Concat(ScenarioSchema.Instance.Lists.Select(l => l.Key)).Select(Top),
        StringComparer.Ordinal);

    private static readonly HashSet<string> s_modelKeys = new(ModelFile.TopLevelKeys, StringComparer.Ordinal);

    /// <summary>Refuses a scenario document that is plainly a checker model file (run, compare, validate).</summary>
    public static void RefuseModelAsScenario(ScenarioDocument document, string path)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (FirstKeyOfOther(document.Root, own: s_scenarioKeys, other: s_modelKeys) is { } key)
        {
            throw InputException.At(
                key.File, key.Line, key.Column, key.Value,
                $"this is a checker model file (its top-level keys are a model file's: {OtherKeys(document.Root, s_scenarioKeys, s_modelKeys)}), not a simulator scenario; check it with vexlab check {ScenarioRunner.FileArgument(path)} --protocol P");
        }
    }

    /// <summary>
    /// Called where <c>check FILE</c> refused the file: throws the plainer message when the file is plainly a
    /// simulator scenario, and returns otherwise (the caller then throws its own).
    /// </summary>
    public static void RefuseScenarioAsModel(string path)
    {
        ScenarioDocument document;
        try
        {
            document = ScenarioDocument.Load(path, "model file");
        }
        catch (InputException)
        {
            return;
        }

        if (FirstKeyOfOther(document.Root, own: s_modelKeys, other: s_scenarioKeys) is { } key)
        {
            throw InputException.At(
                key.File, key.Line, key.Column, key.Value,
                $"this is a simulator scenario (its top-level keys are a scenario's: {OtherKeys(document.Root, s_modelKeys, s_scenarioKeys)}), not a checker model file; run it with vexlab run {ScenarioRunner.FileArgument(path)} --protocol P, or vexlab compare {ScenarioRunner.FileArgument(path)}");
        }
    }

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
}
