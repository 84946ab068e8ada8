using System.Text.Json;
using Vexlab.Simulation.Observation;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// Laws tying the Chrome trace's vCPU state slices to the run's own numbers: each state's slices sum to its part of
/// vcpu_ns on every vCPU, and no slice says the guest (or its idle task) runs while the vCPU is in the host handling
/// an exit. Deriving the slices apart from vcpu_ns once filed a woken idle vCPU's injection and MSR write exits (about
/// 2.5 us a wakeup) under "idle": 510,000 ns of swap-overcommit's 20 ms on two vCPUs.
/// </summary>
public class PerfettoStateLawTests
{
    /// <summary>The slice name of each <see cref="VcpuCategory"/>, in its order.</summary>
    private static readonly string[] Names = ["guest", "stalled in host", "halted in host", "idle", "waiting for pcpu", "in host"];

    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void StateSlices_AreVcpuNs_AndNoneSaysGuestCodeRunsInsideAnExit(string builtin, string protocol) =>
        Check(builtin, protocol, BuiltinTraces.Duration);

    /// <summary>
    /// The same laws over longer runs where vCPUs wake one another (two vCPUs), wait for a shared pCPU (steal inside
    /// exits), or take a page-ready interrupt while idle: each case was off by 1 us to 1.3 ms when the slices were
    /// derived apart from vcpu_ns.
    /// </summary>
    [Theory]
    [InlineData("swap-overcommit", "kvm-pf-int", "duration=10ms guest.vcpus=2")]
    [InlineData("swap-overcommit", "kvm-pf-int", "duration=20ms guest.vcpus=2 host.pcpus=1")]
    [InlineData("dax-truncate", "kvm-pf-int", "duration=30ms")]
    [InlineData("dax-truncate", "kvm-halt", "duration=30ms")]
    [InlineData("far-memory", "kvm-pf", "duration=10ms host.pcpus=1")]
    public void StateSlices_AreVcpuNs_OverLongerRuns(string builtin, string protocol, string sets) =>
        Check(builtin, protocol, sets.Split(' '));

    private static void Check(string builtin, string protocol, params string[] sets)
    {
        var (result, trace, threads) = BuiltinTraces.Run(builtin, protocol, sets);
        var slices = StateSlices(PerfettoBuiltinTests.Write(trace, threads.Vcpus, threads.Workers));
        var time = result.Tracepoints!.Time!;

        // Per vCPU, each state's slices sum to the ns vcpu_ns counts for it; over the vCPUs, to the result's vcpu_ns.
        for (var v = 0; v < threads.Vcpus; v++)
        {
            foreach (var c in Enum.GetValues<VcpuCategory>())
            {
                var shown = slices.Where(s => s.Vcpu == v && s.Name == Names[(int)c]).Sum(s => s.End - s.Start);
                Assert.True(time.Ns(v, c) == shown, $"vCPU {v} {Names[(int)c]}: slices {shown} ns, vcpu_ns {time.Ns(v, c)} ns");
            }
        }

        long Total(VcpuCategory c) => slices.Where(s => s.Name == Names[(int)c]).Sum(s => s.End - s.Start);
        Assert.Equal(result.VcpuGuestNs, Total(VcpuCategory.Guest));
        Assert.Equal(result.VcpuHostExitNs, Total(VcpuCategory.HostExit));
        Assert.Equal(result.VcpuStalledNs, Total(VcpuCategory.Stalled));
        Assert.Equal(result.VcpuHaltedNs, Total(VcpuCategory.Halted));
        Assert.Equal(result.VcpuIdleNs, Total(VcpuCategory.Idle));
        Assert.Equal(result.VcpuStealNs, Total(VcpuCategory.Steal));

        // From a kvm_exit to the vCPU's next kvm_entry no guest code runs: no "guest" slice overlaps that span, and no
        // "idle" one does except under a HLT exit, whose wait vcpu_ns counts as idle (the guest's HLT, halted in the host).
        // On shared pCPUs a tracepoint's stamp moves up to its pCPU buffer's last (KvmTracepoints.Emit) while vcpu_ns
        // keeps the model's stamps, so there an entry may lie up to the other vCPU's step later than the split says.
        if (threads.Shared)
        {
            return;
        }

        foreach (var (v, from, to, reason) in ExitSpans(trace, threads.Vcpus))
        {
            var overlapping = slices.Where(s => s.Vcpu == v && s.Start < to && from < s.End
                && (s.Name == "guest" || (s.Name == "idle" && reason != Metrics.ExitReason.Hlt))).ToList();
            Assert.True(overlapping.Count == 0,
                $"vCPU {v}: exit {reason} [{from}, {to}) under '{overlapping.FirstOrDefault().Name}' [{overlapping.FirstOrDefault().Start}, {overlapping.FirstOrDefault().End})");
        }
    }

    /// <summary>Each vCPU's exits, from kvm_exit to its next kvm_entry (or the run's end).</summary>
    private static IEnumerable<(int Vcpu, long From, long To, Metrics.ExitReason Reason)> ExitSpans(RecordingSink trace, int vcpus)
    {
        var open = new (long At, Metrics.ExitReason Reason)?[vcpus];
        foreach (var r in trace.Records)
        {
            if (r.Kind == TraceKind.KvmExit && r.Vcpu >= 0)
            {
                open[r.Vcpu] = (r.TimeNs, r.ExitReason);
            }
            else if (r.Kind == TraceKind.KvmEntry && r.Vcpu >= 0 && open[r.Vcpu] is { } exit)
            {
                open[r.Vcpu] = null;
                yield return (r.Vcpu, exit.At, r.TimeNs, exit.Reason);
            }
        }

        for (var v = 0; v < vcpus; v++)
        {
            if (open[v] is { } exit)
            {
                yield return (v, exit.At, trace.EndNs, exit.Reason);
            }
        }
    }

    private static List<(int Vcpu, string Name, long Start, long End)> StateSlices(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("cat").GetString() == "vcpu")
            .Select(e =>
            {
                var start = SliceNestingChecker.Ns(e.GetProperty("ts"));
                return (e.GetProperty("tid").GetInt32(), e.GetProperty("name").GetString() ?? "", start, start + SliceNestingChecker.Ns(e.GetProperty("dur")));
            })];
    }
}
