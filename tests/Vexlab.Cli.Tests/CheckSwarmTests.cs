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
            Assert.Equal(0, doc["swarm"]!["members_missing_count"]!.GetValue<int>());
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

            // A shard left out is refused, naming the members missing, before any output (exit 2), as sweep merge
            // refuses stores with runs missing.
            var partial = CliRunner.Run("check", "--swarm-merge", files[0], files[1]);
            Assert.Equal(2, partial.ExitCode);
            Assert.Equal(string.Empty, partial.Stdout);
            Assert.Equal("vexlab: swarm merge: 4 of 8 members missing (shards not given or unfinished): 2, 3, 6, 7; merge every shard, rerun the unfinished ones (the same check --swarm --shard command), or pass --allow-partial to merge what is there\n", partial.Stderr.ReplaceLineEndings("\n"));

            // With --allow-partial it merges what is there: a violation the shards found is still one (exit 1).
            var partialRun = CliRunner.Run("check", "--swarm-merge", files[0], files[1], "--allow-partial", "--json");
            Assert.Contains("swarm merge: partial: 4 of 8 members missing", partialRun.Stderr, StringComparison.Ordinal);
            var partialDoc = JsonNode.Parse(partialRun.Stdout)!;
            // Shards 3/4 and 4/4 not given: one run of step 4 each.
            Assert.Equal("[{\"first\":2,\"last\":6,\"step\":4},{\"first\":3,\"last\":7,\"step\":4}]", partialDoc["swarm"]!["members_missing"]!.ToJsonString());
            Assert.Equal(4, partialDoc["swarm"]!["members_missing_count"]!.GetValue<int>());
            Assert.Equal("violation", partialDoc["verdict"]!.GetValue<string>());
            Assert.True(partialDoc["complete"]!.GetValue<bool>());
            Assert.Equal(1, partialRun.ExitCode);

            // Its replay line is the merge of the same files, which gives the same document; the whole swarm's line
            // reran the members missing here too, and reported another member's counterexample.
            var partialReplay = (string)partialDoc["replay"]!;
            Assert.StartsWith("vexlab check --swarm-merge ", partialReplay, StringComparison.Ordinal);
            Assert.Contains("--allow-partial", partialReplay, StringComparison.Ordinal);
            var merge = JsonNode.Parse(CliRunner.Run([.. partialReplay.Split(' ')[1..], "--json"]).Stdout)!.AsObject();
            var given = partialDoc.DeepClone().AsObject();
            given.Remove("timing");
            merge.Remove("timing");
            Assert.True(JsonNode.DeepEquals(given, merge), merge.ToJsonString());
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

    // Tried as a new user would: half of token-wrap's swarm under kvm-pf-int merged alone said "verdict: pass",
    // "complete": true and exit 0, with only a line on stderr about the members missing. Such a set is refused; with
    // --allow-partial it merges, and its pass stands only because a present member explored every reachable state (a
    // proof, whoever is missing). Members that exhaust nothing and find nothing leave it incomplete, exit 3.
    [Fact]
    public void A_partial_merge_is_refused_and_with_allow_partial_passes_only_on_a_proof()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-");
        try
        {
            var shard = Path.Combine(temp.FullName, "tp1.json");
            var run = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--swarm", "--members", "4", "--shard", "1/2", "--json", shard);
            Assert.Equal(0, run.ExitCode);
            Assert.Equal("pass", JsonNode.Parse(File.ReadAllText(shard))!["verdict"]!.GetValue<string>());

            var refused = CliRunner.Run("check", "--swarm-merge", shard, "--json");
            Assert.Equal(2, refused.ExitCode);
            Assert.Equal(string.Empty, refused.Stdout);
            Assert.Single(refused.Stderr.Trim().Split('\n'));
            Assert.Contains("2 of 4 members missing (shards not given or unfinished): 1, 3", refused.Stderr, StringComparison.Ordinal);

            var merged = CliRunner.Run("check", "--swarm-merge", shard, "--allow-partial", "--json");
            Assert.Equal(0, merged.ExitCode);
            var doc = JsonNode.Parse(merged.Stdout)!;
            Assert.Equal("pass", doc["verdict"]!.GetValue<string>());
            Assert.Contains(doc["members"]!.AsArray(), m => m!["exhausted"]!.GetValue<bool>());
            Assert.True(doc["complete"]!.GetValue<bool>());
            Assert.Equal("[{\"first\":1,\"last\":3,\"step\":2}]", doc["swarm"]!["members_missing"]!.ToJsonString());

            // A shard of members cut short by a state bound proves nothing: its partial merge is incomplete.
            var bounded = Path.Combine(temp.FullName, "tb1.json");
            CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--swarm", "--members", "4", "--shard", "1/2", "--max-states", "50", "--json", bounded);
            Assert.DoesNotContain(JsonNode.Parse(File.ReadAllText(bounded))!["members"]!.AsArray(), m => m!["exhausted"]!.GetValue<bool>());
            var cut = CliRunner.Run("check", "--swarm-merge", bounded, "--allow-partial", "--json");
            Assert.Equal(3, cut.ExitCode);
            var cutDoc = JsonNode.Parse(cut.Stdout)!;
            Assert.Equal("incomplete", cutDoc["verdict"]!.GetValue<string>());
            Assert.False(cutDoc["complete"]!.GetValue<bool>());

            // --allow-partial belongs to the merge.
            var alone = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--allow-partial");
            Assert.Equal(2, alone.ExitCode);
            Assert.Contains("--allow-partial goes with --swarm-merge", alone.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    // A swarm stopped at --time-limit (or by a signal) said only "complete": false, as one whose members all met their
    // bounds; check's, run's and compare's JSON name the cause in stop_reason. A merge read a stopped shard as a whole
    // one: it names the cause too and stays incomplete (exit 3).
    [Fact]
    public void A_stopped_swarm_and_its_merge_say_why_in_stop_reason()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-stop-");
        try
        {
            var whole = JsonNode.Parse(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--swarm", "--members", "2", "--json").Stdout)!.AsObject();
            Assert.True(whole.ContainsKey("stop_reason"));
            Assert.Null(whole["stop_reason"]);

            // large.yaml's members (10^8 states each, no depth bound to speak of) run far past a 1 s limit; the merge
            // names the first stopped shard.
            var large = Path.Combine(RepositoryRoot.Path, "docs", "examples", "large.yaml");
            var shards = new List<string>();
            for (var i = 1; i <= 2; i++)
            {
                shards.Add(Path.Combine(temp.FullName, $"shard-{i}.json"));
                var r = CliRunner.Run("check", large, "--protocol", "kvm-pf-int", "--swarm", "--members", "2", "--shard", $"{i}/2", "--time-limit", "1s", "--max-depth", "100000", "--max-states", "100000000", "--json", shards[^1]);
                Assert.True(r.ExitCode == 3, r.Stderr);
            }

            var stopped = JsonNode.Parse(File.ReadAllText(shards[0]))!;
            Assert.False(stopped["complete"]!.GetValue<bool>());
            Assert.Equal("time-limit", (string?)stopped["stop_reason"]);

            var merged = CliRunner.Run("check", "--swarm-merge", shards[0], shards[1], "--json");
            Assert.True(merged.ExitCode == 3, merged.Stderr);
            var doc = JsonNode.Parse(merged.Stdout)!;
            Assert.False(doc["complete"]!.GetValue<bool>());
            Assert.Equal("time-limit", (string?)doc["stop_reason"]);
            // Both shards were stopped, and both are named: the message once named the first alone.
            Assert.Contains($"vexlab: swarm merge: 2 shards were stopped: {shards[0]} (time-limit), {shards[1]} (time-limit); the result covers their members' work so far", merged.Stderr, StringComparison.Ordinal);
            var reversed = CliRunner.Run("check", "--swarm-merge", shards[1], shards[0]);
            Assert.Contains($"vexlab: swarm merge: 2 shards were stopped: {shards[1]} (time-limit), {shards[0]} (time-limit)", reversed.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    // Counts in check's messages are grouped as its state counts are ("49,052 distinct states"); the members missing
    // from a merge were not ("1998 of 2000 members missing").
    [Fact]
    public void Counts_in_swarm_messages_have_thousands_separators()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-n0-");
        try
        {
            var shard = Path.Combine(temp.FullName, "s1.json");
            var run = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--swarm", "--members", "2000", "--shard", "1/1000", "--max-states", "10", "--json", shard);
            Assert.True(run.ExitCode is 0 or 1 or 3, run.Stderr);

            var refused = CliRunner.Run("check", "--swarm-merge", shard);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("1,998 of 2,000 members missing", refused.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    // The sketch's estimate of distinct states went above the states the members stored ("about 4,027 distinct states
    // (4,000 visited over all members)"): there cannot be more distinct states than stored ones.
    [Theory]
    [InlineData("4", "1000", "5")]
    [InlineData("1", "100", "1")]
    public void The_coverage_estimate_is_at_most_the_states_visited(string members, string maxStates, string seed)
    {
        var run = CliRunner.Run("check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--swarm", "--members", members, "--max-states", maxStates, "--seed", seed, "--json");
        var doc = JsonNode.Parse(run.Stdout)!;
        var visited = doc["coverage"]!["states_visited"]!.GetValue<long>();
        Assert.Equal(long.Parse(members, System.Globalization.CultureInfo.InvariantCulture) * long.Parse(maxStates, System.Globalization.CultureInfo.InvariantCulture), visited);
        Assert.True(doc["coverage"]!["distinct_states_estimate"]!.GetValue<double>() <= visited, doc["coverage"]!.ToJsonString());

        // No member exhausted the space: an estimate, and at least what one member stored (its states are distinct).
        Assert.DoesNotContain(doc["members"]!.AsArray(), m => m!["exhausted"]!.GetValue<bool>());
        Assert.False(doc["coverage"]!["exact"]!.GetValue<bool>());
        Assert.True(doc["coverage"]!["distinct_states_estimate"]!.GetValue<double>() >= doc["members"]!.AsArray().Max(m => m!["states"]!.GetValue<long>()), doc["coverage"]!.ToJsonString());
        var human = CliRunner.Run("check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--swarm", "--members", members, "--max-states", maxStates, "--seed", seed);
        var line = human.Stdout.Split('\n').Single(l => l.StartsWith("coverage: about ", StringComparison.Ordinal));
        var estimate = long.Parse(line["coverage: about ".Length..].Split(' ')[0], System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(estimate <= visited, line);
    }

    // Members 2 and 3 of token-wrap's swarm under ve exhausted the space (4,896 states, the exhaustive count) while
    // the coverage line said "about 4,869 distinct states": the sketch's error, below a count known exactly. A member
    // that exhausted the space stored every reachable state; its count is the coverage, said without "about", in the
    // swarm's result and in the merge of its shards.
    [Fact]
    public void A_member_that_exhausted_the_space_makes_the_coverage_exact()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-exact-");
        try
        {
            string[] swarm = ["check", "--builtin", "token-wrap", "--protocol", "ve", "--swarm", "--members", "4"];
            var exhaustive = JsonNode.Parse(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "ve", "--property", "no-deadlock", "--json").Stdout)!;
            Assert.Equal("exhausted", (string?)exhaustive["stop_reason"]);
            var shards = new List<string>();
            for (var i = 1; i <= 2; i++)
            {
                shards.Add(Path.Combine(temp.FullName, $"shard-{i}.json"));
                Assert.True(CliRunner.Run([.. swarm, "--shard", $"{i}/2", "--json", shards[^1]]).ExitCode is 0 or 1);
            }

            foreach (var args in new[] { swarm, ["check", "--swarm-merge", .. shards] })
            {
                var doc = JsonNode.Parse(CliRunner.Run([.. args, "--json"]).Stdout)!;
                var exhausted = doc["members"]!.AsArray().Where(m => m!["exhausted"]!.GetValue<bool>()).ToList();
                Assert.NotEmpty(exhausted);
                Assert.All(exhausted, m => Assert.Equal((long)exhaustive["states"]!, (long)m!["states"]!));
                Assert.True(doc["coverage"]!["exact"]!.GetValue<bool>());
                Assert.Equal((long)exhaustive["states"]!, doc["coverage"]!["distinct_states_estimate"]!.GetValue<long>());

                var line = CliRunner.Run(args).Stdout.Split('\n').Single(l => l.StartsWith("coverage: ", StringComparison.Ordinal));
                Assert.StartsWith(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"coverage: {(long)exhaustive["states"]!:N0} distinct states, every reachable one"), line, StringComparison.Ordinal);
            }
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

    /// <summary>
    /// Shards are of one swarm when they checked one model: a model file's text decides, not the path that named it.
    /// A file edited between shards kept its path and the merge joined two models' members; the same file named from
    /// another folder was refused.
    /// </summary>
    [Fact]
    public void Shards_of_one_model_file_merge_whatever_path_named_it_and_an_edited_file_is_refused()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-");
        try
        {
            var model = Path.Combine(temp.FullName, "m.yaml");
            const string Text = "name: m\nvcpus: 1\npages: 2\nhost_absent: [0, 1]\ntasks:\n  - {name: a, mode: user, vcpu: 0, program: \"touch 0; touch 1\"}\n  - {name: b, mode: user, vcpu: 0, program: \"touch 1\"}\n";
            File.WriteAllText(model, Text);
            string Shard(string path, int i)
            {
                var json = Path.Combine(temp.FullName, $"s{i}-{Guid.NewGuid():n}.json");
                var r = CliRunner.Run("check", path, "--protocol", "kvm-pf-int", "--swarm", "--members", "4", "--shard", $"{i}/2", "--json", json);
                Assert.True(r.ExitCode is 0 or 3, r.Stderr);
                return json;
            }

            var one = Shard(model, 1);
            var sameFileOtherName = Shard(Path.Combine(temp.FullName, ".", "m.yaml"), 2);
            var merged = CliRunner.Run("check", "--swarm-merge", one, sameFileOtherName, "--json", "-");
            Assert.True(merged.ExitCode is 0 or 3, merged.Stderr);
            var doc = JsonNode.Parse(merged.Stdout)!;
            Assert.Equal(model, (string?)doc["model_file"]);
            Assert.Matches("^[0-9a-f]{16}$", (string?)doc["model_file_hash"]);

            File.WriteAllText(model, Text.Replace("program: \"touch 1\"", "program: \"touch 1; touch 0\"", StringComparison.Ordinal));
            var edited = Shard(model, 2);
            var refused = CliRunner.Run("check", "--swarm-merge", one, edited);
            Assert.Equal(2, refused.ExitCode);
            Assert.Equal(string.Empty, refused.Stdout);
            Assert.Contains($"{edited}: model_file_hash is ", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("not a shard of the same swarm", refused.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A member stops at its state bound, so a shard whose member counts more (or fewer than none) was edited: the merge
    /// refuses it with exit 2, naming the file and the member. A count near 2^63 overflowed the merge's sum of the members'
    /// states (exit 70, an internal error), as the fuzzer found.
    /// </summary>
    [Theory]
    [InlineData(9223372036854775807L)]
    [InlineData(301L)]
    [InlineData(-1L)]
    public void A_shard_whose_member_counts_past_its_bound_is_refused(long states) =>
        AnEditedShardIsRefused(
            doc => doc["members"]![0]!["states"] = states,
            shard => $"vexlab: {shard}: member 0 has states {states} and transitions ",
            "expected states from 0 to swarm.max_states_per_member (300)");

    /// <summary>The first shard's swarm.members is the member count the merge expects: absent, it was a null dereference (exit 70), as the fuzzer found.</summary>
    [Fact]
    public void A_shard_without_its_member_count_is_refused() =>
        AnEditedShardIsRefused(
            doc => doc["swarm"]!.AsObject().Remove("members"),
            shard => $"vexlab: {shard}: swarm.members is absent, expected the swarm's member count",
            "not a complete swarm result");

    /// <summary>A one-shard swarm of wake-race (2 members of 300 states), edited, then merged: exit 2, nothing on stdout, one line naming the file.</summary>
    private static void AnEditedShardIsRefused(Action<JsonObject> edit, Func<string, string> start, string contains)
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-");
        try
        {
            var shard = Path.Combine(temp.FullName, "s.json");
            var r = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--swarm", "--members", "2", "--max-states", "300", "--json", shard);
            Assert.True(r.ExitCode is 0 or 1 or 3, r.Stderr);
            var edited = JsonNode.Parse(File.ReadAllText(shard))!.AsObject();
            edit(edited);
            File.WriteAllText(shard, edited.ToJsonString());

            var refused = CliRunner.Run("check", "--swarm-merge", shard, "--json", "-");
            Assert.Equal(2, refused.ExitCode);
            Assert.Equal(string.Empty, refused.Stdout);
            Assert.StartsWith(start(shard), refused.Stderr, StringComparison.Ordinal);
            Assert.Contains(contains, refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(1, refused.Stderr.Count(c => c == '\n'));
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>A shard of another vexlab version is another swarm: its code defines the models and the rules.</summary>
    [Fact]
    public void A_shard_of_another_version_is_refused()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-");
        try
        {
            var a = Path.Combine(temp.FullName, "a.json");
            var b = Path.Combine(temp.FullName, "b.json");
            Assert.True(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "ve", "--swarm", "--members", "2", "--shard", "1/2", "--json", a).ExitCode is 0 or 1 or 3);
            Assert.True(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "ve", "--swarm", "--members", "2", "--shard", "2/2", "--json", b).ExitCode is 0 or 1 or 3);
            var doc = JsonNode.Parse(File.ReadAllText(b))!.AsObject();
            doc["vexlab_version"] = "0.0.1+other";
            File.WriteAllText(b, doc.ToJsonString());
            var refused = CliRunner.Run("check", "--swarm-merge", a, b);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains($"{b}: vexlab_version is \"0.0.1+other\"", refused.Stderr, StringComparison.Ordinal);

            // Every shard of that version, merged by this one, would be labelled with this version.
            var aDoc = JsonNode.Parse(File.ReadAllText(a))!.AsObject();
            aDoc["vexlab_version"] = "0.0.1+other";
            File.WriteAllText(a, aDoc.ToJsonString());
            var foreign = CliRunner.Run("check", "--swarm-merge", a, b);
            Assert.Equal(2, foreign.ExitCode);
            Assert.Equal(string.Empty, foreign.Stdout);
            Assert.Contains($"{a}: written by vexlab 0.0.1+other, and this is vexlab ", foreign.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A swarm stopped at its time limit after finding a violation exits 1, as a check without --swarm does: exit 3
    /// reads "no violation" to a batch script (docs/cluster.md), which then missed a real one.
    /// </summary>
    [Fact]
    public void A_violation_found_before_the_time_limit_exits_1()
    {
        // truncate under kvm-pf breaks one-node-per-token within a few thousand states; 20,000 members of 2,000
        // states each run far past 1 s, and a few dozen of them find it.
        var r = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "20000", "--max-states", "2000", "--time-limit", "1s", "--json", "-");
        var doc = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("time-limit", (string?)doc["stop_reason"]);
        Assert.False(doc["complete"]!.GetValue<bool>());
        Assert.Equal("violation", (string?)doc["verdict"]);
        Assert.Equal(1, r.ExitCode);
    }

    /// <summary>
    /// A member that explored every reachable state before the time limit proves the pass, whatever the members the
    /// limit cut short would have done: token-wrap's swarm said "verdict: pass" and "every reachable one", and exited 3
    /// with "complete": false, where a partial merge of the same proof exits 0.
    /// </summary>
    [Fact]
    public void A_pass_proven_before_the_time_limit_exits_0()
    {
        // token-wrap's 4,230 states under kvm-pf-int are a few milliseconds' work for a member whose depth bound is
        // past its diameter; 20,000 members run far past 1 s.
        var r = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--swarm", "--members", "20000", "--time-limit", "1s", "--json", "-");
        var doc = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("time-limit", (string?)doc["stop_reason"]);
        Assert.Contains(doc["members"]!.AsArray(), m => m!["exhausted"]!.GetValue<bool>());
        Assert.Equal("pass", (string?)doc["verdict"]);
        Assert.True(doc["complete"]!.GetValue<bool>());
        Assert.Equal(0, r.ExitCode);
    }

    /// <summary>
    /// Members whose turn comes after the time limit do not start: each one started ran up to a thousand transitions
    /// before looking at the clock, and 10,000 members stopped at 400 ms took 30 s to end. Nor are they listed one by
    /// one, with no states: 1,000,000 members under a 1 s limit took 23 s and 2 GB and wrote 168 MB. They are counted,
    /// and the members listed are the first of the swarm's.
    /// </summary>
    [Fact]
    public void Members_after_the_time_limit_do_not_start_and_are_counted_not_listed()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-huge-");
        try
        {
            var file = Path.Combine(temp.FullName, "huge.json");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var r = CliRunner.Run("check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--swarm", "--members", "1000000", "--max-states", "100000", "--time-limit", "300ms", "--json", file);
            clock.Stop();
            Assert.True(r.ExitCode == 3, r.Stderr);

            // A guard against members run one by one (tens of seconds), not a timing claim.
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(60));
            Assert.InRange(new FileInfo(file).Length, 1, 1_000_000);
            var doc = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.Equal("time-limit", (string?)doc["stop_reason"]);
            var members = doc["members"]!.AsArray().Select(m => m!["member"]!.GetValue<int>()).ToList();
            Assert.InRange(members.Count, 1, 1000);
            Assert.Equal(Enumerable.Range(0, members.Count), members);
            Assert.Equal(1_000_000 - members.Count, doc["swarm"]!["members_not_started"]!.GetValue<int>());
            Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; {1_000_000 - members.Count:N0} of its 1,000,000 members did not start"), r.Stderr, StringComparison.Ordinal);

            // A swarm that ran to its end starts every member and says nothing of members not started.
            var whole = JsonNode.Parse(CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--swarm", "--members", "4", "--json").Stdout)!;
            Assert.Equal(4, whole["members"]!.AsArray().Count);
            Assert.False(whole["swarm"]!.AsObject().ContainsKey("members_not_started"));
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A swarm stopped at its time limit printed a replay line without the limit, and its JSON did not say which
    /// members the stop cut short. The limit is not carried (where it falls follows the machine: the same 1 s bench
    /// swarm ran 4 members once and 7 the next time); the members cut short say so, and each member that ended reruns
    /// alike alone.
    /// </summary>
    [Fact]
    public void A_stopped_swarm_names_the_members_it_cut_short_and_the_others_rerun_alike()
    {
        var r = CliRunner.Run("check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--swarm", "--members", "1000", "--max-states", "20000", "--time-limit", "1s", "--json");
        Assert.True(r.ExitCode == 3, r.Stderr);
        var doc = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("time-limit", (string?)doc["stop_reason"]);
        const string Replay = "vexlab check --builtin bench --protocol kvm-pf-int --swarm --seed 1 --members 1000 --max-states 20000";
        Assert.Equal(Replay, (string?)doc["replay"]);
        Assert.Contains("vexlab: seed 1; replay: " + Replay + "\n", r.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("--time-limit 1s", r.Stderr, StringComparison.Ordinal);

        var members = doc["members"]!.AsArray().Select(m => m!.AsObject()).ToList();
        var cut = members.Where(m => m["stopped"]!.GetValue<bool>()).Select(m => m["member"]!.GetValue<int>()).ToList();
        Assert.Contains(members, m => !m["stopped"]!.GetValue<bool>());
        if (cut.Count > 0)
        {
            Assert.Contains($"; cut short: member{(cut.Count > 1 ? "s" : string.Empty)} {string.Join(", ", cut)}\n", r.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        }

        // A member that ended reruns alike; one cut short reruns to its end, past where it was cut.
        foreach (var m in members.Where(m => !m["stopped"]!.GetValue<bool>()).Take(2).Concat(members.Where(m => m["stopped"]!.GetValue<bool>())))
        {
            var k = m["member"]!.GetValue<int>();
            var rerun = JsonNode.Parse(CliRunner.Run([.. Replay.Split(' ')[1..], "--swarm-member", k.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"]).Stdout)!["members"]![0]!.AsObject();
            Assert.False(rerun["stopped"]!.GetValue<bool>());
            if (m["stopped"]!.GetValue<bool>())
            {
                Assert.True(rerun["transitions"]!.GetValue<long>() >= m["transitions"]!.GetValue<long>(), $"member {k}");
                Assert.True(rerun["states"]!.GetValue<long>() >= m["states"]!.GetValue<long>(), $"member {k}");
            }
            else
            {
                Assert.Equal(m.ToJsonString(), rerun.ToJsonString());
            }
        }
    }

    /// <summary>
    /// Members a stopped shard did not start are missing from a merge as a shard not given is: refused (exit 2, naming
    /// them), and with --allow-partial merged, incomplete with the shard's stop_reason (exit 3).
    /// </summary>
    [Fact]
    public void A_merge_counts_members_a_stopped_shard_did_not_start_as_missing()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-swarm-stopped-");
        try
        {
            var shards = new List<string>();
            for (var i = 1; i <= 2; i++)
            {
                shards.Add(Path.Combine(temp.FullName, $"s{i}.json"));
                var r = CliRunner.Run("check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--swarm", "--members", "20000", "--max-states", "100000", "--shard", $"{i}/2", "--time-limit", "300ms", "--json", shards[^1]);
                Assert.True(r.ExitCode == 3, r.Stderr);
            }

            var ran = shards.Sum(f => JsonNode.Parse(File.ReadAllText(f))!["members"]!.AsArray().Count);
            var notStarted = shards.Sum(f => JsonNode.Parse(File.ReadAllText(f))!["swarm"]!["members_not_started"]!.GetValue<int>());
            Assert.Equal(20000, ran + notStarted);

            var refused = CliRunner.Run(["check", "--swarm-merge", .. shards, "--json"]);
            Assert.Equal(2, refused.ExitCode);
            Assert.Equal(string.Empty, refused.Stdout);
            Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{notStarted:N0} of 20,000 members missing (shards not given or unfinished)"), refused.Stderr, StringComparison.Ordinal);

            var merged = CliRunner.Run(["check", "--swarm-merge", .. shards, "--allow-partial", "--json"]);
            Assert.True(merged.ExitCode == 3, merged.Stderr);
            var doc = JsonNode.Parse(merged.Stdout)!;
            Assert.Equal("time-limit", (string?)doc["stop_reason"]);
            Assert.False(doc["complete"]!.GetValue<bool>());
            Assert.Equal(ran, doc["members"]!.AsArray().Count);
            // A 13.9 MB list of indices for a million members once: here each shard's members not started are one
            // run of step 2 (the shards' count), and expanded they are exactly the members the merge lacks.
            var runs = doc["swarm"]!["members_missing"]!.AsArray();
            Assert.Equal(2, runs.Count);
            Assert.All(runs, r => Assert.Equal(2, r!["step"]!.GetValue<int>()));
            Assert.Equal(notStarted, doc["swarm"]!["members_missing_count"]!.GetValue<int>());
            var expanded = runs.SelectMany(r => Enumerable.Range(0, ((r!["last"]!.GetValue<int>() - r["first"]!.GetValue<int>()) / 2) + 1).Select(k => r["first"]!.GetValue<int>() + (2 * k))).Order();
            var present = doc["members"]!.AsArray().Select(m => m!["member"]!.GetValue<int>()).ToHashSet();
            Assert.Equal(Enumerable.Range(0, 20000).Where(m => !present.Contains(m)), expanded);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>
    /// --members had no upper bound: 100,000,000 members ran far past a 1 s limit until killed. The bound is a Slurm
    /// array of 1,000 shards of 1,000 members; past it, one line and exit 2, before any work.
    /// </summary>
    [Theory]
    [InlineData("1000001")]
    [InlineData("100000000")]
    public void Members_past_the_bound_are_refused(string members)
    {
        var r = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--swarm", "--members", members, "--time-limit", "1s", "--json", "-");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(string.Empty, r.Stdout);
        Assert.Equal($"vexlab: --members: must be at most 1,000,000 (a result lists every member that ran, and a merge holds every shard's: 1,000 shards of 1,000 members), got {members}\n", r.Stderr.ReplaceLineEndings("\n"));
    }
}
