using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// A segment's chunks, taken from the front by one worker and from the back by the other, tile the segment: the front
/// worker's form one run from the segment's start, the back worker's one run to its end, wherever they met.
/// </summary>
public sealed class SegmentClaimsTests
{
    [Theory]
    [InlineData(0, 0, 1000)]
    [InlineData(100, 0, 1000)]
    [InlineData(64, 5, 70)]
    [InlineData(37, 10, 11)]
    [InlineData(0, 0, 64)]
    [InlineData(1_000_003, 17, 40_000)]
    public void One_worker_from_the_front_takes_the_segment_in_order_in_index_aligned_chunks(long start, int from, int to)
    {
        var claims = new SegmentClaims();
        claims.Reset(start, from, to);
        int expected = from;
        while (claims.TakeFront(out int a, out int b))
        {
            Assert.Equal(expected, a);
            Assert.True(b > a && b - a <= SegmentClaims.ChunkStates);

            // Every chunk but the last ends on a multiple of the level's index stride.
            Assert.True(b == to || (start + b) % SegmentClaims.ChunkStates == 0);
            expected = b;
        }

        Assert.Equal(to, expected);
        Assert.False(claims.TakeBack(out _, out _));
    }

    [Fact]
    public void An_empty_segment_has_no_chunks()
    {
        var claims = new SegmentClaims();
        claims.Reset(12, 30, 30);
        Assert.False(claims.TakeFront(out _, out _));
        Assert.False(claims.TakeBack(out _, out _));
    }

    [Fact]
    public void Front_and_back_taken_in_any_interleaving_meet_without_gap_or_overlap()
    {
        var random = new Random(11);
        var claims = new SegmentClaims();
        for (int trial = 0; trial < 500; trial++)
        {
            long start = random.Next(0, 10_000);
            int from = random.Next(0, 3_000);
            int to = from + random.Next(0, 3_000);
            claims.Reset(start, from, to);
            int frontEnd = from;
            int backStart = to;
            while (true)
            {
                bool front = random.Next(2) == 0;
                int a;
                int b;
                if (!(front ? claims.TakeFront(out a, out b) : claims.TakeBack(out a, out b)))
                {
                    break;
                }

                if (front)
                {
                    Assert.Equal(frontEnd, a);
                    frontEnd = b;
                }
                else
                {
                    Assert.Equal(backStart, b);
                    backStart = a;
                }
            }

            Assert.Equal(frontEnd, backStart);
        }
    }

    [Fact]
    public void Two_threads_racing_tile_each_segment()
    {
        var claims = new SegmentClaims();
        var random = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            int from = random.Next(0, 100);
            int to = from + random.Next(0, 50_000);
            claims.Reset(random.Next(0, 1_000), from, to);
            var taken = new List<(int From, int To)>[2];
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, w =>
            {
                taken[w] = [];
                while (w == 0 ? claims.TakeFront(out int a, out int b) : claims.TakeBack(out a, out b))
                {
                    taken[w].Add((a, b));
                }
            });

            // The front's chunks run up from the start, the back's down from the end, and they meet.
            int at = from;
            foreach (var (a, b) in taken[0])
            {
                Assert.Equal(at, a);
                at = b;
            }

            int back = to;
            foreach (var (a, b) in taken[1])
            {
                Assert.Equal(back, b);
                back = a;
            }

            Assert.Equal(at, back);
        }
    }
}
