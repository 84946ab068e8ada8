namespace Vexlab.Checking.Engine;

/// <summary>How fast this machine copies memory that is not in any cache, with one or several threads at once.</summary>
public sealed record BandwidthResult(int Threads, long BytesCopied, TimeSpan Elapsed)
{
    /// <summary>Bytes copied per second, all threads together (each byte is read once and written once).</summary>
    public double BytesPerSecond => BytesCopied / Math.Max(1e-9, Elapsed.TotalSeconds);
}

/// <summary>
/// The memory system's own limit, measured in the same run as the checker. A breadth-first level is written to memory
/// once and read back once, a state record at a time, so the search moves at least one record of memory traffic a
/// state (a copy's worth: one read, one write); with records of hundreds of bytes that bounds states/s from above
/// whatever the code does, and the copy rate of two threads against one bounds what a second worker can add.
/// </summary>
public static class MemoryBandwidth
{
    /// <summary>
    /// Each of <paramref name="threads"/> threads copies its own buffer of <paramref name="bytesPerThread"/> bytes (far
    /// larger than the caches; faulted in beforehand) into another <paramref name="rounds"/> times, all at once.
    /// </summary>
    public static BandwidthResult Copy(int threads, long bytesPerThread = 64L << 20, int rounds = 6, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerThread, 4096);
        clock ??= TimeProvider.System;
        var sources = new byte[threads][];
        var targets = new byte[threads][];
        for (int t = 0; t < threads; t++)
        {
            sources[t] = HugePageArrays.Uninitialized<byte>(bytesPerThread);
            targets[t] = HugePageArrays.Uninitialized<byte>(bytesPerThread);

            // Touch every page first: the copy measures the memory, not the kernel's page-fault path.
            sources[t].AsSpan().Fill((byte)(t + 1));
            targets[t].AsSpan().Clear();
        }

        using var start = new Barrier(threads + 1);
        using var done = new CountdownEvent(threads);
        for (int t = 0; t < threads; t++)
        {
            byte[] source = sources[t];
            byte[] target = targets[t];
            var thread = new Thread(() =>
            {
                start.SignalAndWait();
                for (int r = 0; r < rounds; r++)
                {
                    source.AsSpan().CopyTo(target);
                }

                done.Signal();
            })
            { IsBackground = true, Name = "bandwidth" };
            thread.Start();
        }

        start.SignalAndWait();
        long begin = clock.GetTimestamp();
        done.Wait();
        TimeSpan elapsed = clock.GetElapsedTime(begin);
        GC.KeepAlive(sources);
        GC.KeepAlive(targets);
        return new BandwidthResult(threads, threads * bytesPerThread * rounds, elapsed);
    }
}
