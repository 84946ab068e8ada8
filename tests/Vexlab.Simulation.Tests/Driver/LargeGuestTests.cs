using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Tests.Driver;

/// <summary>A 64 GiB guest (16 Mi pages of 4 KiB) fits: 4 bytes of model state a page.</summary>
public sealed class LargeGuestTests
{
    [Fact]
    public void SixtyFourGiBGuest_RunsInWellUnderOneGiB()
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var result = BuiltinRuns.Run(
            "swap-overcommit", "kvm-pf-int", 1.0,
            "guest.memory=64GiB", "regions[0].size=64GiB", "host.memory_limit=32GiB", "duration=20ms");
        var after = GC.GetTotalMemory(forceFullCollection: false);
        Assert.Equal(GuestOutcome.Running, result.Outcome);
        Assert.True(result.Events > 0);
        Assert.True(after - before < 1L << 30, $"{after - before:N0} bytes");
    }
}
