using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Scenarios;

/// <summary>
/// One configured run: scenario settings resolved for one protocol entry. Notes are what the command should tell
/// the user about how it read the scenario (a file's knob none of the command's protocols reads), one line each,
/// without the <c>vexlab: note: </c> prefix. <see cref="ScenarioHash"/> is the settings' hash, taken once: the JSON's
/// <c>scenario_hash</c> and the replay line's <c>--scenario-hash</c> are both of it.
/// </summary>
public sealed record PreparedRun(string Scenario, string Protocol, string Variant, ResolvedSettings Settings, string ScenarioHash, SimulationSetup Setup, string Replay, IReadOnlyList<string> Notes);

/// <summary>Resolves a scenario with overrides for protocol entries and runs it.</summary>
public static class ScenarioRunner
{
    /// <summary>
    /// Resolves <paramref name="document"/> with the plain <paramref name="sets"/> and the entry's own
    /// knobs, for one protocol entry. A plain --set of a knob none of <paramref name="allProtocols"/> uses is an error;
    /// a knob the file sets that this protocol does not read is left out, and noted when none of them reads it.
    /// </summary>
    public static PreparedRun Prepare(
        ScenarioDocument document,
        string scenarioArg,
        ProtocolEntry entry,
        IReadOnlyList<Override> sets,
        IReadOnlyList<string> allProtocols,
        CostModel? costs = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(entry);
        ProtocolCatalog.Require(entry.Protocol, "--protocol " + entry.Label);

        foreach (var set in sets)
        {
            KnobCatalog.RequireUsed(set.Key, allProtocols, set.Origin);
        }

        // A knob that only another protocol of the command uses (compare's --set, a sweep's axis) is left out of this
        // entry's scenario, as its replay line leaves it out: kept, it changed nothing in the run but the scenario's
        // hash, so the replay of a compare column or a sweep row printed another scenario_hash.
        var own = sets.Where(o => KnobCatalog.Find(o.Key) is not { } knob || knob.AppliesTo(entry.Protocol)).ToList();
        var layers = new List<Override>(own);
        layers.AddRange(entry.Overrides);
        var settings = ScenarioSchema.Instance.Resolve(document, layers);

        // A knob the scenario file sets that this protocol does not read is left out of its scenario, as a --set
        // of it is (above): the file is shared by every protocol, and a compare column's or a sweep row's replay
        // line runs it under its one protocol. Refused there, the replay line of compare's sync column failed
        // where compare itself ran; kept, it changed the scenario_hash of a run it did nothing in. When none of
        // the command's protocols reads it, a --set of it is refused; the file's is said in a note, not silently
        // dropped.
        var leftOut = settings.Values
            .Where(v => v.Source.Kind == ValueSourceKind.File && KnobCatalog.Find(v.Key) is { } knob && !knob.AppliesTo(entry.Protocol))
            .ToList();
        var notes = new List<string>();
        if (leftOut.Count > 0)
        {
            settings = ScenarioSchema.Instance.Unset(settings, [.. leftOut.Select(v => v.Key)]);
            foreach (var value in leftOut)
            {
                if (KnobCatalog.Unused(value.Key, allProtocols) is { } problem)
                {
                    notes.Add($"{value.Source}: {value.Key}: {problem}; the file's value is left out");
                }
            }
        }

        var setup = ScenarioBuilder.Build(settings, entry.Protocol, entry.Label, costs);
        var name = settings.GetString("name");
        var hash = HashOf(settings, setup);
        var replay = new System.Text.StringBuilder("vexlab run ").Append(scenarioArg)
            .Append(" --protocol ").Append(Vexlab.Scenarios.ShellWord.Of(entry.Label))
            .Append(" --seed ").Append(settings["seed"].Text)
            .Append(" --duration ").Append(settings["duration"].Text);

        // The entry's own knobs stay in its label (ve[guest.ve.info_store=args]): as --set values the replay ran the
        // same scenario under the variant "ve", so its JSON differed from the entry's.
        foreach (var o in own)
        {
            if (!string.Equals(o.Key, "seed", StringComparison.Ordinal) && !string.Equals(o.Key, "duration", StringComparison.Ordinal))
            {
                replay.Append(" --set ").Append(Vexlab.Scenarios.ShellWord.Of(o.Text));
            }
        }

        // A file's text may change after the line is written; the line then names another scenario. The hash it
        // carries makes run refuse that one (exit 2) instead of printing other numbers under the same command.
        // A built-in is the text of the vexlab that runs it, as its version in the JSON says.
        if (!scenarioArg.StartsWith("--builtin ", StringComparison.Ordinal))
        {
            replay.Append(" --scenario-hash ").Append(hash[..ReplayHashDigits]);
        }

        return new PreparedRun(name, entry.Protocol, entry.Label, settings, hash, setup, replay.ToString(), notes);
    }

    /// <summary>
    /// The scenario hash: of the resolved settings' canonical text, and of every latency CSV the scenario reads
    /// (<c>backings[].latency: empirical file=...</c>), whose rows the text does not hold. A replay line's
    /// <c>--scenario-hash</c> and a run's <c>scenario_hash</c> both change when the CSV is edited; before, the line ran the
    /// edited data and printed other numbers under the same hash. A scenario that reads no CSV keeps the settings' hash.
    /// </summary>
    private static string HashOf(ResolvedSettings settings, SimulationSetup setup)
    {
        var files = new System.Text.StringBuilder();
        foreach (var store in setup.Backings)
        {
            var components = store.Components;
            for (var i = 0; i < components.Length; i++)
            {
                if (components[i].Table?.FileDigest is { } digest)
                {
                    files.Append("backings.").Append(store.Name).Append(".latency[").Append(i).Append("].csv=").Append(digest).Append('\n');
                }
            }
        }

        return files.Length == 0 ? settings.ComputeHash() : CanonicalHash.Compute(settings.ToCanonicalText() + files);
    }

    /// <summary>Hex digits of the scenario hash a replay line carries (48 bits: an edit that keeps them is one in 2^48).</summary>
    public const int ReplayHashDigits = 12;

    public static SimulationResult Run(PreparedRun run, ITraceSink? trace = null, Action<long>? progress = null, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new Simulator(run.Setup, trace).Run(progress, stop);
    }

    /// <summary>
    /// How a replay line names a scenario file: the path as one shell word, so a path with a space or
    /// a quote reruns the same file when the line is pasted.
    /// </summary>
    public static string FileArgument(string path) => Vexlab.Scenarios.ShellWord.Of(path);
}
