namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>--json</c> takes an optional FILE, so the parser gives it the next word: a scenario or a command's argument
/// typed after a bare <c>--json</c> must not become the JSON file (and be overwritten) while the command runs on
/// its default input.
/// </summary>
public sealed class JsonValueTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("validate", "--json", "{0}")]
    [InlineData("run", "--json", "{0}", "--protocol", "ve", "--duration", "5ms")]
    [InlineData("compare", "--protocols", "ve", "--duration", "5ms", "--json", "{0}")]
    [InlineData("check", "--json", "{0}", "--protocol", "ve")]
    public void An_existing_file_that_holds_no_json_is_not_overwritten(params string[] args)
    {
        var scenario = P("mine.yaml");
        File.WriteAllText(scenario, "name: mine\n");
        var result = CliRunner.Run([.. args.Select(a => a.Replace("{0}", scenario, StringComparison.Ordinal))]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: --json: \"{scenario}\" is an existing file that holds no JSON; the result would replace it (--json takes an optional FILE: write --json - for standard output, or put --json after the command's arguments)\n", result.Stderr);
        Assert.Equal("name: mine\n", File.ReadAllText(scenario));
    }

    // Written to as a file, /dev/stdout got the document after the table and the "wrote" line: stdout held more than
    // the one document, and a pipe into a JSON reader failed.
    [Theory]
    [InlineData("/dev/stdout")]
    [InlineData("/dev/fd/1")]
    [InlineData("/proc/self/fd/1")]
    [InlineData("/dev/./stdout")]
    [InlineData("/proc/thread-self/fd/1")]
    [InlineData("/proc/{pid}/fd/1")]
    [InlineData("-")]
    public void Standard_outputs_names_take_the_document_alone(string name)
    {
        name = name.Replace("{pid}", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var result = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms", "--json", name);
        Assert.Equal(0, result.ExitCode);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(result.Stdout)!;
        Assert.Equal("ve", (string?)doc["protocol"]);
        Assert.Contains("postcopy: 1.0 ms simulated, seed 1", result.Stderr, StringComparison.Ordinal);
    }

    // Each output let standard output through as a device: --json - then shared it with the trace, and a JSON reader
    // of the pipe failed on the second document.
    [Theory]
    [InlineData("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "1ms", "--json", "-", "--trace", "/dev/stdout")]
    [InlineData("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "1ms", "--json", "/dev/fd/1", "--trace", "/proc/self/fd/1")]
    [InlineData("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "1ms", "--json", "-", "--trace", "/dev/./stdout", "--trace-format", "ftrace")]
    [InlineData("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--json", "-", "--trace", "/dev/stdout")]
    public void Two_outputs_on_standard_output_are_refused_before_any_work(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Matches("^vexlab: --[a-z]+: \"[^\"]+\" is standard output, which --[a-z]+ [^ ]+ already writes to; give one of them a file, as standard output holds one document\n$", result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Theory]
    [InlineData("KEY", "explain", "keys", "--json", "{0}")]
    [InlineData("SECOND", "explain", "double-fault", "--json", "{0}", "13")]
    [InlineData("FILE", "validate", "--json", "{0}")]
    public void A_word_taken_from_a_missing_argument_is_refused(string argument, params string[] args)
    {
        var word = P("guest.apf");
        var result = CliRunner.Run([.. args.Select(a => a.Replace("{0}", word, StringComparison.Ordinal))]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: --json: took \"{word}\" as its FILE, and {argument} was not given: write --json - for standard output, or put --json after the command's arguments (a FILE named *.json is always taken as the JSON file)\n", result.Stderr);
        Assert.False(File.Exists(word));
    }

    // "took "out.txt" as its FILE, and FILE was not given" read as a demand for a FILE where --builtin stood for it.
    [Theory]
    [InlineData("FILE", "run", "--builtin", "postcopy", "--protocol", "sync", "--json", "{0}")]
    [InlineData("SWEEP", "sweep", "run", "--builtin", "latency", "--json", "{0}")]
    public void With_builtin_a_word_not_named_json_is_refused_by_what_json_takes(string argument, params string[] args)
    {
        var word = P("out.txt");
        var result = CliRunner.Run([.. args.Select(a => a.Replace("{0}", word, StringComparison.Ordinal))]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: --json: \"{word}\" is not named *.json; where {argument} is not given (--builtin stands for it here), --json takes a FILE named *.json, or - for standard output, so that it never takes a {argument} meant for the command\n", result.Stderr);
        Assert.False(File.Exists(word));
    }

    /// <summary>
    /// A new file named like a scenario is no JSON result: run --json other.yaml base.yaml wrote its JSON into
    /// other.yaml, where --trace, --out and --db refuse such a name.
    /// </summary>
    [Theory]
    [InlineData("other.yaml")]
    [InlineData("other.yml")]
    public void A_new_file_named_like_a_scenario_is_refused(string name)
    {
        var scenario = P("base.yaml");
        File.WriteAllText(scenario, "duration: 1ms\nregions:\n  - name: heap\n    size: 64KiB\ntasks:\n  - name: t\n    loop: touch heap sequential\n");
        var result = CliRunner.Run("run", "--protocol", "sync", "--json", P(name), scenario);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: --json: \"{P(name)}\" is named like a scenario or model file ({Path.GetExtension(name)}), not a JSON result; name the JSON file *.json, or write --json - for standard output\n", result.Stderr);
        Assert.False(File.Exists(P(name)));
    }

    [Fact]
    public void A_json_file_an_earlier_result_or_a_device_is_written()
    {
        Assert.Equal(0, CliRunner.Run("explain", "keys", "--json", P("keys.json")).ExitCode);
        Assert.Equal(0, CliRunner.Run("explain", "keys", "guest.apf", "--json", P("keys.json")).ExitCode);
        Assert.Contains("guest.apf.dummy_entries", File.ReadAllText(P("keys.json")), StringComparison.Ordinal);

        // A file named otherwise that holds an earlier result is replaced, as before.
        File.WriteAllText(P("keys.out"), "{}");
        Assert.Equal(0, CliRunner.Run("explain", "keys", "guest.apf", "--json", P("keys.out")).ExitCode);
        Assert.Contains("guest.apf.dummy_entries", File.ReadAllText(P("keys.out")), StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run("explain", "keys", "--json", "/dev/null").ExitCode);
        Assert.Equal(0, CliRunner.Run("explain", "keys", "--json", "-").ExitCode);
    }
}
