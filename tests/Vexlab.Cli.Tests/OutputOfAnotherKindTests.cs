namespace Vexlab.Cli.Tests;

/// <summary>
/// Each output replaces only an earlier output of its own kind: <c>cp run1.json r.json; run ... --trace r.json</c>
/// exited 0 and left a Chrome trace where the result was, since both start with <c>{</c>; a timeline and a table
/// export are both CSV (and both Parquet). Every pair of vexlab's own outputs that one option could take for
/// another is refused with exit 2, naming what the file holds, and the file is left as it was.
/// </summary>
public sealed class OutputOfAnotherKindTests : IClassFixture<OutputOfAnotherKindTests.Outputs>
{
    private static int s_copies;

    private readonly Outputs _outputs;

    public OutputOfAnotherKindTests(Outputs outputs) => _outputs = outputs;

    /// <summary>One earlier output of every kind, written once for the class.</summary>
    public sealed class Outputs : IDisposable
    {
        public Outputs()
        {
            Run(1, "check", "--builtin", "truncate", "--protocol", "kvm-pf", "--trace", P("cex.json"), "--max-states", "100000");
            Run(0, "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--json", P("run.json"),
                "--trace", P("trace.json"), "--timeline", P("timeline.csv"));
            Run(0, "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--timeline", P("timeline.parquet"));
            File.WriteAllText(P("sw.yaml"), "scenario: swap-overcommit\nset: {duration: 5ms}\nprotocols: [sync]\nseeds: 1\n");
            Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("sw.yaml"), "--db", P("s.duckdb"), "--jobs", "1").ExitCode);
            Run(0, "results", "export", P("s.duckdb"), "--out", P("export.csv"));
            Run(0, "results", "export", P("s.duckdb"), "--out", P("export.parquet"));
            Run(0, "results", "export", P("s.duckdb"), "--table", "sweep", "--out", P("sweep.csv"));

            // Outputs of the same kinds from other runs, so a replaced file is told from one left as it was.
            Run(1, "check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--trace", P("other-cex.json"));
            Run(0, "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "3ms", "--json", P("other-run.json"),
                "--trace", P("other-trace.json"), "--timeline", P("other-timeline.csv"));
            Run(0, "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "3ms", "--timeline", P("other-timeline.parquet"));
            File.WriteAllText(P("sw2.yaml"), "scenario: swap-overcommit\nset: {duration: 3ms}\nprotocols: [sync]\nseeds: 2\n");
            Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("sw2.yaml"), "--db", P("s2.duckdb"), "--jobs", "1").ExitCode);
            Run(0, "results", "export", P("s2.duckdb"), "--out", P("other-export.csv"));
            Run(0, "results", "export", P("s2.duckdb"), "--out", P("other-export.parquet"));
            Run(0, "results", "export", P("s2.duckdb"), "--table", "sweep", "--out", P("other-sweep.csv"));
        }

        public string Dir { get; } = Directory.CreateTempSubdirectory("vexlab-otherkind-").FullName;

        public string P(string name) => Path.Combine(Dir, name);

        public void Dispose() => Directory.Delete(Dir, recursive: true);

        private static void Run(int exitCode, params string[] args)
        {
            var result = CliRunner.Run(args);
            Assert.True(result.ExitCode == exitCode, result.Stderr);
        }
    }

    [Theory]
    [InlineData("run.json", "--trace", "a JSON result", "a Perfetto trace", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--trace", "{0}")]
    [InlineData("cex.json", "--trace", "a counterexample", "a Perfetto trace", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--trace", "{0}")]
    [InlineData("run.json", "--out", "a JSON result", "a Perfetto trace", "replay", "{cex}", "--out", "{0}")]
    [InlineData("trace.json", "--trace", "a Perfetto trace", "a counterexample", "check", "--builtin", "truncate", "--protocol", "kvm-pf", "--trace", "{0}")]
    [InlineData("run.json", "--trace", "a JSON result", "a counterexample", "check", "--builtin", "truncate", "--protocol", "kvm-pf", "--trace", "{0}")]
    [InlineData("export.csv", "--timeline", "a table export (CSV)", "a timeline (CSV)", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--timeline", "{0}")]
    [InlineData("sweep.csv", "--timeline", "a table export (CSV)", "a timeline (CSV)", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--timeline", "{0}")]
    [InlineData("export.parquet", "--timeline", "a table export (Parquet)", "a timeline (Parquet)", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--timeline", "{0}")]
    [InlineData("timeline.csv", "--out", "a timeline (CSV)", "a table export (CSV)", "results", "export", "{db}", "--out", "{0}")]
    [InlineData("timeline.parquet", "--out", "a timeline (Parquet)", "a table export (Parquet)", "results", "export", "{db}", "--out", "{0}")]
    public void An_earlier_output_of_another_kind_is_not_replaced(string existing, string option, string holds, string wanted, params string[] args)
    {
        var copy = Copy(existing);
        var before = File.ReadAllBytes(copy);
        var result = CliRunner.Run(Args(args, copy));
        Assert.Equal(2, result.ExitCode);
        var what = wanted[(wanted.IndexOf(' ', StringComparison.Ordinal) + 1)..];
        Assert.Equal($"vexlab: {option}: \"{copy}\" is an existing file that holds {holds}, not {wanted}; the {what} would replace it: give a new file name, or remove the file first\n", result.Stderr);
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [Theory]
    [InlineData("trace.json", "a Perfetto trace")]
    [InlineData("cex.json", "a counterexample")]
    public void Json_does_not_replace_another_output_even_named_json(string existing, string holds)
    {
        var copy = Copy(existing);
        var before = File.ReadAllBytes(copy);
        var result = CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--json", copy);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: --json: \"{copy}\" is an existing file that holds {holds}, not a result; the result would replace it: give a new file name, or remove the file first\n", result.Stderr);
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    /// <summary>
    /// Each option's own earlier output is still replaced: the kinds are told apart, not all refused. The earlier output
    /// comes from another run (another duration, scenario or store), and the file then holds what the same command writes
    /// to a new file.
    /// </summary>
    [Theory]
    [InlineData("other-run.json", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--json", "{0}")]
    [InlineData("other-trace.json", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--trace", "{0}")]
    [InlineData("other-trace.json", "replay", "{cex}", "--out", "{0}")]
    [InlineData("other-cex.json", "check", "--builtin", "truncate", "--protocol", "kvm-pf", "--max-states", "100000", "--trace", "{0}")]
    [InlineData("other-timeline.csv", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--timeline", "{0}")]
    [InlineData("other-timeline.parquet", "run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--timeline", "{0}")]
    [InlineData("other-export.csv", "results", "export", "{db}", "--out", "{0}")]
    [InlineData("other-sweep.csv", "results", "export", "{db}", "--table", "sweep", "--out", "{0}")]
    [InlineData("other-export.parquet", "results", "export", "{db}", "--out", "{0}")]
    public void An_earlier_output_of_its_own_kind_is_replaced(string existing, params string[] args)
    {
        var copy = Copy(existing);
        var before = File.ReadAllBytes(copy);
        var result = CliRunner.Run(Args(args, copy));
        Assert.True(result.ExitCode is 0 or 1, result.Stderr);

        var fresh = _outputs.P(Interlocked.Increment(ref s_copies) + "new" + Path.GetExtension(existing));
        Assert.Equal(result.ExitCode, CliRunner.Run(Args(args, fresh)).ExitCode);
        var after = File.ReadAllBytes(copy);
        Assert.NotEqual(before, after);
        Assert.Equal(WithoutWallTime(File.ReadAllBytes(fresh)), WithoutWallTime(after));
    }

    /// <summary>A JSON result's <c>timing</c> (wall time, events per second) differs from run to run; the rest does not.</summary>
    private static byte[] WithoutWallTime(byte[] output)
    {
        if (output.Length == 0 || output[0] != (byte)'{'
            || System.Text.Json.Nodes.JsonNode.Parse(output) is not System.Text.Json.Nodes.JsonObject json
            || !json.Remove("timing"))
        {
            return output;
        }

        return System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    private string Copy(string existing)
    {
        // Short: a long path is shortened in messages.
        var copy = _outputs.P(Interlocked.Increment(ref s_copies) + existing);
        File.Copy(_outputs.P(existing), copy);
        return copy;
    }

    private string[] Args(string[] args, string copy) => [.. args.Select(a => a switch
    {
        "{0}" => copy,
        "{cex}" => _outputs.P("cex.json"),
        "{db}" => _outputs.P("s.duckdb"),
        _ => a,
    })];
}
