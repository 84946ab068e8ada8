using System.Globalization;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Vexlab.FakeSweep;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios.Documents;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>
/// A store reuses a run only when it is the same run: the same base scenario after the sweep's
/// overrides, point, seed and protocol entry. A <c>--force</c> run of a changed sweep removes the
/// runs that no longer match and runs them again; the rest are kept.
/// </summary>
public sealed class RunReuseTests
{
    /// <summary>The small sweep with a duration, so a change of it is a change of the base scenario.</summary>
    private static readonly string s_timed = SmallSweep.Replace("scenario: postcopy\n", "scenario: postcopy\nset:\n  duration: 50ms\n", StringComparison.Ordinal);

    private static SweepDefinition Timed(string from = "", string to = "", params string[] sets) =>
        SweepFile.Parse(from.Length == 0 ? s_timed : s_timed.Replace(from, to, StringComparison.Ordinal), "small.yaml")
            .WithSets(Overrides.ParseSets(sets));

    /// <summary>The fake runner, with the run's duration as its simulated time, as the simulator's <c>simulated_ns</c> is.</summary>
    private static JsonObject Timing(SweepRun run, CancellationToken ct)
    {
        var json = FakeRunner.Run(run, FakeRunnerMode.Fast, ct);
        var duration = run.AllOverrides.Last(o => o.Key == "duration").Value;
        json["simulated_ns"] = long.Parse(duration.AsSpan(0, duration.Length - 2), CultureInfo.InvariantCulture) * 1_000_000;
        return json;
    }

    private static SweepSummary Force(SweepDefinition sweep, string db)
    {
        using var store = SweepStore.Open(db);
        return SweepExecutor.Run(sweep, store, Timing, new SweepOptions { Jobs = 2, Force = true });
    }

    // The small sweep has 4 latencies x 2 task counts x 3 seeds x 3 protocol entries: 72 runs, 9 per point.
    [Theory]
    [InlineData("the same sweep", "", "", null, 72, 0, 0)]
    [InlineData("another duration", "duration: 50ms", "duration: 40ms", null, 72, 72, 72)]
    [InlineData("a --set", "", "", "guest.vcpus=2", 72, 72, 72)]
    [InlineData("another base scenario", "scenario: postcopy", "scenario: swap-overcommit", null, 72, 72, 72)]
    [InlineData("one value of one axis", "values: [1, 4]", "values: [1, 8]", null, 72, 36, 36)]
    [InlineData("one seed fewer", "seeds: 3", "seeds: 2", null, 48, 24, 0)]
    [InlineData("one protocol entry fewer", "protocols: [sync, ve, ", "protocols: [ve, ", null, 48, 24, 0)]
    [InlineData("a knob of a protocol entry", "ve[guest.ve.can_continue=user-or-preemptible-kernel]", "ve[guest.ve.can_continue=always]", null, 72, 24, 24)]
    public void ForcedRun_KeepsTheSameRunsOnly_AndRunsTheRest(string change, string from, string to, string? set, long runs, long removed, long ran)
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Force(Timed(), db);
        var changed = Timed(from, to, set is null ? [] : [set]);

        var summary = Force(changed, db);

        Assert.True((runs, removed, ran) == (summary.Runs, summary.Removed, summary.Ran), $"{change}: runs {summary.Runs}, removed {summary.Removed}, ran {summary.Ran}");
        Assert.Equal(runs - ran, summary.AlreadyDone);
        var keys = SweepPlan.Runs(changed).Select(r => r.RunKey).Order(StringComparer.Ordinal).ToList();
        var stored = StoreOperations.Query(db, "SELECT run_key FROM results ORDER BY run_key").Rows.Select(r => (string)r[0]!).ToList();
        Assert.Equal(keys, stored);
        var tasks = StoreOperations.Query(db, "SELECT DISTINCT run_key FROM tasks ORDER BY run_key").Rows.Select(r => (string)r[0]!).ToList();
        Assert.Equal(keys, tasks);
    }

    [Fact]
    public void ForcedRun_AfterTheDurationChanged_RowsCarryTheNewDuration()
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Force(Timed(), db);
        Assert.Equal(50_000_000L, StoreOperations.Query(db, "SELECT max(simulated_ns) FROM results").Rows[0][0]);

        Force(Timed("duration: 50ms", "duration: 40ms"), db);

        var row = StoreOperations.Query(db, "SELECT min(simulated_ns), max(simulated_ns), count(*) FROM results").Rows[0];
        Assert.Equal(new object?[] { 40_000_000L, 40_000_000L, 72L }, row);
    }

    [Fact]
    public void ChangedBase_WithoutForce_IsRefused_SayingNoRunWouldBeKept()
    {
        using var dir = new TempDir();
        var db = dir.File("r.duckdb");
        Force(Timed(), db);
        var changed = Timed("duration: 50ms", "duration: 40ms");

        var message = Fails(() => Run(changed, db));

        Assert.Equal(
            $"{db}: holds results of sweep small as it was (hash {Timed().ComputeHash()[..12]}); it has changed since (hash {changed.ComputeHash()[..12]}): pass --force to keep the runs that still match (0 of its 72 runs) and run the rest, or use another --db",
            message);
    }

    [Fact]
    public void RunKey_CoversTheBaseScenario()
    {
        var point = SweepPlan.Runs(Timed()).First();
        string Key(SweepDefinition sweep) => SweepRun.ComputeKey(sweep.BaseIdentity, point.Point, point.Seed, point.Protocol);

        Assert.Equal(point.RunKey, Key(Timed()));
        Assert.NotEqual(point.RunKey, Key(Timed("duration: 50ms", "duration: 40ms")));
        Assert.NotEqual(point.RunKey, Key(Timed("", "", "guest.vcpus=2")));
        Assert.NotEqual(point.RunKey, Key(Timed("scenario: postcopy", "scenario: swap-overcommit")));

        // The name and the description decide no result.
        Assert.Equal(point.RunKey, Key(Timed("name: small", "name: renamed\ndescription: another text")));
    }

    [Fact]
    public void StoreOfOlderKeys_IsRefusedNamingTheFile_AndForcedRunsEverythingAgain()
    {
        using var dir = new TempDir();
        var db = dir.File("old.duckdb");
        Force(Timed(), db);
        ForgetKeyVersion(db);

        var message = Fails(() => Run(Timed(), db));
        Assert.StartsWith($"{db}: holds 72 runs written by an older vexlab, whose run keys did not cover the base scenario", message, StringComparison.Ordinal);
        Assert.Contains("--force", message, StringComparison.Ordinal);

        var summary = Force(Timed(), db);
        Assert.Equal((72L, 0L, 72L), (summary.Removed, summary.AlreadyDone, summary.Ran));
        Assert.Equal("2", StoreOperations.Query(db, "SELECT value FROM sweep WHERE key = 'run_key_version'").Rows[0][0]);
        Assert.Equal(0, Run(Timed(), db).Ran);
    }

    [Fact]
    public void Merge_RefusesShardsOfAnotherBaseScenario()
    {
        using var dir = new TempDir();
        Run(Timed(), dir.File("a.duckdb"), new Shard(1, 2));
        Run(Timed("duration: 50ms", "duration: 40ms"), dir.File("b.duckdb"), new Shard(2, 2));

        var message = Fails(() => StoreOperations.Merge(dir.File("m.duckdb"), [dir.File("a.duckdb"), dir.File("b.duckdb")]));

        Assert.Contains("b.duckdb: comes from a different sweep", message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("m.duckdb")));
    }

    [Fact]
    public void Merge_RefusesStoresWhoseKeysAreOfTwoForms()
    {
        using var dir = new TempDir();
        Run(Timed(), dir.File("a.duckdb"), new Shard(1, 2));
        Run(Timed(), dir.File("b.duckdb"), new Shard(2, 2));
        ForgetKeyVersion(dir.File("b.duckdb"));

        var message = Fails(() => StoreOperations.Merge(dir.File("m.duckdb"), [dir.File("a.duckdb"), dir.File("b.duckdb")]));
        Assert.StartsWith($"{dir.File("b.duckdb")}: holds run keys of an older vexlab", message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("m.duckdb")));

        // Into an output of the older form as well.
        var merged = dir.File("m.duckdb");
        StoreOperations.Merge(merged, [dir.File("b.duckdb")], allowPartial: true);
        message = Fails(() => StoreOperations.Merge(merged, [dir.File("a.duckdb")], allowPartial: true));
        Assert.StartsWith($"{merged}: holds run keys of an older vexlab", message, StringComparison.Ordinal);
    }

    /// <summary>Makes <paramref name="db"/> a store as vexlab wrote it before run keys had a recorded form.</summary>
    private static void ForgetKeyVersion(string db)
    {
        using var connection = new DuckDBConnection("Data Source=" + db);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"DELETE FROM sweep WHERE key = '{SweepStore.RunKeyVersionKey}'";
        Assert.Equal(1, command.ExecuteNonQuery());
    }
}
