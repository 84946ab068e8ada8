using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// The result's exits and injections count what the trace shows, kind for kind: kvm_exit per reason is
/// exits.REASON; kvm_inj_exception and kvm_inj_virq are the injections KVM makes (the async-PF #PFs, the page-ready
/// interrupt, other interrupts, #DF), each in one row of injected; vexlab:ve_delivered is #VE.
/// </summary>
public class InjectionCrossCheckTests
{
    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    [Theory]
    [MemberData(nameof(Runs))]
    public void ExitsAndInjections_CountTheTracesEvents(string builtin, string protocol) =>
        AssertCountsAgree(builtin, protocol, BuiltinTraces.Duration);

    /// <summary>Long enough for page-ready under every async protocol: kvm-pf (by #PF) and kvm-pf-int (by interrupt).</summary>
    [Theory]
    [InlineData("postcopy", "kvm-pf")]
    [InlineData("postcopy", "kvm-pf-int")]
    [InlineData("swap-overcommit", "ve")]
    public void ExitsAndInjections_CountTheTracesEvents_OverPageReady(string builtin, string protocol)
    {
        var result = AssertCountsAgree(builtin, protocol, "duration=20ms");
        Assert.True(result.Counters.Injections[InjectionKind.ApfReady] + result.Counters.Signals[SignalKind.VeWakeup] > 0, "no page-ready or wakeup to compare");
    }

    /// <summary>
    /// perf's NMIs while the user stack walk faults: a PMI in guest mode is an EXCEPTION_NMI exit, one that finds the
    /// vCPU halted in the host is not (it is injected at the next entry), whether the vCPU's step or the NMI source delivers it.
    /// </summary>
    [Theory]
    [InlineData("postcopy", "kvm-pf-int")]
    [InlineData("postcopy", "kvm-pf")]
    [InlineData("postcopy", "sync")]
    [InlineData("postcopy", "ve")]
    [InlineData("kernel-heavy", "kvm-pf-int")]
    public void ExitsAndInjections_CountTheTracesEvents_UnderNmis(string builtin, string protocol)
    {
        var result = AssertCountsAgree(builtin, protocol, "duration=20ms", "nmi.rate=20000/s", "nmi.walk_user_stack=true");
        Assert.True(result.Counters.Exits[ExitReason.ExceptionNmi] > 0, "no NMI exit to compare");
    }

    /// <summary>An NMI exit says so in its interruption information, as the CPU reports it: valid, type NMI, vector 2.</summary>
    [Fact]
    public void NmiExit_CarriesTheNmisInterruptionInfo()
    {
        var (_, trace, threads) = BuiltinTraces.Run("postcopy", "kvm-pf-int", "duration=5ms", "nmi.rate=20000/s");
        var nmiExits = trace.Records.Where(r => r.Kind == TraceKind.KvmExit && r.ExitReason == ExitReason.ExceptionNmi).ToList();
        Assert.NotEmpty(nmiExits);
        Assert.All(nmiExits, r => Assert.Equal(0x80000202u, r.IntrInfo));
        Assert.Contains("reason EXCEPTION_NMI rip 0xffffffff81000000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x80000202", BuiltinTraces.Text(nmiExits, threads), StringComparison.Ordinal);
    }

    private static Vexlab.Simulation.Driver.SimulationResult AssertCountsAgree(string builtin, string protocol, params string[] sets)
    {
        var (result, trace, _) = BuiltinTraces.Run(builtin, protocol, sets);
        var records = trace.Records;
        var counters = result.Counters;
        foreach (var reason in Enum.GetValues<ExitReason>())
        {
            Assert.Equal(counters.Exits[reason], records.Count(r => r.Kind == TraceKind.KvmExit && r.ExitReason == reason));
        }

        // Vectors as the trace prints them: 0xf3 is HYPERVISOR_CALLBACK_VECTOR, page-ready under 5.8+ (the #VE design's wakeup under ve).
        var pageReadyIrqs = protocol == "ve" ? 0 : records.Count(r => r.Kind == TraceKind.KvmInjVirq && r.Vector == 0xF3);
        var otherIrqs = records.Count(r => r.Kind == TraceKind.KvmInjVirq) - pageReadyIrqs;
        var pfInjections = records.Count(r => r.Kind == TraceKind.KvmInjException && r.Vector == 14);
        var injected = counters.Injections;
        Assert.Equal(pfInjections + pageReadyIrqs, injected[InjectionKind.ApfNotPresent] + injected[InjectionKind.ApfReady]);
        Assert.Equal(otherIrqs, injected[InjectionKind.ExternalInterrupt]);
        Assert.Equal(records.Count(r => r.Kind == TraceKind.KvmInjException && r.Vector == 8), injected[InjectionKind.DoubleFault]);
        Assert.Equal(records.Count(r => r.Kind == TraceKind.VeDelivered), injected[InjectionKind.VirtualizationException]);

        // Each KVM injection is in one row only: the injections the trace shows, and the #PF and #VE the CPU delivers.
        Assert.Equal(
            records.Count(r => r.Kind is TraceKind.KvmInjException or TraceKind.KvmInjVirq) + injected[InjectionKind.VirtualizationException] + injected[InjectionKind.PageFault],
            injected.Total);
        return result;
    }
}

/// <summary>kvm_apic_accept_irq marks a page-ready sent by interrupt (5.8+); a 5.7 host injects page-ready as a #PF.</summary>
public class PageReadyTracepointTests
{
    [Theory]
    [InlineData("postcopy", "kvm-pf")]
    [InlineData("far-memory", "kvm-pf")]
    [InlineData("postcopy", "kvm-pf-int")]
    [InlineData("far-memory", "kvm-pf-int")]
    public void ApicAcceptIrq_OnlyWherePageReadyIsAnInterrupt(string builtin, string protocol)
    {
        var (result, trace, threads) = BuiltinTraces.Run(builtin, protocol, "duration=20ms");
        var ready = result.Counters.Injections[InjectionKind.ApfReady];
        Assert.True(ready > 0, "no page-ready to compare");
        var accepted = trace.Records.Count(r => r.Kind == TraceKind.KvmApicAcceptIrq);
        if (protocol == "kvm-pf")
        {
            Assert.Equal(0, accepted);
        }
        else
        {
            // Accepted when raised, injected at the next entry: at the end of the run some may still wait.
            Assert.InRange(accepted, ready, ready + threads.Vcpus);
        }
    }
}
