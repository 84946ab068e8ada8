using Vexlab.Simulation.Engine;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// An open-loop request stream served by one worker is a single-server queue, so its mean latency must be what
/// queueing theory gives for its arrival process and service.
/// </summary>
public sealed class QueueingLawTests(ITestOutputHelper output)
{
    /// <summary>
    /// One worker on one vCPU, no tick (the guest's or the host's), nothing host-absent: each request's service is the
    /// pass's compute, the same for every request but for the wakeup of an idle worker.
    /// </summary>
    private static string OneWorker(string rate, string service) => Workers(1, rate, service);

    /// <summary>As <see cref="OneWorker"/> with <paramref name="workers"/> workers, each on a vCPU of its own, sharing the backlog.</summary>
    private static string Workers(int workers, string rate, string service) => $"""
        name: workers
        duration: 3s
        guest:
          tick: 0
          vcpus: {workers}
        host:
          hz: 0
        tasks:
          - name: web
            count: {workers}
            arrivals: poisson {rate}
            loop: compute {service}
        """;

    /// <summary>
    /// Pollaczek-Khinchine for M/D/1: with Poisson arrivals at rate lambda and a fixed service S (rho = lambda S &lt; 1),
    /// the mean latency is W(S) = S + rho S / (2 (1 - rho)). The worker's service is not quite fixed: one that found
    /// the worker asleep also waits for its wakeup (the idle vCPU's exit, the wake), so the first request of a busy
    /// period takes S_hi, the latency of a request at a load so light that none queues, and the rest take S_lo, the
    /// vCPU's busy time per request (the utilisation law, U = X S). Lindley's recursion W_n+1 = max(0, W_n + S_n - A_n)
    /// is monotone in every S_n, so the mean latency lies between W(S_lo) and W(S_hi), within 3 % for three seeds'
    /// standard error; and below M/M/1's S_lo + rho S_lo / (1 - rho), which doubles the queueing.
    /// </summary>
    [Theory]
    [InlineData("2000/s", 0.2)]
    [InlineData("5000/s", 0.5)]
    [InlineData("8000/s", 0.8)]
    public void OneWorker_PoissonArrivals_FixedService_WaitsAsMD1(string rate, double rho)
    {
        var light = ScenarioRuns.Run(OneWorker("100/s", "100us"), "sync").Task("web").Requests!;
        Assert.True(light.Completed > 200 && light.Latency.P50 >= 100_000);
        double sum = 0, busy = 0;
        long n = 0, arrived = 0, simulated = 0;
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var r = ScenarioRuns.Run(OneWorker(rate, "100us"), "sync", $"seed={seed}");
            var web = r.Task("web").Requests!;
            Assert.Equal(0, web.Dropped);
            sum += web.Latency.Mean * web.Latency.Count;
            n += web.Latency.Count;
            arrived += web.Arrived;
            simulated += r.SimulatedNs;
            busy += r.SimulatedNs - r.VcpuIdleNs - r.VcpuHostExitIdleTaskNs;
        }

        var lambda = (double)arrived / simulated;
        var low = busy / n;
        var high = (double)light.Latency.P50;
        double Md1(double s) => s + (lambda * s * s / (2 * (1 - (lambda * s))));
        var mm1 = low + (lambda * low * low / (1 - (lambda * low)));
        var mean = sum / n;
        output.WriteLine($"rho {rho}: {n} requests, service {low:F0}..{high:F0} ns, mean latency {mean:F0} ns, M/D/1 {Md1(low):F0}..{Md1(high):F0}, M/M/1 {mm1:F0}");
        Assert.InRange(low, 100_000, high);
        Assert.InRange(high, 100_000, 115_000);
        Assert.InRange(lambda * low, rho * 0.95, rho * 1.08);
        Assert.InRange(mean, Md1(low) * 0.97, Md1(high) * 1.03);
        Assert.True(rho < 0.5 || mean < mm1, $"{mean} ns, as long as M/M/1's {mm1}");
    }

    /// <summary>
    /// c workers on c vCPUs serving one FIFO backlog are an M/D/c queue, which has no closed form; its mean latency is
    /// taken here from the Kiefer-Wolfowitz recursion (the sorted vector of the servers' remaining work: each arrival
    /// joins the least loaded server, then the vector drains by the interval to the next), 400,000 requests at the
    /// run's measured rate (a fixed seed: the same figure every run). The recursion is monotone in every service time, so with services between S_lo (the
    /// vCPUs' busy time per request) and S_hi (a request's latency at a load so light that none queues, its worker's
    /// wakeup included), as for M/D/1 above, the mean latency lies between the queue's at S_lo and at S_hi. The
    /// shared backlog is also worth something: the mean is below that of c separate M/D/1 queues, each with a c-th
    /// of the arrivals (a request that waits behind one worker while another is free would lose it).
    /// </summary>
    [Theory]
    [InlineData(2, "14000/s", 0.7)]
    [InlineData(3, "24000/s", 0.8)]
    public void SharedBacklog_PoissonArrivals_FixedService_WaitsAsMDc(int workers, string rate, double rho)
    {
        var light = ScenarioRuns.Run(Workers(workers, "100/s", "100us"), "sync").Task("web").Requests!;
        var r = ScenarioRuns.Run(Workers(workers, rate, "100us"), "sync", "duration=1500ms");
        var web = r.Task("web").Requests!;
        Assert.Equal(0, web.Dropped);
        var n = web.Latency.Count;
        var lambda = (double)web.Arrived / r.SimulatedNs;
        var low = (double)((r.SimulatedNs * workers) - r.VcpuIdleNs - r.VcpuHostExitIdleTaskNs) / n;
        var high = (double)light.Latency.P50;
        var mean = web.Latency.Mean;
        double Md1(double s, double l) => s + (l * s * s / (2 * (1 - (l * s))));
        var split = Md1(low, lambda / workers);
        output.WriteLine($"{workers} workers, rho {rho}: {n} requests, service {low:F0}..{high:F0} ns, mean latency {mean:F0} ns, M/D/{workers} {Mdc(lambda, low, workers):F0}..{Mdc(lambda, high, workers):F0}, {workers} x M/D/1 {split:F0}");
        Assert.InRange(high, 100_000, 115_000);
        Assert.InRange(low, 100_000, high);
        Assert.InRange(lambda * low / workers, rho * 0.95, rho * 1.08);
        Assert.InRange(mean, Mdc(lambda, low, workers) * 0.97, Mdc(lambda, high, workers) * 1.03);
        Assert.True(mean < split, $"{mean:F0} ns, no better than {workers} separate queues' {split:F0}");
    }

    /// <summary>The mean latency (wait and service) of an M/D/c queue with arrival rate <paramref name="lambda"/> a ns and service <paramref name="service"/> ns.</summary>
    private static double Mdc(double lambda, double service, int servers)
    {
        const int Requests = 400_000;
        var rng = new SimRandom(42);
        var work = new double[servers];
        double total = 0;
        for (var i = 0; i < Requests; i++)
        {
            Array.Sort(work);
            total += work[0] + service;
            work[0] += service;
            var interval = -Math.Log(rng.NextOpenUnitDouble()) / lambda;
            for (var k = 0; k < servers; k++)
            {
                work[k] = Math.Max(0, work[k] - interval);
            }
        }

        return total / Requests;
    }
}
