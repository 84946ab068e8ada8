namespace Vexlab.Checking.Tests.Models;

public sealed class InPlaceTests
{
    [Theory]
    [InlineData("bench", "kvm-pf-int")]
    [InlineData("truncate", "kvm-pf")]
    [InlineData("reenable", "ve")]
    public void InPlaceListingAndStepsEqualTheCopyingOnes(string model, string protocol)
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest(model, protocol, [], []));
        var size = system.StateSize;
        var frontier = new List<byte[]>();
        var initial = new byte[size];
        system.WriteInitialState(initial);
        frontier.Add(initial);
        var spanActions = new ulong[system.MaxActions];
        var arrayActions = new ulong[system.MaxActions];
        var copied = new byte[size];
        var inPlace = new byte[size * 3];
        for (var i = 0; i < frontier.Count && frontier.Count < 2_000; i++)
        {
            // The state sits at an offset in a larger buffer, as in the engine's frontier.
            var holder = new byte[size * 2];
            frontier[i].CopyTo(holder, size / 2);
            var n = system.ListActions(frontier[i], spanActions);
            Assert.Equal(n, system.ListActions(holder, size / 2, arrayActions));
            Assert.Equal(spanActions.AsSpan(0, n).ToArray(), arrayActions.AsSpan(0, n).ToArray());
            for (var a = 0; a < n; a++)
            {
                var v1 = system.Apply(frontier[i], spanActions[a], copied);
                var v2 = system.Apply(holder, size / 2, spanActions[a], inPlace, size);
                Assert.Equal(v1, v2);
                Assert.Equal(copied, inPlace.AsSpan(size, size).ToArray());
                frontier.Add((byte[])copied.Clone());
            }

            // Listing and stepping never write to the source state.
            Assert.Equal(frontier[i], holder.AsSpan(size / 2, size).ToArray());
        }
    }
}
