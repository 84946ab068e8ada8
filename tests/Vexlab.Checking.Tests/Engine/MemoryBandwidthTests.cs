using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>The memory-copy baseline of <c>bench --checker</c> counts what it copied, with every thread.</summary>
public sealed class MemoryBandwidthTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Every_thread_copies_its_buffer_every_round(int threads)
    {
        var result = MemoryBandwidth.Copy(threads, bytesPerThread: 1 << 20, rounds: 3);
        Assert.Equal(threads, result.Threads);
        Assert.Equal(threads * (1L << 20) * 3, result.BytesCopied);
        Assert.True(result.Elapsed > TimeSpan.Zero);
        Assert.True(result.BytesPerSecond > 0);
    }
}
