namespace Vexlab.Cli.Tests;

/// <summary>
/// Every option that writes a file other than --json (traces, counterexamples, timelines, plots, reports, exports):
/// <c>run --trace tf2.yaml --protocol sync</c> took the scenario meant as FILE for the trace, ran the built-in
/// default and wrote Perfetto JSON over the scenario, exit 0. A name like a scenario's, or an existing file that is
/// not an earlier output of that kind, is refused with exit 2 and left as it was; an earlier output is replaced.
/// </summary>
public sealed class OutputKindTests : IDisposable
{
    private const string Scenario = "name: mine\nduration: 5ms\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-outkind-").FullName;

    public OutputKindTests()
    {
        Assert.Equal(1, CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--trace", P("cex.json"), "--max-states", "100000").ExitCode);
        Assert.Equal(0, CliRunner.Run("compare", "--builtin", "swap-overcommit", "--duration", "5ms", "--protocols", "sync,ve", "--json", P("c.json")).ExitCode);
        File.WriteAllText(P("sw.yaml"), "scenario: swap-overcommit\nset: {duration: 5ms}\nprotocols: [sync]\nseeds: 1\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("sw.yaml"), "--db", P("s.duckdb"), "--jobs", "1").ExitCode);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string[] Args(string[] args) => [.. args.Select(a => a.Replace("{0}", _dir, StringComparison.Ordinal))];

    [Theory]
    [InlineData("--trace", "Perfetto trace", "*.json", "FILE", "run", "--trace", "{0}/tf2.yaml", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("--trace", "ftrace text trace", "*.txt", null, "run", "--builtin", "swap-overcommit", "--trace", "{0}/tf2.yaml", "--trace-format", "ftrace", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("--trace", "counterexample", "*.json", null, "check", "--builtin", "truncate", "--protocol", "kvm-pf", "--trace", "{0}/tf2.yaml")]
    [InlineData("--trace", "counterexample", "*.json", "FILE", "check", "--protocol", "kvm-pf", "--trace", "{0}/tf2.yaml")]
    [InlineData("--out", "Perfetto trace", "*.json", null, "replay", "{0}/cex.json", "--out", "{0}/tf2.yaml")]
    [InlineData("--out", "table export (CSV)", "*.csv", null, "results", "export", "{0}/s.duckdb", "--format", "csv", "--out", "{0}/tf2.yaml")]
    [InlineData("--db", "result store", "*.duckdb", null, "sweep", "run", "{0}/sw.yaml", "--db", "{0}/tf2.yaml")]
    [InlineData("--db", "result store", "*.duckdb", "SWEEP", "sweep", "run", "--db", "{0}/tf2.yaml")]
    [InlineData("OUT", "result store", "*.duckdb", null, "sweep", "merge", "{0}/tf2.yaml", "{0}/s.duckdb")]
    public void A_name_like_a_scenario_is_refused(string option, string what, string named, string? missing, params string[] args)
    {
        File.WriteAllText(P("tf2.yaml"), Scenario);
        var result = CliRunner.Run(Args(args));
        Assert.Equal(2, result.ExitCode);
        var path = P("tf2.yaml");
        var meant = missing is null ? string.Empty : $"{missing} was not given: if \"{path}\" is the {missing}, put it before {option}; otherwise ";
        Assert.Equal($"vexlab: {option}: \"{path}\" is named like a scenario or model file (.yaml), not a {what}; {meant}name the {what} {named}\n", result.Stderr);
        Assert.Equal(Scenario, File.ReadAllText(path));
    }

    /// <summary>
    /// A store named like YAML that does not exist yet: <c>sweep run --db new.yaml</c> created a DuckDB database by that
    /// name, exit 0. Refused, and nothing is created.
    /// </summary>
    [Theory]
    [InlineData("new.yaml", "sweep", "run", "{0}/sw.yaml", "--db", "{0}/new.yaml")]
    [InlineData("new.yml", "sweep", "run", "{0}/sw.yaml", "--db", "{0}/new.yml")]
    [InlineData("new.yaml", "sweep", "merge", "{0}/new.yaml", "{0}/s.duckdb")]
    public void A_store_named_like_yaml_is_not_created(string name, params string[] args)
    {
        var result = CliRunner.RunFake(Args(args));
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains($"is named like a scenario or model file ({Path.GetExtension(name)}), not a result store; name the result store *.duckdb", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P(name)));
    }

    [Theory]
    [InlineData("--trace", "Perfetto trace", "notes.json", "run", "--builtin", "swap-overcommit", "--trace", "{0}/notes.json", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("--trace", "trace.dat trace", "notes.dat", "run", "--builtin", "swap-overcommit", "--trace", "{0}/notes.dat", "--trace-format", "trace-dat", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("--timeline", "timeline (CSV)", "notes.csv", "run", "--builtin", "swap-overcommit", "--timeline", "{0}/notes.csv", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("--timeline", "timeline (Parquet)", "notes.parquet", "run", "--builtin", "swap-overcommit", "--timeline", "{0}/notes.parquet", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("--plot", "SVG plot", "notes.svg", "compare", "--builtin", "swap-overcommit", "--protocols", "sync", "--duration", "5ms", "--plot", "{0}/notes.svg")]
    [InlineData("--trace", "counterexample", "notes", "check", "--builtin", "truncate", "--protocol", "kvm-pf", "--trace", "{0}/notes")]
    [InlineData("--out", "ftrace text trace", "notes.txt", "replay", "{0}/cex.json", "--out", "{0}/notes.txt", "--trace-format", "ftrace")]
    [InlineData("--out", "HTML report", "notes.html", "report", "{0}/c.json", "--out", "{0}/notes.html")]
    [InlineData("--out", "PNG plot", "notes.png", "plot", "{0}/c.json", "--kind", "stacked", "--out", "{0}/notes.png")]
    [InlineData("--out", "table export (Parquet)", "notes.parquet", "results", "export", "{0}/s.duckdb", "--out", "{0}/notes.parquet")]
    public void An_existing_file_of_another_kind_is_not_replaced(string option, string what, string name, params string[] args)
    {
        File.WriteAllText(P(name), Scenario);
        var result = CliRunner.Run(Args(args));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {option}: \"{P(name)}\" is an existing file that holds no {what}; the {what} would replace it: give a new file name, or remove the file first\n", result.Stderr);
        Assert.Equal(Scenario, File.ReadAllText(P(name)));
    }

    [Theory]
    [InlineData("run", "--builtin", "swap-overcommit", "--trace", "{0}/o.json", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("run", "--builtin", "swap-overcommit", "--trace", "{0}/o.txt", "--trace-format", "ftrace", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("run", "--builtin", "swap-overcommit", "--trace", "{0}/o.dat", "--trace-format", "trace-dat", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("run", "--builtin", "swap-overcommit", "--timeline", "{0}/o.csv", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("run", "--builtin", "swap-overcommit", "--timeline", "{0}/o.parquet", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("compare", "--builtin", "swap-overcommit", "--protocols", "sync", "--duration", "5ms", "--plot", "{0}/o.png")]
    [InlineData("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--max-states", "100000", "--trace", "{0}/o")]
    [InlineData("replay", "{0}/cex.json", "--out", "{0}/o.dat", "--trace-format", "trace-dat")]
    [InlineData("report", "{0}/c.json", "--out", "{0}/o.html")]
    [InlineData("plot", "{0}/c.json", "--kind", "stacked", "--out", "{0}/o.svg")]
    [InlineData("results", "export", "{0}/s.duckdb", "--format", "csv", "--out", "{0}/o")]
    public void An_earlier_output_or_an_empty_file_is_replaced(params string[] args)
    {
        var output = Args(args).Last(a => a.StartsWith(_dir + "/o", StringComparison.Ordinal));
        File.WriteAllText(output, string.Empty);
        var first = CliRunner.Run(Args(args));
        Assert.True(first.ExitCode is 0 or 1, first.Stderr);
        Assert.NotEqual(0, new FileInfo(output).Length);
        var second = CliRunner.Run(Args(args));
        Assert.Equal(first.ExitCode, second.ExitCode);
    }

    // A timeline's columns carry task names, which a scenario may spell with any character: an earlier timeline of
    // tasks named so is still a timeline; a YAML mapping whose first line has a comma is not.
    [Theory]
    [InlineData("start_ns,end_ns,work_kv:get,work_db/primary\n1,2,3,4\n", 0)]
    [InlineData("start_ns,end_ns,work_caf\u00e9,work_worker#2\n", 0)]
    [InlineData("name: a, b\nduration: 1ms\n", 2)]
    public void A_timeline_header_is_told_by_its_shape_not_its_characters(string existing, int exitCode)
    {
        var output = P("t.csv");
        File.WriteAllText(output, existing);
        var result = CliRunner.Run(Args(["run", "--builtin", "swap-overcommit", "--timeline", "{0}/t.csv", "--protocol", "sync", "--duration", "5ms"]));
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Equal(exitCode == 0, File.ReadAllText(output) != existing);
    }

    /// <summary>
    /// A table export given to --timeline, with no scenario FILE on the line, is --timeline's own value: the refusal
    /// said "FILE was not given: if m.parquet is the FILE, put it before --timeline", which no scenario can be.
    /// </summary>
    [Theory]
    [InlineData("--timeline", "m.parquet")]
    [InlineData("--trace", "m.csv")]
    public void A_file_no_scenario_can_be_gets_no_hint_to_move_it(string option, string name)
    {
        Assert.Equal(0, CliRunner.Run("results", "export", P("s.duckdb"), "--out", P(name)).ExitCode);
        var result = CliRunner.Run("run", "--protocol", "sync", "--duration", "2ms", option, P(name));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {option}: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("was not given", result.Stderr, StringComparison.Ordinal);
    }
}
