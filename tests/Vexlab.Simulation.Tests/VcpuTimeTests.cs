using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests;

public class VcpuTimeTests
{
    /// <summary>
    /// An exit is stamped inside the step that takes it, after the step's start where the category changes: the
    /// split applies the stamps in time order, and a stall inside the exit stays a stall.
    /// </summary>
    [Fact]
    public void ExitStampedAfterTheStepStart_CountsFromItsStamp()
    {
        var sink = new RecordingSink();
        var t = new VcpuTime(1, sink);
        t.Start(0, VcpuCategory.Guest, halted: false);
        t.ExitAt(0, 150);                                          // the step at 100 exits 50 ns in
        Assert.False(t.Move(0, VcpuCategory.Guest, 100, false));
        Assert.True(t.Move(0, VcpuCategory.Stalled, 200, false));  // the handler blocks on the page
        t.EntryAt(0, 500);                                         // the re-entry's step at 400 enters 100 ns in
        Assert.True(t.Move(0, VcpuCategory.Guest, 400, false));
        t.Close(600);

        Assert.Equal(150 + 100, t.Ns(0, VcpuCategory.Guest));
        Assert.Equal(50 + 100, t.Ns(0, VcpuCategory.HostExit));
        Assert.Equal(200, t.Ns(0, VcpuCategory.Stalled));
        Assert.Equal(VcpuCategory.Guest, t.Current(0));

        // The timeline's records: each change of the counted category, in time order.
        var changes = sink.Records.Where(r => r.Kind == TraceKind.VcpuTime).Select(r => (r.TimeNs, (VcpuCategory)r.Value)).ToList();
        Assert.Equal(
            [(0L, VcpuCategory.Guest), (150L, VcpuCategory.HostExit), (200L, VcpuCategory.Stalled), (400L, VcpuCategory.HostExit), (500L, VcpuCategory.Guest)],
            changes);
    }

    /// <summary>An idle vCPU halted in a HLT exit is idle; once woken, until it enters, the host handles its exit.</summary>
    [Fact]
    public void HaltedInAHltExit_IsIdle_TheWakeupIsExitHandling()
    {
        var t = new VcpuTime(1);
        t.Start(0, VcpuCategory.Idle, halted: false);
        t.ExitAt(0, 10);
        Assert.False(t.Move(0, VcpuCategory.Idle, 10, true));
        Assert.False(t.Move(0, VcpuCategory.Idle, 1_000, false));  // woken: InHost with the idle task current
        t.EntryAt(0, 1_300);
        t.Close(2_000);

        Assert.Equal(10 + 990 + 700, t.Ns(0, VcpuCategory.Idle));
        Assert.Equal(300, t.Ns(0, VcpuCategory.HostExit));
        Assert.Equal(300, t.IdleTaskExitTotal());
    }
}
