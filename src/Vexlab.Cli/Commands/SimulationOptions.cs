using System.CommandLine;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Cli.Commands;

/// <summary>The scenario options `run`, `compare` and `validate` share.</summary>
internal sealed class SimulationOptions
{
    public Argument<string?> File { get; } = new("FILE") { Description = "Scenario YAML file", Arity = ArgumentArity.ZeroOrOne };

    public Option<string?> Builtin { get; } = new("--builtin") { Description = "Built-in scenario: " + string.Join(", ", Builtins.Names), HelpName = "NAME" };

    public Option<long?> Seed { get; } = SeedOption.Create("Seed (shorthand for --set seed=N)", "N");

    public Option<string?> Duration { get; } = new("--duration") { Description = "Simulated time, such as 500ms (shorthand for --set duration=T)", HelpName = "T" };

    public Option<string[]> Set { get; } = new("--set") { Description = "Set a scenario key or knob: key=value (repeatable)", HelpName = "KEY=VALUE", AllowMultipleArgumentsPerToken = false };

    public void AddTo(Command command, bool runOptions = true)
    {
        command.Arguments.Add(File);
        command.Options.Add(Builtin);
        if (runOptions)
        {
            command.Options.Add(Seed);
            command.Options.Add(Duration);
            command.Options.Add(Set);
        }
    }

    /// <summary>The document and how the replay line names it.</summary>
    public (ScenarioDocument Document, string Argument) Load(ParseResult parse)
    {
        var file = parse.GetValue(File);
        var builtin = parse.GetValue(Builtin);
        if (file is not null && builtin is not null)
        {
            throw new InputException("--builtin: give a scenario FILE or --builtin NAME, not both");
        }

        if (file is not null)
        {
            BuiltinNameHint.RefuseBuiltinName(file, Builtins.Names, "scenario");
            OtherFileKind.RefuseOutput(file, "simulator scenario");
            var document = ScenarioDocument.Load(file);
            OtherFileKind.RefuseOtherAsScenario(document, file);
            return (document, ScenarioRunner.FileArgument(file));
        }

        var name = builtin ?? Builtins.Default;
        Builtins.Describe(name);
        return (Builtins.Load(name), "--builtin " + name);
    }

    /// <summary>--set values, then --duration and --seed (they win).</summary>
    public List<Override> Overrides(ParseResult parse, long? seedOverride = null)
    {
        var list = new List<Override>(Scenarios.Documents.Overrides.ParseSets(parse.GetValue(Set) ?? []));
        var duration = parse.GetValue(Duration);
        if (duration is not null)
        {
            list.Add(Scenarios.Documents.Overrides.ParseSet("duration=" + duration, "--duration"));
        }

        var seed = seedOverride ?? parse.GetValue(Seed);
        if (seed is not null)
        {
            list.Add(Scenarios.Documents.Overrides.ParseSet("seed=" + seed.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed"));
        }

        // compare's later seeds replace the seed on purpose.
        if (seedOverride is null)
        {
            RequireOnce(list);
        }

        return list;
    }

    /// <summary>
    /// Refuses a key given twice on the command line (--set k=a --set k=b, or --set duration=10ms --duration 5ms): it has
    /// no one meaning, and the last would win without a word.
    /// </summary>
    public static void RequireOnce(IReadOnlyList<Override> list)
    {
        ArgumentNullException.ThrowIfNull(list);
        for (var i = 0; i < list.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (list[i].SetsSameKey(list[j]))
                {
                    throw InputException.At(
                        null, 0, 0, list[i].Origin,
                        $"{list[i].Key} is also set by {(list[j].Origin == "--set" ? "--set " + list[j].Text : list[j].Origin + " " + list[j].Value)}; give it once");
                }
            }
        }
    }
}
