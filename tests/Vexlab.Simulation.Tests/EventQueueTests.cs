using Vexlab.Simulation.Engine;

namespace Vexlab.Simulation.Tests;

public class EventQueueTests
{
    [Fact]
    public void PopsInTimeOrder()
    {
        var q = new EventQueue(4);
        q.Schedule(0, 30);
        q.Schedule(1, 10);
        q.Schedule(2, 20);
        q.Schedule(3, 5);
        Assert.Equal(new[] { 3, 1, 2, 0 }, Drain(q).Select(e => e.Agent));
    }

    [Fact]
    public void Ties_AreFifoBySchedulingOrder()
    {
        var q = new EventQueue(5);
        foreach (var a in new[] { 3, 1, 4, 0, 2 })
        {
            q.Schedule(a, 100);
        }

        Assert.Equal(new[] { 3, 1, 4, 0, 2 }, Drain(q).Select(e => e.Agent));
    }

    [Fact]
    public void Reschedule_ReplacesPendingEvent()
    {
        var q = new EventQueue(3);
        q.Schedule(0, 10);
        q.Schedule(1, 20);
        q.Schedule(2, 30);
        q.Schedule(0, 40); // increase key
        q.Schedule(2, 5);  // decrease key
        Assert.Equal(3, q.Count);
        Assert.Equal(40, q.ScheduledTime(0));
        var order = Drain(q).Select(e => (e.Agent, e.TimeNs)).ToArray();
        Assert.Equal(new[] { (2, 5L), (1, 20L), (0, 40L) }, order);
    }

    [Fact]
    public void Reschedule_AtSameTime_MovesBehindEarlierTies()
    {
        var q = new EventQueue(3);
        q.Schedule(0, 10);
        q.Schedule(1, 10);
        q.Schedule(2, 10);
        q.Schedule(0, 10);
        Assert.Equal(new[] { 1, 2, 0 }, Drain(q).Select(e => e.Agent));
    }

    [Fact]
    public void Cancel_RemovesAgent()
    {
        var q = new EventQueue(3);
        q.Schedule(0, 10);
        q.Schedule(1, 20);
        q.Schedule(2, 30);
        Assert.True(q.Cancel(0));
        Assert.False(q.Cancel(0));
        Assert.False(q.IsScheduled(0));
        Assert.Equal(-1, q.ScheduledTime(0));
        Assert.Equal(new[] { 1, 2 }, Drain(q).Select(e => e.Agent));
    }

    [Fact]
    public void PopEmpty_Throws_TryPopFalse()
    {
        var q = new EventQueue(1);
        Assert.Throws<InvalidOperationException>(() => q.PopMin());
        Assert.False(q.TryPopMin(out _));
    }

    [Fact]
    public void LargeRandomWorkload_MatchesSortedOracle()
    {
        const int Agents = 257;
        var q = new EventQueue(Agents);
        var rng = new SimRandom(2024);

        // Oracle: per agent (time, seq) or null; the next event is the minimum by (time, seq).
        var oracle = new (long Time, long Seq)?[Agents];
        long seq = 0;
        var popped = 0;
        for (var step = 0; step < 200_000; step++)
        {
            var op = rng.NextBelow(10);
            if (op < 6)
            {
                var agent = (int)rng.NextBelow(Agents);
                var time = (long)rng.NextBelow(1_000); // narrow range: many ties
                q.Schedule(agent, time);
                oracle[agent] = (time, seq++);
            }
            else if (op < 7)
            {
                var agent = (int)rng.NextBelow(Agents);
                Assert.Equal(oracle[agent].HasValue, q.Cancel(agent));
                oracle[agent] = null;
            }
            else
            {
                var expected = oracle.Select((e, a) => (e, a)).Where(x => x.e.HasValue)
                    .OrderBy(x => x.e!.Value.Time).ThenBy(x => x.e!.Value.Seq).Select(x => ((int, long, long)?)(x.a, x.e!.Value.Time, x.e!.Value.Seq))
                    .FirstOrDefault();
                if (expected is null)
                {
                    Assert.False(q.TryPopMin(out _));
                    continue;
                }

                Assert.True(q.TryPopMin(out var e));
                Assert.Equal(expected.Value, (e.Agent, e.TimeNs, e.Sequence));
                oracle[e.Agent] = null;
                popped++;
            }

            Assert.Equal(oracle.Count(x => x.HasValue), q.Count);
        }

        Assert.True(popped > 10_000);
    }

    [Fact]
    public void HoldLoop_PopsNonDecreasingTimes()
    {
        var q = new EventQueue(64);
        var rng = new SimRandom(1);
        for (var a = 0; a < 64; a++)
        {
            q.Schedule(a, (long)rng.NextBelow(100));
        }

        long last = -1;
        for (var i = 0; i < 50_000; i++)
        {
            var e = q.PopMin();
            Assert.True(e.TimeNs >= last);
            last = e.TimeNs;
            q.Schedule(e.Agent, e.TimeNs + (long)rng.NextBelow(100));
        }
    }

    [Fact]
    public void Baselines_RunAndAgreeOnWork()
    {
        var heap = HeapBaseline.Run(64, 10_000, 1);
        var queue = HeapBaseline.RunEventQueue(64, 10_000, 1);
        Assert.Equal(10_000, heap.Events);
        Assert.Equal(10_000, queue.Events);
        // Same seed, same (time, seq) order: both loops pop the same times.
        Assert.Equal(heap.Checksum, queue.Checksum);
    }

    private static List<ScheduledEvent> Drain(EventQueue q)
    {
        var list = new List<ScheduledEvent>();
        while (q.TryPopMin(out var e))
        {
            list.Add(e);
        }

        return list;
    }
}
