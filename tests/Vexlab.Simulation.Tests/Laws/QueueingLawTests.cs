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
    private static string OneWorker(string rate, string service) => $"""
        name: one-worker
        duration: 3s
        guest:
          tick: 0
          vcpus: 1
        host:
          hz: 0
        tasks:
          - name: web
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
}
