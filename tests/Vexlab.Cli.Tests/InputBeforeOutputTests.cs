using Vexlab.Results.Store;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A sweep, a check or a run reads and checks its whole input before it creates or touches any
/// output, and every error in a file names file:line:column (axis values included).
/// </summary>
public sealed class InputBeforeOutputTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vexlab-input-" + Guid.NewGuid().ToString("N"));

    public InputBeforeOutputTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string Write(string name, string text)
    {
        File.WriteAllText(P(name), text);
        return P(name);
    }

    /// <summary>The real simulator behind the sweep, so every value is checked as a run would check it.</summary>
    private static CliRunner.Result Simulate(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Sweep_BadAxisValue_IsRefusedAtItsPlace_LeavesNoStore_AndTheCorrectedSweepRunsWithoutForce()
    {
        // docs/sweeps.md's shape: the second value of the list is not a value of the knob.
        const string template = """
            name: modes
            scenario: swap-overcommit
            set:
              duration: 2ms
            protocols: [ve]
            seeds: 1
            axes:
              - name: mode
                key: guest.ve.can_continue
                values: [VALUES]
            """;
        var sweep = Write("modes.yaml", template.Replace("VALUES", "always, user", StringComparison.Ordinal));
        var db = P("modes.duckdb");
        var failed = Simulate("sweep", "run", sweep, "--db", db, "--jobs", "1");
        Assert.Equal(2, failed.ExitCode);
        Assert.StartsWith($"vexlab: {sweep}:10:22: guest.ve.can_continue: expected one of ", failed.Stderr, StringComparison.Ordinal);
        Assert.Contains("got \"user\"", failed.Stderr, StringComparison.Ordinal);
        Assert.Single(failed.Stderr.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(db), "a sweep refused at validation created its store");

        Write("modes.yaml", template.Replace("VALUES", "always, user-or-preemptible-kernel", StringComparison.Ordinal));
        var fixedRun = Simulate("sweep", "run", sweep, "--db", db, "--jobs", "1");
        Assert.Equal(0, fixedRun.ExitCode);
        Assert.Contains("2 runs, 0 already in", fixedRun.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Sweep_ValueValidOnItsOwn_ButNotAtOnePoint_IsFoundBeforeAnyRun()
    {
        // Every point is checked, not only each value: 3 tasks of the base scenario, index 3 adds
        // one, index 5 is out of range only at that point.
        var sweep = Write("points.yaml", """
            scenario: postcopy
            set:
              duration: 2ms
            protocols: [sync, ve]
            axes:
              - name: vcpus
                key: guest.vcpus
                range: {from: 0, to: 2, step: 1}
            """);
        var db = P("points.duckdb");
        var result = Simulate("sweep", "run", sweep, "--db", db);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {sweep}:8:12: guest.vcpus: must be at least 1, got 0\n", result.Stderr);
        Assert.False(File.Exists(db));
    }

    // A point that breaks a rule across keys (the base scenario's memory against the axis' page size) is named where
    // the sweep file writes the point's value, with the point, the protocol entry and the scenario's place.
    [Fact]
    public void Sweep_PointThatBreaksTheBaseScenario_SaysWhichPoint()
    {
        var sweep = Write("pages.yaml", """
            scenario: postcopy
            set:
              duration: 2ms
            protocols: [ve]
            axes:
              - name: ps
                key: guest.page_size
                values: [2MiB, 3MiB]
            """);
        var db = P("pages.duckdb");
        var result = Simulate("sweep", "run", sweep, "--db", db);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {sweep}:8:20: guest.memory: must be a whole number of guest.page_size (3MiB) pages, got 8GiB: 2,730 pages and 2MiB (at the sweep's point ps=3MiB under ve; in the scenario at builtin:postcopy:9:11)\n", result.Stderr);
        Assert.False(File.Exists(db));
    }

    // A knob that none of the sweep's protocol entries uses changes no run: vexlab run and compare refuse it,
    // and so does the sweep, at its place, before the store exists (the runs stored it in their scenario_hash only).
    [Theory]
    [InlineData("set:\n  duration: 2ms\n  guest.ve.clear_busy: after-hypercall\n", new string[0], ":5:3: guest.ve.clear_busy: none of sync, kvm-halt uses this knob (it applies to ve)\n")]
    [InlineData("set:\n  duration: 2ms\naxes:\n  - {name: mode, key: guest.ve.can_continue, values: [seed, always]}\n", new string[0], ":6:55: guest.ve.can_continue: none of sync, kvm-halt uses this knob (it applies to ve)\n")]
    [InlineData("set:\n  duration: 2ms\n", new[] { "--set", "host.ve.convertible=needs-io" }, "--set: host.ve.convertible: none of sync, kvm-halt uses this knob (it applies to ve)")]
    public void Sweep_KnobThatNoEntryUses_IsRefusedBeforeAnyRun(string rest, string[] extra, string expected)
    {
        var sweep = Write("unused.yaml", "scenario: postcopy\nprotocols: [sync, kvm-halt]\n" + rest);
        var db = P("unused.duckdb");
        var result = Simulate(["sweep", "run", sweep, "--db", db, .. extra]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: " + (expected.StartsWith(':') ? sweep + expected : expected), result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(db));
    }

    [Fact]
    public void Sweep_UnknownBuiltinScenario_NamesItsPlace()
    {
        var sweep = Write("noscenario.yaml", "scenario: nosuch\nprotocols: [ve]\n");
        var result = Simulate("sweep", "run", sweep, "--db", P("n.duckdb"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {sweep}:1:11: scenario: unknown built-in scenario 'nosuch'", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("n.duckdb")));
    }

    [Fact]
    public void Sweep_KnobInAProtocolEntry_NamesItsPlace()
    {
        var sweep = Write("entry.yaml", "scenario: postcopy\nprotocols: [sync, \"ve[guest.ve.can_continue=bogus]\"]\n");
        var result = Simulate("sweep", "run", sweep, "--db", P("e.duckdb"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {sweep}:2:19: protocols[1]: ve[guest.ve.can_continue=bogus]: guest.ve.can_continue: expected one of", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("e.duckdb")));
    }

    [Fact]
    public void Sweep_StoreOfAnotherSweepWithNoRuns_IsTakenOverWithoutForce()
    {
        // A store an older vexlab created before it refused the sweep: metadata, no runs.
        var sweepA = Write("a.yaml", "scenario: postcopy\nset:\n  duration: 2ms\nprotocols: [sync]\n");
        var sweepB = Write("b.yaml", "scenario: postcopy\nset:\n  duration: 2ms\nprotocols: [ve]\n");
        var db = P("ab.duckdb");
        using (var store = SweepStore.Open(db))
        {
            store.Bind(Vexlab.Results.Sweeps.SweepFile.Load(sweepA), force: false);
        }

        Assert.Equal(0, Simulate("sweep", "run", sweepB, "--db", db).ExitCode);

        // With runs in it, another sweep is still refused.
        var refused = Simulate("sweep", "run", sweepA, "--db", db);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("holds results of a different sweep, b (hash ", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("not a (hash ", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_BadInput_CreatesNoCheckpointFolder_AndLeavesThePreviousResult()
    {
        var model = Write("knob.yaml", """
            vcpus: 1
            pages: 1
            host_absent: [0]
            tasks:
              - {name: u, mode: user, vcpu: 0, program: "touch 0"}
            knobs:
              guest.ve.can_continue: bogus
            """);
        var previous = Write("previous.json", "{\"kept\": true}\n");
        var result = CliRunner.Run("check", model, "--protocol", "ve", "--checkpoint", P("ck"), "--json", previous, "--trace", P("t.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {model}:7:26: guest.ve.can_continue: expected one of", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("ck")), "the checkpoint folder was created for a refused input");
        Assert.False(File.Exists(P("t.json")));
        Assert.Equal("{\"kept\": true}\n", File.ReadAllText(previous));

        foreach (var args in new[]
        {
            new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--set", "guest.bogus=1" },
            ["check", "--builtin", "wake-race", "--protocol", "ve", "--property", "nope"],
            ["check", "--builtin", "nope", "--protocol", "ve"],
        })
        {
            var refused = CliRunner.Run([.. args, "--checkpoint", P("ck"), "--json", previous]);
            Assert.Equal(2, refused.ExitCode);
            Assert.False(Directory.Exists(P("ck")), string.Join(' ', args) + " created the checkpoint folder");
            Assert.Equal("{\"kept\": true}\n", File.ReadAllText(previous));
        }
    }

    [Fact]
    public void ModelFile_UnknownKnob_NamesItsPlace()
    {
        var model = Write("unknown.yaml", "vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\nknobs:\n  guest.bogus: 1\n");
        var result = CliRunner.Run("check", model, "--protocol", "kvm-pf");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {model}:6:3: knobs.guest.bogus: unknown knob 'guest.bogus'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_BadScenario_LeavesThePreviousResultAndTrace()
    {
        var scenario = Write("bad.yaml", "name: bad\nduration: 1ms\nguest:\n  vcpus: 0\n");
        var json = Write("r.json", "old json\n");
        // An earlier Perfetto trace (JSON): a file of another kind would be refused as an output before the scenario is read.
        var trace = Write("t.json", "{\"traceEvents\": []}\n");
        var result = CliRunner.Run("run", scenario, "--protocol", "ve", "--json", json, "--trace", trace);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {scenario}:4:10: ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("old json\n", File.ReadAllText(json));
        Assert.Equal("{\"traceEvents\": []}\n", File.ReadAllText(trace));
        Assert.Empty(Directory.GetFiles(_dir, ".*"));
    }

    [Fact]
    public void Replay_ValuesTheReplayRefuses_NameTheirPlaceInTheTrace()
    {
        const string trace = """
            {
              "model": "MODEL",
              "protocol": "PROTOCOL",
              "overrides": [OVERRIDES],
              "actions": []
            }
            """;
        string Trace(string model = "wake-race", string protocol = "ve", string overrides = "") =>
            Write("t.json", trace.Replace("MODEL", model, StringComparison.Ordinal).Replace("PROTOCOL", protocol, StringComparison.Ordinal).Replace("OVERRIDES", overrides, StringComparison.Ordinal));

        var path = Trace(model: "nosuch");
        Assert.StartsWith($"vexlab: {path}:2:12: model: unknown built-in model \"nosuch\"", CliRunner.Run("replay", path).Stderr, StringComparison.Ordinal);
        path = Trace(protocol: "nosuch");
        Assert.StartsWith($"vexlab: {path}:3:15: unknown protocol 'nosuch'", CliRunner.Run("replay", path).Stderr, StringComparison.Ordinal);
        path = Trace(overrides: "\"host.apf.token_id_bits=99\"");
        Assert.StartsWith($"vexlab: {path}:4:16: host.apf.token_id_bits: expected an integer in 1..20", CliRunner.Run("replay", path).Stderr, StringComparison.Ordinal);
        Write("t.json", "{\n  \"protocol\": \"ve\",\n  \"actions\": []\n}\n");
        Assert.Equal($"vexlab: {path}:1:1: model: missing; is this a trace written by vexlab check --trace?\n", CliRunner.Run("replay", path).Stderr);
    }

    [Fact]
    public void SweepMerge_MissingShard_ExitsTwo_AllowPartialMergesAndReports()
    {
        var sweep = Write("m.yaml", "scenario: postcopy\nprotocols: [sync, ve, kvm-pf]\nseeds: 4\n");
        static CliRunner.Result Fake(params string[] args) => CliRunner.RunFake(args);
        Assert.Equal(0, Fake("sweep", "run", sweep, "--db", P("s1.duckdb"), "--shard", "1/2").ExitCode);
        Assert.Equal(0, Fake("sweep", "run", sweep, "--db", P("s2.duckdb"), "--shard", "2/2").ExitCode);
        var out1 = P("out.duckdb");

        var refused = CliRunner.Run("sweep", "merge", out1, P("s1.duckdb"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("of the sweep's 12 runs", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("shard 2/2 not given", refused.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(out1));

        var partial = CliRunner.Run("sweep", "merge", out1, P("s1.duckdb"), "--allow-partial");
        Assert.Equal(0, partial.ExitCode);
        Assert.Matches(@"runs: \d+ of 12 expected, \d+ missing", partial.Stdout);
        Assert.Contains("partial", partial.Stderr, StringComparison.Ordinal);

        var whole = CliRunner.Run("sweep", "merge", P("whole.duckdb"), P("s1.duckdb"), P("s2.duckdb"));
        Assert.Equal(0, whole.ExitCode);
        Assert.Contains("runs: 12 of 12 expected\n", whole.Stdout, StringComparison.Ordinal);

        // A whole merge says nothing on stderr but its replay line: no "partial".
        Assert.Equal($"vexlab: replay: vexlab sweep merge {P("whole.duckdb")} {P("s1.duckdb")} {P("s2.duckdb")}\n", whole.Stderr);
    }

    // The same shard named twice would be reported as two stores merged; it is refused, named, before the output
    // exists, --allow-partial or not, and however the second name is spelled.
    [Fact]
    public void SweepMerge_SameShardTwice_ExitsTwo_BeforeTheOutputExists()
    {
        var sweep = Write("d.yaml", "scenario: postcopy\nprotocols: [sync, ve, kvm-pf]\nseeds: 4\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", sweep, "--db", P("s1.duckdb"), "--shard", "1/2").ExitCode);
        var merged = P("out.duckdb");

        var refused = CliRunner.Run("sweep", "merge", merged, P("s1.duckdb"), P("s1.duckdb"), "--allow-partial");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"vexlab: {P("s1.duckdb")}: is listed twice; name each shard once\n", refused.Stderr);
        Assert.Empty(refused.Stdout);
        Assert.False(File.Exists(merged), "a refused merge created its output");

        var respelled = Path.Combine(_dir, ".", "s1.duckdb");
        refused = CliRunner.Run("sweep", "merge", merged, P("s1.duckdb"), respelled, "--allow-partial");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"vexlab: {respelled}: is listed twice (also as {P("s1.duckdb")}); name each shard once\n", refused.Stderr);
        Assert.False(File.Exists(merged), "a refused merge created its output");
    }

    // Each run sets an axis's key from the axis values after every override, so a --set of it (or the sweep file's
    // own set: of it) would be silently overridden yet carried into the sweep hash and every replay line.
    [Fact]
    public void SweepRun_SetOfAnAxisKey_IsRefusedBeforeAnyRun()
    {
        var db = P("axis.duckdb");
        var refused = CliRunner.RunFake("sweep", "run", "--builtin", "overcommit", "--set", "host.overcommit=2", "--db", db);
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal("vexlab: --set: host.overcommit is the sweep's axis overcommit; each run sets it from the axis values\n", refused.Stderr);
        Assert.False(File.Exists(db), "a refused sweep created its store");

        var sweep = Write("axis.yaml", "scenario: postcopy\nprotocols: [ve]\nset:\n  duration: 2ms\n  guest.vcpus: 2\naxes:\n  - name: vcpus\n    key: guest.vcpus\n    values: [1, 2]\n");
        refused = CliRunner.RunFake("sweep", "run", sweep, "--db", db);
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"vexlab: {sweep}:5:3: guest.vcpus is the sweep's axis vcpus; each run sets it from the axis values\n", refused.Stderr);
        Assert.False(File.Exists(db), "a refused sweep created its store");

        // Another key is still an override of the base scenario.
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", "--builtin", "overcommit", "--set", "guest.vcpus=2", "--db", db, "--shard", "1/25").ExitCode);
    }

    [Fact]
    public void TwoIdenticalSweeps_AtDifferentJobs_ExportTheSameColumns()
    {
        var sweep = Write("c.yaml", "scenario: postcopy\nset:\n  duration: 5ms\nprotocols: all\nseeds: 2\naxes:\n  - name: vcpus\n    key: guest.vcpus\n    values: [1, 2]\n");
        var headers = new List<string>();
        foreach (var jobs in new[] { "1", "4" })
        {
            var db = P("c" + jobs + ".duckdb");
            Assert.Equal(0, Simulate("sweep", "run", sweep, "--db", db, "--jobs", jobs).ExitCode);
            var csv = P("c" + jobs + ".csv");
            Assert.Equal(0, CliRunner.Run("results", "export", db, "--format", "csv", "--out", csv).ExitCode);
            headers.Add(File.ReadAllText(csv).Split('\n')[0]);
        }

        Assert.Equal(headers[0], headers[1]);
        Assert.StartsWith("run_key,vcpus,protocol,variant,seed,scenario_hash,vexlab_version,", headers[0], StringComparison.Ordinal);
    }
}
