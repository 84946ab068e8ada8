using CsCheck;
using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Workload;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The request stream's own bookkeeping, driven as the simulator drives it (Arrive, then a free worker
/// takes the request or it joins the backlog; a worker that finishes takes the oldest waiting one) by
/// c workers with random service times, under loads from light to three times what they can serve.
/// </summary>
public sealed class RequestStreamLawTests
{
    /// <summary>
    /// Three laws, for any load: a request is turned away exactly when the backlog holds
    /// <see cref="RequestStream.BacklogCapacity"/> (net.core.somaxconn); every arrival is completed or
    /// dropped once the workers drain the backlog; and, the system empty at the end, the area under
    /// the number in the system is the sum of the completed requests' latencies (Little's law as an
    /// identity: a dropped request spends no time in the system, a served one its whole latency).
    /// </summary>
    [Fact]
    public void DropsOnlyWhenFull_ConservesRequests_AndTheAreaIsTheSumOfLatencies()
    {
        var gen =
            from seed in Gen.ULong
            from workers in Gen.Int[1, 4]
            from loadPercent in Gen.Int[30, 300]
            select (seed, workers, loadPercent);
        gen.Sample(c =>
        {
            var rng = new SimRandom(c.seed);
            const long MeanServiceNs = 10_000;
            var stream = new RequestStream(MeanServiceNs * 100.0 / c.loadPercent / c.workers, rng.Fork("arrivals"));
            var service = rng.Fork("service");
            var busyUntil = new long[c.workers];
            var serving = new long[c.workers];
            Array.Fill(busyUntil, long.MaxValue);
            var next = stream.NextIntervalNs();
            var arrivals = 0;
            long now = 0;
            while (true)
            {
                var w = Array.IndexOf(busyUntil, busyUntil.Min());
                var arrivalDue = arrivals < 20_000 && next <= busyUntil[w];
                if (!arrivalDue && busyUntil[w] == long.MaxValue)
                {
                    break;
                }

                if (arrivalDue)
                {
                    now = next;
                    arrivals++;
                    stream.Arrive(now);
                    next = now + stream.NextIntervalNs();
                    var free = Array.IndexOf(busyUntil, long.MaxValue);
                    if (free >= 0)
                    {
                        serving[free] = now;
                        busyUntil[free] = now + service.NextInRange(1, 2 * MeanServiceNs);
                        continue;
                    }

                    var (waiting, dropped) = (stream.Waiting, stream.Dropped);
                    stream.Enqueue(now);
                    var full = waiting == RequestStream.BacklogCapacity;
                    Assert.Equal(full ? dropped + 1 : dropped, stream.Dropped);
                    Assert.Equal(full ? waiting : waiting + 1, stream.Waiting);
                    continue;
                }

                now = busyUntil[w];
                stream.Complete(serving[w], now);
                if (stream.TryDequeue(out var arrived))
                {
                    serving[w] = arrived;
                    busyUntil[w] = now + service.NextInRange(1, 2 * MeanServiceNs);
                }
                else
                {
                    busyUntil[w] = long.MaxValue;
                }
            }

            Assert.Equal(20_000, stream.Arrived);
            Assert.Equal(stream.Arrived, stream.Completed + stream.Dropped);
            Assert.Equal(0, stream.Waiting);
            var area = stream.MeanInSystem(now) * now;
            var sum = (double)stream.Latency.Sum;
            Assert.True(Math.Abs(area - sum) <= sum * 1e-9, $"{c}: area {area} against latencies {sum}");
        }, iter: 40, threads: 1);
    }
}
