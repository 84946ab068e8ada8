namespace Vexlab.Cli.Tests;

/// <summary>
/// A JSON input (a swarm shard, a run or compare result, a counterexample trace) is read under the bounds a YAML input
/// is: its size (VEXLAB_MAX_INPUT_SIZE), its nesting (VEXLAB_MAX_INPUT_DEPTH) and a key given once. Tried as a new user
/// would: --swarm-merge /dev/zero read until memory ran out (exit 134), an over-deep file was refused in the reader's
/// words and without the variable, and a key given twice was an internal error (exit 70) when first indexed.
/// </summary>
public sealed class JsonInputLimitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-json-limits-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Readers() => new() { "swarm-merge", "replay", "plot" };

    private string[] Command(string reader, string file) => reader switch
    {
        "swarm-merge" => ["check", "--swarm-merge", file],
        "replay" => ["replay", file],
        _ => ["plot", file, "--kind", "stacked", "--out", Path.Combine(_dir, "p.png")],
    };

    [Theory]
    [MemberData(nameof(Readers))]
    public void Nesting_past_the_bound_is_refused_as_yaml_is_and_the_variable_raises_it(string reader)
    {
        var file = Path.Combine(_dir, "deep.json");
        File.WriteAllText(file, string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100));

        var refused = CliRunner.Run(Command(reader, file));
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"vexlab: {file}:1:321: nested deeper than 64 levels; set VEXLAB_MAX_INPUT_DEPTH to raise the limit\n", refused.Stderr);

        // Raised, the file is read, and refused for what it holds, not for its depth.
        var raised = CliRunner.WithEnvironment("VEXLAB_MAX_INPUT_DEPTH", "300", () => CliRunner.Run(Command(reader, file)));
        Assert.Equal(2, raised.ExitCode);
        Assert.DoesNotContain("nested deeper", raised.Stderr, StringComparison.Ordinal);
        Assert.Single(raised.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void A_key_given_twice_is_refused_in_one_line(string reader)
    {
        var file = Path.Combine(_dir, "twice.json");
        File.WriteAllText(file, "{\"schema_version\": 1, \"schema_version\": 2}");
        var result = CliRunner.Run(Command(reader, file));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {file}:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("schema_version", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void A_file_past_the_size_bound_is_refused_before_it_is_read_whole(string reader)
    {
        var file = Path.Combine(_dir, "big.json");
        File.WriteAllText(file, "{\"a\": \"" + new string('x', 2000) + "\"}");
        var result = CliRunner.WithEnvironment("VEXLAB_MAX_INPUT_SIZE", "1KiB", () => CliRunner.Run(Command(reader, file)));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("larger than the 1024-byte limit on input files; set VEXLAB_MAX_INPUT_SIZE", result.Stderr, StringComparison.Ordinal);
    }

    // check refused a --max-states above 2^31 - 2, the most the engine numbers; bench --checker took it and capped it.
    [Fact]
    public void Bench_checker_refuses_max_states_above_what_check_takes()
    {
        var bench = CliRunner.Run("bench", "--checker", "--max-states", "2147483647");
        var check = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "ve", "--max-states", "2147483647");
        Assert.Equal(2, bench.ExitCode);
        Assert.Equal("vexlab: --max-states: at most 2147483646 (2^31 - 2, the most states a check numbers), got 2147483647\n", bench.Stderr);
        Assert.Equal(check.Stderr, bench.Stderr);
    }
}
