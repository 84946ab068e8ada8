using Xunit.Abstractions;
using Vexlab.Simulation.Tests.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// vcpu_ns' host_exit: time a vCPU spends in the host handling an exit (the model's InHost) counts there, not as
/// the guest (or idle) time of the task it runs; perf kvm stat counts it as exit time, kvm_exit to kvm_entry.
/// </summary>
public sealed class HostExitLawTests(ITestOutputHelper output)
{
    /// <summary>One vCPU, one task, no page absent and no tick: under sync nothing exits.</summary>
    private const string NoExits = """
        name: no-exits
        duration: 5ms
        regions:
          - name: heap
            size: 64KiB
        tasks:
          - name: t
            loop: touch heap sequential 4; compute 30
        """;

    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void Categories_SumToVcpusTimesSimulatedTime(string builtin, string protocol)
    {
        var (r, _, threads) = BuiltinTraces.Run(builtin, protocol, "duration=5ms");
        Assert.Equal(r.SimulatedNs * threads.Vcpus, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuStalledNs + r.VcpuHaltedNs + r.VcpuIdleNs + r.VcpuStealNs);
    }

    [Fact]
    public void Sync_WithNoExits_HasNoHostExitTime()
    {
        // No tick, the guest's or the host's (whose EXTERNAL_INTERRUPT exits every protocol takes).
        var r = ScenarioRuns.Run(NoExits, "sync", "guest.vcpus=1", "guest.tick=0", "host.hz=0");
        Assert.Equal(0, r.Counters.Exits.Total);
        Assert.Equal(0, r.VcpuHostExitNs);
        Assert.Equal(r.SimulatedNs, r.VcpuGuestNs);
    }

    /// <summary>
    /// perf kvm stat's exit time (kvm_exit to kvm_entry, run --exits' exit_stats) is host_exit plus the stalls and
    /// halts, which lie inside their exits, plus the time an idle vCPU sits halted inside a HLT exit (host.hlt_in_guest
    /// off), which vcpu_ns counts as idle: exactly, where there is no HLT exit; otherwise the difference is at most the
    /// HLT exits' time and at most the idle time.
    /// </summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void HostExit_IsTheExitTime_LessStallsHaltsAndHaltedIdle(string builtin, string protocol)
    {
        var (r, _, _) = BuiltinTraces.Run(builtin, protocol, "duration=5ms");
        var rows = r.Tracepoints!.ExitRows();
        var exits = rows.Sum(x => x.Times.Sum);
        var hlt = rows.Where(x => x.Name == "HLT").Sum(x => x.Times.Sum);
        var haltedIdle = exits - (r.VcpuHostExitNs + r.VcpuStalledNs + r.VcpuHaltedNs);
        output.WriteLine($"{builtin} {protocol}: exits {exits} ns (HLT {hlt}), host_exit {r.VcpuHostExitNs}, stalled {r.VcpuStalledNs}, halted {r.VcpuHaltedNs}, idle {r.VcpuIdleNs}, halted idle in HLT exits {haltedIdle}");
        Assert.True(r.Counters.Exits.Total == 0 || r.VcpuHostExitNs > 0, "exits took no host time");
        if (hlt == 0)
        {
            Assert.Equal(exits, r.VcpuHostExitNs + r.VcpuStalledNs + r.VcpuHaltedNs);
        }
        else
        {
            Assert.InRange(haltedIdle, 0, Math.Min(hlt, r.VcpuIdleNs));
        }
    }
}
