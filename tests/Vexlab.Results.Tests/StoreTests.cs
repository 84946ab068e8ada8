using Vexlab.FakeSweep;
using Vexlab.Results.Plotting;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

public sealed class StoreTests
{
    [Theory]
    [InlineData("COPY results TO '{0}' (HEADER)")]
    [InlineData("EXPORT DATABASE '{0}'")]
    [InlineData("ATTACH '{0}' AS other")]
    [InlineData("SET enable_external_access = true")]
    public void Query_IsReadOnly_RefusesSqlThatWritesFiles(string template)
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Run(Small(), db);
        var target = dir.File("leak");
        var error = Assert.Throws<Vexlab.Model.Configuration.InputException>(() => StoreOperations.Query(db, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, target)));
        Assert.Contains("query failed", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target) || Directory.Exists(target), "the query wrote " + target);
        Assert.Equal(72L, StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0][0]);
    }

    // DuckDB answers a text with no statement with an exception that has no message ("External component has thrown
    // an exception."): the query is refused as empty instead.
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(";")]
    [InlineData(" ;\n")]
    [InlineData("   -- comment only")]
    [InlineData("-- one\n-- two\n")]
    [InlineData("/* block */")]
    [InlineData(" /* outer /* nested */ still */ ; -- and a line\n;")]
    [InlineData("/* never closed")]
    public void Query_WithNoStatement_IsRefusedAsSuch(string sql)
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Run(Small(), db);
        var error = Assert.Throws<Vexlab.Model.Configuration.InputException>(() => StoreOperations.Query(db, sql));
        Assert.Equal(db + ": query failed: the SQL holds no statement", error.Message);
    }

    // The answer is one table (as CSV or JSON too), so a second statement would run and its rows be dropped unseen;
    // a trailing semicolon, or an empty statement after the query, is still one statement.
    [Theory]
    [InlineData("SELECT 1; SELECT 2", false)]
    [InlineData("SELECT count(*) FROM results; SELECT count(*) FROM tasks", false)]
    [InlineData("SELECT 1;", true)]
    [InlineData("SELECT 1; ;", true)]
    [InlineData("-- count\nSELECT 1 -- one\n; /* done */", true)]
    [InlineData("/* a; */ SELECT 1 AS x, '--' AS y", true)]
    public void Query_RunsOneStatement(string sql, bool accepted)
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Run(Small(), db);
        if (accepted)
        {
            Assert.Equal(1, System.Convert.ToInt32(StoreOperations.Query(db, sql).Rows[0][0], System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        var error = Assert.Throws<Vexlab.Model.Configuration.InputException>(() => StoreOperations.Query(db, sql));
        Assert.Equal(db + ": query failed: the SQL holds more than one statement; results query runs one", error.Message);
    }

    [Fact]
    public void Run_WritesOneRowPerRunAndOnePerTask_NumbersAsNumbers()
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        var summary = Run(Small(), db);
        Assert.Equal(72, summary.Ran);
        Assert.Equal(72L, StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0][0]);
        Assert.True((long)StoreOperations.Query(db, "SELECT count(*) FROM tasks").Rows[0][0]! >= 72);
        var types = StoreOperations.Query(db, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'results'")
            .Rows.ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        Assert.Equal("BIGINT", types["tasks"]);
        Assert.Equal("BIGINT", types["latency"]);
        Assert.Equal("BIGINT", types["seed"]);
        Assert.Equal("BIGINT", types["fault_latency_ns_p99"]);
        Assert.Equal("BIGINT", types["vcpu_ns_host_stalled"]);
        Assert.Equal("BIGINT", types["exits_EPT_VIOLATION"]);
        Assert.Equal("BIGINT", types["exits_HLT"]);
        Assert.Equal("DOUBLE", types["timing_events_per_s"]);
        Assert.Equal("VARCHAR", types["guest_outcome"]);
        foreach (var column in new[] { "run_key", "protocol", "variant", "scenario_hash", "vexlab_version", "work_done" })
        {
            Assert.True(types.ContainsKey(column), column);
        }

        Assert.Equal(72L, StoreOperations.Query(db, "SELECT count(DISTINCT run_key) FROM results").Rows[0][0]);
        var meta = StoreOperations.Query(db, "SELECT value FROM sweep WHERE key = 'sweep_hash'").Rows;
        Assert.Equal(Small().ComputeHash(), Assert.Single(meta)[0]);
        var taskTypes = StoreOperations.Query(db, "SELECT data_type FROM information_schema.columns WHERE table_name = 'tasks' AND column_name = 'finished_ns'").Rows;
        Assert.Equal("BIGINT", Assert.Single(taskTypes)[0]);
    }

    [Theory]
    [InlineData("""{"work_done": 5, "lat_ency": 7}""")]
    [InlineData("""{"work_done": 5, "lat": {"ency": 7}}""")]
    [InlineData("""{"work_done": 5, "guest": {"tasks": [{"name": "a", "lat_ency": 7}]}}""")]
    public void RunRow_AFieldNamedLikeAnAxis_IsRefusedNotDropped(string json)
    {
        // An axis column and a field of the run with one name: the row would keep the axis value only.
        var sweep = SweepFile.Parse("scenario: postcopy\nprotocols: [ve]\naxes:\n  - {name: lat_ency, key: host.latency, unit: us, values: [1]}\n", "x.yaml");
        var run = SweepPlan.Runs(sweep).First();
        var message = Fails(() => RunRow.From(run, System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject(), "0.0.0"));
        Assert.StartsWith("axis lat_ency: the run's result has a field lat_ency", message);
    }

    [Fact]
    public void Resume_HalfTheRowsThenRerun_EqualsOneFullRun()
    {
        using var dir = new TempDir();
        var full = dir.File("full.duckdb");
        var half = dir.File("half.duckdb");
        Run(Small(), full);

        // Half the runs written, as a killed sweep leaves them.
        using (var store = SweepStore.Open(half))
        {
            store.Bind(Small(), force: false);
            foreach (var run in SweepPlan.Runs(Small()).Where((_, i) => i % 2 == 0))
            {
                store.Write(RunRow.From(run, FakeRunner.Run(run, FakeRunnerMode.Fast, default), "0.0.0"));
            }
        }

        var summary = Run(Small(), half);
        Assert.Equal(36, summary.AlreadyDone);
        Assert.Equal(36, summary.Ran);
        Assert.Equal(Rows(full, "results"), Rows(half, "results"));
        Assert.Equal(Rows(full, "tasks"), Rows(half, "tasks"));
        Assert.Equal(0, Run(Small(), half).Ran);
    }

    [Fact]
    public void ChangedSweep_IsRefused_UnlessForced()
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Run(Small(), db);
        var changed = SweepFile.Parse(Support.SmallSweep.Replace("values: [1, 4]", "values: [1, 8]"), "small.yaml");
        var hashes = (Small().ComputeHash()[..12], changed.ComputeHash()[..12]);
        Assert.Equal(
            $"{db}: holds results of sweep {changed.Name} as it was (hash {hashes.Item1}); it has changed since (hash {hashes.Item2}): pass --force to keep the runs that still match (36 of its 72 runs) and run the rest, or use another --db",
            Fails(() => Run(changed, db)));
        using (var store = SweepStore.Open(db))
        {
            var summary = SweepExecutor.Run(changed, store, FakeRunner.Create(), new SweepOptions { Jobs = 2, Force = true });
            Assert.Equal(36, summary.Removed);
            Assert.Equal(36, summary.AlreadyDone);
            Assert.Equal(36, summary.Ran);
        }

        Assert.Equal(0L, StoreOperations.Query(db, "SELECT count(*) FROM results WHERE tasks = 4").Rows[0][0]);
        Assert.Equal(72L, StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0][0]);
    }

    [Fact]
    public void TwoShardsMerged_EqualTheUnshardedSweep()
    {
        using var dir = new TempDir();
        var whole = dir.File("whole.duckdb");
        Run(Small(), whole);
        var a = Run(Small(), dir.File("s1.duckdb"), new Shard(1, 2));
        var b = Run(Small(), dir.File("s2.duckdb"), new Shard(2, 2));
        Assert.Equal(72, a.Runs + b.Runs);
        Assert.True(a.Runs > 0 && b.Runs > 0);
        var merged = dir.File("merged.duckdb");
        var summary = StoreOperations.Merge(merged, [dir.File("s1.duckdb"), dir.File("s2.duckdb")]);
        Assert.Equal(72, summary.Added);
        Assert.Equal(Rows(whole, "results"), Rows(merged, "results"));
        Assert.Equal(Rows(whole, "tasks"), Rows(merged, "tasks"));

        // Merging a shard again adds nothing; the merged store resumes as a whole sweep.
        Assert.Equal(0, StoreOperations.Merge(merged, [dir.File("s1.duckdb")]).Added);
        Assert.Equal(0, Run(Small(), merged).Ran);
    }

    [Fact]
    public void ShardWithoutRuns_HasTheAxisColumnsOfEveryOtherStore()
    {
        // A shard of a sweep with fewer runs than shards may get none; its store's columns once lacked the axes, so
        // its CSV export had no latency or tasks column where every other shard's had them.
        using var dir = new TempDir();
        var sweep = Small();
        var empty = Enumerable.Range(1, 100).Select(i => new Shard(i, 100)).First(s => !SweepPlan.Runs(sweep, s).Any());
        var none = dir.File("none.duckdb");
        Assert.Equal(0, Run(sweep, none, empty).Runs);
        var whole = dir.File("whole.duckdb");
        Run(sweep, whole);
        foreach (var table in new[] { "results", "tasks" })
        {
            var identity = Columns(whole, table).Where(c => c.Name is "run_key" or "latency" or "tasks" or "protocol" or "variant" or "seed" or "task").ToList();
            Assert.Equal(identity, Columns(none, table).Where(c => identity.Contains(c)).ToList());
            Assert.Contains(identity, c => c.Name == "latency");
            Assert.Contains(identity, c => c.Name == "tasks");
        }

        StoreOperations.Export(none, "results", "csv", dir.File("none.csv"));
        Assert.StartsWith("run_key,latency,tasks,protocol,variant,seed,", File.ReadAllLines(dir.File("none.csv"))[0]);
    }

    private static List<(string Name, string Type)> Columns(string db, string table) =>
        [.. StoreOperations.Query(db, $"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position")
            .Rows.Select(r => ((string)r[0]!, (string)r[1]!))];

    [Fact]
    public void Merge_RefusesShardsOfDifferentSweeps()
    {
        using var dir = new TempDir();
        Run(Small(), dir.File("a.duckdb"), new Shard(1, 2));
        Run(SweepFile.Parse(Support.SmallSweep.Replace("seeds: 3", "seeds: 2"), "other.yaml"), dir.File("b.duckdb"), new Shard(2, 2));
        var message = Fails(() => StoreOperations.Merge(dir.File("m.duckdb"), [dir.File("a.duckdb"), dir.File("b.duckdb")]));
        Assert.Contains("b.duckdb: comes from a different sweep", message);
        Assert.False(File.Exists(dir.File("m.duckdb")));
    }

    [Fact]
    public void Query_CsvAndJson()
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Run(Small(), db);
        var result = StoreOperations.Query(db, "SELECT variant, latency, avg(fault_latency_ns_p99) AS p99, 'a,b' AS t FROM results GROUP BY variant, latency ORDER BY variant, latency");
        var lines = result.ToCsv().TrimEnd('\n').Split('\n');
        Assert.Equal("variant,latency,p99,t", lines[0]);
        Assert.Equal(1 + 12, lines.Length);
        Assert.StartsWith("sync,1,", lines[1]);
        Assert.EndsWith(",\"a,b\"", lines[1]);
        Assert.StartsWith("ve[guest.ve.can_continue=user-or-preemptible-kernel],1,", lines[9]);
        var json = result.ToJsonRows();
        Assert.Equal(12, json.Count);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, json[0]!["latency"]!.GetValueKind());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, json[0]!["p99"]!.GetValueKind());
        Assert.Contains("query failed", Fails(() => StoreOperations.Query(db, "SELECT nope FROM results")));
    }

    [Fact]
    public void Export_CsvAndParquet()
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        var summary = Run(Small(), db);

        // The store first, then the file: a short file then says whether the rows were missing from the store or the
        // export (a clean-clone run once saw 37 lines here, and no rerun has since).
        Assert.Equal(72, summary.Ran);
        Assert.Equal(72L, StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0][0]);
        StoreOperations.Export(db, "results", "csv", dir.File("r.csv"));
        var lines = File.ReadAllLines(dir.File("r.csv"));
        Assert.True(lines.Length == 73, $"{lines.Length} lines in the export of a store of 72 runs: {string.Join(" / ", lines.Select(l => l.Length > 60 ? l[..60] : l).Take(5))}");
        Assert.StartsWith("run_key,", lines[0]);
        StoreOperations.Export(db, "tasks", "parquet", dir.File("t.parquet"));
        var bytes = File.ReadAllBytes(dir.File("t.parquet"));
        Assert.Equal("PAR1"u8.ToArray(), bytes[..4]);
        // A store query may not read other files (external access is off), so DuckDB reads the export on its own.
        using var reader = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        reader.Open();
        using var command = reader.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM read_parquet('{dir.File("t.parquet")}')";
        var count = command.ExecuteScalar();
        Assert.Equal(StoreOperations.Query(db, "SELECT count(*) FROM tasks").Rows[0][0], count);
    }

    [Fact]
    public void Plot_WritesPngAndSvg()
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Run(Small(), db);
        var lines = ResultPlots.LineData(db, "latency", "fault_latency_ns_p99", "variant");
        Assert.Equal(3, lines.Count);
        Assert.All(lines.Values, l => Assert.Equal(4, l.Count));
        Assert.All(lines.Values.SelectMany(l => l), p => Assert.True(p.N == 6 && p.Low <= p.Mean && p.Mean <= p.High));

        ResultPlots.Render(db, new PlotRequest { X = "latency", Y = "fault_latency_ns_p99", LogX = true }, dir.File("l.png"));
        ResultPlots.Render(db, new PlotRequest { X = "tasks", Y = "work_done", By = "protocol" }, dir.File("l.svg"));
        ResultPlots.Render(db, new PlotRequest { Kind = PlotKind.Stacked }, dir.File("s.png"));
        ResultPlots.Render(db, new PlotRequest { Kind = PlotKind.Stacked }, dir.File("s.svg"));
        var png = File.ReadAllBytes(dir.File("l.png"));
        Assert.True(png.Length > 1000);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(new FileInfo(dir.File("s.png")).Length > 1000);
        Assert.Contains("<svg", File.ReadAllText(dir.File("l.svg")));
        Assert.Contains("<svg", File.ReadAllText(dir.File("s.svg")));
        Assert.Contains("--out", Fails(() => ResultPlots.Render(db, new PlotRequest { X = "latency", Y = "work_done" }, dir.File("p.gif"))));
    }
}
