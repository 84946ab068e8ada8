using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Checking.Tests.Engine;
using Vexlab.Checking.Tests.Spin;
using Vexlab.Model.Machine;

namespace Vexlab.Checking.Tests.Models;

/// <summary>
/// CounterexampleCheck: every counterexample the checker reports confirms on its own transition system (safety: the
/// last step breaks the property; no-deadlock: a dead end that is no valid end; a lasso: a weakly fair cycle back to
/// its start, or a stuttering dead end, with an obligation pending), and a trace cut short, edited or given another
/// loop start does not.
/// </summary>
public sealed class CounterexampleCheckTests
{
    [Theory]
    [MemberData(nameof(WorkerDeterminismTests.ModelsAndProtocols), MemberType = typeof(WorkerDeterminismTests))]
    public void Every_violation_of_the_matrix_confirms(string model, string protocol)
    {
        var request = CheckRequest.Of(model, protocol);
        var result = ModelCheck.Run(request, new CheckerOptions { Workers = 1 });
        using var system = ModelCheck.BuildSystem(request);
        foreach (var v in result.Result.Violations)
        {
            var confirmation = CounterexampleCheck.Confirm(system, v.Actions, v.Property, v.Kind == ViolationKind.Lasso ? v.LoopStart : -1);
            Assert.True(confirmation.Holds, $"{model} {protocol} {v.Property}: {confirmation.Reason}");
        }
    }

    // Lassos of both shapes (docs/spin/race.yaml with the lost wakeup: a dead end; docs/examples/truncate3.yaml under
    // kvm-pf: a loop retrying the truncated page), and a user invariant (docs/examples/two-faults.yaml, one-sleeper).
    [Theory]
    [InlineData("docs/spin/race.yaml", "kvm-pf-int", "guest.apf.dummy_entries=false")]
    [InlineData("docs/examples/truncate3.yaml", "kvm-pf", "")]
    [InlineData("docs/examples/two-faults.yaml", "kvm-pf-int", "")]
    [InlineData("docs/examples/cpu-offline-online.yaml", "kvm-pf-int", "")]
    public void Lassos_and_user_invariants_confirm(string path, string protocol, string setting)
    {
        var (system, violations) = Check(path, protocol, setting);
        using (system)
        {
            Assert.NotEmpty(violations);
            foreach (var v in violations)
            {
                var confirmation = CounterexampleCheck.Confirm(system, v.Actions, v.Property, v.Kind == ViolationKind.Lasso ? v.LoopStart : -1);
                Assert.True(confirmation.Holds, $"{v.Property}: {confirmation.Reason}");
            }
        }
    }

    [Fact]
    public void A_safety_trace_cut_short_or_edited_does_not_confirm()
    {
        var request = new CheckRequest("nmi-host-fault", "ve", [], []);
        var v = ModelCheck.Run(request, new CheckerOptions { Workers = 1 }).Result.Violations.Single(x => x.Property == "fault-info-intact");
        using var system = ModelCheck.BuildSystem(request);

        var cut = CounterexampleCheck.Confirm(system, [.. v.Actions.Take(v.Actions.Count - 1)], v.Property, -1);
        Assert.Equal(new Confirmation(false, "the last step does not break fault-info-intact"), cut);

        // The check confirms what it reports: a counterexample that did not hold would be a bug of the search.
        var bogus = v with { Actions = [.. v.Actions.Take(v.Actions.Count - 1)] };
        var bug = Assert.Throws<InvalidOperationException>(() => CounterexampleCheck.Require(system, bogus));
        Assert.Equal("the fault-info-intact counterexample the search found does not hold on the model: the last step does not break fault-info-intact", bug.Message);
        CounterexampleCheck.Require(system, v);

        // The first step names a task the model does not run.
        ulong[] edited = [.. v.Actions];
        var first = MachineAction.Unpack(edited[0]);
        edited[0] = (first with { Arg = 9 }).Pack();
        var refused = CounterexampleCheck.Confirm(system, edited, v.Property, -1);
        Assert.False(refused.Holds);
        Assert.StartsWith("step 1: ", refused.Reason, StringComparison.Ordinal);
        Assert.EndsWith(" is not enabled there in the checker's model", refused.Reason, StringComparison.Ordinal);

        // The right path claimed for another property, or as a lasso.
        var notDeadlock = CounterexampleCheck.Confirm(system, v.Actions, Checker.DeadlockProperty, -1);
        Assert.False(notDeadlock.Holds);
        Assert.EndsWith("actions are enabled at the end, so it is no dead end", notDeadlock.Reason, StringComparison.Ordinal);
        Assert.Equal(new Confirmation(false, "fault-info-intact is not a liveness property of this model, and only a liveness property has a loop"),
            CounterexampleCheck.Confirm(system, v.Actions, v.Property, 0));
        Assert.Equal(new Confirmation(false, "no-lost-wakeup is not a safety property of this model, and a trace without a loop shows a safety violation"),
            CounterexampleCheck.Confirm(system, v.Actions, "no-lost-wakeup", -1));
    }

    [Fact]
    public void A_lasso_with_another_loop_start_does_not_confirm()
    {
        var (system, violations) = Check("docs/examples/truncate3.yaml", "kvm-pf", "");
        using (system)
        {
            var v = violations.First(x => x.Kind == ViolationKind.Lasso && x.LoopStart < x.Actions.Count);
            Assert.True(CounterexampleCheck.Confirm(system, v.Actions, v.Property, v.LoopStart).Holds);

            // One step later the loop no longer returns to where it starts; past the end is no loop at all.
            var shifted = CounterexampleCheck.Confirm(system, v.Actions, v.Property, v.LoopStart + 1);
            Assert.Equal($"the loop does not return to the state after step {v.LoopStart + 1}, where it started", shifted.Reason);
            Assert.False(shifted.Holds);
            Assert.False(CounterexampleCheck.Confirm(system, v.Actions, v.Property, v.Actions.Count + 1).Holds);

            // Claimed as a dead end (an empty loop at the end): actions are still enabled there.
            var deadEnd = CounterexampleCheck.Confirm(system, v.Actions, v.Property, v.Actions.Count);
            Assert.False(deadEnd.Holds);
            Assert.EndsWith("actions are enabled at the end, so it is no dead end", deadEnd.Reason, StringComparison.Ordinal);
        }
    }

    private static (MachineSystem System, IReadOnlyList<Violation> Violations) Check(string path, string protocol, string setting)
    {
        var file = ModelFile.Load(Path.Combine(SpinModelTests.RepoRoot(), path));
        List<KeyValuePair<string, string>> overrides = setting.Length == 0 ? [] : [new(setting.Split('=')[0], setting.Split('=')[1])];
        var request = CheckRequest.ForFile(file, protocol, overrides, []);
        var result = ModelCheck.Run(request, new CheckerOptions { Workers = 1 });
        return (ModelCheck.BuildSystem(request), result.Result.Violations);
    }
}
