using System.Globalization;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// For a fixed seed, the fault latencies read back from each trace format equal the samples the run's
/// fault_latency_ns histogram recorded, fault for fault: trace.dat through the real <c>trace-cmd report</c>, the
/// ftrace text, and the Perfetto JSON through DuckDB (span end minus span begin, computed in SQL from the file).
/// Faults are matched across formats by (task, n-th fault of that task); against the histogram's samples, which
/// carry no task, as the same multiset (one sample per completed fault, equal values).
/// </summary>
public partial class FaultLatencyCrossCheckTests
{
    [TraceCmdTheory]
    [InlineData("postcopy", "kvm-pf-int")]
    [InlineData("postcopy", "kvm-pf")]
    [InlineData("postcopy", "kvm-halt")]
    [InlineData("postcopy", "sync")]
    [InlineData("postcopy", "ve")]
    [InlineData("kernel-heavy", "kvm-pf-int")]
    [InlineData("kernel-heavy", "ve")]
    public void EveryFormat_GivesTheHistogramsFaultLatencies(string builtin, string protocol)
    {
        var prepared = BuiltinRuns.Prepare(builtin, Overrides.ParseProtocols(protocol)[0], 1.0, "duration=20ms");
        var run = prepared with { Setup = prepared.Setup with { KeepFaultLatencies = true } };
        var trace = new RecordingSink();
        var result = ScenarioRunner.Run(run, trace);
        var histogram = result.FaultLatency.Samples;
        Assert.Equal(result.FaultLatency.Count, histogram.Count);
        Assert.True(histogram.Count >= 5, $"only {histogram.Count} faults completed: too few to compare");
        var threads = new TraceThreads(run.Setup.Machine.Vcpus, new Vexlab.Model.Machine.Machine(run.Setup.Machine).WorkCapacity, pcpus: run.Setup.Pcpus);

        var (dat, text) = TraceDatWriterTests.Both(trace.Records, threads);
        Dictionary<(int, int), long> fromDat;
        try
        {
            fromDat = FromFtrace(TraceCmd.Report(dat, "-N"));
        }
        finally
        {
            File.Delete(dat);
        }

        var fromText = FromFtrace(text);
        var json = Path.Combine(Path.GetTempPath(), "vexlab-" + Guid.NewGuid().ToString("n") + ".json");
        Dictionary<(int, int), long> fromPerfetto;
        try
        {
            File.WriteAllBytes(json, PerfettoBuiltinTests.Write(trace, threads.Vcpus, threads.Workers));
            fromPerfetto = FromPerfetto(json);
        }
        finally
        {
            File.Delete(json);
        }

        Assert.Equal(Sorted(histogram), Sorted(fromText.Values));
        Assert.Equal(fromText.OrderBy(k => k.Key), fromDat.OrderBy(k => k.Key));
        Assert.Equal(fromText.OrderBy(k => k.Key), fromPerfetto.OrderBy(k => k.Key));
    }

    /// <summary>vexlab:guest_fault_done lines that completed: latency per (task, n-th fault of the task), in line order.</summary>
    private static Dictionary<(int Task, int N), long> FromFtrace(string report)
    {
        var faults = new Dictionary<(int, int), long>();
        var perTask = new Dictionary<int, int>();
        foreach (var line in report.Split('\n'))
        {
            var m = FaultDone().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var task = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var n = perTask[task] = perTask.GetValueOrDefault(task) + 1;
            if (m.Groups[3].Value == "done")
            {
                faults[(task, n)] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }

        return faults;
    }

    /// <summary>The Perfetto file's fault spans, paired and measured by DuckDB: each B with the next E on its thread.</summary>
    private static Dictionary<(int Task, int N), long> FromPerfetto(string path)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            WITH doc AS (
                SELECT json_extract(json, '$.traceEvents')::JSON[] AS evs
                FROM read_json_objects('{path.Replace("'", "''", StringComparison.Ordinal)}', format = 'unstructured', maximum_object_size = 1000000000)),
            ev AS (
                SELECT i AS pos, evs[i] AS e FROM doc, range(1, len(evs) + 1) r(i)),
            spans AS (
                SELECT pos, e->>'ph' AS ph, (e->>'tid')::INTEGER AS tid, (e->>'ts')::DECIMAL(18, 3) AS ts, e->'args'->>'outcome' AS outcome
                FROM ev WHERE e->>'ph' IN ('B', 'E')),
            paired AS (
                SELECT ph, tid, ts AS begin_us,
                       lead(ts) OVER w AS end_us, lead(outcome) OVER w AS outcome,
                       row_number() OVER w AS k
                FROM spans WINDOW w AS (PARTITION BY tid ORDER BY pos))
            SELECT tid - {PerfettoTraceWriter.TaskTidBase} AS task,
                   ((k + 1) / 2)::INTEGER AS n,
                   ((end_us - begin_us) * 1000)::BIGINT AS latency_ns
            FROM paired WHERE ph = 'B' AND outcome = 'done'
            """;
        using var reader = command.ExecuteReader();
        var faults = new Dictionary<(int, int), long>();
        while (reader.Read())
        {
            faults[(reader.GetInt32(0), reader.GetInt32(1))] = reader.GetInt64(2);
        }

        return faults;
    }

    private static List<long> Sorted(IEnumerable<long> values) => [.. values.Order()];

    [GeneratedRegex(@"guest_fault_done: +vcpu \d+ task (\d+) gfn \S+ token \S+ latency_ns (\d+) (\w+)")]
    private static partial Regex FaultDone();
}
