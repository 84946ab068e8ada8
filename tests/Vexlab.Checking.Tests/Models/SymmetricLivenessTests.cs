using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Checking.Tests.Engine;
using Vexlab.Checking.Tests.Spin;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;

namespace Vexlab.Checking.Tests.Models;

/// <summary>
/// Liveness under <c>--symmetry</c>: on models with 2 and 3 identical vCPUs the liveness verdicts and violated
/// properties are those of the plain check, with fewer states stored, and every lasso is a real weakly fair
/// lasso of the plain machine (a cycle that comes back to its first state, keeps one obligation pending, and
/// takes every fairness class that stays enabled).
/// </summary>
public sealed class SymmetricLivenessTests
{
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "sym2", "sync", string.Empty },
        { "sym2", "kvm-halt", string.Empty },
        { "sym2", "kvm-pf", string.Empty },
        { "sym2", "ve", string.Empty },
        { "sym3", "sync", string.Empty },
        { "sym3", "kvm-halt", string.Empty },
        { "race", "kvm-pf-int", string.Empty },

        // The lost wakeup of wake-race: a page-ready before its waiter is dropped (no-lost-wakeup, a lasso).
        { "race", "kvm-pf-int", "guest.apf.dummy_entries=false" },

        // Three vCPUs with a liveness violation: the same lost wakeup (a dead end), and a truncated page retried
        // forever (a loop; under kvm-pf-int its page-ready interrupts run on the interchangeable vCPUs 1 and 2).
        { "race3", "kvm-pf-int", "guest.apf.dummy_entries=false" },
        { "truncate3", "kvm-pf", string.Empty },
        { "truncate3", "kvm-pf-int", string.Empty },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Liveness_verdicts_agree_with_and_without_symmetry(string model, string protocol, string setting)
    {
        var file = Load(model);
        var overrides = Overrides(setting);
        var plain = ModelCheck.Run(CheckRequest.ForFile(file, protocol, overrides, PropertyNames.Liveness), new CheckerOptions { Workers = 1 });
        var reduced = ModelCheck.Run(CheckRequest.ForFile(file, protocol, overrides, PropertyNames.Liveness) with { Symmetry = true }, new CheckerOptions { Workers = 1 });

        Assert.Null(reduced.Symmetry!.Unavailable);
        Assert.Empty(reduced.Symmetry.LivenessNotChecked);
        Assert.True(plain.Result.Complete && reduced.Result.Complete);
        Assert.False(reduced.Result.LivenessIncomplete);
        Assert.Equal(plain.Result.Verdict, reduced.Result.Verdict);
        Assert.Equal(
            plain.Result.Violations.Select(v => v.Property).Order(StringComparer.Ordinal),
            reduced.Result.Violations.Select(v => v.Property).Order(StringComparer.Ordinal));
        Assert.True(reduced.Result.States * 3 / 2 < plain.Result.States, $"{reduced.Result.States} states with symmetry, {plain.Result.States} without");
        if (setting.Length > 0 || model == "truncate3")
        {
            Assert.Contains(reduced.Result.Violations, v => v.Kind == ViolationKind.Lasso);
        }

        if (model == "truncate3")
        {
            // A loop, not a dead end: the lasso comes from a quotient component's real states.
            Assert.Equal([1, 2], reduced.Symmetry.Classes.Single());
            var loop = Assert.Single(reduced.Result.Violations, v => v.Kind == ViolationKind.Lasso && v.LoopStart < v.Actions.Count);
            if (protocol == "kvm-pf-int")
            {
                // The loop itself steps vCPUs of the permuted class, so it is not a loop of vCPU 0 alone.
                Assert.Contains(loop.Actions.Skip(loop.LoopStart), a => MachineAction.Unpack(a).Vcpu is 1 or 2);
            }
        }

        using var system = ModelCheck.BuildSystem(CheckRequest.ForFile(file, protocol, overrides, PropertyNames.Liveness));
        foreach (var v in reduced.Result.Violations)
        {
            AssertRealFairLasso(system, v);
        }
    }

    [Theory]
    [InlineData("race", "kvm-pf-int", "guest.apf.dummy_entries=false")]
    [InlineData("race3", "kvm-pf-int", "guest.apf.dummy_entries=false")]
    [InlineData("truncate3", "kvm-pf", "")]
    public void Workers_do_not_change_a_symmetric_liveness_result(string model, string protocol, string setting)
    {
        CheckResult Run(int workers) => ModelCheck.Run(
            CheckRequest.ForFile(Load(model), protocol, Overrides(setting), PropertyNames.Liveness) with { Symmetry = true },
            new CheckerOptions { Workers = workers }).Result;

        var reference = Run(1);
        Assert.Contains(reference.Violations, v => v.Kind == ViolationKind.Lasso);
        foreach (var workers in new[] { 2, 4 })
        {
            var other = Run(workers);
            CheckerTests.AssertSameResult(reference, other);
            for (var i = 0; i < reference.Violations.Count; i++)
            {
                Assert.Equal(reference.Violations[i].ActionIndices, other.Violations[i].ActionIndices);
                Assert.Equal(reference.Violations[i].LoopStart, other.Violations[i].LoopStart);
            }
        }
    }

    /// <summary>Replays a lasso on the plain machine and checks it is a real weakly fair counterexample of its property.</summary>
    internal static void AssertRealFairLasso(MachineSystem system, Violation v)
    {
        Assert.Equal(ViolationKind.Lasso, v.Kind);
        Assert.Equal(v.Actions, Checker.ReplayIndices(system, [.. v.ActionIndices]));
        var confirmation = CounterexampleCheck.Confirm(system, v.Actions, v.Property, v.LoopStart);
        Assert.True(confirmation.Holds, confirmation.Reason);
    }

    /// <remarks>
    /// race (docs/spin/race.yaml): two vCPUs whose tasks touch the one host-absent page, page-ready to any vCPU.
    /// race3 (docs/examples/race3.yaml): three vCPUs, one user task on vCPU0 touching the one host-absent page,
    /// page-ready to any vCPU, so vCPUs 1 and 2 are interchangeable and either may take vCPU0's page-ready. With
    /// <c>guest.apf.dummy_entries=false</c> a page-ready that lands before its waiter queues itself is dropped
    /// (kvm_async_pf_task_wake finds no sleeper and, without a dummy entry, forgets the token), so the task sleeps
    /// forever: a no-lost-wakeup lasso. truncate3 (docs/examples/truncate3.yaml): the same three vCPUs with a DAX
    /// page that may be truncated (2-bit APF ids keep the token space finite): under kvm-pf the task retries its
    /// unrecoverable access forever, a cyclic unrecoverable-terminates lasso whose page-ready steps may run on vCPU
    /// 1 or 2. The tests read the files the docs show, so the two cannot drift apart.
    /// </remarks>
    private static ModelFile Load(string model) => model switch
    {
        "sym2" => SymmetryModels.Load(SymmetryModels.TwoVcpus),
        "sym3" => SymmetryModels.Load(SymmetryModels.ThreeVcpus),
        "race3" => ModelFile.Load(Path.Combine(SpinModelTests.RepoRoot(), "docs", "examples", "race3.yaml")),
        "truncate3" => ModelFile.Load(Path.Combine(SpinModelTests.RepoRoot(), "docs", "examples", "truncate3.yaml")),
        _ => ModelFile.Load(Path.Combine(SpinModelTests.RepoRoot(), "docs", "spin", "race.yaml")),
    };

    private static List<KeyValuePair<string, string>> Overrides(string setting) =>
        setting.Length == 0 ? [] : [new(setting.Split('=')[0], setting.Split('=')[1])];
}
