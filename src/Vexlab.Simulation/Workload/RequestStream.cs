using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Workload;

/// <summary>
/// An open-loop request stream (a task's <c>arrivals: poisson RATE</c>): requests arrive at
/// exponential intervals whatever the guest is doing, wait in a backlog while every worker (the
/// task's instances) is busy, and each is done when its worker finishes one pass of the loop. Its
/// latency runs from arrival to that pass's end, so it includes the queueing that a slow fault
/// causes behind it: the figure a latency SLO is about. The backlog holds
/// <see cref="BacklogCapacity"/> requests (net.core.somaxconn's default since Linux 5.4,
/// 19f92a030ca6d772ab44b22ee6a01378a8cb32d4); arrivals beyond it are dropped and counted.
/// </summary>
public sealed class RequestStream
{
    public const int BacklogCapacity = 4096;

    private readonly double _meanIntervalNs;
    private readonly long[] _backlog = new long[BacklogCapacity];
    private int _head;
    private int _count;
    private SimRandom _rng;
    private long _inSystem;
    private long _lastChangeNs;
    private double _inSystemArea;

    // The exact time of the last arrival drawn (ns from the run's start).
    private double _clockNs;

    public RequestStream(double meanIntervalNs, SimRandom rng)
    {
        _meanIntervalNs = meanIntervalNs;
        _rng = rng;
    }

    /// <summary>Requests that arrived (dropped ones included).</summary>
    public long Arrived { get; private set; }

    /// <summary>Requests the full backlog turned away.</summary>
    public long Dropped { get; private set; }

    /// <summary>Requests a worker finished.</summary>
    public long Completed => Latency.Count;

    /// <summary>Arrival to completion of each finished request.</summary>
    public LatencyRecorder Latency { get; } = new();

    /// <summary>Requests waiting for a worker now.</summary>
    public int Waiting => _count;

    /// <summary>
    /// The time-average number of requests in the system (waiting or served) from 0 to
    /// <paramref name="now"/>: Little's L, measured apart from the latencies (L = lambda W).
    /// </summary>
    public double MeanInSystem(long now) => now <= 0 ? 0 : (_inSystemArea + ((double)_inSystem * (now - _lastChangeNs))) / now;

    /// <summary>
    /// Time to the next arrival: exponential, so arrivals are a Poisson process. The arrival clock
    /// is kept exact and each arrival lands on its nanosecond by rounding, so the intervals average
    /// the mean. Each interval was truncated and raised to 1 ns, about 0.5 ns short on average and
    /// too long below a few ns: poisson 100000000/s gave 311,943 arrivals in three 1 ms runs
    /// against 300,000 (22 standard errors high), and poisson 1000000000/s, at most one a
    /// nanosecond, 493,852 in three 200 us runs against 600,000. Two arrivals may share a nanosecond.
    /// </summary>
    public long NextIntervalNs()
    {
        var previous = (long)Math.Round(_clockNs);
        _clockNs += -Math.Log(_rng.NextOpenUnitDouble()) * _meanIntervalNs;
        return (long)Math.Round(_clockNs) - previous;
    }

    /// <summary>A request arrived at <paramref name="now"/> and no worker is free: it waits (or is dropped).</summary>
    public void Enqueue(long now)
    {
        if (_count == BacklogCapacity)
        {
            Dropped++;
            InSystem(now, -1);
            return;
        }

        _backlog[(_head + _count) % BacklogCapacity] = now;
        _count++;
    }

    /// <summary>Counts an arrival at <paramref name="now"/> (before it is handed to a worker, queued or dropped).</summary>
    public void Arrive(long now)
    {
        Arrived++;
        InSystem(now, +1);
    }

    /// <summary>The oldest waiting request's arrival time, taken off the backlog; false when none waits.</summary>
    public bool TryDequeue(out long arrivedNs)
    {
        if (_count == 0)
        {
            arrivedNs = 0;
            return false;
        }

        arrivedNs = _backlog[_head];
        _head = (_head + 1) % BacklogCapacity;
        _count--;
        return true;
    }

    /// <summary>A worker finished the request that arrived at <paramref name="arrivedNs"/>.</summary>
    public void Complete(long arrivedNs, long now)
    {
        Latency.Record(Math.Max(now - arrivedNs, 1));
        InSystem(now, -1);
    }

    private void InSystem(long now, int change)
    {
        _inSystemArea += (double)_inSystem * (now - _lastChangeNs);
        _lastChangeNs = now;
        _inSystem += change;
    }
}
