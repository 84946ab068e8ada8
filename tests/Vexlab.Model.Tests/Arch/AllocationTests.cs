using Vexlab.Model.Arch;

namespace Vexlab.Model.Tests.Arch;

/// <summary>The rule functions sit on the simulator's hot path: they must not allocate.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void RuleFunctions_DoNotAllocate()
    {
        var sink = Exercise();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            sink += Exercise();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, sink);
    }

    private static int Exercise()
    {
        var sum = 0;
        var state = new InterruptState(true, InterruptShadow.None, false, 0x20, 0x31);
        for (var first = 0; first <= 21; first++)
        {
            if (first == 15)
            {
                continue;
            }

            sum += (int)Vectors.Classify(first) + (Vectors.IsReserved(first) ? 1 : 0);
            sum += Vectors.Mnemonic(first).Length;
            for (var second = 0; second <= 21; second++)
            {
                if (second is not 15 and not 8)
                {
                    sum += (int)DoubleFault.Combine(first, second) + (int)DoubleFault.Combine(first, second, DoubleFaultRules.Kvm);
                }
            }
        }

        for (var v = 0; v < 256; v++)
        {
            sum += EventBlocking.CanAcceptInterrupt(state, (byte)v) ? 1 : 0;
        }

        sum += EventBlocking.CanAcceptNmi(state) ? 1 : 0;
        sum += EventBlocking.ProcessorPriority(0x35, 0x41);
        var after = GateDelivery.AfterIret(GateDelivery.AfterDelivery(state, Vectors.NMI, isNmi: true), savedIf: true);
        sum += after.If ? 1 : 0;
        var c = new VeConditions(true, false, true, false, 0);
        sum += (int)VeConversion.Decide(c, out var blocker) + (int)blocker;
        sum += (int)VeInfo.WrittenOnDelivery(1, 2, 3, 4).Busy & 1;
        sum += Vectors.TryParse("#PF", out var pf) ? pf : 0;
        return sum;
    }
}
