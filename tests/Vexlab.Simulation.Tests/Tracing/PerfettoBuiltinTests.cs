using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>The Chrome trace of every built-in under every protocol is valid, and its fault spans pair up and measure the run's faults.</summary>
public class PerfettoBuiltinTests
{
    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void ChromeTrace_IsValid_FaultSpansPair_AndMeasureTheRunsFaults(string builtin, string protocol)
    {
        var (result, trace, threads) = BuiltinTraces.Run(builtin, protocol);
        var json = Write(trace, threads.Vcpus, threads.Workers);
        var report = ChromeTraceValidator.Check(json);
        Assert.Empty(report.Problems);

        // One span per fault the tracepoints saw begin; the ones that completed are the histogram's input, value for value, in order.
        var begins = trace.Records.Where(r => r.Kind == TraceKind.FaultBegin).ToList();
        Assert.Equal(begins.Count, report.Faults.Count);
        var done = report.Faults.Where(f => f.Outcome == "done").OrderBy(f => f.Id).ToList();
        Assert.Equal(result.FaultLatency.Count, done.Count);
        Assert.All(report.Faults, f => Assert.Equal(f.LatencyNs, f.EndNs - f.BeginNs));
        Assert.Equal(result.FaultLatency.Sum, (Int128)done.Sum(f => f.EndNs - f.BeginNs));
        Assert.All(report.Faults, f => Assert.NotEqual("0", f.Gfn));

        // Every fault starts a flow; every completed one ends it at the retried access.
        Assert.Equal(begins.Count, report.Flows);
        if (begins.Count > 0)
        {
            Assert.Contains(SimulatorCounter, report.CounterNames);
            Assert.Contains(PerfettoTraceWriter.OutstandingFaults, report.CounterNames);

            // Law: the counter's last value is the run's outstanding faults, begun and never ended, which are the
            // slices that close with the run (outcome "waiting"). Closing those once lowered it to 0 at the end.
            var ended = trace.Records.Where(r => r.Kind == TraceKind.FaultEnd).Select(r => r.Id).ToHashSet();
            var outstanding = begins.Count(b => !ended.Contains(b.Id));
            Assert.Equal(outstanding, report.Faults.Count(f => f.Outcome == "waiting"));
            Assert.Equal(outstanding, LastCounterValue(json, PerfettoTraceWriter.OutstandingFaults));
        }
    }

    internal static long LastCounterValue(byte[] json, string name)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "C" && e.GetProperty("name").GetString() == name)
            .Select(e => e.GetProperty("args").GetProperty("value").GetInt64())
            .Last();
    }

    /// <summary>Faults that wait on host I/O get steps through the worker; all others go straight from fault to retry.</summary>
    [Theory]
    [InlineData("postcopy", "kvm-pf-int")]
    [InlineData("postcopy", "kvm-halt")]
    [InlineData("postcopy", "sync")]
    [InlineData("postcopy", "ve")]
    public void FaultFlows_RunThroughTheWorkersIo(string builtin, string protocol)
    {
        var (_, trace, threads) = BuiltinTraces.Run(builtin, protocol);
        var json = Write(trace, threads.Vcpus, threads.Workers);
        var report = ChromeTraceValidator.Check(json);
        Assert.Empty(report.Problems);
        var steps = trace.Records.Where(r => r.Kind == TraceKind.FaultFlow).ToList();
        Assert.Contains(steps, s => s.Worker >= 0 && s.Label == "page in");
        Assert.True(report.FlowSteps > 0);
        if (protocol is "kvm-pf-int")
        {
            Assert.Contains(steps, s => s.Worker < 0 && s.Label is "page ready" or "wake task");
        }
    }

    private const string SimulatorCounter = Simulator.DeviceQueueDepth;

    internal static byte[] Write(RecordingSink trace, int vcpus, int workers)
    {
        var ms = new MemoryStream();
        using (var w = new PerfettoTraceWriter(ms, vcpus, workers, leaveOpen: true))
        {
            foreach (var r in trace.Records)
            {
                w.Write(r);
            }

            w.Complete(trace.EndNs);
        }

        return ms.ToArray();
    }
}
