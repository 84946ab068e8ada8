using System.Globalization;
using System.Text.Json.Nodes;
using Vexlab.Results.Documents;
using Vexlab.Results.Reports;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;

namespace Vexlab.Results.Tests;

/// <summary>
/// Each finding is said when the numbers it states hold and not otherwise. A compare of postcopy once said that
/// kvm-halt's 84.1% of vCPU time "halted in the host" meant "the guest has nothing else to run while the page
/// comes" beside tasks that waited 751.9 ms for a vCPU: the artificial halt is KVM's, taken where the guest could
/// not be told of the fault, so the vCPU runs nothing whether or not other tasks are runnable.
/// </summary>
public sealed class FindingsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RunSummary Entry(string name = "p") => new()
    {
        Scenario = "s",
        Protocol = name,
        Variant = name,
        Seeds = [1],
        WorkDone = 1,
        SimulatedNs = 1e9,
        VcpuNs = [1, 0, 0, 0, 0, 0],
    };

    private static RunSummary Split(string part, double percent, double? waitMs, int runs)
    {
        var k = Array.IndexOf(RunSummary.VcpuParts, part);
        var split = new double[RunSummary.VcpuParts.Length];
        split[0] = 100 - percent;
        split[k] = percent;
        return Entry() with { VcpuNs = split, TaskWaitNs = waitMs * 1e6, Runs = runs };
    }

    private const string Halted = "halted in the host: KVM's artificial halt (the guest could not be told of the fault), in which the vCPU runs nothing";

    // waitMs -1: the input says nothing of the tasks' wait (a file or store from before wait_ns).
    [Theory]
    [InlineData("host_halted", 75, 751.9, 1, "p: 75.0% of vCPU time is " + Halted + "; runnable tasks waited 751.9 ms for a vCPU over the run, summed over tasks.")]
    [InlineData("host_halted", 75, 0, 1, "p: 75.0% of vCPU time is " + Halted + "; no task waited for a vCPU over the run.")]
    [InlineData("host_halted", 75, -1, 1, "p: 75.0% of vCPU time is " + Halted + ".")]
    [InlineData("host_halted", 19, 751.9, 1, null)]
    [InlineData("host_stalled", 40, 10, 3, "p: 40.0% of vCPU time is stalled in the host: the vCPU waits for the page (synchronous resolution); runnable tasks waited 10.0 ms for a vCPU per run (mean), summed over tasks.")]
    [InlineData("host_stalled", 40, 0, 1, "p: 40.0% of vCPU time is stalled in the host: the vCPU waits for the page (synchronous resolution); no task waited for a vCPU over the run.")]
    [InlineData("idle", 50, 0, 1, "p: 50.0% of vCPU time is idle: the guest has nothing runnable on that vCPU.")]
    [InlineData("idle", 50, 31.6, 1, "p: 50.0% of vCPU time is idle: the guest has nothing runnable on that vCPU; yet runnable tasks waited 31.6 ms for a vCPU over the run, summed over tasks: on other vCPUs, or at other times.")]
    [InlineData("idle", 10, 31.6, 1, null)]
    [InlineData("host_exit", 30, 5, 1, "p: 30.0% of vCPU time is in the host handling exits.")]
    [InlineData("steal", 30, 5, 1, "p: 30.0% of vCPU time is waiting for a physical CPU (steal).")]
    public void VcpuPart_IsSaidAtItsShare_WithWhatTheTasksWaited(string part, double percent, double waitMs, int runs, string? expected)
    {
        var findings = Findings.For([Split(part, percent, waitMs < 0 ? null : waitMs, runs)]);
        var said = findings.Where(f => f.Contains("% of vCPU time is ", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected is null ? [] : [expected], said);
    }

    [Theory]
    [InlineData(2000, 5000, 1, "Fault latency p99 ranges from 2.0 us (b) to 5.0 us (a).")]
    [InlineData(2000, 5000, 3, "Fault latency p99 ranges from 2.0 us (b) to 5.0 us (a) (means over each entry's runs with faults).")]
    [InlineData(2000, 2000, 1, null)]
    public void FaultTail_IsSaidWhenTheP99sDiffer(double p99B, double p99A, int faultRuns, string? expected)
    {
        RunSummary WithP99(string name, double p99) => Entry(name) with
        {
            Runs = faultRuns,
            FaultRuns = faultRuns,
            FaultLatency = new Dictionary<string, double> { ["count"] = 10, ["p99"] = p99 },
        };

        var said = Findings.For([WithP99("a", p99A), WithP99("b", p99B)]).Where(f => f.StartsWith("Fault latency", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected is null ? [] : [expected], said);

        // One entry has no range.
        Assert.DoesNotContain(Findings.For([WithP99("a", p99A)]), f => f.StartsWith("Fault latency", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", 1, null)]
    [InlineData("SIGBUS:3", 1, "p: tasks receive SIGBUS x3.")]
    [InlineData("SIGBUS:3 SIGSEGV:1", 4, "p: tasks receive SIGBUS x3, SIGSEGV x1 over its 4 runs.")]
    public void Signals_AreSaidWhenAnyArrive(string signals, int runs, string? expected)
    {
        var list = signals.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Split(':')).Select(s => (s[0], double.Parse(s[1], CultureInfo.InvariantCulture))).ToList();
        var said = Findings.For([Entry() with { Signals = list, Runs = runs }]).Where(f => f.Contains("tasks receive", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected is null ? [] : [expected], said);
    }

    // A mean of 0.4 over five runs was printed "0 kernel copies return -EFAULT".
    [Theory]
    [InlineData(0, 1, null)]
    [InlineData(1, 1, "p: 1 kernel copy returns -EFAULT.")]
    [InlineData(1200, 1, "p: 1,200 kernel copies return -EFAULT.")]
    [InlineData(0.4, 5, "p: 0.4 kernel copies return -EFAULT per run (mean).")]
    public void ErrorReturns_AreSaidWhenAnyHappen(double returns, int runs, string? expected)
    {
        var said = Findings.For([Entry() with { ErrorReturns = returns, Runs = runs }]).Where(f => f.Contains("-EFAULT", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected is null ? [] : [expected], said);
    }

    // Two entries that do the same work: neither gets the most.
    [Fact]
    public void Ranking_OfEqualEntries_NamesNoneBest()
    {
        Assert.Equal("The entries get the same work done per simulated second (1 work/s each).", Findings.For([Entry("a"), Entry("b")])[0]);
    }

    [Fact]
    public void TaskWait_IsReadFromARunJson_SummedOverTasks_AndNullWithoutIt()
    {
        static JsonObject Run(JsonArray tasks) => new()
        {
            ["scenario"] = "s",
            ["protocol"] = "kvm-halt",
            ["variant"] = "kvm-halt",
            ["seed"] = 1,
            ["simulated_ns"] = 1_000_000,
            ["work_done"] = 3,
            ["guest"] = new JsonObject { ["outcome"] = "running", ["tasks"] = tasks },
            ["vcpu_ns"] = new JsonObject { ["guest"] = 1, ["host_halted"] = 3 },
        };

        var waited = RunSummaries.FromDocument(Run([new JsonObject { ["name"] = "a", ["work_done"] = 1, ["wait_ns"] = 700 }, new JsonObject { ["name"] = "b", ["work_done"] = 2, ["wait_ns"] = 50 }]), "run.json");
        Assert.Equal(750, waited.Entries[0].TaskWaitNs);

        var older = RunSummaries.FromDocument(Run([new JsonObject { ["name"] = "a", ["work_done"] = 1 }]), "run.json");
        Assert.Null(older.Entries[0].TaskWaitNs);
    }

    [Fact]
    public void TaskWait_IsReadFromAStoresTasks_MeanOverAnEntrysRuns()
    {
        var db = _dir.File("waits.duckdb");
        using (var store = SweepStore.Open(db))
        {
            store.Bind(Support.Small(), force: false);
            foreach (var run in SweepPlan.Runs(Support.Small()))
            {
                var json = PlotStore.Json(run);

                // Seed s's tasks wait s x 100 ns and 1 ns.
                json["guest"]!["tasks"] = new JsonArray(
                    new JsonObject { ["name"] = "a", ["work_done"] = 1, ["wait_ns"] = run.Seed * 100 },
                    new JsonObject { ["name"] = "b", ["work_done"] = 1, ["wait_ns"] = 1 });
                store.Write(RunRow.From(run, json, "0.0.0"));
            }
        }

        // Seeds 1..3: (101 + 201 + 301) / 3 per run.
        var set = RunSummaries.Load(db, "variant", "latency = 10 AND tasks = 1");
        Assert.All(set.Entries, e => Assert.Equal(201, e.TaskWaitNs));

        // A store from before wait_ns says nothing of the wait.
        Assert.All(RunSummaries.Load(PlotStore.Create(_dir), "variant", "latency = 10").Entries, e => Assert.Null(e.TaskWaitNs));
    }

    /// <summary>
    /// A store's entries carry each task group's work, share and wait, means over the entry's runs, as a run JSON's do:
    /// the report's per-task rows were empty for every store, whose tasks live in their own table.
    /// </summary>
    [Fact]
    public void TaskGroups_AreReadFromAStoresTasks_MeanOverAnEntrysRuns()
    {
        var db = _dir.File("groups.duckdb");
        using (var store = SweepStore.Open(db))
        {
            store.Bind(Support.Small(), force: false);
            foreach (var run in SweepPlan.Runs(Support.Small()))
            {
                var json = PlotStore.Json(run);

                // Seed s: a works s, shares s/10 and waits s x 100 ns; b works 2, shares 0.5 and waits 1 ns.
                json["guest"]!["tasks"] = new JsonArray(
                    new JsonObject { ["name"] = "a", ["work_done"] = run.Seed, ["share"] = run.Seed / 10.0, ["wait_ns"] = run.Seed * 100 },
                    new JsonObject { ["name"] = "b", ["work_done"] = 2, ["share"] = 0.5, ["wait_ns"] = 1 });
                store.Write(RunRow.From(run, json, "0.0.0"));
            }
        }

        // Seeds 1..3, in task order whatever order the rows were written in.
        var set = RunSummaries.Load(db, "variant", "latency = 10 AND tasks = 1");
        Assert.All(set.Entries, e =>
        {
            Assert.Equal(["a", "b"], e.Tasks.Select(t => t.Name));
            Assert.Equal(2, e.Tasks[0].WorkDone, 9);
            Assert.Equal(0.2, e.Tasks[0].Share!.Value, 9);
            Assert.Equal(200, e.Tasks[0].WaitNs!.Value, 9);
            Assert.Equal(new TaskValues("b", 2, 0.5, 1), e.Tasks[1]);
            Assert.Equal(201, e.TaskWaitNs);
        });

        // Share and wait are unknown, not zero, in a store from before them.
        var older = _dir.File("older.duckdb");
        using (var store = SweepStore.Open(older))
        {
            store.Bind(Support.Small(), force: false);
            foreach (var run in SweepPlan.Runs(Support.Small()))
            {
                var json = PlotStore.Json(run);
                json["guest"]!["tasks"] = new JsonArray(new JsonObject { ["name"] = "a", ["work_done"] = 4 });
                store.Write(RunRow.From(run, json, "0.0.0"));
            }
        }

        Assert.All(RunSummaries.Load(older, "variant", "latency = 10").Entries, e =>
        {
            Assert.Equal(new TaskValues("a", 4, null, null), Assert.Single(e.Tasks));
            Assert.Null(e.TaskWaitNs);
        });
    }
}
