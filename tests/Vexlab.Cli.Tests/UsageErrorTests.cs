namespace Vexlab.Cli.Tests;

/// <summary>Command-line mistakes are named in the tool's words, in one line, exit 2.</summary>
public sealed class UsageErrorTests
{
    [Theory]
    [InlineData(new[] { "run", "--frobnicate", "--protocol", "ve" }, "vexlab: unknown option \"--frobnicate\"\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--frob" }, "vexlab: unknown option \"--frob\"\n")]
    // After `--` a word that looks like an option is the FILE it names.
    [InlineData(new[] { "run", "--protocol", "ve", "--", "-x.yaml" }, "vexlab: -x.yaml: no such scenario file\n")]
    [InlineData(new[] { "explain", "bugs", "--nope" }, "vexlab: unknown option \"--nope\" (see 'vexlab explain bugs --help')\n")]
    // An unknown option with a value, where FILE is free: the option is taken as FILE and its value is left over.
    [InlineData(new[] { "compare", "--builtin", "postcopy", "--vcpu", "1" }, "vexlab: unknown option \"--vcpu\" (see 'vexlab compare --help')\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--frob", "2", "3" }, "vexlab: unknown option \"--frob\" (see 'vexlab run --help')\n")]
    [InlineData(new[] { "compare", "a.yaml", "b.yaml" }, "vexlab: unexpected argument \"b.yaml\" (see 'vexlab compare --help')\n")]
    [InlineData(new[] { "compare", "--", "-a.yaml", "3" }, "vexlab: unexpected argument \"3\" (see 'vexlab compare --help')\n")]
    public void Unknown_options_are_named_as_unknown_options(string[] args, string expected)
        => AssertRefused(args, expected);

    /// <summary>
    /// A word that begins with '@' is itself, not a file of arguments: System.CommandLine's response files refused a
    /// scenario named @scen.yaml ("Response file not found 'scen.yaml'") and read any @word's file as arguments.
    /// </summary>
    [Fact]
    public void A_file_named_with_an_at_sign_is_a_file_not_a_response_file()
    {
        var dir = Directory.CreateTempSubdirectory("vexlab-at-").FullName;
        try
        {
            var scenario = Path.Combine(dir, "@scen.yaml");
            File.WriteAllText(scenario, "duration: 1ms\nregions:\n  - name: heap\n    size: 64KiB\ntasks:\n  - name: t\n    loop: touch heap sequential\n");
            var run = CliRunner.Run("run", scenario, "--protocol", "sync", "--json");
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("\"complete\": true", run.Stdout, StringComparison.Ordinal);

            File.WriteAllText(Path.Combine(dir, "args.rsp"), "--protocol sync\n");
            var words = CliRunner.Run("run", "--builtin", "postcopy", "--duration", "1ms", "@" + Path.Combine(dir, "args.rsp"));
            Assert.Equal(2, words.ExitCode);
            Assert.Contains("--protocol", words.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A true/false option takes a following word only when it reads as true or false, so "--log-y maybe" left "maybe"
    /// over and the error was an "unexpected argument" that named no option.
    /// </summary>
    [Fact]
    public void A_switch_given_a_word_that_is_not_true_or_false_names_the_switch()
    {
        var result = CliRunner.Run("plot", "x.json", "--x", "latency", "--y", "work_done", "--log-y", "maybe");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vexlab: --log-y: expected true or false, got \"maybe\" (see 'vexlab plot --help')\n", result.Stderr);

        // A word left over after any other option is still an unexpected argument.
        var other = CliRunner.Run("compare", "a.yaml", "b.yaml");
        Assert.Equal("vexlab: unexpected argument \"b.yaml\" (see 'vexlab compare --help')\n", other.Stderr);
    }

    [Fact]
    public void A_value_that_does_not_parse_never_shows_a_type_name()
    {
        // --seed says its range (SeedRangeTests); --seeds is a plain count.
        var result = CliRunner.Run("compare", "--builtin", "postcopy", "--seeds", "abc");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vexlab: --seeds: expected a whole number, got \"abc\" (see 'vexlab compare --help')\n", result.Stderr);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("1e308s")]
    [InlineData("-5s")]
    [InlineData("Infinity")]
    public void Time_limits_that_are_not_durations_are_refused(string value)
    {
        var result = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "ve", "--time-limit", value);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Control_characters_in_a_message_are_escaped()
    {
        var result = CliRunner.Run("run", "bad\u001b]0;title\u0007.yaml", "--protocol", "ve");
        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain('\u001b', result.Stderr);
        Assert.DoesNotContain('\u0007', result.Stderr);
        Assert.Contains("bad\\u001b]0;title\\u0007.yaml", result.Stderr, StringComparison.Ordinal);
    }

    // A FILE argument that is a built-in's name, as a new user types it, says which flag takes the name.
    [Theory]
    [InlineData(new[] { "run", "postcopy", "--protocol", "ve" }, "vexlab: postcopy: no such scenario file; for the built-in scenario write --builtin postcopy\n")]
    [InlineData(new[] { "compare", "far-memory" }, "vexlab: far-memory: no such scenario file; for the built-in scenario write --builtin far-memory\n")]
    [InlineData(new[] { "validate", "dax-truncate" }, "vexlab: dax-truncate: no such scenario file; for the built-in scenario write --builtin dax-truncate\n")]
    [InlineData(new[] { "check", "wake-race", "--protocol", "ve" }, "vexlab: wake-race: no such model file; for the built-in model write --builtin wake-race\n")]
    [InlineData(new[] { "sweep", "run", "latency" }, "vexlab: latency: no such sweep file; for the built-in sweep write --builtin latency\n")]
    [InlineData(new[] { "run", "postcopy.yaml", "--protocol", "ve" }, "vexlab: postcopy.yaml: no such scenario file\n")]
    [InlineData(new[] { "check", "latency", "--protocol", "ve" }, "vexlab: latency: no such model file\n")]
    public void A_builtin_name_given_as_a_file_names_the_builtin_flag(string[] args, string expected)
        => AssertRefused(args, expected);

    // A mistyped name from a closed list is refused alike wherever it is given, with the nearest name where one is
    // near (NearestName.Unknown), and named by the option that took it.
    [Theory]
    [InlineData(new[] { "run", "--builtin", "postcopyy", "--protocol", "ve" }, "unknown built-in scenario 'postcopyy'; did you mean postcopy? (expected one of postcopy, swap-overcommit, kernel-heavy, dax-truncate, far-memory)")]
    [InlineData(new[] { "scenarios", "show", "far-memroy" }, "unknown built-in scenario 'far-memroy'; did you mean far-memory? (expected one of postcopy, swap-overcommit, kernel-heavy, dax-truncate, far-memory)")]
    [InlineData(new[] { "check", "--builtin", "wake-rac", "--protocol", "ve" }, "unknown built-in model 'wake-rac'; did you mean wake-race? (expected one of ")]
    [InlineData(new[] { "models", "show", "nmi-windw" }, "unknown built-in model 'nmi-windw'; did you mean nmi-window? (expected one of ")]
    [InlineData(new[] { "sweeps", "show", "latenc" }, "unknown built-in sweep 'latenc'; did you mean latency? (expected one of latency, tasks-per-vcpu, overcommit)")]
    [InlineData(new[] { "sweeps", "show", "zzzzzz" }, "unknown built-in sweep 'zzzzzz' (expected one of latency, tasks-per-vcpu, overcommit)")]
    [InlineData(new[] { "sweep", "run", "--builtin", "overcomit" }, "unknown built-in sweep 'overcomit'; did you mean overcommit? (expected one of latency, tasks-per-vcpu, overcommit)")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "kvmpf" }, "--protocol: unknown protocol 'kvmpf'; did you mean kvm-pf? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "kvm" }, "--protocol: unknown protocol 'kvm'; did you mean kvm-halt, kvm-pf or kvm-pf-int? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)")]
    [InlineData(new[] { "models", "show", "nmi" }, "unknown built-in model 'nmi'; did you mean nmi-host-fault or nmi-window? (expected one of ")]
    [InlineData(new[] { "compare", "--builtin", "postcopy", "--protocols", "ve,kvm-pf-irq" }, "--protocols: unknown protocol 'kvm-pf-irq'; did you mean kvm-pf-int? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "kvm-pff" }, "--protocol: unknown protocol 'kvm-pff'; did you mean kvm-pf? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)")]
    [InlineData(new[] { "check", "--matrix", "--protocols", "ve,vee" }, "--protocols: unknown protocol 'vee'; did you mean ve? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--property", "no-deadlok" }, "unknown property 'no-deadlok'; did you mean no-deadlock? (expected one of ")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--set", "guest.apf.dumy_entries=false" }, "--set: guest.apf.dumy_entries: unknown knob; did you mean guest.apf.dummy_entries?")]
    [InlineData(new[] { "explain", "protocol", "ve", "--set", "guest.ve.info_stor=args" }, "--set: guest.ve.info_stor: unknown knob; did you mean guest.ve.info_store?")]
    public void A_mistyped_name_is_refused_with_the_nearest_one(string[] args, string expected)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: " + expected, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, result.Stderr.Count(c => c == '\n'));
        Assert.Equal(string.Empty, result.Stdout);
    }

    // --seed and --duration stand for --set seed=N and --set duration=T: the option names the key already. A count out of
    // range shows the count given.
    [Theory]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "0s" }, "vexlab: --duration: must be at least 1ns, got 0s\n")]
    [InlineData(new[] { "bench", "--duration", "0s" }, "vexlab: --duration: must be at least 1ns, got 0s\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--timeline-interval", "2ms" }, "vexlab: --timeline-interval goes with --timeline FILE: it sets the interval of its rows\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--trace-format", "ftrace" }, "vexlab: --trace-format goes with --trace FILE: it sets the trace's format\n")]
    [InlineData(new[] { "check", "--matrix", "--trace", "m.json" }, "vexlab: --trace writes one check's first counterexample; drop --matrix, or check the model and protocol of a failing cell with --builtin and --protocol\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--checkpoint-every", "1m" }, "vexlab: --checkpoint-every goes with --checkpoint DIR: it sets how often the checkpoint is written there\n")]
    [InlineData(new[] { "check", "--swarm-merge", "s1.json", "s2.json", "--protocol", "ve" }, "vexlab: --swarm-merge takes only the shards' JSON files (and --allow-partial, --json, --wide); got --protocol\n")]
    [InlineData(new[] { "check", "--swarm-merge", "s1.json", "--max-states", "5" }, "vexlab: --swarm-merge takes only the shards' JSON files (and --allow-partial, --json, --wide); got --max-states\n")]
    [InlineData(new[] { "check", "--swarm-merge", "/nonexistent/s1.json" }, "vexlab: /nonexistent/s1.json: no such file\n")]
    // An option right after --swarm-merge is its first value, as after any option that needs one: it was answered
    // "--json: no such file", as if the option were a missing shard.
    [InlineData(new[] { "check", "--swarm-merge", "--json", "s1.json", "s2.json" }, "vexlab: --swarm-merge: took \"--json\" as one of its values, since the words right after --swarm-merge are its values even when they name an option; give its values first: --swarm-merge FILE... --json\n")]
    [InlineData(new[] { "check", "--swarm-merge", "--allow-partial", "s1.json" }, "vexlab: --swarm-merge: took \"--allow-partial\" as one of its values, since the words right after --swarm-merge are its values even when they name an option; give its values first: --swarm-merge FILE... --allow-partial\n")]
    // The same for an option of one value: --trace --json wrote the trace to a file named "--json" and never saw --json.
    [InlineData(new[] { "check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--trace", "--json" }, "vexlab: --trace: took \"--json\" as its value, since the word right after --trace is its value even when it names an option; give it its value: --trace FILE --json\n")]
    [InlineData(new[] { "check", "--builtin", "nmi-host-fault", "--protocol", "--json", "ve" }, "vexlab: --protocol: took \"--json\" as its value, since the word right after --protocol is its value even when it names an option; give it its value: --protocol P --json\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--set", "--seed", "4" }, "vexlab: --set: took \"--seed\" as its value, since the word right after --set is its value even when it names an option; give it its value: --set KEY=VALUE --seed\n")]
    [InlineData(new[] { "check", "--matrix", "--builtin", "wake-race" }, "vexlab: --matrix checks every built-in model under each --protocols entry; --builtin does not go with it\n")]
    [InlineData(new[] { "check", "--matrix", "--protocol", "ve" }, "vexlab: --matrix checks every built-in model under each --protocols entry; --protocol does not go with it\n")]
    [InlineData(new[] { "check", "--matrix", "--swarm" }, "vexlab: --matrix checks every built-in model under each --protocols entry; --swarm does not go with it\n")]
    [InlineData(new[] { "check", "--matrix", "--resume", "/tmp" }, "vexlab: --matrix checks every built-in model under each --protocols entry; --resume does not go with it\n")]
    [InlineData(new[] { "check", "--builtin", "token-wrap", "--protocol", "kvm-pf-int", "--property", "no-lost-wakeup", "--swarm" }, "vexlab: --swarm decides safety properties and no-deadlock only; no-lost-wakeup is a liveness property: check it without --swarm\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--set", "host.apf.token_never_zero=false" }, "vexlab: --set: host.apf.token_never_zero: ve does not use this knob (it applies to kvm-halt, kvm-pf, kvm-pf-int)\n")]
    // A knob no protocol of the command reads is refused in one form by every command that takes --set.
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "sync", "--set", "guest.ve.info_store=args" }, "vexlab: --set: guest.ve.info_store: sync does not use this knob (it applies to ve)\n")]
    [InlineData(new[] { "compare", "--protocols", "sync,kvm-pf", "--set", "guest.ve.info_store=args" }, "vexlab: --set: guest.ve.info_store: none of sync, kvm-pf uses this knob (it applies to ve)\n")]
    // '-' is standard output for --json only; for another output it used to be a file named '-' in the current folder.
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms", "--trace", "-" }, "vexlab: --trace: '-' (standard output) goes with --json only; give a file name\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--trace", "-" }, "vexlab: --trace: '-' (standard output) goes with --json only; give a file name\n")]
    [InlineData(new[] { "sweep", "run", "--builtin", "latency", "--db", "-" }, "vexlab: --db: '-' (standard output) goes with --json only; give a file name\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--checkpoint", "-" }, "vexlab: --checkpoint: '-' (standard output) goes with --json only; give a folder name\n")]
    // An entry whose own key breaks a rule across the scenario is named, and found before any entry runs (no replay
    // line of the first entry precedes the error).
    [InlineData(new[] { "compare", "--builtin", "postcopy", "--protocols", "ve,ve[guest.page_size=3MiB]" }, "vexlab: builtin:postcopy:9:11: guest.memory: must be a whole number of guest.page_size (3MiB) pages, got 8GiB: 2,730 pages and 2MiB (under the --protocols entry ve[guest.page_size=3MiB])\n")]
    // An entry's seed was applied after each of --seeds' seeds: that entry ran N times on one seed, its interval 0.
    [InlineData(new[] { "compare", "--builtin", "swap-overcommit", "--protocols", "sync,ve[seed=3]", "--seeds", "3" }, "vexlab: --protocols ve[seed=3]: seed: the entries share --seed and --seeds; run one entry on its own seed with vexlab run --seed N\n")]
    // An entry's duration ran its column for another time than the table's heading, its totals beside the others'.
    [InlineData(new[] { "compare", "--builtin", "swap-overcommit", "--duration", "5ms", "--protocols", "sync,ve[duration=1ms]" }, "vexlab: --protocols ve[duration=1ms]: duration: the entries run for one duration, the table's; set it for all with --duration T\n")]
    [InlineData(new[] { "run", "--builtin", "swap-overcommit", "--protocol", "ve[seed=5]", "--seed", "1", "--duration", "1ms" }, "vexlab: --protocol ve[seed=5]: seed: the run's seed is --seed N\n")]
    [InlineData(new[] { "run", "--builtin", "swap-overcommit", "--protocol", "ve[duration=1ms]", "--duration", "5ms" }, "vexlab: --protocol ve[duration=1ms]: duration: the run's duration is --duration T\n")]
    [InlineData(new[] { "run", "--builtin", "swap-overcommit", "--protocol", "ve[guest.ve.info_store=args;duration=1ms]" }, "vexlab: --protocol ve[guest.ve.info_store=args;duration=1ms]: duration: the run's duration is --duration T\n")]
    [InlineData(new[] { "explain", "protocol", "sync", "--set", "guest.ve.info_store=args" }, "vexlab: --set: guest.ve.info_store: sync does not use this knob (it applies to ve)\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--swarm", "--max-memory", "1G" }, "vexlab: --swarm bounds each member with --max-states and --max-depth; --max-memory sets the exhaustive search and does not go with it\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--swarm", "--fingerprint-bits", "128" }, "vexlab: --swarm bounds each member with --max-states and --max-depth; --fingerprint-bits sets the exhaustive search and does not go with it\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--swarm", "--shard", "1/2", "--swarm-member", "1" }, "vexlab: --swarm-member runs that one member, whatever the shard; drop --shard\n")]
    [InlineData(new[] { "check", "--matrix", "--checkpoint", "cpm" }, "vexlab: --matrix checks every built-in model under each --protocols entry; --checkpoint does not go with it\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--trace", "out.dat" }, "vexlab: --trace: \"out.dat\" is named for --trace-format trace-dat, but the format is perfetto: add --trace-format trace-dat, or name the file *.json\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--trace", "out.json", "--trace-format", "ftrace" }, "vexlab: --trace: \"out.json\" is named for --trace-format perfetto, but the format is ftrace: add --trace-format perfetto, or name the file *.txt\n")]
    [InlineData(new[] { "replay", "t.json", "--out", "t.txt" }, "vexlab: --out: \"t.txt\" is named for --trace-format ftrace, but the format is perfetto: add --trace-format ftrace, or name the file *.json\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "5ms", "--set", "duration=10ms" }, "vexlab: --duration: duration is also set by --set duration=10ms; give it once\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--set", "guest.vcpus=2", "--set", "guest.vcpus=3" }, "vexlab: --set: guest.vcpus is also set by --set guest.vcpus=2; give it once\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--set", "tasks[0].count=2", "--set", "tasks[00].count=3" }, "vexlab: --set: tasks[00].count is also set by --set tasks[0].count=2; give it once\n")]
    [InlineData(new[] { "compare", "--builtin", "postcopy", "--seed", "3", "--set", "seed=4" }, "vexlab: --seed: seed is also set by --set seed=4; give it once\n")]
    [InlineData(new[] { "results", "query", "r.duckdb", "select 1", "--format", "csv", "--json", "q.json" }, "vexlab: --format csv and --json do not go together: --json writes the rows as JSON\n")]
    // A number past the option's type: which way it is out, not the type's range, which is not the option's (--seeds
    // takes 1 to 1000, run's --seed no negative seed); the option's own check gives its range.
    [InlineData(new[] { "compare", "--seeds", "99999999999" }, "vexlab: --seeds: \"99999999999\" is too large a number (see 'vexlab compare --help')\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--workers", "99999999999" }, "vexlab: --workers: \"99999999999\" is too large a number (see 'vexlab check --help')\n")]
    [InlineData(new[] { "replay", "t.json", "--trace-format", "ftrace" }, "vexlab: --trace-format goes with --out FILE: it sets the timeline's format\n")]
    [InlineData(new[] { "bench", "--protocol", "kvmpf" }, "vexlab: --protocol: unknown protocol 'kvmpf'; did you mean kvm-pf? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)\n")]
    [InlineData(new[] { "bench", "--repeat", "3" }, "vexlab: --repeat goes with --checker: the simulator bench runs one thread once\n")]
    [InlineData(new[] { "bench", "--workers", "2,4" }, "vexlab: --workers goes with --checker: the simulator bench runs one thread once\n")]
    [InlineData(new[] { "bench", "--max-states", "1000" }, "vexlab: --max-states goes with --checker: the simulator bench runs one thread once\n")]
    [InlineData(new[] { "bench", "--checker", "--protocol", "ve" }, "vexlab: --protocol sets the simulator bench; bench --checker measures the checker on the built-in bench model (kvm-pf-int)\n")]
    [InlineData(new[] { "bench", "--checker", "--duration", "1s" }, "vexlab: --duration sets the simulator bench; bench --checker measures the checker on the built-in bench model (kvm-pf-int)\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--set", "seed=-1" }, "vexlab: --set: seed: must be at least 0, got -1\n")]
    [InlineData(new[] { "compare", "--builtin", "postcopy", "--seeds", "0" }, "vexlab: --seeds: expected 1..1000, got 0\n")]
    [InlineData(new[] { "sweep", "run", "--builtin", "latency", "--jobs", "0", "--db", "never.duckdb" }, "vexlab: --jobs: expected at least 1, got 0\n")]
    [InlineData(new[] { "sweep", "run", "--builtin", "latency", "--max-points", "-1", "--db", "never.duckdb" }, "vexlab: --max-points: expected at least 1, got -1\n")]
    public void A_shorthand_option_is_not_followed_by_its_key(string[] args, string expected)
        => AssertRefused(args, expected);

    // An option with a fixed set of values names itself, lists the set on one line (not System.CommandLine's
    // "Argument 'x' not recognized. Must be one of:" with a line per value) and offers the nearest value.
    [Theory]
    [InlineData(new[] { "plot", "r.duckdb", "--kind", "bars" }, "vexlab: --kind: expected one of lines, stacked, cdf; got \"bars\" (see 'vexlab plot --help')\n")]
    [InlineData(new[] { "results", "query", "r.duckdb", "select 1", "--format", "jsn" }, "vexlab: --format: expected one of table, csv, json; got \"jsn\" (did you mean json?) (see 'vexlab results query --help')\n")]
    [InlineData(new[] { "results", "query", "r.duckdb", "select 1", "--format", "t" }, "vexlab: --format: expected one of table, csv, json; got \"t\" (did you mean table?) (see 'vexlab results query --help')\n")]
    [InlineData(new[] { "plot", "r.duckdb", "--kind", "s" }, "vexlab: --kind: expected one of lines, stacked, cdf; got \"s\" (did you mean stacked?) (see 'vexlab plot --help')\n")]
    [InlineData(new[] { "results", "export", "r.duckdb", "--table", "result" }, "vexlab: --table: expected one of results, tasks, sweep; got \"result\" (did you mean results?) (see 'vexlab results export --help')\n")]
    [InlineData(new[] { "results", "export", "r.duckdb", "--format", "xlsx" }, "vexlab: --format: expected one of parquet, csv; got \"xlsx\" (see 'vexlab results export --help')\n")]
    [InlineData(new[] { "run", "--builtin", "postcopy", "--protocol", "ve", "--trace-format", "json" }, "vexlab: --trace-format: expected one of perfetto, ftrace, trace-dat; got \"json\" (see 'vexlab run --help')\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--compress", "zip" }, "vexlab: --compress: expected one of none, compact; got \"zip\"\n")]
    [InlineData(new[] { "check", "--builtin", "wake-race", "--protocol", "ve", "--fingerprint-bits", "32" }, "vexlab: --fingerprint-bits: expected one of 64, 128; got 32\n")]
    public void A_value_outside_an_options_set_is_named_with_the_set(string[] args, string expected)
        => AssertRefused(args, expected);

    // A word where a subcommand goes is named as an unknown command with the nearest one, not reported as no command
    // at all or as an unknown option after it; no command at all lists them.
    [Theory]
    [InlineData(new[] { "nosuch" }, "vexlab: unknown command 'nosuch' (expected one of explain, run, compare, validate, scenarios, bench, check, models, replay, sweep, sweeps, results, plot, report) (see 'vexlab --help')\n")]
    [InlineData(new[] { "chek", "--builtin", "wake-race" }, "vexlab: unknown command 'chek'; did you mean check? (expected one of explain, run, compare, validate, scenarios, bench, check, models, replay, sweep, sweeps, results, plot, report) (see 'vexlab --help')\n")]
    [InlineData(new[] { "sweep", "mrege", "a", "b" }, "vexlab: unknown command 'mrege'; did you mean merge? (expected one of run, merge) (see 'vexlab sweep --help')\n")]
    [InlineData(new[] { "explain", "bug" }, "vexlab: unknown command 'bug'; did you mean bugs? (expected one of rules, double-fault, protocol, costs, backings, properties, keys, bugs) (see 'vexlab explain --help')\n")]
    [InlineData(new string[0], "vexlab: a command is needed: one of explain, run, compare, validate, scenarios, bench, check, models, replay, sweep, sweeps, results, plot, report (see 'vexlab --help')\n")]
    [InlineData(new[] { "results" }, "vexlab: a command is needed: one of query, export (see 'vexlab results --help')\n")]
    public void A_word_that_names_no_command_is_named_as_one(string[] args, string expected)
        => AssertRefused(args, expected);

    /// <summary>
    /// check took the later of two values of one knob without a word, into the check and its replay line, where run and
    /// compare refuse the second: one rule and one line for all of them (explain protocol too).
    /// </summary>
    [Theory]
    [InlineData("check", "--builtin", "wake-race", "--protocol", "ve")]
    [InlineData("check", "--matrix")]
    [InlineData("run", "--builtin", "postcopy", "--protocol", "ve")]
    [InlineData("explain", "protocol", "ve")]
    [InlineData("sweep", "run", "--builtin", "tasks-per-vcpu", "--db", "never-made.duckdb")]
    public void A_knob_set_twice_is_refused_by_check_as_by_run(params string[] command) => AssertRefused(
        [.. command, "--set", "guest.ve.clear_busy=never", "--set", "guest.ve.clear_busy=after-hypercall"],
        "vexlab: --set: guest.ve.clear_busy is also set by --set guest.ve.clear_busy=never; give it once\n");

    /// <summary>The command line is refused with exit status 2 and exactly <paramref name="expected"/> on stderr, nothing on stdout.</summary>
    private static void AssertRefused(string[] args, string expected)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }
}
