using CsCheck;
using Vexlab.Model.Protocols;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Each task's own time: running, runnable and blocked partition its life, and more of a resource never makes a
/// fixed workload finish later where nothing else depends on timing.
/// </summary>
public sealed class TaskTimeLawTests(ITestOutputHelper output)
{
    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    /// <summary>
    /// Time conservation per task: a task that never blocks is, at every instant, running (cpu_ns) or runnable and
    /// waiting (wait_ns), so the two sum to its instances times the run, whatever the policy, weights, vCPUs and
    /// balancing; a task that faults or sleeps is also blocked some of the time, so for it the sum is at most that.
    /// </summary>
    [Fact]
    public void RunningPlusRunnable_IsTheWholeRun_ForATaskThatNeverBlocks()
    {
        var gen =
            from protocol in Gen.Int[0, 4].Select(i => Protocols[i])
            from policy in Gen.Bool.Select(b => b ? "cfs" : "eevdf")
            from vcpus in Gen.Int[1, 3]
            from hogs in Gen.Int[1, 4]
            from niceA in Gen.Int[-5, 5]
            from niceB in Gen.Int[-5, 5]
            from seed in Gen.Int[1, 1000]
            select (protocol, policy, vcpus, hogs, niceA, niceB, seed);
        gen.Sample(c =>
        {
            var yaml = $"name: t\nduration: 20ms\nhost:\n  memory_limit: 64KiB\nregions:\n  - name: heap\n    size: 4MiB\n    absent: 1.0\n"
                + $"tasks:\n  - name: a\n    count: {c.hogs}\n    nice: {c.niceA}\n    loop: compute 30\n  - name: b\n    nice: {c.niceB}\n    loop: compute 7\n"
                + "  - name: mem\n    count: 2\n    loop: touch heap random; compute 10us; sleep 50us\n";
            var r = ScenarioRuns.Run(yaml, c.protocol, "guest.sched.policy=" + c.policy, $"guest.vcpus={c.vcpus}", $"seed={c.seed}");
            var t = r.SimulatedNs;
            foreach (var name in new[] { "a", "b" })
            {
                var task = r.Task(name);
                Assert.True(task.CpuNs + task.WaitNs == task.Count * t, $"{c}: {name} ran {task.CpuNs} + waited {task.WaitNs} = {task.CpuNs + task.WaitNs}, not {task.Count} x {t}");
            }

            var mem = r.Task("mem");
            // At most: on one vCPU beside heavier hogs the sleepers may not get a turn in 20 ms (only waiting, never blocking).
            Assert.True(mem.CpuNs + mem.WaitNs <= mem.Count * t, $"{c}: mem ran {mem.CpuNs} + waited {mem.WaitNs}, more than {mem.Count} x {t}");
        }, iter: 16, threads: 1);
    }

    /// <summary>
    /// Monotonicity under sync: a slower store never makes a fixed amount of work finish sooner. Under sync a fault
    /// stalls its vCPU for the store's latency, so with one task pinned to each vCPU, regions of their own and
    /// no tick (a tick's phase against the work could move the end by its cost either way), each task's completion
    /// is its compute, its faults and the constant path of each: it grows with the latency, exactly by faults x the
    /// difference.
    /// </summary>
    [Fact]
    public void UnderSync_ASlowerStore_NeverFinishesAFixedWorkloadSooner()
    {
        var gen =
            from vcpus in Gen.Int[1, 3]
            from iterations in Gen.Int[20, 200]
            from compute in Gen.Int[1, 50]
            from latencyUs in Gen.Int[1, 100]
            from slowerUs in Gen.Int[0, 100]
            from seed in Gen.Int[1, 1000]
            select (vcpus, iterations, compute, latencyUs, slowerUs, seed);
        gen.Sample(c =>
        {
            var fast = ScenarioRuns.Run(Pinned(c.vcpus, c.iterations, c.compute, c.latencyUs), "sync", $"seed={c.seed}");
            var slow = ScenarioRuns.Run(Pinned(c.vcpus, c.iterations, c.compute, c.latencyUs + c.slowerUs), "sync", $"seed={c.seed}");
            for (var v = 0; v < c.vcpus; v++)
            {
                var before = fast.Task($"t{v}");
                var after = slow.Task($"t{v}");
                Assert.True(before.FinishedNs > 0 && after.FinishedNs > 0, $"{c}: t{v} did not finish");
                Assert.True(after.FinishedNs >= before.FinishedNs, $"{c}: t{v} finished at {after.FinishedNs} with the slower store, {before.FinishedNs} with the faster");
            }

            // The same faults (each task's touches come from its own stream, whatever the timing), each longer by the difference.
            Assert.Equal(fast.FaultLatency.Count, slow.FaultLatency.Count);
            var delay = slow.Tasks.Sum(x => x.FinishedNs) - fast.Tasks.Sum(x => x.FinishedNs);
            Assert.Equal(fast.FaultLatency.Count * c.slowerUs * 1_000L, delay);
        }, iter: 16, threads: 1);
    }

    /// <summary>
    /// Monotonicity of capacity under sync: taking a pCPU away never makes a fixed workload finish sooner. The host's
    /// scheduler is work-conserving and the guest's tasks are pinned with their own regions, so the work each vCPU
    /// must do is fixed; with fewer pCPUs each vCPU only waits more. Under sync a stalled vCPU holds no pCPU, so the
    /// stall overlaps another vCPU's turn, and the law is about completion, not about the sum of the waits.
    /// </summary>
    [Fact]
    public void UnderSync_FewerPcpus_NeverFinishAFixedWorkloadSooner()
    {
        var gen =
            from vcpus in Gen.Int[2, 4]
            from iterations in Gen.Int[20, 200]
            from compute in Gen.Int[50, 2000]
            from latencyUs in Gen.Int[1, 100]
            from seed in Gen.Int[1, 1000]
            select (vcpus, iterations, compute, latencyUs, seed);
        gen.Sample(c =>
        {
            long previous = 0;
            for (var pcpus = c.vcpus; pcpus >= 1; pcpus--)
            {
                var r = ScenarioRuns.Run(Pinned(c.vcpus, c.iterations, c.compute, c.latencyUs), "sync", $"seed={c.seed}", $"host.pcpus={pcpus}", "host.hz=250");
                Assert.All(r.Tasks, x => Assert.True(x.FinishedNs > 0, $"{c}: {x.Name} did not finish on {pcpus} pCPUs"));
                var makespan = r.Tasks.Max(x => x.FinishedNs);
                output.WriteLine($"{c}: {pcpus} pCPUs, done at {makespan}");
                Assert.True(makespan >= previous, $"{c}: done at {makespan} on {pcpus} pCPUs, {previous} with one more");
                previous = makespan;
            }
        }, iter: 10, threads: 1);
    }

    /// <summary>One task pinned to each vCPU, each touching a region of its own (all host-absent) and computing, a fixed number of passes; a store of fixed latency.</summary>
    private static string Pinned(int vcpus, int iterations, int compute, int latencyUs)
    {
        var regions = string.Concat(Enumerable.Range(0, vcpus).Select(v => $"\n  - name: r{v}\n    size: 4MiB\n    absent: 1.0"));
        var tasks = string.Concat(Enumerable.Range(0, vcpus).Select(v => $"\n  - name: t{v}\n    vcpu: {v}\n    iterations: {iterations}\n    loop: touch r{v} random; compute {compute}"));
        return $"name: pinned\nduration: 10s\nguest:\n  tick: 0\n  vcpus: {vcpus}\n  memory: 64MiB\nhost:\n  hz: 0\n  backing: s\nbackings:\n  - name: s\n    latency: fixed {latencyUs}us\nregions:{regions}\ntasks:{tasks}\n";
    }
}
