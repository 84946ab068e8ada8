namespace Vexlab.Simulation.Memory;

/// <summary>
/// The host's swap device, shared by every vCPU's faults: <c>host.swap.queue_depth</c> requests in
/// service at once (blk-mq's nr_requests, /sys/block/DEV/queue/nr_requests), the rest wait in FIFO
/// order; each read then moves its page over a link of <c>host.swap.bandwidth</c> bytes per
/// second, one transfer at a time. Requests arrive in time order (the driver submits them as the
/// event loop reaches them), so keeping when each slot and the link come free is an exact FCFS
/// multi-server queue, with no event of its own.
/// </summary>
public sealed class SwapDevice
{
    private readonly long[] _slotFree;
    private readonly long _transferNs;
    private long _linkFree;

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

    /// <summary>A write of one page submitted at <paramref name="now"/>: when it completes.</summary>
    public long SubmitWrite(long now, long serviceNs)
    {
        Writes++;
        return Submit(now, serviceNs, 1);
    }

    /// <summary>Requests submitted.</summary>
    public long Requests { get; private set; }

    /// <summary>Summed time requests waited for a slot or the link (not their service).</summary>
    public long WaitNs { get; private set; }

    /// <summary>The longest such wait.</summary>
    public long MaxWaitNs { get; private set; }

    /// <summary>Summed service time (what the device was busy with, summed over slots).</summary>
    public long BusyNs { get; private set; }

    /// <summary>When the last read submitted so far completes.</summary>
    public long LastDoneNs { get; private set; }

    public double MeanWaitNs => Requests == 0 ? 0 : (double)WaitNs / Requests;

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

        var wait = done - now - serviceNs - transfer;
        WaitNs += wait;
        MaxWaitNs = Math.Max(MaxWaitNs, wait);
        BusyNs += serviceNs;
        LastDoneNs = Math.Max(LastDoneNs, done);
        return done;
    }
}
