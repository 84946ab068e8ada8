using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests;

public class PerfettoTraceWriterTests
{
    [Fact]
    public void Output_IsValidChromeTraceJson()
    {
        var json = Write(TraceFixture.ApfEpisode());
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("ns", doc.RootElement.GetProperty("displayTimeUnit").GetString());
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        Assert.NotEmpty(events);
        foreach (var e in events)
        {
            var ph = e.GetProperty("ph").GetString();
            Assert.Contains(ph, new[] { "M", "X", "B", "E", "C", "i" });
            Assert.True(e.TryGetProperty("name", out _));
            Assert.True(e.TryGetProperty("pid", out _));
            if (ph != "M")
            {
                Assert.True(e.TryGetProperty("ts", out _));
            }
        }

        var threadNames = events.Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name")
            .Select(e => e.GetProperty("args").GetProperty("name").GetString()).ToList();
        Assert.Contains("vCPU 0", threadNames);
        Assert.Contains("vCPU 1", threadNames);
        Assert.Contains("async_pf worker 0", threadNames);
    }

    [Fact]
    public void Timestamps_AreMicrosecondsWithThreeDecimals()
    {
        var json = Write(TraceFixture.ApfEpisode());
        var stamps = Regex.Matches(json, "\"(ts|dur)\":([^,}]+)");
        Assert.NotEmpty(stamps);
        foreach (Match m in stamps)
        {
            Assert.Matches(@"^\d+\.\d{3}$", m.Groups[2].Value);
        }

        Assert.Contains("\"ts\":10.400", json, StringComparison.Ordinal);
    }

    [Fact]
    public void CompleteSlices_NestPerTrack()
    {
        var json = Write(TraceFixture.ApfEpisode());
        var violations = SliceNestingChecker.Check(json);
        Assert.Empty(violations);

        // The vCPU state slices tile each vCPU track from 0 to the end.
        using var doc = JsonDocument.Parse(json);
        var vcpu0 = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("cat").GetString() == "vcpu" && e.GetProperty("tid").GetInt32() == 0)
            .Select(e => (e.GetProperty("name").GetString(), SliceNestingChecker.Ns(e.GetProperty("ts")), SliceNestingChecker.Ns(e.GetProperty("dur"))))
            .ToList();
        Assert.Equal(new (string?, long, long)[]
        {
            ("guest", 0, 10_000), ("stalled in host", 10_000, 1_000), ("guest", 11_000, TraceFixture.EndNs - 11_000),
        }, vcpu0);
    }

    [Fact]
    public void StateSlices_AreTheVcpuTimeSplit_NotTheStateRecordsOrTheExits()
    {
        // The slices follow TraceKind.VcpuTime alone: a state record or an exit that disagrees with it draws nothing.
        // Deriving them from the state records and the exits filed a woken idle vCPU's injection and MSR write exits
        // under "idle", while vcpu_ns counts them as host_exit.
        var records = new List<TraceRecord>
        {
            TraceFixture.Split(0, 0, VcpuCategory.Guest),
            TraceRecord.StateChange(0, 0, VcpuState.Guest),
            TraceRecord.Exit(1_000, 0, ExitReason.Hlt, 0),
            TraceFixture.Split(1_000, 0, VcpuCategory.Idle),
            TraceRecord.StateChange(1_000, 0, VcpuState.Idle),
            TraceFixture.Split(2_000, 0, VcpuCategory.HostExit),
            TraceRecord.Entry(2_500, 0, 0),
            TraceRecord.Exit(2_800, 0, ExitReason.MsrWrite, 0),
            TraceRecord.Entry(3_000, 0, 0),
            TraceFixture.Split(3_000, 0, VcpuCategory.Idle),
            TraceFixture.Split(3_500, 0, VcpuCategory.Steal),
            TraceFixture.Split(4_000, 0, VcpuCategory.Stalled),
            TraceFixture.Split(4_200, 0, VcpuCategory.Halted),
            TraceFixture.Split(4_500, 0, VcpuCategory.Guest),
        };
        Assert.Equal(
            [("guest", 0L, 1_000L), ("idle", 1_000, 1_000), ("in host", 2_000, 1_000), ("idle", 3_000, 500),
             ("waiting for pcpu", 3_500, 500), ("stalled in host", 4_000, 200), ("halted in host", 4_200, 300), ("guest", 4_500, 500)],
            StateSlices(Write(records, vcpus: 1, end: 5_000), 0));
    }

    [Fact]
    public void StateSlices_SumToTheSplitsOwnCounts()
    {
        // Law, on the split itself: whatever exits, entries and moves it is told, the slices of each name sum to the ns it counts.
        var ms = new MemoryStream();
        VcpuTime time;
        using (var w = new PerfettoTraceWriter(ms, vcpus: 1, leaveOpen: true))
        {
            time = new VcpuTime(1, w);
            time.Start(0, VcpuCategory.Guest, halted: false);
            time.ExitAt(0, 1_000);
            time.EntryAt(0, 1_500);
            time.Move(0, VcpuCategory.Idle, 1_200, halted: false);
            time.Move(0, VcpuCategory.Idle, 2_000, halted: true);
            time.ExitAt(0, 2_100);
            time.Move(0, VcpuCategory.Idle, 3_000, halted: false);
            time.EntryAt(0, 3_400);
            time.ExitAt(0, 3_900);
            time.Move(0, VcpuCategory.Guest, 3_600, halted: false);
            time.Move(0, VcpuCategory.Steal, 5_000, halted: false);
            time.Close(6_000);
            w.Complete(6_000);
        }

        var slices = StateSlices(Encoding.UTF8.GetString(ms.ToArray()), 0);
        Assert.Equal(6_000, slices.Sum(s => s.Dur));
        string[] names = ["guest", "stalled in host", "halted in host", "idle", "waiting for pcpu", "in host"];
        Assert.All(Enum.GetValues<VcpuCategory>(), c => Assert.Equal(time.Ns(0, c), slices.Where(s => s.Name == names[(int)c]).Sum(s => s.Dur)));
        Assert.True(time.Ns(0, VcpuCategory.HostExit) > 0);
    }

    [Fact]
    public void AnExitAndEntryAtOneInstant_LeaveOneGuestSlice()
    {
        // An NMI exit handled at once (kvm_exit, then kvm_entry at the same ns) splits nothing.
        var records = new List<TraceRecord>
        {
            TraceFixture.Split(0, 0, VcpuCategory.Guest),
            TraceRecord.Exit(1_000, 0, ExitReason.ExceptionNmi, 0),
            TraceFixture.Split(1_000, 0, VcpuCategory.HostExit),
            TraceRecord.Entry(1_000, 0, 0),
            TraceFixture.Split(1_000, 0, VcpuCategory.Guest),
        };
        Assert.Equal([("guest", 0L, 5_000L)], StateSlices(Write(records, vcpus: 1, end: 5_000), 0));
    }

    [Fact]
    public void Checker_FindsOverlappingSlices()
    {
        const string Bad = """
            {"traceEvents":[
            {"ph":"X","name":"a","pid":1,"tid":0,"ts":0.000,"dur":10.000},
            {"ph":"X","name":"b","pid":1,"tid":0,"ts":5.000,"dur":10.000},
            {"ph":"X","name":"c","pid":1,"tid":1,"ts":5.000,"dur":10.000}
            ]}
            """;
        var violations = SliceNestingChecker.Check(Bad);
        Assert.Single(violations);
    }

    [Fact]
    public void FaultSpans_PairOnTheTaskTrack_WithAFlowThroughTheWorker_AndTheCounterFollowsThem()
    {
        var json = Write(TraceFixture.ApfEpisode());
        var report = Tracing.ChromeTraceValidator.Check(Encoding.UTF8.GetBytes(json));
        Assert.Empty(report.Problems);
        var span = Assert.Single(report.Faults);
        Assert.Equal((PerfettoTraceWriter.TaskTidBase, 10_400L, 92_000L, "done", 81_600L, "0x7f001"), (span.Tid, span.BeginNs, span.EndNs, span.Outcome, span.LatencyNs, span.Gfn));
        Assert.Equal(1, report.Flows);
        Assert.Equal(1, report.FlowSteps);

        using var doc = JsonDocument.Parse(json);
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        var counter = events.Where(e => e.GetProperty("ph").GetString() == "C" && e.GetProperty("name").GetString() == "outstanding_faults")
            .Select(e => e.GetProperty("args").GetProperty("value").GetInt64()).ToList();
        Assert.Equal(new long[] { 1, 0 }, counter);
        Assert.Contains(events, e => e.GetProperty("ph").GetString() == "i" && e.GetProperty("name").GetString() == "inject #PF");
    }

    [Fact]
    public void FaultStillWaitingAtTheEnd_ClosesWithTheRun()
    {
        var records = new List<TraceRecord>
        {
            TraceFixture.Split(0, 0, VcpuCategory.Guest),
            TraceRecord.At(1_000, TraceKind.FaultBegin, 0) with { Task = 3, Gfn = 0x42, Id = 1, StepNs = 1_000 },
        };
        var json = Encoding.UTF8.GetBytes(Write(records, end: 5_000));
        var report = Tracing.ChromeTraceValidator.Check(json);
        Assert.Empty(report.Problems);
        var span = Assert.Single(report.Faults);
        Assert.Equal(("waiting", 1_000L, 5_000L), (span.Outcome, span.BeginNs, span.EndNs));

        // The slice ends with the trace, the fault does not: it stays in outstanding_faults.
        Assert.Equal(1, Tracing.PerfettoBuiltinTests.LastCounterValue(json, PerfettoTraceWriter.OutstandingFaults));
    }

    [Fact]
    public void Violation_IsAGlobalInstantAtItsStep()
    {
        var records = new List<TraceRecord>
        {
            TraceFixture.Split(0, 0, VcpuCategory.Guest),
            TraceRecord.At(7_000, TraceKind.Violation, 0) with { Label = "no-lost-wakeup", Value = 1, Id = 5 },
        };
        var report = Tracing.ChromeTraceValidator.Check(Encoding.UTF8.GetBytes(Write(records, end: 9_000)));
        Assert.Empty(report.Problems);
        Assert.Equal(("violated: no-lost-wakeup (step 5)", 7_000L), Assert.Single(report.GlobalInstants));
    }

    [Fact]
    public void OnlyThreadsWithEventsAreNamed()
    {
        // Four workers declared, one used: the other three get no track.
        using var ms = new MemoryStream();
        using (var w = new PerfettoTraceWriter(ms, vcpus: 2, workers: 4, leaveOpen: true))
        {
            foreach (var r in TraceFixture.ApfEpisode())
            {
                w.Write(r);
            }

            w.Complete(TraceFixture.EndNs);
        }

        using var doc = JsonDocument.Parse(ms.ToArray());
        var names = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name")
            .Select(e => e.GetProperty("args").GetProperty("name").GetString()).ToList();
        Assert.Equal(["async_pf worker 0", "task 0", "vCPU 0", "vCPU 1"], names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Output_IsDeterministic()
    {
        Assert.Equal(Write(TraceFixture.ApfEpisode()), Write(TraceFixture.ApfEpisode()));
    }

    [Fact]
    public void LargeTrace_StreamsAndStaysValid()
    {
        var records = new List<TraceRecord>();
        for (var i = 0; i < 20_000; i++)
        {
            records.Add(TraceFixture.Split(i * 1_000L, i % 4, (VcpuCategory)(i % 3)));
            records.Add(TraceRecord.At((i * 1_000L) + 1, TraceKind.FaultBegin, i % 4) with { Id = i + 1, Task = i % 4, StepNs = (i * 1_000L) + 1 });
            records.Add(TraceRecord.At((i * 1_000L) + 500, TraceKind.FaultEnd, i % 4) with { Id = i + 1, Task = i % 4, StepNs = (i * 1_000L) + 500, DurationNs = 499 });
        }

        var json = Write(records, vcpus: 4, end: 20_000_000);
        using var doc = JsonDocument.Parse(json);
        Assert.True(doc.RootElement.GetProperty("traceEvents").GetArrayLength() > 60_000);
        Assert.Empty(SliceNestingChecker.Check(json));
    }

    private static List<(string? Name, long Ts, long Dur)> StateSlices(string json, int vcpu)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("cat").GetString() == "vcpu" && e.GetProperty("tid").GetInt32() == vcpu)
            .Select(e => (e.GetProperty("name").GetString(), SliceNestingChecker.Ns(e.GetProperty("ts")), SliceNestingChecker.Ns(e.GetProperty("dur"))))
            .OrderBy(s => s.Item2)];
    }

    // The instances of a task with a count share its name in the model; their tracks once all read "app".
    [Theory]
    [InlineData("swapper/0 swapper/1 app app io", "swapper/0 swapper/1 app/0 app/1 io")]
    [InlineData("a b a c a", "a/0 b a/1 c a/2")]
    [InlineData("mem cpu", "mem cpu")]
    public void TaskInstances_AreNamedApart_AsTheIdleTasksAre(string names, string expected)
    {
        Assert.Equal(expected.Split(' '), PerfettoTraceWriter.InstanceNames(names.Split(' ')));
    }

    [Fact]
    public void PostcopysTaskTracks_HaveOneNameEach()
    {
        var run = Driver.BuiltinRuns.Prepare("postcopy", Vexlab.Scenarios.Documents.Overrides.ParseProtocols("kvm-pf-int")[0], 1.0, "duration=2ms");
        var sink = new Tracing.RecordingSink();
        Vexlab.Simulation.Scenarios.ScenarioRunner.Run(run, sink);
        var machine = new Vexlab.Model.Machine.Machine(run.Setup.Machine);
        using var ms = new MemoryStream();
        using (var w = new PerfettoTraceWriter(ms, run.Setup.Machine.Vcpus, machine.WorkCapacity, leaveOpen: true, taskNames: [.. Enumerable.Range(0, machine.TaskCount).Select(machine.TaskName)]))
        {
            foreach (var r in sink.Records)
            {
                w.Write(r);
            }

            w.Complete(sink.EndNs);
        }

        using var doc = JsonDocument.Parse(ms.ToArray());
        var tracks = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name"
                && e.GetProperty("pid").GetInt32() == PerfettoTraceWriter.GuestPid && e.GetProperty("tid").GetInt32() >= PerfettoTraceWriter.TaskTidBase)
            .Select(e => e.GetProperty("args").GetProperty("name").GetString()!)
            .ToList();
        Assert.Equal(["app/0", "app/1", "app/2", "app/3", "io/0", "io/1", "io/2", "io/3"], tracks.Order(StringComparer.Ordinal));
    }

    private static string Write(IEnumerable<TraceRecord> records, int vcpus = 2, long end = TraceFixture.EndNs)
    {
        using var ms = new MemoryStream();
        using (var w = new PerfettoTraceWriter(ms, vcpus, workers: 1, leaveOpen: true))
        {
            foreach (var r in records)
            {
                w.Write(r);
            }

            w.Complete(end);
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }
}

/// <summary>
/// Verifies that complete ("X") slices nest on every (pid, tid) track: any two slices are either disjoint
/// or one contains the other. Returns one message per violation.
/// </summary>
internal static class SliceNestingChecker
{
    public static List<string> Check(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var tracks = new Dictionary<(int Pid, int Tid), List<(long Start, long End, string Name)>>();
        foreach (var e in doc.RootElement.GetProperty("traceEvents").EnumerateArray())
        {
            if (e.GetProperty("ph").GetString() != "X")
            {
                continue;
            }

            var key = (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32());
            var start = Ns(e.GetProperty("ts"));
            var end = start + Ns(e.GetProperty("dur"));
            if (!tracks.TryGetValue(key, out var list))
            {
                tracks[key] = list = [];
            }

            list.Add((start, end, e.GetProperty("name").GetString() ?? ""));
        }

        var violations = new List<string>();
        foreach (var (key, slices) in tracks)
        {
            // Outer slices first: by start, then longest first.
            slices.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.End.CompareTo(a.End));
            var stack = new Stack<(long Start, long End, string Name)>();
            foreach (var s in slices)
            {
                while (stack.Count > 0 && stack.Peek().End <= s.Start)
                {
                    stack.Pop();
                }

                if (stack.Count > 0 && s.End > stack.Peek().End)
                {
                    violations.Add(string.Create(CultureInfo.InvariantCulture,
                        $"track {key}: '{s.Name}' [{s.Start},{s.End}) overlaps '{stack.Peek().Name}' [{stack.Peek().Start},{stack.Peek().End})"));
                    continue;
                }

                stack.Push(s);
            }
        }

        return violations;
    }

    public static long Ns(JsonElement microseconds) => (long)(microseconds.GetDecimal() * 1000m);
}
