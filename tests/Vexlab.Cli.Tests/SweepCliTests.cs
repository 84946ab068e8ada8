using System.Diagnostics;
using Vexlab.Results.Store;

namespace Vexlab.Cli.Tests;

public sealed class SweepCliTests : IDisposable
{
    private const string Sweep = """
        name: kill
        scenario: postcopy
        protocols: [sync, ve]
        seeds: 3
        axes:
          - name: latency
            key: host.latency
            unit: us
            log: {from: 1, to: 1000, points: 4}
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vexlab-cli-" + Guid.NewGuid().ToString("N"));

    public SweepCliTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "kill.yaml"), Sweep);
    }

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

    [Fact]
    public void KilledSweepProcess_RerunCompletes_AndEqualsAnUninterruptedRun()
    {
        var dll = typeof(Vexlab.FakeSweep.FakeRunner).Assembly.Location;
        var db = P("killed.duckdb");
        long partial = 0;

        // On a loaded machine the first write past the metadata can be the tables' creation rather than a
        // run: a kill that came before any run committed is tried again, waiting longer.
        foreach (var wait in new[] { TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(4) })
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(db)!, "killed.duckdb*"))
            {
                File.Delete(file);
            }

            using (var process = Start(dll, "slow", "sweep", "run", P("kill.yaml"), "--db", db, "--jobs", "1"))
            {
                // 24 runs of 250 ms each: kill a few seconds after the store is first written.
                // The store's metadata is written first: wait until the write-ahead log grows past it
                // (a run committed), so a loaded machine cannot kill it before any run is in.
                var deadline = DateTime.UtcNow.AddSeconds(60);
                DateTime? written = null;
                long metadata = -1;
                while (DateTime.UtcNow < deadline && !process.HasExited)
                {
                    Thread.Sleep(100);
                    var wal = new FileInfo(db + ".wal");
                    if (metadata < 0 && wal.Exists && wal.Length > 0)
                    {
                        metadata = wal.Length;
                    }
                    else if (written is null && metadata > 0 && wal.Exists && wal.Length > metadata)
                    {
                        written = DateTime.UtcNow;
                    }

                    if (written is { } w && (DateTime.UtcNow - w > wait || wal.Length > 60_000))
                    {
                        break;
                    }
                }

                Assert.False(process.HasExited, "the sweep ended before it could be killed");
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            partial = CountRows(db);
            if (partial > 0)
            {
                break;
            }
        }

        Assert.InRange(partial, 1, 23);

        using (var rerun = Start(dll, "fast", "sweep", "run", P("kill.yaml"), "--db", db, "--jobs", "2"))
        {
            Assert.True(rerun.WaitForExit(120_000));
            var stdout = rerun.StandardOutput.ReadToEnd();
            Assert.Equal(0, rerun.ExitCode);
            Assert.Contains($"24 runs, {partial} already in", stdout);
        }

        var clean = P("clean.duckdb");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", clean).ExitCode);
        Assert.Equal(Rows(clean, "results"), Rows(db, "results"));
        Assert.Equal(Rows(clean, "tasks"), Rows(db, "tasks"));
    }

    // One run and one job are counted in the singular: the summary once said "1 runs" and "1 jobs".
    [Theory]
    [InlineData("[sync]", 1, "1", "sweep one: 1 run, 0 already in {0}, ran 1 in ", " runs/s, 1 job)")]
    [InlineData("[sync, ve]", 1, "2", "sweep one: 2 runs, 0 already in {0}, ran 2 in ", " runs/s, 2 jobs)")]
    public void SweepRun_summary_counts_runs_and_jobs_in_the_right_number(string protocols, int seeds, string jobs, string start, string end)
    {
        var db = P("one-" + jobs + ".duckdb");
        File.WriteAllText(P("one.yaml"), $"name: one\nscenario: postcopy\nprotocols: {protocols}\nseeds: {seeds}\n");
        var run = CliRunner.RunFake("sweep", "run", P("one.yaml"), "--db", db, "--jobs", jobs);
        Assert.Equal(0, run.ExitCode);
        var line = run.Stdout.TrimEnd('\n');
        Assert.StartsWith(string.Format(System.Globalization.CultureInfo.InvariantCulture, start, db), line, StringComparison.Ordinal);
        Assert.EndsWith(end, line, StringComparison.Ordinal);
    }

    [Fact]
    public void SweepRun_QueryFormats_AndErrors()
    {
        var db = P("r.duckdb");
        var run = CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db, "--jobs", "2");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("24 runs, 0 already", run.Stdout);

        var csv = CliRunner.Run("results", "query", db, "SELECT protocol, count(*) AS n FROM results GROUP BY protocol ORDER BY protocol", "--format", "csv");
        Assert.Equal(0, csv.ExitCode);
        Assert.Equal("protocol,n\nsync,12\nve,12\n", csv.Stdout);

        var json = CliRunner.Run("results", "query", db, "SELECT protocol, count(*) AS n FROM results GROUP BY protocol ORDER BY protocol", "--format", "json");
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.Equal(12, doc.RootElement.GetProperty("rows")[1].GetProperty("n").GetInt64());

        var table = CliRunner.Run("results", "query", db, "SELECT count(*) AS n FROM results");
        Assert.Contains("24", table.Stdout);

        // The sweep file changed: refused without --force.
        File.WriteAllText(P("kill.yaml"), Sweep.Replace("seeds: 3", "seeds: 2"));
        var changed = CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db);
        Assert.Equal(2, changed.ExitCode);
        Assert.Contains("holds results of sweep kill as it was (hash ", changed.Stderr, StringComparison.Ordinal);

        var bad = CliRunner.Run("results", "query", db, "SELECT nope");
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.TrimEnd('\n').Split('\n'));

        Assert.Equal(0, CliRunner.Run("results", "export", db, "--format", "csv", "--out", P("r.csv")).ExitCode);
        Assert.Equal(25, File.ReadAllLines(P("r.csv")).Length);
        Assert.Equal(0, CliRunner.Run("plot", db, "--x", "latency", "--y", "fault_latency_ns_p99", "--log-x", "--out", P("p.png")).ExitCode);
        Assert.True(new FileInfo(P("p.png")).Length > 1000);
    }

    // The export's format follows --out's extension unless --format says otherwise; a contradiction is refused. With
    // neither, it is Parquet beside the store, as the help says (it was refused with exit 2).
    [Theory]
    [InlineData(new[] { "--out", "e.csv" }, "e.csv", "csv")]
    [InlineData(new[] { "--out", "e.parquet" }, "e.parquet", "parquet")]
    [InlineData(new[] { "--out", "E.CSV" }, "E.CSV", "csv")]
    [InlineData(new[] { "--format", "csv", "--out", "e.txt" }, "e.txt", "csv")]
    [InlineData(new[] { "--format", "parquet", "--out", "e.csv" }, null, "--out: {0} names a .csv file, but --format is parquet")]
    [InlineData(new[] { "--out", "e.txt" }, null, "--format: give --format csv or parquet, or an --out ending in .csv or .parquet")]
    [InlineData(new string[0], "export.parquet", "parquet")]
    [InlineData(new[] { "--format", "csv" }, "export.csv", "csv")]
    public void Export_takes_its_format_from_the_out_extension(string[] options, string? written, string formatOrError)
    {
        var db = P("export.duckdb");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db).ExitCode);
        var args = options.Select(o => o.StartsWith('e') || o.StartsWith('E') ? P(o) : o).ToArray();
        var r = CliRunner.Run(["results", "export", db, .. args, "--json"]);
        if (written is null)
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Equal("vexlab: " + string.Format(System.Globalization.CultureInfo.InvariantCulture, formatOrError, args.LastOrDefault()) + "\n", r.Stderr);
            Assert.False(File.Exists(P("e.csv")));
            return;
        }

        Assert.Equal(0, r.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        Assert.Equal(formatOrError, doc.RootElement.GetProperty("format").GetString());
        var head = File.ReadAllBytes(P(written)).AsSpan(0, 4).ToArray();
        Assert.Equal(formatOrError == "parquet", head.SequenceEqual("PAR1"u8.ToArray()));
    }

    // Each row is what vexlab run of its replay line prints, a knob of the sweep's other protocol included:
    // under kvm-pf-int the ve axis sets nothing, and the row's scenario_hash is the replay's.
    [Fact]
    public void Each_row_is_its_replay_lines_run()
    {
        File.WriteAllText(P("mixed.yaml"), """
            scenario: postcopy
            set:
              duration: 1ms
            protocols: [kvm-pf-int, ve]
            axes:
              - {name: mode, key: guest.ve.can_continue, values: [seed, always]}
            """);
        var db = P("mixed.duckdb");
        Assert.Equal(0, CliRunner.Run("sweep", "run", P("mixed.yaml"), "--db", db, "--jobs", "1").ExitCode);
        var rows = StoreOperations.Query(db, "SELECT replay, scenario_hash, digest, work_done FROM results ORDER BY run_key").Rows;
        Assert.Equal(4, rows.Count);
        foreach (var row in rows)
        {
            var replay = ((string)row[0]!).Split(' ')[1..];
            var run = CliRunner.Run([.. replay, "--json", "-"]);
            Assert.Equal(0, run.ExitCode);
            using var doc = System.Text.Json.JsonDocument.Parse(run.Stdout);
            Assert.Equal((string)row[1]!, doc.RootElement.GetProperty("scenario_hash").GetString());
            Assert.Equal((string)row[2]!, doc.RootElement.GetProperty("digest").GetString());
            Assert.Equal(Convert.ToInt64(row[3], System.Globalization.CultureInfo.InvariantCulture), doc.RootElement.GetProperty("work_done").GetInt64());
        }
    }

    // The same when the knob is the base scenario file's: the kvm-pf-int rows' replay lines run that file under
    // kvm-pf-int alone, which refused the file's ve knob (exit 2) while the sweep stored the rows.
    [Fact]
    public void Each_row_replays_when_the_scenario_file_sets_a_knob_of_another_protocol()
    {
        File.WriteAllText(P("knob.yaml"), "name: knob\nduration: 1ms\nguest:\n  ve:\n    can_continue: always\n");
        File.WriteAllText(P("filed.yaml"), "scenario: knob.yaml\nprotocols: [kvm-pf-int, ve]\nseeds: 2\n");
        var db = P("filed.duckdb");
        Assert.Equal(0, CliRunner.Run("sweep", "run", P("filed.yaml"), "--db", db, "--jobs", "1").ExitCode);
        var rows = StoreOperations.Query(db, "SELECT replay, scenario_hash, digest FROM results ORDER BY run_key").Rows;
        Assert.Equal(4, rows.Count);
        foreach (var row in rows)
        {
            var replay = ((string)row[0]!).Split(' ')[1..];
            var run = CliRunner.Run([.. replay, "--json", "-"]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            using var doc = System.Text.Json.JsonDocument.Parse(run.Stdout);
            Assert.Equal((string)row[1]!, doc.RootElement.GetProperty("scenario_hash").GetString());
            Assert.Equal((string)row[2]!, doc.RootElement.GetProperty("digest").GetString());
        }
    }

    // A --force run reuses a row only when it is the same run: after the duration changed, every row is run again and
    // carries the new simulated time and replay line; after one axis value changed, only that value's rows.
    [Fact]
    public void Forced_sweep_runs_again_the_rows_that_no_longer_match()
    {
        const string Timed = """
            name: reuse
            scenario: postcopy
            set:
              duration: 1ms
            protocols: [sync, ve]
            axes:
              - {name: latency, key: host.latency, unit: us, values: [1, 10]}
            """;
        var db = P("reuse.duckdb");
        string Sweep(string text)
        {
            File.WriteAllText(P("reuse.yaml"), text);
            return P("reuse.yaml");
        }

        var longer = Timed.Replace("1ms", "2ms", StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.Run("sweep", "run", Sweep(Timed), "--db", db, "--jobs", "1").ExitCode);

        var refused = CliRunner.Run("sweep", "run", Sweep(longer), "--db", db, "--jobs", "1");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("(0 of its 4 runs)", refused.Stderr, StringComparison.Ordinal);

        var forced = CliRunner.Run("sweep", "run", Sweep(longer), "--db", db, "--jobs", "1", "--force");
        Assert.Equal(0, forced.ExitCode);
        Assert.StartsWith("4 runs no longer match; removed\nsweep reuse: 4 runs, 0 already in", forced.Stdout, StringComparison.Ordinal);
        var rows = StoreOperations.Query(db, "SELECT simulated_ns, replay FROM results").Rows;
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal(2_000_000L, r[0]));
        Assert.All(rows, r => Assert.Contains(" --duration 2ms", (string)r[1]!, StringComparison.Ordinal));

        var axis = CliRunner.Run("sweep", "run", Sweep(longer.Replace("[1, 10]", "[1, 20]", StringComparison.Ordinal)), "--db", db, "--jobs", "1", "--force");
        Assert.Equal(0, axis.ExitCode);
        Assert.StartsWith("2 runs no longer match; removed\nsweep reuse: 4 runs, 2 already in", axis.Stdout, StringComparison.Ordinal);

        var again = CliRunner.Run("sweep", "run", P("reuse.yaml"), "--db", db, "--jobs", "1", "--force");
        Assert.StartsWith("sweep reuse: 4 runs, 4 already in", again.Stdout, StringComparison.Ordinal);
        Assert.Equal(new object?[] { 4L, 2_000_000L }, StoreOperations.Query(db, "SELECT count(*), min(simulated_ns) FROM results WHERE latency IN (1, 20)").Rows[0]);
    }

    // Without --out the export goes beside the store, whatever folders its path names.
    [Theory]
    [InlineData("export.duckdb", "results", "export.csv")]
    [InlineData("sub/../export.duckdb", "results", "export.csv")]
    [InlineData("sub/../export.duckdb", "tasks", "export.tasks.csv")]
    [InlineData("sub/../sub/export.duckdb", "sweep", "sub/export.sweep.csv")]
    public void Export_without_out_writes_beside_the_store(string store, string table, string expected)
    {
        Directory.CreateDirectory(P("sub"));
        var db = P(store);
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db).ExitCode);
        var r = CliRunner.Run("results", "export", db, "--format", "csv", "--table", table);
        Assert.Equal(0, r.ExitCode);
        Assert.True(File.Exists(P(expected)), r.Stdout);
        Assert.Equal([P(expected)], Directory.GetFiles(_dir, "*.csv", SearchOption.AllDirectories).Select(Path.GetFullPath));
    }

    // A --where that is no condition is refused with DuckDB's reason, named as the option, not as the query around it
    // (one with a ';' is refused before DuckDB reads it: WhereConditionTests).
    [Theory]
    [InlineData("plot", "latency >", "Parser Error: syntax error at or near \")\"")]
    [InlineData("plot", "1=1 DROP TABLE results", "Parser Error: syntax error at or near \"DROP\"")]
    [InlineData("report", "nosuch = 1", "Binder Error: Referenced column \"nosuch\" not found in FROM clause!")]
    public void A_where_that_is_no_condition_is_named(string command, string where, string reason)
    {
        var db = P("where.duckdb");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db).ExitCode);
        string[] extra = command == "plot" ? ["--x", "latency", "--y", "fault_latency_ns_p99", "--out", P("w.png")] : ["--out", P("w.html")];
        var r = CliRunner.Run([command, db, "--where", where, .. extra]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"vexlab: --where: \"{where}\" is not a condition on {db}'s results: {reason}\n", r.Stderr);
        Assert.Equal("n\n24\n", CliRunner.Run("results", "query", db, "SELECT count(*) AS n FROM results", "--format", "csv").Stdout);
        Assert.False(File.Exists(P("w.png")) || File.Exists(P("w.html")));
    }

    // A column the store lacks is named with its option, the nearest column and how to list them; no image is written.
    [Theory]
    [InlineData("--x", "latncy", "--y", "fault_latency_ns_p99", "--by", "variant", " (did you mean latency?)")]
    [InlineData("--x", "latency", "--y", "p99", "--by", "variant", "")]
    [InlineData("--x", "latency", "--y", "fault_latency_ns_p99", "--by", "protocl", " (did you mean protocol?)")]
    public void Plot_names_a_missing_column(string xFlag, string x, string yFlag, string y, string byFlag, string by, string hint)
    {
        var db = P("cols.duckdb");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db).ExitCode);
        var (option, missing) = x != "latency" ? (xFlag, x) : y != "fault_latency_ns_p99" ? (yFlag, y) : (byFlag, by);
        var plot = CliRunner.Run("plot", db, xFlag, x, yFlag, y, byFlag, by, "--out", P("missing.png"));
        Assert.Equal(2, plot.ExitCode);
        Assert.Equal(
            $"vexlab: {option}: no column \"{missing}\" in {db}'s results{hint}; vexlab results query {db} \"DESCRIBE results\" lists them\n",
            plot.Stderr);
        Assert.False(File.Exists(P("missing.png")));
    }

    // A line plot's axes take numbers: a text column is refused by name before DuckDB fails to convert its first value.
    [Theory]
    [InlineData("--x", "variant")]
    [InlineData("--y", "protocol")]
    public void Plot_refuses_a_text_column_as_an_axis(string option, string column)
    {
        var db = P("text.duckdb");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db).ExitCode);
        var (x, y) = option == "--x" ? (column, "fault_latency_ns_p99") : ("latency", column);
        var plot = CliRunner.Run("plot", db, "--x", x, "--y", y, "--out", P("text.png"));
        Assert.Equal(2, plot.ExitCode);
        Assert.Equal($"vexlab: {option}: column \"{column}\" of {db}'s results holds text, not numbers; {option} takes a numeric column\n", plot.Stderr);
        Assert.False(File.Exists(P("text.png")));
    }

    [Fact]
    public void SweepRun_WithTheSimulator_StoresOneRowPerRun()
    {
        File.WriteAllText(P("mini.yaml"), """
            name: mini
            scenario: swap-overcommit
            protocols: sync,kvm-pf-int
            seeds: 1
            set:
              duration: 20ms
            axes:
              - name: latency
                key: host.latency
                unit: us
                values: [10, 1000]
            """);
        var result = CliRunner.Run("sweep", "run", P("mini.yaml"), "--db", P("mini.duckdb"));
        Assert.Equal(0, result.ExitCode);
        var query = CliRunner.Run("results", "query", P("mini.duckdb"), "select count(*) n, min(work_done) w from results", "--format", "csv");
        Assert.Equal(0, query.ExitCode);
        var row = query.Stdout.Split('\n')[1].Split(',');
        Assert.Equal("4", row[0]);
        Assert.True(long.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public void ShippedAssemblies_HoldNoTestDouble_AndNoEnvironmentSelectsOne()
    {
        // The stand-in with made-up numbers lives under tests/; the tool always simulates.
        foreach (var assembly in new[] { typeof(VexlabApp).Assembly, typeof(Vexlab.Results.Sweeps.RunPoint).Assembly })
        {
            Assert.DoesNotContain(assembly.GetTypes(), t => t.Name.Contains("Fake", StringComparison.OrdinalIgnoreCase));
        }

        File.WriteAllText(P("one.yaml"), """
            name: one
            scenario: swap-overcommit
            protocols: sync
            seeds: 1
            set:
              duration: 5ms
            axes:
              - name: latency
                key: host.latency
                unit: us
                values: [10]
            """);
        var result = CliRunner.WithEnvironment("VEXLAB_FAKE_RUNNER", "fast", () => CliRunner.Run("sweep", "run", P("one.yaml"), "--db", P("one.duckdb")));
        Assert.Equal(0, result.ExitCode);
        // Only the simulator's result carries the host's counters (host.evictions).
        var query = CliRunner.Run("results", "query", P("one.duckdb"), "select count(host_evictions) AS n from results", "--format", "csv");
        Assert.Equal("n\n1\n", query.Stdout);
    }

    [Fact]
    public void SweepRun_UnknownScenarioKey_IsOneLineError()
    {
        File.WriteAllText(P("badkey.yaml"), """
            name: badkey
            scenario: swap-overcommit
            protocols: sync
            seeds: 1
            axes:
              - name: x
                key: host.no_such_key
                values: [1]
            """);
        var result = CliRunner.Run("sweep", "run", P("badkey.yaml"), "--db", P("badkey.duckdb"));
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("host.no_such_key", result.Stderr);
    }

    [Fact]
    public void Sweeps_ListAndShow()
    {
        var list = CliRunner.Run("sweeps", "list", "--json");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("tasks-per-vcpu", list.Stdout);
        var show = CliRunner.Run("sweeps", "show", "latency");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("host.latency", show.Stdout);
        Assert.Equal(2, CliRunner.Run("sweeps", "show", "nope").ExitCode);
    }

    [Fact]
    public void BadSweepFile_IsOneLineWithFileLineAndKey()
    {
        File.WriteAllText(P("bad.yaml"), "scenario: postcopy\nprotocols: [ve, nope]\n");
        var result = CliRunner.Run("sweep", "run", P("bad.yaml"), "--db", P("bad.duckdb"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {P("bad.yaml")}:2:17: protocols[1]: unknown protocol 'nope' (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)\n", result.Stderr);
    }

    // DuckDB lets one process write a store (or any number read it): a query while a sweep in another process
    // writes it printed DuckDB's own words, "Conflicting lock is held in /usr/share/dotnet/dotnet (PID N)" and a
    // URL, naming the runtime rather than the store. Now one line names the store and the process.
    [Fact]
    public async Task A_store_another_process_holds_is_refused_as_in_use_by_that_process()
    {
        var dll = typeof(Vexlab.FakeSweep.FakeRunner).Assembly.Location;
        var db = P("held.duckdb");
        using var process = Start(dll, "slow", "sweep", "run", P("kill.yaml"), "--db", db, "--jobs", "1");
        try
        {
            // The first progress line comes after runs are in: the store is open and locked by then.
            var stderr = await StartedProcess.FirstErrorLine(process, TimeSpan.FromMinutes(2));
            Assert.False(process.HasExited, "the sweep ended before the store could be opened beside it");
            var expected = $"vexlab: {db}: the result store is in use by process {process.Id} (a store is one process's to write); try again when it has finished\n";
            var query = CliRunner.Run("results", "query", db, "SELECT 1");
            Assert.Equal(2, query.ExitCode);
            Assert.Equal(expected, query.Stderr);
            var sweep = CliRunner.RunFake("sweep", "run", P("kill.yaml"), "--db", db);
            Assert.Equal(2, sweep.ExitCode);
            Assert.Equal(expected, sweep.Stderr);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    [Theory]
    [InlineData("DuckDBOpen failed: IO Error: Could not set lock on file \"/tmp/s.duckdb\": Conflicting lock is held in /usr/share/dotnet/dotnet (PID 3328). See also https://duckdb.org/docs/stable/connect/concurrency", "process 3328")]
    [InlineData("DuckDBOpen failed: IO Error: Could not set lock on file \"/tmp/s.duckdb\": Resource temporarily unavailable", "another process")]
    public void DuckDBs_lock_refusal_is_said_as_in_use(string message, string by)
    {
        Assert.Equal($"the result store is in use by {by} (a store is one process's to write); try again when it has finished", SweepStore.InUse(message));
        Assert.Null(SweepStore.InUse("IO Error: Cannot open file \"/tmp/x\": No such file or directory"));
    }

    private static Process Start(string dll, string fake, params string[] args)
    {
        return Process.Start(StartedProcess.Info(dll, [fake, .. args]))!;
    }

    private static long CountRows(string db) => (long)StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0][0]!;

    private static List<string> Rows(string db, string table)
    {
        var columns = StoreOperations.Query(db, $"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'")
            .Rows.Select(r => (string)r[0]!).Where(c => !c.StartsWith("timing_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var order = table == "tasks" ? "run_key, task" : "run_key";
        return StoreOperations.Query(db, $"SELECT {string.Join(", ", columns.Select(SweepStore.Quote))} FROM {table} ORDER BY {order}")
            .Rows.Select(r => string.Join('|', columns.Zip(r, (c, v) => c + "=" + QueryResult.FormatValue(v)))).ToList();
    }

    [Fact]
    public void Help_names_the_processor_count_as_the_jobs_default_not_this_machines_number()
    {
        // The help printed this machine's processor count as if it were the default everywhere ("[default: 2]").
        var result = CliRunner.Run("sweep", "run", "--help");
        Assert.Equal(0, result.ExitCode);
        var line = result.Stdout.Split('\n').Single(l => l.Contains("--jobs", StringComparison.Ordinal));
        Assert.Contains("default: the machine's processor count", line, StringComparison.Ordinal);
        Assert.DoesNotContain("[default: ", line, StringComparison.Ordinal);
    }
}
