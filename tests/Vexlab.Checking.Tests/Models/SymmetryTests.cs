using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Checking.Reduction;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;

namespace Vexlab.Checking.Tests.Models;

public sealed class SymmetryTests
{
    /// <summary>Safety properties and the deadlock check: what a symmetric search decides.</summary>
    private static readonly string[] s_safety = [.. PropertyNames.Safety, Checker.DeadlockProperty];

    public static TheoryData<string, string, string> EquivarianceCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var protocol in ModelCheck.Protocols)
        {
            data.Add("sym2", protocol, string.Empty);
            data.Add("sym3", protocol, string.Empty);
            data.Add("sym2x2", protocol, string.Empty);
            data.Add("mixed", protocol, string.Empty);
            data.Add("symtasks", protocol, string.Empty);
            data.Add("sym2x2same", protocol, string.Empty);
        }

        // Settings under which the protocols reach their bugs (dummies, wake-all, the pending-event merge).
        data.Add("sym2", "kvm-pf-int", "guest.apf.recheck_before_dummy_insert=false");
        data.Add("sym2", "kvm-pf-int", "guest.apf.dummy_entries=false");
        data.Add("sym2", "kvm-pf", "host.apf.require_no_pending_event=false");
        data.Add("sym2x2", "kvm-pf", "host.apf.require_no_pending_event=false");
        return data;
    }

    /// <summary>
    /// The reduction is sound only if the machine commutes with every permutation (and with sorting the host's
    /// work items): for each reachable state s
    /// (the first few thousand, breadth-first) and each group element g, the successors of g(s) are the images
    /// under g of the successors of s, with the same violations. A reference to a vCPU or task that
    /// <see cref="VcpuSymmetry.Apply"/> failed to rewrite shows up here as a successor with no partner.
    /// </summary>
    [Theory]
    [MemberData(nameof(EquivarianceCases))]
    public void TheMachineCommutesWithEveryVcpuPermutation(string model, string protocol, string setting)
    {
        using var system = Build(model, protocol, setting, []);
        var symmetry = VcpuSymmetry.Of(system.Config, system.CreateMachine().Layout, [], out var reason);
        Assert.True(symmetry is not null, reason);
        var size = system.StateSize;
        var seen = new HashSet<string>();
        var queue = new List<byte[]>();
        var initial = new byte[size];
        system.WriteInitialState(initial);

        // With vCPU permutations alone the initial state is fixed by every permutation; a task permutation
        // moves which of two like tasks runs first (the machine starts each vCPU's first task), an image
        // that is itself a possible start.
        var image = new byte[size];
        for (var g = 0; g < symmetry.Order && symmetry.TaskClasses.Count == 0; g++)
        {
            symmetry.Apply(g, initial, image);
            Assert.Equal(initial, image);
        }

        queue.Add(initial);
        seen.Add(Convert.ToHexString(initial));
        var actions = new ulong[system.MaxActions];
        var next = new byte[size];
        var checkedStates = 0;
        for (var i = 0; i < queue.Count && checkedStates < 2_500; i++, checkedStates++)
        {
            var s = queue[i];
            var successors = Successors(system, s, actions, next);
            foreach (var (state, _) in successors)
            {
                if (seen.Add(Convert.ToHexString(state)))
                {
                    queue.Add(state);
                }
            }

            // g = 0 checks the work-table sort alone.
            for (var g = 0; g < symmetry.Order; g++)
            {
                var gs = new byte[size];
                symmetry.Apply(g, s, gs);
                symmetry.SortWork(gs);
                var expected = successors.Select(p =>
                {
                    var t = new byte[size];
                    symmetry.Apply(g, p.State, t);
                    symmetry.SortWork(t);
                    return Convert.ToHexString(t) + "/" + p.Bits;
                }).Distinct().Order(StringComparer.Ordinal).ToList();
                var actual = Successors(system, gs, actions, next)
                    .Select(p =>
                    {
                        symmetry.SortWork(p.State);
                        return Convert.ToHexString(p.State) + "/" + p.Bits;
                    })
                    .Distinct().Order(StringComparer.Ordinal).ToList();
                Assert.True(expected.SequenceEqual(actual), $"state {i} of {model} under {protocol} {setting}: permutation {g} does not commute with the machine; "
                    + Difference(expected.Except(actual).ToList(), actual.Except(expected).ToList()));
            }
        }
    }

    public static TheoryData<string, string, string, string> VerdictCases()
    {
        var data = new TheoryData<string, string, string, string>
        {
            { "sym2", "sync", string.Empty, string.Empty },
            { "sym2", "kvm-halt", string.Empty, string.Empty },
            { "sym2", "kvm-pf", string.Empty, string.Empty },
            { "sym2", "ve", string.Empty, string.Empty },
            { "sym2", "kvm-pf", "host.apf.require_no_pending_event=false", string.Empty },
            { "sym3", "sync", string.Empty, string.Empty },
            { "sym3", "kvm-halt", string.Empty, string.Empty },
            { "sym3", "ve", string.Empty, string.Empty },
            { "sym2x2", "kvm-pf", "host.apf.require_no_pending_event=false", "no-protocol-double-fault" },
            { "symtasks", "sync", string.Empty, string.Empty },
            { "symtasks", "kvm-pf", string.Empty, string.Empty },
            { "symtasks", "kvm-pf", "host.apf.require_no_pending_event=false", string.Empty },
            { "symtasks", "ve", string.Empty, string.Empty },
            { "sym2x2same", "sync", string.Empty, string.Empty },
            { "sym2x2same", "kvm-halt", string.Empty, string.Empty },
            { "sym2x2same", "kvm-pf", "host.apf.require_no_pending_event=false", string.Empty },
        };
        return data;
    }

    /// <summary>Models with 2 and 3 identical vCPUs: the same verdicts and violated properties, fewer states.</summary>
    [Theory]
    [MemberData(nameof(VerdictCases))]
    public void SymmetryKeepsTheVerdictsWithFewerStates(string model, string protocol, string setting, string property)
    {
        var overrides = Overrides(setting);
        var file = Load(model);
        string[] properties = property.Length == 0 ? s_safety : [property];
        var plain = ModelCheck.Run(CheckRequest.ForFile(file, protocol, overrides, properties), new CheckerOptions { Workers = 1 });
        var reduced = ModelCheck.Run(CheckRequest.ForFile(file, protocol, overrides, properties) with { Symmetry = true }, new CheckerOptions { Workers = 1 });
        Assert.NotNull(reduced.Symmetry);
        Assert.Null(reduced.Symmetry!.Unavailable);
        Assert.Equal(plain.Result.Verdict, reduced.Result.Verdict);
        Assert.Equal(
            plain.Result.Violations.Select(v => v.Property).Order(StringComparer.Ordinal),
            reduced.Result.Violations.Select(v => v.Property).Order(StringComparer.Ordinal));
        if (plain.Result.StopReason == StopReason.Exhausted && reduced.Symmetry.TaskClasses.Count == 0)
        {
            // At least the vCPU permutations' share goes (sorting the host's work items takes more).
            Assert.True(reduced.Result.States * 3 / 2 < plain.Result.States, $"{reduced.Result.States} states with symmetry, {plain.Result.States} without");
        }
        else if (plain.Result.StopReason == StopReason.Exhausted)
        {
            // Like tasks on one vCPU run one at a time, so fewer of their orders are reachable than the group holds.
            Assert.True(reduced.Result.States < plain.Result.States, $"{reduced.Result.States} states with symmetry, {plain.Result.States} without");
        }

        // Breadth-first on the quotient still finds shortest counterexamples.
        foreach (var v in reduced.Result.Violations)
        {
            var p = plain.Result.Violations.Single(x => x.Property == v.Property);
            Assert.Equal(p.Actions.Count, v.Actions.Count);
        }
    }

    /// <summary>A counterexample found among representatives is a real, un-permuted execution of the plain machine.</summary>
    [Theory]
    [InlineData("sym2", "kvm-pf", "host.apf.require_no_pending_event=false", "")]
    [InlineData("sym2", "kvm-pf-int", "guest.apf.recheck_before_dummy_insert=false", "one-node-per-token")]
    [InlineData("sym3", "kvm-pf-int", "guest.apf.recheck_before_dummy_insert=false", "one-node-per-token")]
    [InlineData("sym2x2", "kvm-pf", "host.apf.require_no_pending_event=false", "no-protocol-double-fault")]
    [InlineData("symtasks", "kvm-pf", "host.apf.require_no_pending_event=false", "")]
    [InlineData("sym2x2same", "kvm-pf", "host.apf.require_no_pending_event=false", "")]
    public void CounterexamplesFoundWithSymmetryReplayOnThePlainMachine(string model, string protocol, string setting, string property)
    {
        var file = Load(model);
        string[] properties = property.Length == 0 ? s_safety : [property];
        var reduced = ModelCheck.Run(CheckRequest.ForFile(file, protocol, Overrides(setting), properties) with { Symmetry = true }, new CheckerOptions { Workers = 1 });
        Assert.NotEmpty(reduced.Violations);
        using var system = Build(model, protocol, setting, s_safety);
        foreach (var described in reduced.Violations)
        {
            var v = described.Violation;
            Assert.Equal(v.Actions, Checker.ReplayIndices(system, [.. v.ActionIndices]));
            var state = new byte[system.StateSize];
            var next = new byte[system.StateSize];
            system.WriteInitialState(state);
            ulong bits = 0;
            foreach (var a in v.Actions)
            {
                bits = system.Apply(state, a, next);
                (state, next) = (next, state);
            }

            var index = system.SafetyProperties.ToList().IndexOf(v.Property);
            if (index >= 0)
            {
                Assert.NotEqual(0UL, bits & (1UL << index));
            }
            else
            {
                Assert.Equal(0, system.ListActions(state, new ulong[system.MaxActions]));
            }

            Assert.Contains("--symmetry", described.Replay, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("wake-race", "kvm-pf-int", "no two vCPUs have identical configurations, and no two tasks of one vCPU the same program")]
    [InlineData("token-wrap", "kvm-pf-int", "no two vCPUs have identical configurations, and no two tasks of one vCPU the same program")]
    public void ModelsWithoutInterchangeableVcpusAreCheckedInFull(string model, string protocol, string reason)
    {
        var reduced = ModelCheck.Run(new CheckRequest(model, protocol, [], s_safety) { Symmetry = true }, new CheckerOptions { Workers = 1 });
        var plain = ModelCheck.Run(new CheckRequest(model, protocol, [], s_safety), new CheckerOptions { Workers = 1 });
        Assert.Equal(reason, reduced.Symmetry!.Unavailable);
        Assert.Equal(plain.Result.States, reduced.Result.States);
    }

    /// <summary>The group of like tasks on one vCPU: every order of the class, composed with the vCPU permutations.</summary>
    [Theory]
    [InlineData("symtasks", 6, "a,b,c", "")]
    [InlineData("sym2x2same", 8, "u0,v0;u1,v1", "0,1")]
    [InlineData("sym2", 2, "", "0,1")]
    public void TasksWithTheSameProgramOnOneVcpuAreInterchangeable(string model, int order, string taskClasses, string vcpuClasses)
    {
        using var system = Build(model, "kvm-pf", string.Empty, []);
        var symmetry = VcpuSymmetry.Of(system.Config, system.CreateMachine().Layout, [], out var reason);
        Assert.True(symmetry is not null, reason);
        Assert.Equal(order, symmetry.Order);
        Assert.Equal(taskClasses, string.Join(";", symmetry.TaskClasses.Select(c => string.Join(",", c))));
        Assert.Equal(vcpuClasses, string.Join(";", symmetry.Classes.Select(c => string.Join(",", c))));
    }

    [Fact]
    public void MigrationAndZeroTokensTurnSymmetryOff()
    {
        using var migrating = Build("sym2", "kvm-pf", string.Empty, []);
        var config = migrating.Config with { Bounds = migrating.Config.Bounds with { Migrations = 1 } };
        Assert.Null(VcpuSymmetry.Of(config, migrating.CreateMachine().Layout, [], out var why));
        Assert.Contains("migration", why, StringComparison.Ordinal);

        using var zero = Build("sym2", "kvm-pf", "host.apf.token_never_zero=false", []);
        Assert.Null(VcpuSymmetry.Of(zero.Config, zero.CreateMachine().Layout, [], out why));
        Assert.Contains("token_never_zero", why, StringComparison.Ordinal);

        // A CPU going offline sends the user tasks it wakes to the lowest-numbered active vCPU
        // (select_fallback_rq): an index that swapping two active vCPUs does not keep.
        Instr[] down = [new(MicroOp.Cli), new(MicroOp.ApfDisable), new(MicroOp.Sti), new(MicroOp.WorkDone), new(MicroOp.Exit)];
        var offline = migrating.Config with
        {
            Tasks = [.. migrating.Config.Tasks, new TaskSpec("offline", TaskMode.Kernel, 1, new GuestProgram("offline", down))],
        };
        Assert.Null(VcpuSymmetry.Of(offline, migrating.CreateMachine().Layout, [], out why));
        Assert.Contains("apf-disable", why, StringComparison.Ordinal);
    }

    /// <summary>The first byte offsets where an unmatched expected successor and an unmatched actual one differ.</summary>
    private static string Difference(List<string> missing, List<string> extra)
    {
        if (missing.Count == 0 || extra.Count == 0)
        {
            return $"{missing.Count} successors missing, {extra.Count} extra";
        }

        var a = missing[0];
        var b = extra.OrderBy(e => e.Zip(a).Count(p => p.First != p.Second)).First();
        var offsets = Enumerable.Range(0, Math.Min(a.Length, b.Length) / 2).Where(k => a.Substring(2 * k, 2) != b.Substring(2 * k, 2)).Take(8);
        return "expected " + a + " got " + b + " differing at byte offsets " + string.Join(",", offsets);
    }

    private static List<(byte[] State, ulong Bits)> Successors(MachineSystem system, byte[] s, ulong[] actions, byte[] next)
    {
        var n = system.ListActions(s, actions);
        var list = new List<(byte[], ulong)>(n);
        for (var a = 0; a < n; a++)
        {
            var bits = system.Apply(s, actions[a], next);
            list.Add(((byte[])next.Clone(), bits));
        }

        return list;
    }

    private static ModelFile Load(string model) => SymmetryModels.Load(model switch
    {
        "sym2" => SymmetryModels.TwoVcpus,
        "sym3" => SymmetryModels.ThreeVcpus,
        "sym2x2" => SymmetryModels.TwoByTwo,
        "symtasks" => SymmetryModels.SameTasks,
        "sym2x2same" => SymmetryModels.TwoByTwoSame,
        _ => SymmetryModels.Mixed,
    });

    private static List<KeyValuePair<string, string>> Overrides(string setting) =>
        setting.Length == 0 ? [] : [new(setting.Split('=')[0], setting.Split('=')[1])];

    private static MachineSystem Build(string model, string protocol, string setting, string[] properties) =>
        ModelCheck.BuildSystem(CheckRequest.ForFile(Load(model), protocol, Overrides(setting), properties));
}
