using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// Every result carries its seed and a one-line replay command, in the JSON and on stderr for people. check gave its
/// counterexamples' lines on stderr but none for the result as a whole, so a check that passed, or was stopped, said
/// nowhere but in its JSON how to run it again. Now every mode writes <c>vexlab: [seed S; ]replay: COMMAND</c> first
/// on stderr, the JSON's <c>replay</c> and <c>seed</c>, and nothing of it on stdout.
/// </summary>
public sealed class CheckWholeReplayLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-check-whole-replay-").FullName;

    public enum Mode
    {
        Single,
        Matrix,
        Swarm,
        SwarmMerge,
        Resume,
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(Mode.Single)]
    [InlineData(Mode.Matrix)]
    [InlineData(Mode.Swarm)]
    [InlineData(Mode.SwarmMerge)]
    [InlineData(Mode.Resume)]
    public void The_result_has_its_replay_line_first_on_stderr_and_none_on_stdout(Mode mode)
    {
        var args = Arguments(mode);
        var json = Path.Combine(_dir, "result-" + mode + ".json");
        var result = CliRunner.Run([.. args, "--json", json]);
        Assert.True(result.ExitCode is 0 or 1, result.Stderr);
        var doc = JsonNode.Parse(File.ReadAllText(json))!;
        var seed = doc["seed"] is { } s ? "seed " + s.ToJsonString() + "; " : string.Empty;
        Assert.Equal(mode is Mode.Swarm or Mode.SwarmMerge, seed.Length > 0);
        var replay = (string)doc["replay"]!;
        Assert.StartsWith("vexlab check ", replay, StringComparison.Ordinal);
        Assert.Equal($"vexlab: {seed}replay: {replay}", result.Stderr.Split('\n')[0]);
        Assert.Single(result.Stderr.Split('\n'), l => l == $"vexlab: {seed}replay: {replay}");
        Assert.DoesNotContain("replay:", result.Stdout, StringComparison.Ordinal);

        // With the JSON on stdout it is the one document there; the line stays on stderr.
        var onStdout = CliRunner.Run([.. args, "--json"]);
        Assert.Equal(replay, (string)JsonNode.Parse(onStdout.Stdout)!["replay"]!);
        Assert.Equal($"vexlab: {seed}replay: {replay}", onStdout.Stderr.Split('\n')[0]);

        // The line reruns the same check: the same JSON replay, whatever the mode it came from.
        if (mode is not Mode.SwarmMerge)
        {
            var again = CliRunner.Run([.. ShellWords(replay).Skip(1), "--json"]);
            Assert.Equal(replay, (string)JsonNode.Parse(again.Stdout)!["replay"]!);
        }
    }

    /// <summary>The words of a replay line (single quotes only, as it writes them).</summary>
    private static List<string> ShellWords(string line)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in line)
        {
            if (c == '\'')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                {
                    words.Add(word.ToString());
                }

                word.Clear();
                any = false;
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }

        if (any)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private string[] Arguments(Mode mode)
    {
        string[] check = ["check", "--builtin", "token-wrap", "--protocol", "ve[guest.ve.clear_busy=after-hypercall]"];

        // Four members find token-wrap's violation under ve (exit 1) where fewer stop at their bounds (exit 3).
        string[] swarm = ["check", "--builtin", "token-wrap", "--protocol", "ve", "--swarm", "--members", "4", "--seed", "5"];
        switch (mode)
        {
            case Mode.Matrix:
                return ["check", "--matrix", "--protocols", "sync,ve[guest.ve.info_store=args]", "--property", "no-deadlock"];
            case Mode.Swarm:
                return swarm;
            case Mode.SwarmMerge:
                {
                    var shards = new List<string>();
                    for (var i = 1; i <= 2; i++)
                    {
                        shards.Add(Path.Combine(_dir, $"shard-{i}.json"));
                        Assert.True(CliRunner.Run([.. swarm, "--shard", $"{i}/2", "--json", shards[^1]]).ExitCode is 0 or 1 or 3);
                    }

                    return ["check", "--swarm-merge", .. shards];
                }

            case Mode.Resume:
                {
                    var checkpoint = Path.Combine(_dir, "checkpoint-" + Guid.NewGuid().ToString("N"));
                    var stopped = CliRunner.Run([.. check, "--max-states", "10", "--checkpoint", checkpoint]);
                    Assert.True(stopped.ExitCode == 3, stopped.Stderr);
                    return [.. check, "--resume", checkpoint];
                }

            default:
                return check;
        }
    }
}
