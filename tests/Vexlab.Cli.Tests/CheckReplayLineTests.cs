using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// check gives each counterexample's replay line on stderr, as run and compare give theirs: standard output holds the
/// report, or the one JSON document, and nothing else; the JSON keeps the same command in the violation's <c>replay</c>.
/// </summary>
public sealed class CheckReplayLineTests : IDisposable
{
    private const string ExhaustiveReplay = "vexlab check --builtin nmi-window --protocol kvm-pf --property fault-info-intact";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-check-replay-line-").FullName;

    public enum Output
    {
        /// <summary>The text report on stdout.</summary>
        Text,

        /// <summary><c>--json</c>: the document on stdout, the report on stderr.</summary>
        JsonStdout,

        /// <summary><c>--json FILE</c>: the document in the file, the report on stdout.</summary>
        JsonFile,
    }

    public enum Mode
    {
        Exhaustive,
        Resume,
        Swarm,
        SwarmMerge,
    }

    public static TheoryData<Mode, Output> Cases()
    {
        var cases = new TheoryData<Mode, Output>();
        foreach (var mode in Enum.GetValues<Mode>())
        {
            foreach (var output in Enum.GetValues<Output>())
            {
                cases.Add(mode, output);
            }
        }

        return cases;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_counterexample_has_its_replay_line_on_stderr_and_none_on_stdout(Mode mode, Output output)
    {
        var jsonFile = Path.Combine(_dir, "result.json");
        string[] json = output switch
        {
            Output.JsonStdout => ["--json"],
            Output.JsonFile => ["--json", jsonFile],
            _ => [],
        };
        var result = CliRunner.Run([.. Arguments(mode), .. json]);
        Assert.True(result.ExitCode == 1, result.Stderr);

        var doc = output switch
        {
            // Standard output is the one document: it parses whole, nothing before or after it.
            Output.JsonStdout => JsonNode.Parse(result.Stdout)!,
            Output.JsonFile => JsonNode.Parse(File.ReadAllText(jsonFile))!,
            _ => JsonNode.Parse(CliRunner.Run([.. Arguments(mode), "--json"]).Stdout)!,
        };
        if (output != Output.JsonStdout)
        {
            Assert.Contains("VIOLATION fault-info-intact", result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("replay:", result.Stdout, StringComparison.Ordinal);
        }

        var violations = doc["violations"]!.AsArray();
        Assert.NotEmpty(violations);

        // The whole result's line first, then one per counterexample.
        var whole = mode is Mode.Swarm or Mode.SwarmMerge ? $"vexlab: seed {doc["seed"]}; replay: {doc["replay"]}" : $"vexlab: replay: {doc["replay"]}";
        var expected = violations.Select(v => mode is Mode.Swarm or Mode.SwarmMerge
            ? $"vexlab: {v!["property"]} (member {v["member"]}): seed {doc["seed"]}; replay: {v["replay"]}"
            : $"vexlab: {v!["property"]}: replay: {v["replay"]}").Prepend(whole).ToList();
        var lines = result.Stderr.ReplaceLineEndings("\n").Split('\n').Where(l => l.Contains("replay: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected, lines);

        // The JSON's replay fields are unchanged: the command itself, without the line's prefix.
        if (mode is Mode.Exhaustive or Mode.Resume)
        {
            Assert.Equal(ExhaustiveReplay, Assert.Single(violations)!["replay"]!.GetValue<string>());
        }
    }

    private string[] Arguments(Mode mode)
    {
        string[] check = ["check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact"];
        switch (mode)
        {
            case Mode.Resume:
                {
                    // Stopped short of the violation, then resumed to it: the resumed search reports it.
                    var checkpoint = Path.Combine(_dir, "checkpoint-" + Guid.NewGuid().ToString("N"));
                    var stopped = CliRunner.Run([.. check, "--max-states", "10", "--checkpoint", checkpoint]);
                    Assert.True(stopped.ExitCode == 3, stopped.Stderr);
                    return [.. check, "--resume", checkpoint];
                }

            case Mode.Swarm:
                return [.. check, "--swarm", "--members", "4"];
            case Mode.SwarmMerge:
                {
                    var shards = new List<string>();
                    for (var i = 1; i <= 2; i++)
                    {
                        var shard = Path.Combine(_dir, $"shard-{i}.json");
                        var run = CliRunner.Run([.. check, "--swarm", "--members", "4", "--shard", $"{i}/2", "--json", shard]);
                        Assert.True(run.ExitCode is 0 or 1, run.Stderr);
                        shards.Add(shard);
                    }

                    return ["check", "--swarm-merge", .. shards];
                }

            default:
                return check;
        }
    }
}
