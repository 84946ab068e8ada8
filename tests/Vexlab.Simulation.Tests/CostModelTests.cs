using CsCheck;
using Vexlab.Simulation.Costs;

namespace Vexlab.Simulation.Tests;

public class CostModelTests
{
    [Fact]
    public void Defaults_MatchCalibrationSection6()
    {
        var c = CostModel.Default;
        Assert.Equal(500, c.VmExitEntry);
        Assert.Equal(500, c.KvmExitHandling);
        Assert.Equal(1_000, c.Hypercall);
        Assert.Equal(3_000, c.EptViolationMinor);
        Assert.Equal(250, c.PfDelivery);
        Assert.Equal(300, c.VeDelivery);
        Assert.Equal(1_000, c.GuestPfMinor);
        Assert.Equal(1_500, c.ContextSwitch);
        Assert.Equal(750, c.ApfNotPresentGuest);
        Assert.Equal(1_500, c.ApfReadyIrq);
        Assert.Equal(1_000, c.AckMsrExit);
        Assert.Equal(1_500, c.InterruptInject);
        Assert.Equal(5_000, c.WakeHaltedVcpu);
        Assert.Equal(5_000, c.HostSwapInOverhead);
        Assert.Equal(20, c.MicroOp);
        Assert.Equal(1_000, c.ComputeUnit);
        Assert.Equal(64, CostModel.MaxAsyncPfPerVcpu);
    }

    [Fact]
    public void Table_CoversEveryKey_WithSourceAndRange()
    {
        Assert.Equal(Enum.GetValues<CostKey>().Length, CostModel.Defaults.Length);
        for (var i = 0; i < CostModel.Defaults.Length; i++)
        {
            var d = CostModel.Defaults[i];
            Assert.Equal((CostKey)i, d.Id);
            Assert.StartsWith("cost.", d.Key, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(d.Source));
            Assert.InRange(d.Nanoseconds, d.RangeLowNs, d.RangeHighNs);
        }

        Assert.Equal(CostModel.Defaults.Length, CostModel.Defaults.Select(d => d.Key).Distinct().Count());
    }

    [Fact]
    public void Scale_MultipliesEveryCost_AndRounds()
    {
        var up = CostModel.Default.Scale(1.3);
        Assert.Equal(650, up.VmExitEntry);
        Assert.Equal(26, up.MicroOp);
        Assert.Equal(975, up.ApfNotPresentGuest);
        var down = CostModel.Default.Scale(0.7);
        Assert.Equal(350, down.VmExitEntry);
        Assert.Equal(14, down.MicroOp);
        Assert.Equal(CostModel.Default, CostModel.Default.Scale(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CostModel.Default.Scale(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => CostModel.Default.Scale(-1));
    }

    [Fact]
    public void PerKeyOverride_LeavesOthersAlone()
    {
        var c = CostModel.Default.With("cost.wake_halted_vcpu", 30_000).Scale(CostKey.Hypercall, 2.0);
        Assert.Equal(30_000, c.WakeHaltedVcpu);
        Assert.Equal(2_000, c.Hypercall);
        Assert.Equal(CostModel.Default.ContextSwitch, c.ContextSwitch);
        Assert.Equal(5_000, CostModel.Default.WakeHaltedVcpu);
        Assert.NotEqual(CostModel.Default, c);
        Assert.Throws<ArgumentException>(() => CostModel.Default.With("cost.nope", 1));
    }

    [Fact]
    public void Describe_ListsValuesInForce()
    {
        var rows = CostModel.Default.With(CostKey.MicroOp, 25).Describe();
        var micro = rows.Single(r => r.Key == "cost.micro_op");
        Assert.Equal(25, micro.Nanoseconds);
        Assert.Equal(20, micro.DefaultNanoseconds);
        Assert.Equal("ns", micro.Unit);
        Assert.Contains("cost.vm_exit_entry", CostModel.Default.ToTable(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A simple exit (an external interrupt, a preemption-timer or window exit, the TSC-deadline write) is the
    /// world switch and KVM's handling of it, whatever either is set to. The laws on exits relate each charge
    /// to SimpleExit itself, so a SimpleExit that dropped the handling passed every one of them.
    /// </summary>
    [Fact]
    public void SimpleExit_IsTheWorldSwitchPlusKvmsHandling_ForAnySettings()
    {
        Gen.Select(Gen.Long[0, 1_000_000], Gen.Long[0, 1_000_000]).Sample((entry, handling) =>
        {
            var c = CostModel.Default.With("cost.vm_exit_entry", entry).With("cost.kvm_exit_handling", handling);
            Assert.Equal(entry + handling, c.SimpleExit);
        });
    }
}
