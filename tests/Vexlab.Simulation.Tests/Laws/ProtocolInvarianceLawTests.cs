using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Laws that tie runs to each other: a shorter run is a prefix of a longer one (so work is
/// monotone in duration), and where no page is ever host-absent the protocol makes no difference.
/// </summary>
public sealed class ProtocolInvarianceLawTests
{
    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    public static TheoryData<string> Builtins => new() { "postcopy", "swap-overcommit", "kernel-heavy", "far-memory" };

    [Theory]
    [MemberData(nameof(Builtins))]
    public void AShorterRun_IsAPrefixOfALongerOne(string builtin)
    {
        // The run to 13 ms does, task by task, exactly the work the run to 30 ms did by 13 ms, with
        // the same faults and the same guest time: nothing before an instant depends on the duration.
        foreach (var protocol in Protocols)
        {
            var entry = Overrides.ParseProtocols(protocol)[0];
            var longRun = Driver.BuiltinRuns.Prepare(builtin, entry, 1.0, "duration=30ms");
            var timeline = TimelineRecorder.For(longRun.Setup, 1_000_000);
            var full = ScenarioRunner.Run(longRun, timeline);
            var col = timeline.Columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
            var rows = timeline.Rows.Take(13).ToList();
            var prefix = Driver.BuiltinRuns.Run(builtin, protocol, 1.0, "duration=13ms");
            foreach (var task in prefix.Tasks)
            {
                Assert.Equal(task.WorkDone, rows.Sum(r => r[col["work_" + task.Name]]));
                Assert.True(task.WorkDone <= full.Task(task.Name).WorkDone);
            }

            Assert.Equal(prefix.FaultLatency.Count, rows.Sum(r => r[col["faults_completed"]]));
            var vcpus = longRun.Setup.Machine.Vcpus;
            Assert.Equal(prefix.VcpuGuestNs, rows.Sum(r => Enumerable.Range(0, vcpus).Sum(v => r[col[$"vcpu{v}_guest_ns"]])));
        }
    }

    /// <summary>Every page resident in the host: user and kernel accesses, sleeps, NMIs, file reads through the page cache.</summary>
    private const string NothingAbsent = """
        name: nothing-absent
        duration: 40ms
        guest:
          vcpus: 2
          page_cache: 256KiB
        nmi:
          rate: 2000/s
          walk_user_stack: true
        regions:
          - name: heap
            size: 8MiB
          - name: buf
            size: 1MiB
          - name: f
            size: 1MiB
            file: true
        tasks:
          - name: t
            loop: touch heap random 16; compute 30
          - name: k
            mode: kernel
            loop: write buf sequential 4; compute 5
          - name: s
            loop: compute 200us; sleep 1ms
          - name: n
            mode: kernel
            nice: 5
            loop: touch heap sequential 8 store; compute 10; irq-off; compute 5; irq-on; yield
          - name: r
            loop: read f random 2
        """;

    /// <summary>Anonymous memory with a life: every pass takes a guest #PF per page.</summary>
    private const string AllocFree = """
        name: alloc-free
        duration: 40ms
        regions:
          - name: heap
            size: 1MiB
        tasks:
          - name: a
            loop: alloc heap; touch heap sequential 32 store; free heap
          - name: b
            mode: kernel
            loop: compute 50; preempt-off; compute 5; preempt-on
        """;

    [Theory]
    [InlineData(1, "")]
    [InlineData(7, "")]
    [InlineData(1, "guest.tick=1s")]
    public void WithNoPageAbsent_EveryProtocolDoesTheSameWork(int seed, string set)
    {
        // kvm-pf's model takes an EXTERNAL_INTERRUPT exit at each guest tick (the 5.7 host
        // dequeues page-ready only at entry) and the other protocols' models take none, so with a
        // tick kvm-pf alone runs differently, even at zero exit cost (the exit and the entry are
        // steps that shift what follows: seed 1 gives reader r 271 passes against 279); without a
        // tick it joins the rest. The host's own tick (host.hz) is such an exit too, so without a
        // tick means without either. The run is 40 ms, so a 1 s tick never fires; guest.tick=0 is
        // refused here, where a vCPU holds more than one task (Linux keeps the tick there).
        string[] sets = set.Length == 0 ? [$"seed={seed}"] : [$"seed={seed}", set, "host.hz=0"];
        var protocols = set.Length == 0 ? Protocols.Where(p => p != "kvm-pf").ToArray() : Protocols;
        var sync = ScenarioRuns.Run(NothingAbsent, "sync", sets);
        Assert.True(sync.WorkDone > 1_000);
        Assert.Equal(0, sync.FaultLatency.Count);
        foreach (var protocol in protocols[1..])
        {
            var r = ScenarioRuns.Run(NothingAbsent, protocol, sets);
            Assert.Equal(0, r.FaultLatency.Count);
            Assert.Equal(sync.VcpuIdleNs, r.VcpuIdleNs);
            foreach (var task in sync.Tasks)
            {
                Assert.Equal(task.WorkDone, r.Task(task.Name).WorkDone);
                Assert.Equal(task.CpuNs, r.Task(task.Name).CpuNs);
            }
        }
    }

    [Fact]
    public void WithNoPageAbsent_OnlyTheApfGuestsPfEntryCostsAnything()
    {
        // An APF guest's #PF handler reads the async-PF reason on every #PF (one micro-op): with
        // guest #PFs kvm-pf and kvm-pf-int do a little less; at a zero micro-op cost, the same.
        var sync = ScenarioRuns.Run(AllocFree, "sync");
        Assert.True(sync.Counters.Injections[Metrics.InjectionKind.PageFault] > 10_000);
        foreach (var protocol in Protocols[1..])
        {
            var r = ScenarioRuns.Run(AllocFree, protocol);
            Assert.InRange(r.Task("a").WorkDone, sync.Task("a").WorkDone * 0.97, sync.Task("a").WorkDone);
            Assert.Equal(sync.Task("b").WorkDone, r.Task("b").WorkDone);
        }

        var free = ScenarioRuns.Run(AllocFree, "sync", "cost.micro_op=0");
        foreach (var protocol in Protocols[1..])
        {
            var r = ScenarioRuns.Run(AllocFree, protocol, "cost.micro_op=0");
            Assert.Equal(free.Task("a").WorkDone, r.Task("a").WorkDone);
            Assert.Equal(free.Task("b").WorkDone, r.Task("b").WorkDone);
        }
    }
}
