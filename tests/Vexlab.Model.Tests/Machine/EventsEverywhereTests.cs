using Vexlab.Model.Arch;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Protocols;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// Generated interleavings: an NMI (or a timer interrupt) raised before every step of a run that
/// goes through every handler program of the protocol, checking that no step breaks the x86 rules
/// (SDM Vol. 3A 6.8.1: an interrupt needs IF=1, no shadow and a class above PPR; 6.7.1: no NMI
/// while NMIs are blocked) and no handler acts on another event's CR2, flags or VE info.
/// </summary>
public sealed class EventsEverywhereTests
{
    private const int BenignNmiPage = 3;
    private const int AbsentNmiPage = 4;

    private sealed class ViolationSink : IModelEventSink
    {
        public List<SafetyProperty> Violations { get; } = [];

        public void On(in ModelEvent e)
        {
            if (e.Kind == ModelEventKind.PropertyViolated)
            {
                Violations.Add((SafetyProperty)e.Aux);
            }
        }
    }

    private static Model.Machine.Machine Build(string protocol, int nmiPage, (string, string)[]? knobs = null)
    {
        var spec = ProtocolCatalog.Create(protocol, knobs?.Select(k => new KeyValuePair<string, string>(k.Item1, k.Item2)));
        return new Model.Machine.Machine(new MachineConfig
        {
            Vcpus = 1,
            Pages = 5,
            Tasks = [User("u", 0, Touch(0), Touch(1)), Kernel("k", 0, KTouch(2))],
            Protocol = spec,
            PageGroups =
            [
                new PageGroupSpec(0, 3, HostPage.AbsentIo, true, 0, false),
                new PageGroupSpec(AbsentNmiPage, 1, HostPage.AbsentIo, true, 0, false),
            ],
            Bounds = new ExternalBounds(1, 1, 0, 0),
            NmiTouchPage = nmiPage,
        });
    }

    /// <summary>Runs with a fixed preference, raising <paramref name="external"/> before step <paramref name="at"/>.</summary>
    private static (List<SafetyProperty> Violations, GuestOutcome Outcome, int Steps) Run(Model.Machine.Machine m, int at, ActionKind external)
    {
        var sink = new ViolationSink();
        var buffer = new MachineAction[m.MaxActions];
        for (var step = 0; step < 2_000; step++)
        {
            var n = m.EnabledActions(buffer);
            if (n == 0)
            {
                return (sink.Violations, m.Outcome, step);
            }

            MachineAction? chosen = null;
            var bestRank = int.MaxValue;
            for (var i = 0; i < n; i++)
            {
                var a = buffer[i];
                var rank = a.Kind == external && step == at ? -1 : Script.Preference(a.Kind);
                if (rank < bestRank)
                {
                    bestRank = rank;
                    chosen = a;
                }
            }

            if (chosen is null || bestRank == Script.NotPreferred)
            {
                return (sink.Violations, m.Outcome, step);
            }

            AssertArchRules(m, chosen.Value);
            m.Apply(chosen.Value, ref sink);
        }

        throw new InvalidOperationException("run did not end");
    }

    private static void AssertArchRules(Model.Machine.Machine m, MachineAction a)
    {
        var cpu = m.Vcpu(a.Vcpu);
        var state = new InterruptState(cpu.If == 1, cpu.Shadow, cpu.NmiBlocked == 1, cpu.Tpr, 0);
        switch (a.Kind)
        {
            case ActionKind.DeliverInterrupt:
                Assert.True(cpu.If == 1 && cpu.Shadow == InterruptShadow.None, "interrupt delivered with IF=0 or in a shadow");
                break;
            case ActionKind.DeliverNmi:
                Assert.True(EventBlocking.CanAcceptNmi(state), "NMI delivered while blocked");
                break;
        }
    }

    public static TheoryData<string, int, string, string> Cases => new()
    {
        { "sync", BenignNmiPage, "", "" },
        { "kvm-halt", BenignNmiPage, "", "" },
        { "kvm-pf", BenignNmiPage, "", "" },
        { "kvm-pf-int", BenignNmiPage, "", "" },
        { "ve", BenignNmiPage, "", "" },
        { "sync", AbsentNmiPage, "", "" },
        { "kvm-halt", AbsentNmiPage, "", "" },
        { "kvm-pf", AbsentNmiPage, "", "" },
        { "kvm-pf-int", AbsentNmiPage, "", "" },
        { "ve", AbsentNmiPage, "guest.ve.info_store", "args" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NmiBeforeEveryStep_KeepsTheRulesAndTheFaultInfo(string protocol, int nmiPage, string knob, string value)
    {
        (string, string)[] knobs = knob.Length == 0 ? [] : [(knob, value)];
        var baseline = Run(Build(protocol, nmiPage, knobs), -1, ActionKind.RaiseNmi);
        Assert.Equal(GuestOutcome.Finished, baseline.Outcome);
        Assert.Empty(baseline.Violations);
        for (var at = 0; at < baseline.Steps; at++)
        {
            var run = Run(Build(protocol, nmiPage, knobs), at, ActionKind.RaiseNmi);
            Assert.True(run.Violations.Count == 0, $"{protocol}: NMI before step {at}: {string.Join(", ", run.Violations)}");
            Assert.Equal(GuestOutcome.Finished, run.Outcome);
        }
    }

    [Theory]
    [InlineData("sync", "")]
    [InlineData("kvm-halt", "")]
    [InlineData("kvm-pf", "")]
    [InlineData("kvm-pf-int", "")]
    [InlineData("ve", "args")]
    public void TimerTickBeforeEveryStep_KeepsTheRules(string protocol, string infoStore)
    {
        (string, string)[] knobs = infoStore.Length == 0 ? [] : [("guest.ve.info_store", infoStore)];
        var baseline = Run(Build(protocol, BenignNmiPage, knobs), -1, ActionKind.Tick);
        for (var at = 0; at < baseline.Steps; at++)
        {
            var run = Run(Build(protocol, BenignNmiPage, knobs), at, ActionKind.Tick);
            Assert.True(run.Violations.Count == 0, $"{protocol}: tick before step {at}: {string.Join(", ", run.Violations)}");
            Assert.Equal(GuestOutcome.Finished, run.Outcome);
        }
    }

    /// <summary>
    /// The seed's pv-page store: an NMI between the #VE and the hypercall whose handler takes a
    /// nested #VE overwrites the per-vCPU page the outer resolve_ept then reads.
    /// </summary>
    [Fact]
    public void VePvPage_SomeNmiPointCorruptsTheOuterHypercall()
    {
        var baseline = Run(Build("ve", AbsentNmiPage), -1, ActionKind.RaiseNmi);
        var hits = 0;
        for (var at = 0; at < baseline.Steps; at++)
        {
            var run = Run(Build("ve", AbsentNmiPage), at, ActionKind.RaiseNmi);
            if (run.Violations.Contains(SafetyProperty.FaultInfoIntact))
            {
                hits++;
            }
        }

        Assert.True(hits > 0, "no NMI point reproduced the pv-page overwrite");
    }

    /// <summary>
    /// The seed enables interrupts before resolve_ept(true): a tick there can preempt the task, and
    /// another task's #VE on the same vCPU rewrites the per-vCPU PV page before the first task's
    /// hypercall reads it. Passing the VE info as hypercall arguments closes the window.
    /// </summary>
    [Fact]
    public void VePvPage_PreemptionBeforeTheHypercallLetsAnotherTaskOverwriteThePage()
    {
        var run = Run(Build("ve", BenignNmiPage), 1, ActionKind.Tick);
        Assert.Contains(SafetyProperty.FaultInfoIntact, run.Violations);
    }
}
