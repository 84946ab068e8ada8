using System.Text.Json.Nodes;
using Vexlab.Checking.Swarm;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>--seed</c> is one range, 0 to 2^63 - 1, in every command that takes it: a seed one command takes, the others
/// take, and one out of range gets the same line naming the option and the range.
/// </summary>
public sealed class SeedRangeTests
{
    private const string Refusal = "vexlab: --seed: expected a seed, a whole number from 0 to 9223372036854775807, got ";

    public static TheoryData<string[], string> OutOfRange()
    {
        string[][] commands =
        [
            ["run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms"],
            ["compare", "--builtin", "postcopy", "--protocols", "sync", "--duration", "1ms"],
            ["validate", "--builtin", "postcopy"],
            ["check", "--builtin", "wake-race", "--protocol", "ve", "--swarm", "--members", "1", "--max-states", "100"],
        ];
        var data = new TheoryData<string[], string>();
        foreach (var command in commands)
        {
            foreach (var seed in new[] { "9223372036854775808", "18446744073709551615", "99999999999999999999999", "-1", "+5", "x" })
            {
                data.Add(command, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void A_seed_out_of_range_is_refused_alike_by_every_command(string[] command, string seed)
    {
        var result = CliRunner.Run([.. command, "--seed", seed]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(Refusal + "\"" + seed + "\"", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, result.Stderr.Count(c => c == '\n'));
    }

    [Fact]
    public void The_largest_seed_runs_in_run_and_in_a_swarm_and_both_carry_it()
    {
        var run = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms", "--seed", "9223372036854775807", "--json");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(long.MaxValue, (long)JsonNode.Parse(run.Stdout)!["seed"]!);

        var swarm = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "ve", "--swarm", "--members", "2", "--max-states", "100", "--seed", "9223372036854775807", "--json");
        Assert.NotEqual(2, swarm.ExitCode);
        var doc = JsonNode.Parse(swarm.Stdout)!;
        Assert.Equal(long.MaxValue, (long)doc["seed"]!);
        Assert.Contains("--seed 9223372036854775807", (string?)doc["replay"], StringComparison.Ordinal);
    }

    /// <summary>
    /// A merge takes the swarm seeds <c>check --swarm --seed</c> takes: a shard written when the option took seeds up
    /// to 2^64 - 1 (before 0c01e08) may hold one above 2^63 - 1, and merged, its replay line named a seed check refuses.
    /// The merge refuses it before writing anything; 2^63 - 1 merges, and its members' 64-bit seeds are read as such.
    /// </summary>
    [Fact]
    public void A_merge_refuses_a_shard_whose_swarm_seed_check_would_refuse()
    {
        var temp = Directory.CreateTempSubdirectory("vexlab-seed-");
        try
        {
            var shards = new[] { Path.Combine(temp.FullName, "1.json"), Path.Combine(temp.FullName, "2.json") };
            for (var i = 0; i < 2; i++)
            {
                var r = CliRunner.Run("check", "--builtin", "token-wrap", "--protocol", "ve", "--swarm", "--members", "4", "--max-states", "100", "--seed", "9223372036854775807", "--shard", $"{i + 1}/2", "--json", shards[i]);
                Assert.True(r.ExitCode is 0 or 1 or 3, r.Stderr);
            }

            var merged = CliRunner.Run("check", "--swarm-merge", shards[0], shards[1], "--json");
            Assert.True(merged.ExitCode is 0 or 1 or 3, merged.Stderr);
            var doc = JsonNode.Parse(merged.Stdout)!;
            Assert.Equal(long.MaxValue, (long)doc["seed"]!);
            Assert.Equal("9223372036854775807", (string?)doc["swarm"]!["seed"]);
            Assert.Contains(doc["members"]!.AsArray(), m => ulong.Parse((string)m!["seed"]!, System.Globalization.CultureInfo.InvariantCulture) > long.MaxValue);

            // Both shards as the older version wrote them with --seed 9223372036854775808.
            foreach (var shard in shards)
            {
                var edited = JsonNode.Parse(File.ReadAllText(shard))!.AsObject();
                edited["seed"] = 9223372036854775808UL;
                edited["swarm"]!["seed"] = "9223372036854775808";
                edited["replay"] = ((string)edited["replay"]!).Replace("--seed 9223372036854775807", "--seed 9223372036854775808", StringComparison.Ordinal);
                File.WriteAllText(shard, edited.ToJsonString());
            }

            var output = Path.Combine(temp.FullName, "merged.json");
            var refused = CliRunner.Run("check", "--swarm-merge", shards[0], shards[1], "--json", output);
            Assert.Equal(2, refused.ExitCode);
            Assert.Equal(string.Empty, refused.Stdout);
            Assert.Equal($"vexlab: {shards[0]}: swarm.seed is \"9223372036854775808\", expected a seed, a whole number from 0 to 9223372036854775807 (the range of check --swarm --seed): not a swarm this vexlab can rerun\n", refused.Stderr);
            Assert.False(File.Exists(output));
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Swarm seeds stop at 2^63 - 1, but a member's seed is SplitMix64 of the swarm seed and its index: it still
    /// ranges over all 64 bits, distinct per member, at the top of the range as at its bottom.
    /// </summary>
    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(long.MaxValue)]
    public void Member_seeds_still_cover_the_64_bit_range(long seed)
    {
        var options = new SwarmOptions { Seed = (ulong)seed, Members = 64 };
        var members = Enumerable.Range(0, 64).Select(options.MemberSeed).ToList();
        Assert.Equal(64, members.Distinct().Count());
        Assert.Contains(members, m => m > long.MaxValue);
        Assert.Contains(members, m => m <= long.MaxValue);
    }
}
