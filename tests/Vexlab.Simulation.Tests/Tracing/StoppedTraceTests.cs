using System.Text;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// A stopped run's trace says it is partial in the trace itself, not only in the result's <c>complete: false</c>: one
/// <see cref="TraceKind.Stopped"/> mark, the last event of every buffer it could go on, and none in a whole run.
/// </summary>
public class StoppedTraceTests
{
    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void AStoppedRun_EndsWithOneStoppedMark_AWholeRunHasNone(string builtin, string protocol)
    {
        var (result, trace, _) = Stopped(builtin, protocol);
        Assert.True(result.StoppedEarly);
        var marks = trace.Records.Where(r => r.Kind == TraceKind.Stopped).ToList();
        var mark = Assert.Single(marks);
        Assert.Equal(result.SimulatedNs, mark.Value);
        Assert.StartsWith(KvmTracepoints.StoppedMark, mark.Label, StringComparison.Ordinal);

        // After every tracepoint in time and in the stream: no buffer of trace.dat goes back in time to hold it.
        var events = trace.Records.Where(r => TraceEventCatalog.For(r.Kind) is not null).ToList();
        Assert.Equal(TraceKind.Stopped, events[^1].Kind);
        Assert.All(events, r => Assert.True(r.TimeNs <= mark.TimeNs, $"{r.Kind} at {r.TimeNs} after the mark at {mark.TimeNs}"));

        var (whole, wholeTrace, _) = BuiltinTraces.Run(builtin, protocol);
        Assert.False(whole.StoppedEarly);
        Assert.DoesNotContain(wholeTrace.Records, r => r.Kind == TraceKind.Stopped);
    }

    [Fact]
    public void EveryFormat_CarriesTheMark()
    {
        var (result, trace, threads) = Stopped("far-memory", "kvm-pf");
        var json = Encoding.UTF8.GetString(PerfettoBuiltinTests.Write(trace, threads.Vcpus, threads.Workers));
        Assert.Contains($"\"name\":\"{KvmTracepoints.StoppedMark} at {result.SimulatedNs} ns", json, StringComparison.Ordinal);
        Assert.Contains("\"cat\":\"run\",\"s\":\"g\"", json, StringComparison.Ordinal);
        Assert.Contains($"\"args\":{{\"complete\":false,\"simulated_ns\":{result.SimulatedNs}}}", json, StringComparison.Ordinal);

        var text = BuiltinTraces.Text(trace.Records, threads).TrimEnd('\n').Split('\n');
        Assert.Contains($"tracing_mark_write: {KvmTracepoints.StoppedMark} at {result.SimulatedNs} ns", text[^1], StringComparison.Ordinal);
    }

    /// <summary>
    /// trace-cmd report merges the CPUs' buffers by timestamp, ties to the lower CPU, and the mark goes on CPU 0: a stop at
    /// the instant of another CPU's last event stamps the mark a nanosecond after it, or that event prints after the mark.
    /// </summary>
    [Fact]
    public void AStopAtTheInstantOfAnotherCpusLastEvent_StillPrintsTheMarkLast()
    {
        var sink = new RecordingSink();
        var threads = new TraceThreads(2, 1);
        var tracepoints = new KvmTracepoints(2, 4, threads, sink, readyByInterrupt: true);
        tracepoints.ExternalInterruptExit(1, 5_000, KvmTracepoints.LocalTimerExitInterruptionInfo);
        tracepoints.Stopped(5_000, 10_000);

        var text = BuiltinTraces.Text(sink.Records, threads).TrimEnd('\n').Split('\n');
        Assert.Contains($"tracing_mark_write: {KvmTracepoints.StoppedMark} at 5000 ns", text[^1], StringComparison.Ordinal);
        Assert.Equal(5_001, Assert.Single(sink.Records, r => r.Kind == TraceKind.Stopped).TimeNs);
    }

    /// <summary>A run of <paramref name="builtin"/> stopped by its token, as SIGINT stops one (looked at every 4,096 events).</summary>
    private static (Vexlab.Simulation.Driver.SimulationResult Result, RecordingSink Trace, TraceThreads Threads) Stopped(string builtin, string protocol)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var run = BuiltinRuns.Prepare(builtin, entry, 1.0, "duration=10s");
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var threads = new TraceThreads(run.Setup.Machine.Vcpus, new Model.Machine.Machine(run.Setup.Machine).WorkCapacity, pcpus: run.Setup.Pcpus);
        return (ScenarioRunner.Run(run, sink, stop: stop.Token), sink, threads);
    }
}
