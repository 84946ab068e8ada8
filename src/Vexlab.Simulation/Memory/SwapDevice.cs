namespace Vexlab.Simulation.Memory;

/// <summary>
/// The host's swap device, shared by every vCPU's faults: <c>host.swap.queue_depth</c> requests in
/// service at once (blk-mq's nr_requests, /sys/block/DEV/queue/nr_requests), the rest wait in FIFO
/// order; each read then moves its page over a link of <c>host.swap.bandwidth</c> bytes per
/// second, one transfer at a time. Requests arrive in time order (the driver submits them as the
/// event loop reaches them), so keeping when each slot and the link come free is an exact FCFS
/// multi-server queue, with no event of its own.
/// <para>
/// Its busy time and waits are counted within the run: a request is computed whole when it is submitted, so one
/// queued behind a saturated device can start, wait and finish long after the run's end (a 30 ms swap-overcommit run
/// under sync with one slot counted 328,667,323 ns busy and a 324,663,594 ns wait). Requests not over by the clock
/// (<see cref="Advance"/>) are kept, and <see cref="Close"/> cuts them at the run's end: a request still waiting
/// there counts its wait so far, one in service its service so far, as iostat's %util and await over the interval do.
/// </para>
/// </summary>
public sealed class SwapDevice
{
    private readonly long[] _slotFree;
    private readonly long _transferNs;
    private readonly Queue<Request> _open = new();
    private long _linkFree;
    private long _end = long.MaxValue;
    private long _closedWaitNs;
    private long _closedMaxWaitNs;
    private long _closedBusyNs;

    /// <param name="queueDepth">Requests in service at once; 0: no limit (every request starts at once).</param>
    /// <param name="bandwidthBytesPerSecond">Link bandwidth; 0: no transfer time.</param>
    /// <param name="pageBytes">Bytes one request moves.</param>
    public SwapDevice(int queueDepth, long bandwidthBytesPerSecond, long pageBytes)
    {
        _slotFree = new long[Math.Max(0, queueDepth)];
        _transferNs = bandwidthBytesPerSecond > 0 ? Math.Max(1, (long)Math.Ceiling(pageBytes * 1e9 / bandwidthBytesPerSecond)) : 0;
    }

    /// <summary>Of <see cref="Requests"/>, the writes (reclaim's pageout of dirty pages).</summary>
    public long Writes { get; private set; }

    /// <summary>A write of one page submitted at <paramref name="now"/>, the clock's time (reclaim's pageout): when it completes.</summary>
    public long SubmitWrite(long now, long serviceNs)
    {
        Advance(now);
        Writes++;
        return Submit(now, serviceNs, 1);
    }

    /// <summary>Requests submitted.</summary>
    public long Requests { get; private set; }

    /// <summary>Summed time requests waited for a slot or the link (not their service), up to the run's end once closed.</summary>
    public long WaitNs
    {
        get
        {
            var sum = _closedWaitNs;
            foreach (var r in _open)
            {
                sum += r.Wait(_end);
            }

            return sum;
        }
    }

    /// <summary>The longest such wait, up to the run's end once closed.</summary>
    public long MaxWaitNs
    {
        get
        {
            var max = _closedMaxWaitNs;
            foreach (var r in _open)
            {
                max = Math.Max(max, r.Wait(_end));
            }

            return max;
        }
    }

    /// <summary>Summed service time (what the device was busy with, summed over slots), up to the run's end once closed.</summary>
    public long BusyNs
    {
        get
        {
            var sum = _closedBusyNs;
            foreach (var r in _open)
            {
                sum += r.Busy(_end);
            }

            return sum;
        }
    }

    /// <summary>When the last read submitted so far completes.</summary>
    public long LastDoneNs { get; private set; }

    public double MeanWaitNs => Requests == 0 ? 0 : (double)WaitNs / Requests;

    /// <summary>
    /// The clock is at <paramref name="now"/>: requests over by then are counted whole and dropped. A request may be
    /// submitted after the clock (a fault's read after its direct reclaim), so only the clock, never a submission,
    /// says what is surely within the run.
    /// </summary>
    public void Advance(long now)
    {
        while (_open.TryPeek(out var r) && r.Done <= now)
        {
            _open.Dequeue();
            var wait = r.Wait(long.MaxValue);
            _closedWaitNs += wait;
            _closedMaxWaitNs = Math.Max(_closedMaxWaitNs, wait);
            _closedBusyNs += r.Busy(long.MaxValue);
        }
    }

    /// <summary>The run ended at <paramref name="endNs"/>: waits and busy time count up to there.</summary>
    public void Close(long endNs)
    {
        Advance(endNs);
        _end = endNs;
    }

    /// <summary>A read submitted at <paramref name="now"/> that the device serves in <paramref name="serviceNs"/>: when it completes.</summary>
    public long Submit(long now, long serviceNs) => Submit(now, serviceNs, 1);

    /// <summary>A request of <paramref name="pages"/> pages (a readahead cluster): one service, then each page over the link.</summary>
    public long Submit(long now, long serviceNs, int pages)
    {
        Requests++;
        var start = now;
        var slot = -1;
        if (_slotFree.Length > 0)
        {
            // The slot that comes free first (FCFS: this request is next in line).
            slot = 0;
            for (var i = 1; i < _slotFree.Length; i++)
            {
                if (_slotFree[i] < _slotFree[slot])
                {
                    slot = i;
                }
            }

            start = Math.Max(now, _slotFree[slot]);
        }

        var served = start + serviceNs;
        var done = served;
        var transfer = _transferNs * Math.Max(1, pages);
        if (transfer > 0)
        {
            var transferStart = Math.Max(served, _linkFree);
            done = transferStart + transfer;
            _linkFree = done;
        }

        if (slot >= 0)
        {
            // The slot is held until the page has left the device.
            _slotFree[slot] = done;
        }

        // Waited: for a slot (now to start), then for the link (served to the transfer's start).
        _open.Enqueue(new Request(now, start, served, done - transfer, done));
        LastDoneNs = Math.Max(LastDoneNs, done);
        return done;
    }

    /// <summary>One request's times: submitted, service started, service over, transfer started, done.</summary>
    private readonly record struct Request(long Submit, long Start, long Served, long TransferStart, long Done)
    {
        /// <summary>Its wait for a slot and for the link before <paramref name="end"/>.</summary>
        public long Wait(long end) => Within(Submit, Start, end) + Within(Served, TransferStart, end);

        /// <summary>Its service before <paramref name="end"/>.</summary>
        public long Busy(long end) => Within(Start, Served, end);

        private static long Within(long from, long to, long end) => Math.Max(0, Math.Min(to, end) - Math.Min(from, end));
    }
}
