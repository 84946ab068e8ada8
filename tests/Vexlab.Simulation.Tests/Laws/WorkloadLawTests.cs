namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The workloads people run (docs/scenarios.md, Workloads): sleep, anonymous memory with a life,
/// and open-loop request arrivals, checked by laws that hold whatever the costs are.
/// </summary>
public sealed class WorkloadLawTests
{
    [Theory]
    [InlineData("1ms", "9ms", "sync")]
    [InlineData("300us", "2ms", "kvm-pf")]
    [InlineData("5ms", "5ms", "ve")]
    public void ASleepingTask_IsChargedNothingWhileAsleep(string work, string sleep, string protocol)
    {
        var yaml = $"""
            name: sleeper
            duration: 1s
            tasks:
              - name: s
                loop: compute {work}; sleep {sleep}
            """;
        var r = ScenarioRuns.Run(yaml, protocol);
        var s = r.Task("s");
        var workNs = Vexlab.Scenarios.Values.ScalarParsers.ParseDuration(work).Value;
        var sleepNs = Vexlab.Scenarios.Values.ScalarParsers.ParseDuration(sleep).Value;

        // Every finished pass slept its whole time, charged to nobody: the task's cpu_ns fits in
        // what is left, and the vCPU ran the idle task at least that long (idle, or in the host
        // with the idle task current: a guest tick's wake from the HLT is host_exit).
        Assert.True(s.WorkDone > 10);
        Assert.InRange(s.CpuNs, s.WorkDone * workNs, r.SimulatedNs - (s.WorkDone * sleepNs));
        var idleTask = r.VcpuIdleNs + r.VcpuHostExitIdleTaskNs;
        Assert.True(idleTask >= s.WorkDone * sleepNs, $"idle {r.VcpuIdleNs} + {r.VcpuHostExitIdleTaskNs} < {s.WorkDone} x {sleepNs}");

        // And it is not much more: one pass takes the two plus a few microseconds of wakeup.
        var period = workNs + sleepNs;
        Assert.InRange(s.WorkDone, (r.SimulatedNs / period) - 2, r.SimulatedNs / period);
    }

    [Fact]
    public void ASleeper_BesideAComputeTask_LeavesItTheRest()
    {
        const string Yaml = """
            name: sleeper-and-hog
            duration: 1s
            tasks:
              - name: s
                loop: compute 1ms; sleep 4ms
              - name: hog
                loop: compute 10
            """;
        var r = ScenarioRuns.Run(Yaml, "sync");
        var s = r.Task("s");
        var hog = r.Task("hog");

        // Conservation: the two share the guest-visible time; the sleeper is charged its compute
        // only (1 ms a pass), and at most 1 / 5 of the time since each pass sleeps 4 ms. It may
        // wait for the CPU after a wakeup (EEVDF preempts only for an eligible earlier deadline).
        Assert.Equal(r.SimulatedNs - r.VcpuIdleNs, s.CpuNs + hog.CpuNs, 2_000_000d);
        Assert.InRange(s.CpuNs, s.WorkDone * 1_000_000, (s.WorkDone + 1) * 1_020_000);
        Assert.InRange(s.Share, 0.10, 0.20);
        Assert.True(s.WaitNs > 0);
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf")]
    [InlineData("ve")]
    public void EveryFirstTouchOfAnAllocatedPage_TakesAGuestFault(string protocol)
    {
        const string Yaml = """
            name: alloc-free
            duration: 1s
            regions:
              - name: heap
                size: 256KiB
            tasks:
              - name: a
                loop: alloc heap; touch heap sequential 64; touch heap sequential 64; free heap
                iterations: 20
            """;
        var r = ScenarioRuns.Run(Yaml, protocol);

        // 64 pages per pass: the first sweep faults on each (zeroed, mapped), the second does not.
        Assert.Equal(20, r.Task("a").WorkDone);
        Assert.Equal(20 * 64, r.Counters.Injections[Metrics.InjectionKind.PageFault]);
    }

    [Fact]
    public void ClearPage_OfAHostAbsentPage_FaultsInKernelMode_AndTheSeedHandlerSuspends()
    {
        // The same pages, host-absent, touched by user code: fresh (alloc) or already mapped.
        static string Yaml(string loop) => $"""
            name: clear-page
            duration: 200ms
            host:
              absent_at_start: 1.0
            regions:
              - name: heap
                size: 1MiB
            tasks:
              - name: a
                loop: {loop}
                iterations: 1
            """;
        var fresh = ScenarioRuns.Run(Yaml("alloc heap; touch heap sequential 64; touch heap sequential 64"), "ve");
        var mapped = ScenarioRuns.Run(Yaml("touch heap sequential 64; touch heap sequential 64"), "ve");

        // A user touch of a mapped host-absent page: #VE in user mode, the seed's handler continues
        // (the task sleeps, the vCPU runs on). clear_page's fault is in kernel mode inside the #PF
        // handler: can_continue is false there, so the vCPU is suspended until the page is in.
        Assert.Equal(128, fresh.FaultLatency.Count);
        Assert.Equal(128, mapped.FaultLatency.Count);
        Assert.Equal(0, mapped.VcpuStalledNs);
        Assert.True(fresh.VcpuStalledNs > 0, "clear_page's #VE did not suspend the vCPU");
    }

    [Fact]
    public void Arrivals_AreAPoissonProcess()
    {
        // The count in a window is Poisson: its variance equals its mean (200 here).
        var counts = new List<double>();
        for (var seed = 1; seed <= 60; seed++)
        {
            var r = ScenarioRuns.Run(Server("poisson 2000/s", 2, "compute 10us"), "sync", "duration=100ms", $"seed={seed}");
            counts.Add(r.Task("web").Requests!.Arrived);
        }

        var mean = counts.Average();
        var variance = counts.Sum(c => (c - mean) * (c - mean)) / (counts.Count - 1);
        Assert.InRange(mean, 200 - (3 * Math.Sqrt(200.0 / counts.Count)), 200 + (3 * Math.Sqrt(200.0 / counts.Count)));

        // The sample variance of 60 Poisson(200) counts has a standard error of about 200 x sqrt(2 / 59).
        Assert.InRange(variance / mean, 0.5, 1.5);
    }

    [Theory]
    [InlineData("poisson 2000/s", 1, "sync")]
    [InlineData("poisson 5000/s", 4, "kvm-pf")]
    [InlineData("poisson 8000/s", 2, "ve")]
    public void Requests_ObeyLittlesLaw(string arrivals, int workers, string protocol)
    {
        var r = ScenarioRuns.Run(Server(arrivals, workers, "compute 50us; touch heap random"), protocol, "host.memory_limit=512KiB");
        var web = r.Task("web").Requests!;

        // L = lambda W: the time-average number in the system against arrivals per ns times mean latency.
        var lambda = (double)web.Arrived / r.SimulatedNs;
        var little = lambda * web.Latency.Mean;
        var measured = web.MeanInSystem(r.SimulatedNs);
        Assert.True(web.Completed > 1_000);
        Assert.InRange(measured, little * 0.95, little * 1.05);

        // Every request that arrived is done, waiting, dropped, or in the hands of one of the workers.
        Assert.InRange(web.Arrived - web.Completed - web.Waiting - web.Dropped, 0, workers);
        Assert.True(web.Latency.P50 <= web.Latency.P99 && web.Latency.P99 <= web.Latency.P999 && web.Latency.P999 <= web.Latency.Max);
    }

    [Fact]
    public void RequestLatency_GrowsWithLoad()
    {
        var light = ScenarioRuns.Run(Server("poisson 1000/s", 1, "compute 200us"), "sync").Task("web").Requests!;
        var heavy = ScenarioRuns.Run(Server("poisson 4000/s", 1, "compute 200us"), "sync").Task("web").Requests!;

        // A single server at utilisation 0.2 and 0.8 (M/D/1): the mean wait grows about 16-fold.
        Assert.True(light.Latency.Mean >= 200_000);
        Assert.True(heavy.Latency.Mean > 2 * light.Latency.Mean, $"{heavy.Latency.Mean} vs {light.Latency.Mean}");
        Assert.True(heavy.Latency.P99 > light.Latency.P99);
    }

    private static string Server(string arrivals, int workers, string loop) => $"""
        name: server
        duration: 1s
        regions:
          - name: heap
            size: 2MiB
        tasks:
          - name: web
            count: {workers}
            arrivals: {arrivals}
            loop: {loop}
        """;
}
