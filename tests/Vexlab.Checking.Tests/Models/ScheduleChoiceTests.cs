using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Machine;

namespace Vexlab.Checking.Tests.Models;

/// <summary>
/// The checker's choice of the next task is any runnable task of the vCPU (pick_next_task as a
/// nondeterministic choice, a superset of every policy), not the model's round robin; the choice
/// rides in the action (<see cref="MachineAction.Pick"/>) and adds nothing to the state.
/// </summary>
public sealed class ScheduleChoiceTests
{
    /// <summary>Task a yields first; b would fault (a synchronous stall under sync), c only computes.</summary>
    private const string ThreeTasks = """
        name: pick
        vcpus: 1
        pages: 1
        host_absent: [0]
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "yield"}
          - {name: b, mode: user, vcpu: 0, program: "touch 0"}
          - {name: c, mode: user, vcpu: 0, program: "compute"}
        invariants:
          - {name: b-stalls-first, expr: "vcpu0.stalled_in_host == 1 => exited == 0"}
        """;

    private static CheckerOptions Options => new() { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) };

    [Fact]
    public void AtAYield_EveryRunnableTaskIsASuccessor()
    {
        var config = ModelFile.Parse(ThreeTasks, "pick.yaml").Model.Build("sync");
        using var system = new MachineSystem(config);
        var state = new byte[system.StateSize];
        var next = new byte[system.StateSize];
        system.WriteInitialState(state);
        var actions = new ulong[system.MaxActions];
        var machine = system.CreateMachine();
        for (var step = 0; step < 16; step++)
        {
            var n = system.ListActions(state, actions);
            var variants = actions.AsSpan(0, n).ToArray().Where(a => MachineAction.Unpack(a).Pick != 0).ToList();
            if (variants.Count == 0)
            {
                system.Apply(state, actions[0], next);
                (state, next) = (next, state);
                continue;
            }

            // The yield's schedule(): the default (round robin: b) and one variant per other runnable task.
            var first = MachineAction.Unpack(variants[0]);
            var current = new SortedSet<int>();
            foreach (var a in actions.AsSpan(0, n).ToArray().Where(a => MachineAction.Unpack(a) with { Pick = 0 } == first with { Pick = 0 }))
            {
                system.Apply(state, a, next);
                machine.LoadState(next);
                current.Add(machine.Vcpu(0).CurrentTask);
            }

            Assert.Equal([1, 2, 3], current);
            return;
        }

        Assert.Fail("no step offered a choice of the next task");
    }

    [Fact]
    public void AnInvariantOnlyAnotherPickBreaks_IsViolated_AndTheTraceReplays()
    {
        // Round robin runs b right after a's yield, so b stalls before any task exits; a scheduler
        // that keeps a, or runs c, lets a task exit first.
        var file = ModelFile.Parse(ThreeTasks, "pick.yaml");
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, "sync", [], ["b-stalls-first"]), Options);
        Assert.Equal(Verdict.Violation, outcome.Result.Verdict);
        var v = Assert.Single(outcome.Violations);
        Assert.Contains(v.Violation.Actions, a => MachineAction.Unpack(a).Pick != 0);

        var steps = TraceDescriber.Describe(new Machine(outcome.Config), v.Violation.Actions);
        Assert.Contains(steps, s => s.Events.Any(e => e.StartsWith("schedule() picks", StringComparison.Ordinal)));
    }

    [Fact]
    public void OneTaskPerVcpu_ListsNoVariants()
    {
        var config = BuiltinModels.Get("wake-race").Build("kvm-pf-int");
        using var system = new MachineSystem(config);
        var state = new byte[system.StateSize];
        system.WriteInitialState(state);
        var actions = new ulong[system.MaxActions];
        var n = system.ListActions(state, actions);
        Assert.All(actions.AsSpan(0, n).ToArray(), a => Assert.Equal(0, MachineAction.Unpack(a).Pick));
        Assert.Equal(new Machine(config).MaxActions, system.MaxActions);
    }

    [Fact]
    public void PackedPick_RoundTrips()
    {
        var a = new MachineAction(ActionKind.Wake, 3, 7, 7);
        Assert.Equal(a, MachineAction.Unpack(a.Pack()));
        Assert.Equal(new MachineAction(ActionKind.Step, 1, 2), MachineAction.Unpack(new MachineAction(ActionKind.Step, 1, 2).Pack()));
        Assert.Equal(0u, new MachineAction(ActionKind.Wake, 0, 0).Pack() >> 29);
        Assert.True(Enum.GetValues<ActionKind>().Length <= 32, "the kind has 5 bits");
    }
}
