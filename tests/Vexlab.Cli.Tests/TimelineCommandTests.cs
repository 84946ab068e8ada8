using System.Globalization;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Vexlab.Cli.Tests;

/// <summary><c>run --timeline</c>: per-interval counters as CSV or Parquet that pandas and DuckDB read, summing to the run's own totals.</summary>
public sealed class TimelineCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-timeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Csv_DefaultIntervalIsOneMillisecond_AndSumsEqualTheResult()
    {
        var csv = Path.Combine(_dir, "t.csv");
        var run = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "5ms", "--timeline", csv, "--json");
        Assert.Equal(0, run.ExitCode);
        var doc = JsonNode.Parse(run.Stdout)!;
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.Equal(5, rows.Count);
        Assert.Equal([0L, 1_000_000L], rows[0][..2]);
        long Sum(Func<string, bool> column) => rows.Sum(r => header.Select((h, i) => column(h) ? r[i] : 0).Sum());
        Assert.Equal((long)doc["vcpu_ns"]!["guest"]!, Sum(h => h.EndsWith("_guest_ns", StringComparison.Ordinal)));
        Assert.Equal((long)doc["vcpu_ns"]!["host_halted"]!, Sum(h => h.EndsWith("_halted_ns", StringComparison.Ordinal)));
        Assert.Equal((long)doc["vcpu_ns"]!["host_exit"]!, Sum(h => h.EndsWith("_exit_ns", StringComparison.Ordinal)));
        Assert.True((long)doc["vcpu_ns"]!["host_exit"]! > 0);
        Assert.Equal((long)doc["fault_latency_ns"]!["count"]!, Sum(h => h == "faults_completed"));
        Assert.Equal((long)doc["work_done"]!, Sum(h => h.StartsWith("work_", StringComparison.Ordinal)));
        foreach (var task in doc["guest"]!["tasks"]!.AsArray())
        {
            Assert.Equal((long)task!["work_done"]!, Sum(h => h == "work_" + (string)task["name"]!));
        }
    }

    /// <summary>
    /// The rows are capped before the run: <c>--duration 1ms --timeline-interval 1ns</c> wrote 1,000,000 rows (1.19 GB
    /// at its peak), and 10 s at 1 ns would have been 10^10. Exactly the cap is written; one interval finer is refused,
    /// naming the option, the rows it would give, the limit and the finest interval that fits.
    /// </summary>
    [Theory]
    [InlineData("10ms", "100ns", null, null)]
    [InlineData("10ms", "99ns", "99ns over 10 ms simulated gives 101,011 rows", "100ns")]
    [InlineData("1ms", "1ns", "1ns over 1 ms simulated gives 1,000,000 rows", "10ns")]
    [InlineData("10s", "1ns", "1ns over 10 s simulated gives 10,000,000,000 rows", "100us")]
    [InlineData("200s", null, "the default 1ms over 200 s simulated gives 200,000 rows", "2ms")]
    public void Rows_above_the_limit_are_refused_before_the_run(string duration, string? interval, string? refused, string? finest)
    {
        var csv = Path.Combine(_dir, "t.csv");
        string[] args = ["run", "--builtin", "postcopy", "--protocol", "sync", "--duration", duration, "--timeline", csv];
        var run = CliRunner.Run(interval is null ? args : [.. args, "--timeline-interval", interval]);
        if (refused is null)
        {
            Assert.Equal(0, run.ExitCode);
            Assert.Equal(100_000, File.ReadLines(csv).Count() - 1);
            return;
        }

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"vexlab: --timeline-interval: {refused}, above the limit of 100,000; give --timeline-interval {finest} or more, or a shorter --duration\n", run.Stderr);
        Assert.False(File.Exists(csv));
    }

    [Fact]
    public void Parquet_ReadsBackInDuckDb_WithTheChosenInterval()
    {
        var parquet = Path.Combine(_dir, "t.parquet");
        var run = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "5ms", "--timeline", parquet, "--timeline-interval", "250us", "--json");
        Assert.Equal(0, run.ExitCode);
        var doc = JsonNode.Parse(run.Stdout)!;
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), min(end_ns - start_ns), max(end_ns), sum(faults_completed)::BIGINT, sum(vcpu0_guest_ns + vcpu1_guest_ns + vcpu2_guest_ns + vcpu3_guest_ns)::BIGINT FROM read_parquet('{parquet.Replace("'", "''", StringComparison.Ordinal)}')";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(20L, Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        Assert.Equal(250_000L, Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
        Assert.Equal((long)doc["simulated_ns"]!, Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
        Assert.Equal((long)doc["fault_latency_ns"]!["count"]!, Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture));
        Assert.Equal((long)doc["vcpu_ns"]!["guest"]!, Convert.ToInt64(reader.GetValue(4), CultureInfo.InvariantCulture));
    }

    /// <summary>A Parquet timeline's footer says whether the run was complete, as the JSON does; a stopped run's is partial.</summary>
    [Theory]
    [InlineData(false, "5ms")]
    // 60 s simulated take seconds of wall clock, so the time limit stops the run; at the default 1 ms interval they stay
    // under the timeline's row cap (TimelineRowLimit), which refuses the longest durations before the run.
    [InlineData(true, "60s", "--time-limit", "300ms")]
    public void Parquet_SaysInItsMetadataWhetherTheRunWasComplete(bool stopped, string duration, params string[] limit)
    {
        var parquet = Path.Combine(_dir, "m.parquet");
        var run = CliRunner.Run(["run", "--builtin", "postcopy", "--protocol", "ve", "--duration", duration, "--timeline", parquet, "--json", .. limit]);
        Assert.True(run.ExitCode == (stopped ? 3 : 0), run.Stderr);
        var doc = JsonNode.Parse(run.Stdout)!;
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{parquet.Replace("'", "''", StringComparison.Ordinal)}')";
        using var reader = command.ExecuteReader();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            metadata[reader.GetString(0)] = reader.GetString(1);
        }

        Assert.Equal((bool)doc["complete"]! ? "true" : "false", metadata["complete"]);
        Assert.Equal(stopped ? "false" : "true", metadata["complete"]);
        Assert.Equal(((long)doc["simulated_ns"]!).ToString(CultureInfo.InvariantCulture), metadata["simulated_ns"]);
    }

    [Theory]
    [InlineData("t.txt", "1ms", "--timeline")]
    [InlineData("t.csv", "0ms", "--timeline-interval")]
    [InlineData("t.csv", "fast", "--timeline-interval")]
    public void BadTimelineArguments_ExitTwo_NamingTheOption(string file, string interval, string option)
    {
        var result = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms", "--timeline", Path.Combine(_dir, file), "--timeline-interval", interval);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, file)));
    }
}
