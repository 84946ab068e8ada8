using Vexlab.Model.Host;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// What a run counts must add up: every fault that begins ends once or is open at the end, every
/// page-ready answers one not-present with its token (kvm_arch_async_page_ready after
/// kvm_arch_async_page_not_present), and host memory's own count of resident pages is the
/// machine's page table, under the limit.
/// </summary>
public sealed class ConservationLawTests(ITestOutputHelper output)
{
    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    public static TheoryData<string> Builtins => new() { "postcopy", "swap-overcommit", "kernel-heavy", "far-memory" };

    private static (Simulator Sim, SimulationResult Result, List<TraceRecord> Records, PreparedRun Run) Traced(string builtin, string protocol, params string[] sets)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var run = Driver.BuiltinRuns.Prepare(builtin, entry, 1.0, sets);
        var sink = new RecordingSink();
        var sim = new Simulator(run.Setup, sink);
        return (sim, sim.Run(), sink.Records, run);
    }

    [Theory]
    [MemberData(nameof(Builtins))]
    public void EveryFaultThatBegins_EndsOnceOrIsOpenAtTheEnd(string builtin)
    {
        foreach (var protocol in Protocols)
        {
            var (_, r, records, run) = Traced(builtin, protocol, "duration=30ms");
            var open = new Dictionary<long, int>();
            long begins = 0, done = 0, failed = 0;
            foreach (var rec in records)
            {
                if (rec.Kind == TraceKind.FaultBegin)
                {
                    begins++;
                    Assert.True(open.TryAdd(rec.Id, rec.Task), $"{builtin} {protocol}: fault {rec.Id} began twice");
                    Assert.DoesNotContain(rec.Task, open.Where(kv => kv.Key != rec.Id).Select(kv => kv.Value));
                }
                else if (rec.Kind == TraceKind.FaultEnd)
                {
                    Assert.True(open.Remove(rec.Id, out var task), $"{builtin} {protocol}: fault {rec.Id} ended without beginning, or twice");
                    Assert.Equal(task, rec.Task);
                    if (rec.Value == 0)
                    {
                        done++;
                    }
                    else
                    {
                        failed++;
                    }
                }
            }

            // A task has at most one fault open (its access is retried until it completes), so what is
            // open at the end is bounded by the tasks; each completed access is one latency sample.
            var tasks = run.Setup.Machine.Tasks.Count;
            output.WriteLine($"{builtin} {protocol}: {begins} begun = {done} done + {failed} failed + {open.Count} open ({tasks} tasks); latency samples {r.FaultLatency.Count}");
            Assert.True(begins > 0, $"{builtin} {protocol}: no faults");
            Assert.Equal(begins, done + failed + open.Count);
            Assert.InRange(open.Count, 0, tasks);
            Assert.Equal(r.FaultLatency.Count, done);
        }
    }

    [Theory]
    [MemberData(nameof(Builtins))]
    public void EveryPageReady_AnswersOneNotPresentWithItsToken(string builtin)
    {
        foreach (var protocol in new[] { "kvm-pf", "kvm-pf-int" })
        {
            var (sim, r, records, _) = Traced(builtin, protocol, "duration=30ms");
            var unanswered = new Dictionary<uint, int>();
            long notPresent = 0, ready = 0;
            foreach (var rec in records)
            {
                if (rec.Kind == TraceKind.KvmAsyncPfNotPresent)
                {
                    notPresent++;
                    unanswered[rec.Token] = unanswered.GetValueOrDefault(rec.Token) + 1;
                }
                else if (rec.Kind == TraceKind.KvmAsyncPfReady)
                {
                    ready++;
                    Assert.True(unanswered.GetValueOrDefault(rec.Token) > 0, $"{builtin} {protocol}: page-ready for token {rec.Token:x} that no not-present gave out");
                    unanswered[rec.Token]--;
                }
            }

            // What is still unanswered at the end is work the host has not finished or a page-ready
            // not yet dequeued: at most one per async work slot.
            var left = unanswered.Values.Sum();
            output.WriteLine($"{builtin} {protocol}: {notPresent} not-present, {ready} page-ready, {left} unanswered (work slots {sim.Machine.WorkCapacity})");
            Assert.True(notPresent > 0, $"{builtin} {protocol}: no async faults");
            Assert.Equal(notPresent, ready + left);
            Assert.InRange(left, 0, sim.Machine.WorkCapacity);
        }
    }

    /// <remarks>
    /// The builtins' own limits, and limits below the pages they start with (the overcommit sweep's
    /// 3.0 on swap-overcommit: 2,730 pages for 4,096 resident; 2 MiB on kernel-heavy and
    /// far-memory): the excess is reclaimed before the run (it started over the limit, kernel-heavy
    /// at 2 MiB still 608 pages of 512 after 3 ms, swap-overcommit at 2 MiB 968).
    /// </remarks>
    [Theory]
    [InlineData("swap-overcommit")]
    [InlineData("kernel-heavy")]
    [InlineData("far-memory")]
    [InlineData("swap-overcommit", "host.overcommit=3")]
    [InlineData("swap-overcommit", "host.memory_limit=2MiB")]
    [InlineData("kernel-heavy", "host.memory_limit=2MiB")]
    [InlineData("far-memory", "host.memory_limit=2MiB")]
    // Post-copy's 2 MiB pages: 8 and 32 frames. Readahead used to fill its cluster here too, with
    // frames nobody allocated: 16 resident pages under 16 MiB.
    [InlineData("postcopy", "host.memory_limit=16MiB")]
    [InlineData("postcopy", "host.memory_limit=64MiB")]
    public void ResidentPages_AreTheMachinesAndNeverPassTheLimit(string builtin, string limit = "")
    {
        foreach (var protocol in Protocols)
        {
            // The limit's count of resident pages decides reclaim (free = limit - resident - ...):
            // it must be the page table's, at any instant (read here at the ends of runs of
            // growing length, each a prefix of the next).
            foreach (var ms in new[] { 1, 3, 11, 30 })
            {
                string[] sets = limit.Length == 0 ? [$"duration={ms}ms"] : [$"duration={ms}ms", limit];
                var (sim, r, _, run) = Traced(builtin, protocol, sets);
                var pages = run.Setup.Machine.Pages;
                var resident = 0;
                for (var p = 0; p < pages; p++)
                {
                    // A page async work brought in holds its host frame before the dequeue maps it in the EPT.
                    resident += sim.Machine.Page(p).Host is HostPage.Resident or HostPage.NotInEpt ? 1 : 0;
                }

                var memory = r.Reclaim!;
                if (ms == 30)
                {
                    output.WriteLine($"{builtin} {limit} {protocol} {ms} ms: {resident} resident + {pages - resident} absent = {pages} pages; counted {memory.ResidentPages}, limit {run.Setup.HostLimitPages}, {memory.Evictions} evictions");
                }

                Assert.True(run.Setup.HostLimitPages > 0);
                Assert.Equal(resident, memory.ResidentPages);
                Assert.InRange(resident, 0, run.Setup.HostLimitPages);

                // Swap readahead reads a swap device's cluster; post-copy and far memory fetch one page.
                if (builtin is "postcopy" or "far-memory")
                {
                    Assert.Equal(0, memory.ReadaheadPages);
                }
            }
        }
    }
}
