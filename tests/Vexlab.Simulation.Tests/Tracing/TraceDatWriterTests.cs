using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

public class TraceDatWriterTests
{
    [TraceCmdFact]
    public void Fixture_TraceCmdReportPrintsTheTextFormat()
    {
        var (dat, text) = Both(TraceFixture.ApfEpisode(), new TraceThreads(2, 1));
        var report = Report(dat, "-N");
        Assert.Equal(text, report);
        Assert.Contains("kvm_async_pf_completed", report, StringComparison.Ordinal);
    }

    [TraceCmdFact]
    public void WithKvmPlugin_SameEventsAndTimes()
    {
        // Plain `trace-cmd report` loads libtraceevent's plugin_kvm, which prints kvm_exit and kvm_entry its own way;
        // the events, threads, CPUs and timestamps are the same.
        var (dat, text) = Both(TraceFixture.ApfEpisode(), new TraceThreads(2, 1));
        var plain = Report(dat).Split('\n');
        var ours = text.Split('\n');
        Assert.Equal(ours.Length, plain.Length);
        for (var i = 0; i < ours.Length; i++)
        {
            Assert.Equal(Head(ours[i]), Head(plain[i]));
        }

        // comm-pid [cpu] timestamp: event:
        static string Head(string line)
        {
            var colon = line.IndexOf(": ", Math.Min(line.Length, 30), StringComparison.Ordinal);
            var name = colon < 0 ? -1 : line.IndexOf(':', colon + 2);
            return name < 0 ? line : line[..name];
        }
    }

    [TraceCmdFact]
    public void Timestamps_RoundAndExtendLikeTheRingBuffer()
    {
        // Deltas past 2^27 ns need a TIME_EXTEND event; a full page starts a new one; rounding to us is to nearest.
        var threads = new TraceThreads(1, 0);
        var records = new List<TraceRecord>();
        long t = 0;
        for (var i = 0; i < 600; i++)
        {
            t += i % 7 == 0 ? 3_000_000_000L + 499 : 500 + i;
            records.Add(TraceRecord.Entry(t, 0, 0xffffffff81000000UL + (ulong)i));
        }

        var (dat, text) = Both(records, threads);
        Assert.True(new FileInfo(dat).Length > 3 * TraceDatWriter.PageSize);
        Assert.Equal(text, Report(dat, "-N"));
    }

    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [TraceCmdTheory]
    [MemberData(nameof(Runs))]
    public void EveryBuiltin_TraceCmdReportPrintsTheTextFormat(string builtin, string protocol)
    {
        var (_, trace, threads) = BuiltinTraces.Run(builtin, protocol);
        var (dat, text) = Both(trace.Records, threads);
        var report = Report(dat, "-N");
        Assert.True(text.Split('\n').Length > 5, "too few events to compare");
        Assert.Equal(text, report);
    }

    [TraceCmdFact]
    public void Violation_IsATraceMarkerWriteThatTraceCmdPrints()
    {
        // A replay's broken property goes in as trace_marker text does: ftrace's print event with tracing_mark_write's ip.
        var records = new List<TraceRecord>
        {
            TraceRecord.Exit(1_000, 0, ExitReason.EptViolation, 0xffffffff81000000),
            TraceRecord.At(7_000, TraceKind.Violation, 0) with { Label = "fault-info-intact", Value = 3, Id = 8 },
            TraceRecord.Entry(9_000, 0, 0xffffffff81000000),
        };
        var (dat, text) = Both(records, new TraceThreads(1, 1));
        var report = Report(dat, "-N");
        Assert.Equal(text, report);
        Assert.Contains("       CPU 0/KVM-4242  [000]     0.000007: print:                tracing_mark_write: violated: fault-info-intact (step 8)\n", report, StringComparison.Ordinal);

        // With its plugins (plain `trace-cmd report`, as KernelShark reads it) the marker prints the same.
        (dat, _) = Both(records, new TraceThreads(1, 1));
        Assert.Contains("print:                tracing_mark_write: violated: fault-info-intact (step 8)\n", Report(dat), StringComparison.Ordinal);
    }

    [TraceCmdTheory]
    [InlineData(95)]
    [InlineData(96)]
    [InlineData(300)]
    [InlineData(TraceEventCatalog.MaxMarkerText)]
    public void LongMarker_IsOneLongRingBufferEvent_ThatTraceCmdPrintsWhole(int length)
    {
        // A marker past a small event's 112 bytes is a type_len-0 event (ring_buffer.c, rb_update_event); it was
        // once cut to 95 characters. Events before and after it, one a time extend away, still read right.
        var label = string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + (i % 26))));
        var records = new List<TraceRecord>
        {
            TraceRecord.Exit(1_000, 0, ExitReason.EptViolation, 0xffffffff81000000),
            TraceRecord.At(7_000, TraceKind.Marker, 0) with { Label = label, Id = 3 },
            TraceRecord.Entry(9_000, 0, 0xffffffff81000000),
            TraceRecord.At(400_000_000, TraceKind.Marker, 0) with { Label = label, Id = 4 },
            TraceRecord.Entry(400_002_000, 0, 0xffffffff81000000),
        };
        var (dat, text) = Both(records, new TraceThreads(1, 1));
        var report = Report(dat, "-N");
        Assert.Equal(text, report);
        Assert.Equal(2, report.Split("tracing_mark_write: " + label + "\n").Length - 1);
        Assert.Contains("   0.400002: kvm_entry:", report, StringComparison.Ordinal);
    }

    [Fact]
    public void MarkerLongerThanAPageHolds_IsCutToIt()
    {
        var r = TraceRecord.At(7_000, TraceKind.Marker, 0) with { Label = new string('x', 5_000), Id = 3 };
        Assert.Equal(TraceEventCatalog.MaxMarkerText, KvmFormat.MarkerText(r).Length);
        var w = new TraceDatWriter(new MemoryStream(), new TraceThreads(1, 0));
        w.Write(r);
        Assert.Equal(1, w.EventsWritten);
    }

    [Fact]
    public void EarlierRecordOnACpu_IsRejected()
    {
        var w = new TraceDatWriter(new MemoryStream(), new TraceThreads(1, 0));
        w.Write(TraceRecord.Entry(2_000, 0, 1));
        Assert.Throws<InvalidOperationException>(() => w.Write(TraceRecord.Entry(1_000, 0, 1)));
    }

    [Fact]
    public void FormatFiles_HaveTheKernelLayout()
    {
        var exit = TraceEventCatalog.KvmExit.FormatText();
        Assert.StartsWith("name: kvm_exit\nID: 1501\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n", exit, StringComparison.Ordinal);
        Assert.Contains("\tfield:unsigned int vcpu_id;\toffset:56;\tsize:4;\tsigned:0;\n", exit, StringComparison.Ordinal);
        Assert.Equal(64, TraceEventCatalog.KvmExit.RecordSize);
        Assert.Equal(24, TraceEventCatalog.KvmEntry.RecordSize);
        Assert.Equal(16, TraceEventCatalog.KvmInjException.RecordSize);
        foreach (var f in TraceEventCatalog.All)
        {
            Assert.True(f.RecordSize <= 112, f.Name);
        }
    }

    internal static (string Dat, string Text) Both(IEnumerable<TraceRecord> records, TraceThreads threads)
    {
        var dat = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vexlab-" + Guid.NewGuid().ToString("n") + ".dat");
        var sw = new StringWriter();
        var text = new FtraceWriter(sw, threads);
        using (var fs = File.Create(dat))
        {
            var w = new TraceDatWriter(fs, threads);
            foreach (var r in records)
            {
                w.Write(r);
                text.Write(r);
            }

            w.Complete(0);
            text.Complete(0);
        }

        return (dat, sw.ToString());
    }

    internal static string Report(string dat, params string[] extra)
    {
        try
        {
            return TraceCmd.Report(dat, extra);
        }
        finally
        {
            File.Delete(dat);
        }
    }
}
