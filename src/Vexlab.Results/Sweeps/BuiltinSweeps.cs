using Vexlab.Model.Configuration;

namespace Vexlab.Results.Sweeps;

/// <summary>The sweeps that ship with vexlab (<c>vexlab sweeps list</c>, <c>--builtin NAME</c>).</summary>
public static class BuiltinSweeps
{
    private static readonly (string Name, string Yaml)[] s_sweeps =
    [
        ("latency", """
            name: latency
            description: Backing-store latency from 1 us to 10 ms (log scale), every protocol.
            scenario: swap-overcommit
            protocols: all
            seeds: 5
            set:
              duration: 1s
            axes:
              - name: latency            # microseconds
                key: host.latency
                unit: us
                log: {from: 1, to: 10000, points: 13}
            """),
        ("tasks-per-vcpu", """
            name: tasks-per-vcpu
            description: postcopy's app tasks from 1 to 16 on its 4 vCPUs (beside 4 io and 2 kworker tasks), every protocol.
            scenario: postcopy
            protocols: all
            seeds: 5
            axes:
              - name: tasks
                key: tasks[0].count
                range: {from: 1, to: 16, step: 1}
            """),
        ("overcommit", """
            name: overcommit
            description: Memory overcommit from 1.0 to 3.0, every protocol.
            scenario: swap-overcommit
            protocols: all
            seeds: 5
            set:
              duration: 1s
            axes:
              - name: overcommit
                key: host.overcommit
                range: {from: 1.0, to: 3.0, step: 0.25}
            """),
    ];

    public static IEnumerable<string> Names => s_sweeps.Select(s => s.Name);

    /// <summary>The YAML text of a built-in sweep.</summary>
    public static string Text(string name) =>
        s_sweeps.FirstOrDefault(s => s.Name == name).Yaml
        ?? throw new InputException(NearestName.Unknown("built-in sweep", name, Names));

    /// <summary>A built-in sweep, parsed.</summary>
    public static SweepDefinition Load(string name) => SweepFile.Parse(Text(name) + "\n", "builtin:" + name, defaultName: name);
}
