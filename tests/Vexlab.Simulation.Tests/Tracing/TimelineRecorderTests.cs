using Vexlab.Model.Machine;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// Laws of <c>run --timeline</c>'s time series: the intervals tile the run, each vCPU's state columns fill each
/// interval, and summed over the intervals every column gives the run's own total (vcpu_ns, fault_latency_ns's
/// count, each task group's work); the device queue is conserved from interval to interval.
/// </summary>
public class TimelineRecorderTests
{
    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void SumsOverIntervals_EqualTheRunsTotals(string builtin, string protocol) => CheckSums(builtin, protocol, BuiltinTraces.Duration);

    /// <summary>
    /// With fewer pCPUs than vCPUs (host.pcpus) a vCPU also waits for a pCPU: its steal time has
    /// its own column. It had none, and was added to the next column: the next vCPU's guest time,
    /// or for the last vCPU the first task group's work (postcopy on 4 vCPUs and 2 pCPUs counted
    /// nanoseconds of steal as passes of work_app).
    /// </summary>
    [Theory]
    [InlineData("postcopy", "kvm-pf-int", 2)]
    [InlineData("far-memory", "sync", 1)]
    [InlineData("kernel-heavy", "ve", 1)]
    public void WithFewerPcpus_StealHasItsColumn(string builtin, string protocol, int pcpus) =>
        CheckSums(builtin, protocol, BuiltinTraces.Duration, $"host.pcpus={pcpus}");

    private static void CheckSums(string builtin, string protocol, params string[] sets)
    {
        const long Interval = 250_000;
        var run = BuiltinRuns.Prepare(builtin, Overrides.ParseProtocols(protocol)[0], 1.0, sets);
        var timeline = TimelineRecorder.For(run.Setup, Interval);
        var trace = new RecordingSink();
        var result = ScenarioRunner.Run(run, new TraceFanout(timeline, trace));
        var rows = timeline.Rows;
        var col = timeline.Columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var vcpus = run.Setup.Machine.Vcpus;
        var capacity = new Machine(run.Setup.Machine).WorkCapacity;

        // The intervals tile [0, simulated end).
        Assert.Equal((result.SimulatedNs + Interval - 1) / Interval, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(i * Interval, rows[i][col["start_ns"]]);
            Assert.Equal(i == rows.Count - 1 ? result.SimulatedNs : (i + 1) * Interval, rows[i][col["end_ns"]]);
        }

        // Each vCPU is in exactly one state at every instant of every interval.
        foreach (var row in rows)
        {
            for (var v = 0; v < vcpus; v++)
            {
                var sum = row[col[$"vcpu{v}_guest_ns"]] + row[col[$"vcpu{v}_stalled_ns"]] + row[col[$"vcpu{v}_halted_ns"]] + row[col[$"vcpu{v}_idle_ns"]] + row[col[$"vcpu{v}_steal_ns"]] + row[col[$"vcpu{v}_exit_ns"]];
                Assert.Equal(row[col["end_ns"]] - row[col["start_ns"]], sum);
            }
        }

        long Total(string suffix) => rows.Sum(r => Enumerable.Range(0, vcpus).Sum(v => r[col[$"vcpu{v}_{suffix}_ns"]]));
        Assert.Equal(result.VcpuGuestNs, Total("guest"));
        Assert.Equal(result.VcpuStalledNs, Total("stalled"));
        Assert.Equal(result.VcpuHaltedNs, Total("halted"));
        Assert.Equal(result.VcpuIdleNs, Total("idle"));
        Assert.Equal(result.VcpuStealNs, Total("steal"));
        Assert.Equal(result.VcpuHostExitNs, Total("exit"));

        Assert.Equal(result.FaultLatency.Count, rows.Sum(r => r[col["faults_completed"]]));

        // Every fault starts, the trace's fault slices, those that end in a fixup or a signal too.
        Assert.Equal(trace.Records.Count(r => r.Kind == TraceKind.FaultBegin), rows.Sum(r => r[col["faults_started"]]));
        foreach (var task in result.Tasks)
        {
            Assert.Equal(task.WorkDone, rows.Sum(r => r[col["work_" + task.Name]]));
        }

        // Outstanding faults and the device queue are levels: each interval's is the last one's plus what came in
        // less what left, never negative, the queue never past the host's work slots.
        long depth = 0;
        long started = 0;
        long completed = 0;
        foreach (var row in rows)
        {
            depth += row[col["io_started"]] - row[col["io_completed"]];
            Assert.Equal(depth, row[col["queue_depth"]]);
            Assert.InRange(row[col["queue_depth"]], 0, row[col["queue_depth_max"]]);
            Assert.InRange(row[col["queue_depth_max"]], 0, capacity);
            started += row[col["faults_started"]];
            completed += row[col["faults_completed"]];
            Assert.InRange(row[col["faults_outstanding"]], 0, started - completed);
        }
    }

    [Fact]
    public void TheInterval_ChangesTheRowsNotTheTotals()
    {
        var run = BuiltinRuns.Prepare("postcopy", Overrides.ParseProtocols("kvm-pf-int")[0], 1.0, "duration=5ms");
        var fine = TimelineRecorder.For(run.Setup, 100_000);
        var coarse = TimelineRecorder.For(run.Setup, 1_000_000);
        ScenarioRunner.Run(run, new TraceFanout(fine, coarse));
        Assert.Equal(50, fine.Rows.Count);
        Assert.Equal(5, coarse.Rows.Count);
        for (var c = 2; c < fine.Columns.Count; c++)
        {
            if (fine.Columns[c] is "faults_outstanding" or "queue_depth" or "queue_depth_max")
            {
                Assert.Equal(fine.Rows[^1][c], coarse.Rows[^1][c]);
                continue;
            }

            Assert.Equal(coarse.Rows.Sum(r => r[c]), fine.Rows.Sum(r => r[c]));
        }

        // A coarse interval is the sum of the ten fine ones inside it.
        var work = fine.Columns.ToList().IndexOf("faults_started");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(coarse.Rows[i][work], fine.Rows.Skip(i * 10).Take(10).Sum(r => r[work]));
        }
    }
}
