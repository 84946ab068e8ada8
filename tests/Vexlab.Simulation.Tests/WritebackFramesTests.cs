using CsCheck;
using Vexlab.Simulation.Memory;

namespace Vexlab.Simulation.Tests;

/// <summary>
/// The frames under writeback against a plain list of completion times: after any sequence of writes and clock
/// advances it holds exactly the writes not complete yet, and the k-th earliest completion is the list's k-th
/// smallest; a full set takes its earliest write as done.
/// </summary>
public sealed class WritebackFramesTests
{
    [Fact]
    public void MatchesAListOfCompletionTimes()
    {
        var gen = Gen.Select(Gen.Int[0, 2], Gen.Long[0, 1000]).Array[1, 200];
        gen.Sample(ops =>
        {
            var frames = new WritebackFrames(16);
            var list = new List<long>();
            foreach (var (kind, time) in ops)
            {
                if (kind == 0)
                {
                    if (list.Count == 16)
                    {
                        list.Remove(list.Min());
                    }

                    frames.Add(time);
                    list.Add(time);
                }
                else if (kind == 1)
                {
                    frames.CompleteUntil(time);
                    list.RemoveAll(d => d <= time);
                }

                Assert.Equal(list.Count, frames.Count);
                var sorted = list.Order().ToList();
                for (var k = 1; k <= list.Count; k++)
                {
                    Assert.Equal(sorted[k - 1], frames.KthDone(k));
                }
            }
        }, iter: 200);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void KthDone_OutsideOneToCount_IsRefused(int k)
    {
        var frames = new WritebackFrames(8);
        frames.Add(5);
        frames.Add(3);
        frames.Add(9);
        Assert.Throws<ArgumentOutOfRangeException>(() => frames.KthDone(k));
        Assert.Equal(9, frames.KthDone(3));
    }
}
