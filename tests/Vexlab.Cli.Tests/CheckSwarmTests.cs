using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

public sealed class CheckSwarmTests
{
    [Fact]
    public void ShardsRunAloneAndMergeToTheShortestCounterexamples()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-");
        try
        {
            var files = new List<string>();
            for (var i = 1; i <= 4; i++)
            {
                var file = Path.Combine(temp.FullName, $"shard-{i}.json");
                var r = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "8", "--seed", "7", "--max-states", "50000", "--shard", $"{i}/4", "--json", file);
                Assert.True(r.ExitCode is 0 or 1 or 3, r.Stderr);
                files.Add(file);
            }

            // Same inputs and seed: the same document outside "timing".
            var again = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "8", "--seed", "7", "--max-states", "50000", "--shard", "1/4", "--json");
            var first = JsonNode.Parse(File.ReadAllText(files[0]))!.AsObject();
            var second = JsonNode.Parse(again.Stdout)!.AsObject();
            first.Remove("timing");
            second.Remove("timing");
            Assert.Equal(first.ToJsonString(), second.ToJsonString());

            var merged = CliRunner.Run(["check", "--swarm-merge", .. files, "--json"]);
            Assert.Equal(1, merged.ExitCode);
            var doc = JsonNode.Parse(merged.Stdout)!;
            Assert.Equal("violation", doc["verdict"]!.GetValue<string>());
            Assert.Equal(8, doc["members"]!.AsArray().Count);
            Assert.Empty(doc["swarm"]!["members_missing"]!.AsArray());
            var properties = doc["violations"]!.AsArray().Select(v => v!["property"]!.GetValue<string>()).ToList();
            // unrecoverable-terminates, the model's other violation, is a liveness property: no swarm decides it, and
            // the result (each shard's and the merge's) says so.
            Assert.Equal(["one-node-per-token"], properties);
            Assert.Contains("unrecoverable-terminates", doc["liveness_not_checked"]!.AsArray().Select(p => p!.GetValue<string>()));
            Assert.Contains("not checked: ", merged.Stdout.Length > 0 ? merged.Stderr : merged.Stdout, StringComparison.Ordinal);
            Assert.True(doc["coverage"]!["distinct_states_estimate"]!.GetValue<double>() > 100);

            // Each kept counterexample is the shortest any shard found, and its replay line reruns its member.
            foreach (var v in doc["violations"]!.AsArray())
            {
                var length = v!["actions"]!.AsArray().Count;
                foreach (var f in files)
                {
                    var shard = JsonNode.Parse(File.ReadAllText(f))!;
                    foreach (var other in shard["violations"]!.AsArray().Where(o => o!["property"]!.GetValue<string>() == v["property"]!.GetValue<string>()))
                    {
                        Assert.True(other!["actions"]!.AsArray().Count >= length);
                    }
                }

                var replay = v["replay"]!.GetValue<string>();
                Assert.Contains("--swarm --seed 7 --members 8 --swarm-member " + v["member"]!.GetValue<int>(), replay, StringComparison.Ordinal);
                var rerun = CliRunner.Run([.. replay.Split(' ')[1..], "--json"]);
                var rerunDoc = JsonNode.Parse(rerun.Stdout)!;
                Assert.Equal(v["actions"]!.ToJsonString(), rerunDoc["violations"]![0]!["actions"]!.ToJsonString());
            }

            // A shard's replay reruns that shard; the merge's is the whole swarm, whose one run finds what the merge holds.
            Assert.Equal("vexlab check --builtin truncate --protocol kvm-pf --swarm --seed 7 --members 8 --shard 1/4 --max-states 50000", first["replay"]!.GetValue<string>());
            var wholeReplay = doc["replay"]!.GetValue<string>();
            Assert.Equal("vexlab check --builtin truncate --protocol kvm-pf --swarm --seed 7 --members 8 --max-states 50000", wholeReplay);
            var whole = JsonNode.Parse(CliRunner.Run([.. wholeReplay.Split(' ')[1..], "--json"]).Stdout)!;
            Assert.Equal(doc["violations"]!.ToJsonString(), whole["violations"]!.ToJsonString());
            Assert.Equal(doc["members"]!.ToJsonString(), whole["members"]!.ToJsonString());

            // A shard left out is named; a shard of another swarm is refused.
            var partial = CliRunner.Run("check", "--swarm-merge", files[0], files[1]);
            Assert.Contains("members missing", partial.Stderr, StringComparison.Ordinal);

            // ... in the JSON too. "complete" goes with the verdict, as in every check result: a violation found by the
            // shards given is real, and a member that exhausted its search decided the model whatever the others did;
            // without either the merge is incomplete (exit 3).
            var partialRun = CliRunner.Run("check", "--swarm-merge", files[0], files[1], "--json");
            var partialDoc = JsonNode.Parse(partialRun.Stdout)!;
            Assert.Equal(4, partialDoc["swarm"]!["members_missing"]!.AsArray().Count);
            var partialVerdict = partialDoc["verdict"]!.GetValue<string>();
            Assert.Equal(partialVerdict != "incomplete", partialDoc["complete"]!.GetValue<bool>());
            Assert.Equal(partialVerdict switch { "violation" => 1, "pass" => 0, _ => 3 }, partialRun.ExitCode);
            Assert.True(doc["complete"]!.GetValue<bool>());
            var foreign = Path.Combine(temp.FullName, "other.json");
            CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "8", "--seed", "4", "--shard", "2/4", "--json", foreign);
            var refused = CliRunner.Run("check", "--swarm-merge", files[0], foreign);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("not a shard of the same swarm", refused.Stderr, StringComparison.Ordinal);

            // A shard given twice (as a copy) is refused, naming both files.
            var copy = Path.Combine(temp.FullName, "copy.json");
            File.Copy(files[0], copy);
            var twice = CliRunner.Run("check", "--swarm-merge", files[0], files[1], copy);
            Assert.Equal(2, twice.ExitCode);
            Assert.Contains($"is in both {files[0]} and {copy}", twice.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    // A shard cut short (a job killed while writing) is placed as every other JSON input is: file, line and column.
    [Fact]
    public void A_shard_that_is_not_json_is_placed()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-");
        try
        {
            var cut = Path.Combine(temp.FullName, "cut.json");
            File.WriteAllText(cut, "{\n  \"verdict\": \"pass\",\n");
            var result = CliRunner.Run("check", "--swarm-merge", cut, cut);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal(string.Empty, result.Stdout);
            Assert.StartsWith($"vexlab: {cut}:3:1: not JSON: ", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }
}
