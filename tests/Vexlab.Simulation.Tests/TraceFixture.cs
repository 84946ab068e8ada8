using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests;

/// <summary>A small APF-like episode on two vCPUs and one host worker.</summary>
internal static class TraceFixture
{
    public const long EndNs = 200_000;

    public static IReadOnlyList<TraceRecord> ApfEpisode()
    {
        const ulong Gva = 0x7f001000;
        const ulong Gfn = 0x7f001;
        const uint Token = 0x1000;
        var list = new List<TraceRecord>
        {
            Split(0, 0, VcpuCategory.Guest),
            Split(0, 1, VcpuCategory.Idle),
            TraceRecord.Exit(10_000, 0, ExitReason.EptViolation, 0xffffffff81c0a5d0, info1: 0x181),
            Split(10_000, 0, VcpuCategory.Stalled),
            TraceRecord.At(10_100, TraceKind.KvmPageFault, 0) with { Rip = 0xffffffff81c0a5d0, Address = Gva, ErrorCode = 0x181 },
            TraceRecord.At(10_200, TraceKind.Slice, 0) with { DurationNs = 500, Label = "handle_ept_violation" },
            TraceRecord.At(10_300, TraceKind.KvmTryAsyncGetPage, 0) with { Gva = Gva, Gfn = Gfn },
            TraceRecord.At(10_400, TraceKind.KvmAsyncPfNotPresent, 0) with { Token = Token, Gva = Gva },
            TraceRecord.At(10_400, TraceKind.FaultBegin, 0) with { Gfn = Gfn, Gva = Gva, Id = 1, StepNs = 10_400 },
            TraceRecord.At(10_500, TraceKind.KvmInjException, 0) with { Vector = 14, ErrorCode = 0, HasErrorCode = true },
            TraceRecord.Entry(11_000, 0, 0xffffffff81c0a5d0),
            Split(11_000, 0, VcpuCategory.Guest),
            TraceRecord.At(11_500, TraceKind.HostWork) with { Worker = 0, Token = Token, DurationNs = 80_000 },
            TraceRecord.At(91_500, TraceKind.KvmAsyncPfCompleted) with { Worker = 0, Gva = Gva, Address = 0x7f55c0001000 },
            TraceRecord.At(91_500, TraceKind.FaultFlow) with { Worker = 0, Id = 1, Gfn = Gfn, Label = "page in" },
            TraceRecord.At(91_600, TraceKind.KvmAsyncPfReady, 0) with { Token = Token, Gva = Gva },
            TraceRecord.At(91_700, TraceKind.KvmApicAcceptIrq, 0) with { Vector = 0xec },
            TraceRecord.At(91_800, TraceKind.KvmInjVirq, 0) with { Vector = 0xec },
            TraceRecord.At(92_000, TraceKind.FaultEnd, 0) with { Token = Token, Gfn = Gfn, Id = 1, DurationNs = 81_600, StepNs = 92_000 },
            TraceRecord.Exit(95_000, 1, ExitReason.Hlt, 0xffffffff81000000),
            Split(95_000, 1, VcpuCategory.Halted),
            TraceRecord.At(96_000, TraceKind.VeDelivered, 1) with { Gva = Gva + 0x1000, Gfn = Gfn + 1, Token = 0x2 },
            TraceRecord.At(97_000, TraceKind.VeResolveEpt, 1) with { Gfn = Gfn + 1, Token = 0x2 },
            TraceRecord.At(150_000, TraceKind.VeWakeup, 1) with { Token = 0x2, Task = 7 },
            TraceRecord.At(150_000, TraceKind.Counter) with { Label = "runnable_tasks", Value = 3 },
            TraceRecord.At(150_000, TraceKind.Instant, 1) with { Label = "task 7 runnable" },
            Split(150_000, 1, VcpuCategory.Guest),
        };
        return list;
    }

    /// <summary>vCPU <paramref name="vcpu"/>'s time counts in <paramref name="category"/> from <paramref name="timeNs"/> (vcpu_ns' own split).</summary>
    public static TraceRecord Split(long timeNs, int vcpu, VcpuCategory category) =>
        TraceRecord.At(timeNs, TraceKind.VcpuTime, vcpu) with { Value = (long)category };
}
