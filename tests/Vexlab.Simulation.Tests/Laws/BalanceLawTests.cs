using CsCheck;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The guest load balancer's laws (guest.sched.balance; kernel/sched/fair.c select_task_rq_fair,
/// newidle_balance, load_balance): it spreads runnable tasks over idle vCPUs, it moves nothing when
/// off or when tasks are pinned, time stays conserved across moves, and a moved task that touches
/// a gfn another vCPU has queued starts a second fetch, since KVM's gfn hash is per vCPU.
/// </summary>
public sealed class BalanceLawTests
{
    private static readonly string[] Protocols = ["sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve"];

    /// <summary>Four compute-only tasks on four vCPUs, optionally all started on vCPU 0.</summary>
    private static SimulationResult FourTasksOnVcpu0(bool balance, string policy = "eevdf")
    {
        const string yaml = """
            name: four-on-one
            duration: 200ms
            guest:
              vcpus: 4
            tasks:
              - name: c
                count: 4
                loop: compute 10
            """;
        var entry = Overrides.ParseProtocols("sync")[0];
        var document = ScenarioDocument.Parse(yaml, "law.yaml");
        var run = ScenarioRunner.Prepare(document, "law.yaml", entry,
            Overrides.ParseSets(["guest.sched.balance=" + (balance ? "true" : "false"), "guest.sched.policy=" + policy]), [entry.Protocol]);

        // Forked on vCPU 0 and not pinned: only the balancer can spread them.
        var machine = run.Setup.Machine with { Tasks = [.. run.Setup.Machine.Tasks.Select(t => t with { Vcpu = 0 })] };
        return new Simulator(run.Setup with { Machine = machine }).Run();
    }

    [Theory]
    [InlineData("eevdf")]
    [InlineData("cfs")]
    public void RunnableTasksOnOneVcpu_SpreadSoEveryVcpuIsBusy(string policy)
    {
        var on = FourTasksOnVcpu0(balance: true, policy);
        var task = on.Task("c");

        // Each idle vCPU pulls one task (new-idle or its first periodic balance, within a tick or two).
        Assert.InRange(task.Migrations, 3, 12);
        Assert.True(on.VcpuIdleNs < on.SimulatedNs * 4 / 20, $"idle {on.VcpuIdleNs} of {on.SimulatedNs * 4}");

        // Four tasks, four vCPUs: each task gets about a whole vCPU.
        Assert.InRange(task.Share, 3.6, 4.0);

        var off = FourTasksOnVcpu0(balance: false, policy);
        Assert.Equal(0, off.Task("c").Migrations);
        // The other three run only the idle task: idle, or in the host when a guest tick wakes them from their HLT.
        Assert.Equal(off.SimulatedNs * 3, off.VcpuIdleNs + off.VcpuHostExitIdleTaskNs);
        Assert.InRange(off.Task("c").Share, 0.99, 1.0);
        Assert.True(on.WorkDone > 3 * off.WorkDone, $"{on.WorkDone} vs {off.WorkDone}");
    }

    /// <summary>
    /// Tasks that share a small set of host-absent pages and sleep on their faults. The host holds
    /// half the set, so they keep faulting on it: with 1 MiB the 64 pages fit once the guest's
    /// other pages, resident at start, are reclaimed, and the faults stop after the first few.
    /// </summary>
    private static string SharedHotSet(string pin) => $"""
        name: shared-hot
        duration: 100ms
        guest:
          vcpus: 2
        host:
          memory_limit: 128KiB
          backing: swap-nvme
        regions:
          - name: hot
            size: 256KiB
            absent: 1.0
        tasks:
          - name: w
            count: 6
            {pin}
            loop: compute 20; touch hot random
        """;

    /// <summary>
    /// For any protocol, policy and seed: with the balancer off nothing moves; with it on, what
    /// moved is counted per task and the tasks' cpu_ns still sum to the guest-visible time of the
    /// vCPUs (update_curr charges each stretch to the task current on the vCPU that ran it).
    /// </summary>
    [Fact]
    public void MovesAreCountedAndTimeIsConserved()
    {
        var gen =
            from protocol in Gen.Int[0, 4].Select(i => Protocols[i])
            from policy in Gen.Bool.Select(b => b ? "cfs" : "eevdf")
            from vcpus in Gen.Int[2, 4]
            from seed in Gen.Int[1, 1000]
            select (protocol, policy, vcpus, seed);
        gen.Sample(c =>
        {
            string[] sets = ["guest.sched.policy=" + c.policy, $"guest.vcpus={c.vcpus}", $"seed={c.seed}", "duration=40ms"];
            var on = ScenarioRuns.Run(SharedHotSet(""), c.protocol, sets);
            Assert.Equal(on.SimulatedNs * c.vcpus, on.VcpuGuestNs + on.VcpuHostExitNs + on.VcpuStalledNs + on.VcpuHaltedNs + on.VcpuIdleNs + on.VcpuStealNs);
            Assert.Equal(on.VcpuGuestNs + on.VcpuHostExitNs - on.VcpuHostExitIdleTaskNs + on.VcpuStalledNs + on.VcpuHaltedNs, on.Tasks.Sum(t => t.CpuNs));
            Assert.True(on.Task("w").Migrations >= 0);

            var off = ScenarioRuns.Run(SharedHotSet(""), c.protocol, [.. sets, "guest.sched.balance=false"]);
            Assert.Equal(0, off.Task("w").Migrations);
            Assert.Equal(off.VcpuGuestNs + off.VcpuHostExitNs - off.VcpuHostExitIdleTaskNs + off.VcpuStalledNs + off.VcpuHaltedNs, off.Tasks.Sum(t => t.CpuNs));

            var pinned = ScenarioRuns.Run(SharedHotSet("vcpu: 0"), c.protocol, sets);
            Assert.Equal(0, pinned.Task("w").Migrations);
        }, iter: 8, threads: 1);
    }

    /// <summary>
    /// KVM looks a faulting gfn up in the faulting vCPU's hash only (kvm_find_async_pf_gfn on
    /// vcpu->arch.apf.gfns). On one vCPU a second access to a queued gfn is a repeated fault (the
    /// artificial halt) and never a second fetch; spread over vCPUs, the same accesses start
    /// duplicate work. Each is counted: apf_repeated_fault, apf_duplicate_work.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void PerVcpuGfnHash_OneVcpuRepeatsAndSpreadDuplicates(string protocol)
    {
        long repeated = 0, duplicates = 0, moves = 0;
        for (var seed = 1; seed <= 4; seed++)
        {
            var together = ScenarioRuns.Run(SharedHotSet("vcpu: 0"), protocol, $"seed={seed}");
            Assert.Equal(0, Count(together, "apf_duplicate_work"));
            repeated += Count(together, "apf_repeated_fault");

            var spread = ScenarioRuns.Run(SharedHotSet(""), protocol, $"seed={seed}");
            duplicates += Count(spread, "apf_duplicate_work");
            moves += spread.Task("w").Migrations;
        }

        Assert.True(repeated > 0, "one vCPU: same-gfn accesses must hit its hash");
        Assert.True(duplicates > 0, "several vCPUs: same-gfn accesses must start duplicate work");
        Assert.True(moves > 0, "the sleeping and waking tasks must be moved");
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void OneVcpu_NeverDuplicatesNorMoves(string protocol)
    {
        var r = ScenarioRuns.Run(SharedHotSet(""), protocol, "guest.vcpus=1");
        Assert.Equal(0, Count(r, "apf_duplicate_work"));
        Assert.Equal(0, r.Task("w").Migrations);
    }

    private static long Count(SimulationResult r, string signal)
    {
        foreach (var (name, value) in r.Counters.Signals.Snapshot())
        {
            if (name == signal)
            {
                return value;
            }
        }

        throw new KeyNotFoundException(signal);
    }
}
