using CsCheck;
using Vexlab.Model.Protocols;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A closed loop: N users, each computing a request of demand D and then thinking (sleeping) for Z, on M vCPUs.
/// Operational analysis (Denning and Buzen, "The Operational Analysis of Queueing Network Models", 1978) owes it
/// laws that need no distribution: the interactive response time law N = X (R + Z), with X the passes a second and
/// R a pass's running and runnable time, and the bound X &lt;= min(M / D, N / (D + Z)) it gives with the utilisation
/// law. Over a finite run the response time law holds up to the pass each user is in at the end.
/// </summary>
public sealed class ClosedLoopLawTests(ITestOutputHelper output)
{
    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    [Fact]
    public void UsersThatComputeAndThink_ObeyTheResponseTimeLawAndTheAsymptoticBounds()
    {
        var gen =
            from protocol in Gen.Int[0, 4].Select(i => Protocols[i])
            from policy in Gen.Bool.Select(b => b ? "cfs" : "eevdf")
            from vcpus in Gen.Int[1, 3]
            from users in Gen.Int[1, 12]
            from demandUs in Gen.Int[20, 2000]
            from thinkUs in Gen.Int[50, 5000]
            from seed in Gen.Int[1, 1000]
            select (protocol, policy, vcpus, users, demandUs, thinkUs, seed);
        gen.Sample(c =>
        {
            var yaml = $"name: closed\nduration: 100ms\nguest:\n  vcpus: {c.vcpus}\ntasks:\n  - name: u\n    count: {c.users}\n    loop: compute {c.demandUs}us; sleep {c.thinkUs}us\n";
            var r = ScenarioRuns.Run(yaml, c.protocol, "guest.sched.policy=" + c.policy, $"seed={c.seed}");
            var u = r.Task("u");
            var t = r.SimulatedNs;
            var z = c.thinkUs * 1_000L;
            var passes = u.WorkDone;
            Assert.True(passes > 0, $"{c}: no pass");

            // Each user's life is running, runnable or asleep: N T = cpu + wait + asleep. Every finished pass slept Z
            // once its hrtimer was armed, and the pass a user is in at the end has slept between 0 and Z of its own,
            // so the time neither running nor runnable is P Z to (P + N) Z.
            var asleep = (c.users * t) - u.CpuNs - u.WaitNs;
            output.WriteLine($"{c}: {passes} passes, cpu {u.CpuNs}, wait {u.WaitNs}, asleep {asleep} (P Z = {passes * z})");
            Assert.InRange(asleep, passes * z, (passes + c.users) * z);

            // The utilisation law's bound, X D <= M, in whole nanoseconds: with D the CPU a pass took (its compute and
            // the wakeup's kernel work), the users' CPU is at most the vCPUs' time. With the law above it bounds the
            // throughput by min(M / D, N / (D + Z)).
            Assert.True(u.CpuNs >= passes * c.demandUs * 1_000L, $"{c}: {passes} passes in {u.CpuNs} ns of CPU");
            Assert.True(u.CpuNs <= c.vcpus * t, $"{c}: {u.CpuNs} ns of CPU in {c.vcpus} x {t}");
            Assert.True(u.CpuNs + (passes * z) <= c.users * t, $"{c}: {passes} passes of D + Z, more than N users can make in the run");
        }, iter: 24, threads: 1);
    }
}
