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
    [InlineData(true, "9223372036854775807ns", "--time-limit", "300ms")]
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
