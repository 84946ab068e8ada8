namespace Vexlab.Cli.Tests;

/// <summary>
/// Two of a command's files named alike: the second output written replaced the first (and the command reported
/// both), or the output replaced the input the command had read. Refused before any work, the input untouched.
/// </summary>
public sealed class DistinctFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-distinct-").FullName;

    public DistinctFilesTests()
    {
        Assert.Equal(0, CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--trace", P("t.json"), "--max-states", "100000").ExitCode is 1 or 3 ? 0 : 1);
        Assert.Equal(0, CliRunner.Run("compare", "--builtin", "postcopy", "--duration", "5ms", "--protocols", "ve", "--json", P("c.json")).ExitCode);
        File.WriteAllText(P("s.yaml"), "name: s\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("--trace: \"{0}/a.json\" is also the --json file; give each output a file of its own", "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "5ms", "--json", "{0}/a.json", "--trace", "{0}/a.json")]
    [InlineData("--timeline: \"{0}/a.csv\" is also the --trace file; give each output a file of its own", "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "5ms", "--trace", "{0}/a.csv", "--timeline", "{0}/a.csv")]
    [InlineData("--plot: \"{0}/p.svg\" is also the --json file; give each output a file of its own", "compare", "{0}/s.yaml", "--duration", "5ms", "--json", "{0}/p.svg", "--plot", "{0}/p.svg")]
    [InlineData("--trace: \"{0}/x.json\" is also the --json file; give each output a file of its own", "check", "--builtin", "wake-race", "--protocol", "ve", "--json", "{0}/x.json", "--trace", "{0}/x.json")]
    [InlineData("--out: \"{0}/t.json\" is the counterexample FILE this command reads; its output would replace it", "replay", "{0}/t.json", "--out", "{0}/t.json")]
    [InlineData("--json: \"{0}/t.json\" is the counterexample FILE this command reads; its output would replace it", "replay", "{0}/t.json", "--json", "{0}/t.json")]
    [InlineData("--json: \"{0}/r.json\" is also the --out file; give each output a file of its own", "replay", "{0}/t.json", "--out", "{0}/r.json", "--json", "{0}/r.json")]
    [InlineData("--json: \"{0}/c.json\" is the input FILE this command reads; its output would replace it", "report", "{0}/c.json", "--out", "{0}/r.html", "--json", "{0}/c.json")]
    [InlineData("--json: \"{0}/c.json\" is the input FILE this command reads; its output would replace it", "plot", "{0}/c.json", "--kind", "stacked", "--out", "{0}/p.svg", "--json", "{0}/c.json")]
    [InlineData("--json: \"{0}/s.json\" is the shard this command reads; its output would replace it", "check", "--swarm-merge", "{0}/s.json", "--json", "{0}/s.json")]
    public void Refused_before_any_work(string message, params string[] args)
    {
        var before = File.ReadAllBytes(P("t.json"));
        var argv = args.Select(a => a.Replace("{0}", _dir, StringComparison.Ordinal)).ToArray();
        var result = CliRunner.Run(argv);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vexlab: " + message.Replace("{0}", _dir, StringComparison.Ordinal) + "\n", result.Stderr);
        Assert.Equal(before, File.ReadAllBytes(P("t.json")));
        Assert.False(File.Exists(P("a.json")) || File.Exists(P("x.json")) || File.Exists(P("r.json")) || File.Exists(P("p.svg")));
    }

    /// <summary>
    /// An output written through a symbolic link lands on the link's target: <c>--json latest.json</c>, a link to the
    /// counterexample or shard the command reads, replaced that file, since only the names were compared.
    /// </summary>
    [Theory]
    [InlineData("--json: \"{0}/latest.json\" is the counterexample FILE this command reads; its output would replace it", "replay", "{0}/t.json", "--json", "{0}/latest.json")]
    [InlineData("--out: \"{0}/here/t.json\" is the counterexample FILE this command reads; its output would replace it", "replay", "{0}/t.json", "--out", "{0}/here/t.json")]
    [InlineData("--json: \"{0}/t.json\" is the counterexample FILE this command reads; its output would replace it", "replay", "{0}/latest.json", "--json", "{0}/t.json")]
    [InlineData("--json: \"{0}/result.json\" is the shard this command reads; its output would replace it", "check", "--swarm-merge", "{0}/c.json", "--json", "{0}/result.json")]
    [InlineData("--trace: \"{0}/new.json\" is also the --json file; give each output a file of its own", "check", "--builtin", "wake-race", "--protocol", "ve", "--json", "{0}/fresh.json", "--trace", "{0}/new.json")]
    public void Refused_through_a_symbolic_link(string message, params string[] args)
    {
        File.CreateSymbolicLink(P("latest.json"), "t.json");
        File.CreateSymbolicLink(P("result.json"), "c.json");
        File.CreateSymbolicLink(P("new.json"), "fresh.json");
        Directory.CreateSymbolicLink(P("here"), _dir);
        var result = File.ReadAllBytes(P("c.json"));
        Refused_before_any_work(message, args);
        Assert.Equal(result, File.ReadAllBytes(P("c.json")));
        Assert.False(File.Exists(P("fresh.json")));
    }

    [Fact]
    public void Devices_take_any_number_of_outputs()
        => Assert.Equal(0, CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "5ms", "--trace", "/dev/null", "--json", "/dev/null").ExitCode);
}
