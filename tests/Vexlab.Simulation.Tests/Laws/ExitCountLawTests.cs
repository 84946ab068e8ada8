using Vexlab.Model.Protocols;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The run's exit counters and its trace are two views of the same exits: for every reason, the
/// counters hold as many exits as the trace has kvm_exit records. On shared pCPUs (host.pcpus below
/// the vCPUs) a vCPU thread waiting for a pCPU is not in guest mode and cannot exit: a timer that
/// expires for it then is injected at its next entry (vcpu_enter_guest -> inject_pending_event),
/// with no exit of its own.
/// </summary>
public class ExitCountLawTests
{
    /// <summary>Four vCPUs, each with a task that faults on most touches, and host PMIs.</summary>
    private const string FourFaultingVcpus = """
        name: four-faulting
        duration: 50ms
        guest:
          vcpus: 4
        host:
          memory_limit: 2MiB
        nmi:
          rate: 2000/s
        regions:
          - name: heap
            size: 16MiB
            absent: 0.9
        tasks:
          - name: mem
            count: 4
            loop: touch heap random; compute 20
        """;

    /// <summary>
    /// Two vCPUs, each with a task that faults on most touches beside one that computes, so that completions come while
    /// the vCPU runs the guest; host PMIs at 50,000 a second and the guest's tick at 1 ms.
    /// </summary>
    private const string FaultingBesideComputing = """
        name: faulting-beside-computing
        duration: 50ms
        guest:
          vcpus: 2
          tick: 1ms
        host:
          memory_limit: 2MiB
        nmi:
          rate: 50000/s
        regions:
          - name: heap
            size: 16MiB
            absent: 0.9
        tasks:
          - name: mem
            count: 2
            loop: touch heap random; compute 20
          - name: cpu
            count: 2
            loop: compute 100
        """;

    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var protocol in ProtocolCatalog.Names)
        {
            foreach (var seed in new[] { 1, 2, 3 })
            {
                data.Add("busy", protocol, seed);
                data.Add("faulting", protocol, seed);
            }
        }

        return data;
    }

    /// <summary>
    /// Under kvm-pf the 5.7 host checks completions after every exit, so where one waits on the done list the exit of a
    /// PMI, of an IPI's kick or of an interrupt or NMI window is followed by the page-ready #PF, and the model reports
    /// that exit itself (EXCEPTION_NMI, EXTERNAL_INTERRUPT, INTERRUPT_WINDOW, NMI_WINDOW) and leaves the vCPU in the
    /// host. Each is counted once, as the trace has it: the driver, which counts a PMI that finds the guest's NMI held,
    /// counted the model's EXCEPTION_NMI a second time (5,083 against the trace's 4,593 at seed 1 when the kicks came
    /// in), and counts an INTERRUPT_WINDOW exit of its own only for a vCPU the model still has in guest mode.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Under57_AnExitWhoseCompletionCheckInjects_IsCountedOnce(int seed)
    {
        var (r, trace, _) = ScenarioRuns.RunTracedSimulator(FaultingBesideComputing, "kvm-pf", $"seed={seed}");
        var traced = trace.Records.Where(x => x.Kind == TraceKind.KvmExit).GroupBy(x => x.ExitReason).ToDictionary(g => g.Key, g => (long)g.Count());
        foreach (var reason in Enum.GetValues<ExitReason>())
        {
            Assert.True(
                r.Counters.Exits[reason] == traced.GetValueOrDefault(reason),
                $"seed {seed}: {reason}: counters {r.Counters.Exits[reason]}, trace {traced.GetValueOrDefault(reason)}");
        }

        Assert.True(r.Counters.Exits[ExitReason.InterruptWindow] > 0, "a tick held by the #PF handler's IF=0 waits for the window while a completion waits");
    }

    /// <summary>
    /// Shared pCPUs with the default host slice (a 3 ms request) and the host's tick at HZ=1000:
    /// the counters once held two EXTERNAL_INTERRUPT exits more than the trace (126 against 124 for
    /// four busy vCPUs under kvm-pf, seeds 1 to 5), guest ticks counted for vCPUs that held no pCPU.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void OnSharedPcpus_ExitCountersEqualTraceExits_PerReason(string scenario, string protocol, int seed)
    {
        var yaml = scenario == "busy" ? ScenarioRuns.FourBusyVcpus : FourFaultingVcpus;
        var (r, trace, _) = ScenarioRuns.RunTracedSimulator(yaml, protocol, "guest.tick=4ms", "host.hz=1000", "host.pcpus=2", $"seed={seed}");
        var traced = trace.Records.Where(x => x.Kind == TraceKind.KvmExit).GroupBy(x => x.ExitReason).ToDictionary(g => g.Key, g => (long)g.Count());
        foreach (var reason in Enum.GetValues<ExitReason>())
        {
            Assert.True(
                r.Counters.Exits[reason] == traced.GetValueOrDefault(reason),
                $"{protocol} seed {seed} {scenario}: {reason}: counters {r.Counters.Exits[reason]}, trace {traced.GetValueOrDefault(reason)}");
        }
    }
}
