namespace Vexlab.Fuzz;

/// <summary>
/// One parser under fuzz: the seed inputs it starts from (files in seeds/NAME) and the command line
/// that feeds it one input. File targets get the input's path; value targets get its text.
/// </summary>
/// <param name="Name">The folder name under seeds/ and corpus/ (scenario, model, sweep, trace, ...).</param>
/// <param name="IsFile">True when the input is a file; false when it is one option value.</param>
/// <param name="Arguments">The vexlab arguments for an input (a path or a value).</param>
public sealed record FuzzTarget(string Name, bool IsFile, Func<string, string, string[]> Arguments)
{
    /// <summary>
    /// Every parser a person can feed. Runs are bounded (100 us simulated, 2,000 states, 5 s, a sweep's shard 1 of 100,000) so
    /// a fuzz input exercises the parser and the checks behind it, not a long simulation.
    /// </summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("scenario", true, (input, scratch) => ["run", input, "--protocol", "kvm-pf-int", "--duration", "100us", "--time-limit", "5s"]),
        new("scenario-validate", true, (input, scratch) => ["validate", input]),
        new("model", true, (input, scratch) => ["check", input, "--protocol", "kvm-pf-int", "--max-states", "2000", "--time-limit", "5s", "--workers", "1"]),
        new("sweep", true, (input, scratch) => ["sweep", "run", input, "--db", Path.Combine(scratch, "s.duckdb"), "--jobs", "1", "--max-points", "20", "--shard", "1/100000", "--set", "duration=100us"]),
        new("trace", true, (input, scratch) => ["replay", input]),
        new("swarm-shard", true, (input, scratch) => ["check", "--swarm-merge", input, "--allow-partial"]),
        new("result", true, (input, scratch) => ["plot", input, "--kind", "stacked", "--out", Path.Combine(scratch, "p.png")]),
        new("set", false, (value, scratch) => ["run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "100us", "--set", value]),
        new("duration", false, (value, scratch) => ["run", "--builtin", "postcopy", "--protocol", "ve", "--duration", value, "--time-limit", "5s"]),
        new("time-limit", false, (value, scratch) => ["check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--max-states", "500", "--time-limit", value]),
        new("max-memory", false, (value, scratch) => ["check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--max-states", "500", "--max-memory", value]),
        new("seed", false, (value, scratch) => ["run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "100us", "--seed", value]),
    ];
}
