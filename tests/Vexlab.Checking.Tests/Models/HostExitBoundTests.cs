using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Machine;

namespace Vexlab.Checking.Tests.Models;

/// <summary>
/// <c>bounds.host_exits</c> caps the checker's <see cref="ActionKind.HostExit"/> (a host interrupt after which the 5.7
/// host's vcpu_run injects a waiting page-ready, kvm_check_async_pf_completion) as the other bounds cap their events.
/// </summary>
public sealed class HostExitBoundTests
{
    private static MachineConfig Config(string model, int hostExits, string protocol = "kvm-pf")
    {
        var config = BuiltinModels.Get(model).Build(protocol);
        return config with { Bounds = config.Bounds with { HostExits = hostExits } };
    }

    private static CheckResult Explore(ITransitionSystem system)
    {
        var result = Checker.Run(system, new CheckerOptions { Workers = 1, CheckDeadlock = false, CheckLiveness = false, TimeLimit = TimeSpan.FromSeconds(60) });
        Assert.Equal(StopReason.Exhausted, result.StopReason);
        return result;
    }

    /// <summary>
    /// No path takes more host exits than the bound, and some path takes exactly that many (the bound binds): a
    /// counter of the exits taken rides beside the state. With 0 the search is the one without the action at all.
    /// </summary>
    [Theory]
    [InlineData("kernel-fault", 0)]
    [InlineData("kernel-fault", 1)]
    [InlineData("kernel-fault", 2)]
    [InlineData("token-wrap", 3)]
    public void NoPathTakesMoreHostExitsThanTheBound(string model, int hostExits)
    {
        using var inner = new MachineSystem(Config(model, hostExits), [PropertyNameOf()]);
        var counting = new CountingHostExits(inner);
        Explore(counting);
        Assert.Equal(hostExits, counting.Most);
    }

    /// <summary>More exits allowed, more states; none allowed, exactly the states of the machine without the action.</summary>
    [Theory]
    [InlineData("kernel-fault")]
    [InlineData("pending-event")]
    [InlineData("reenable")]
    public void StatesGrowWithTheBound_AndZeroIsTheMachineWithoutTheAction(string model)
    {
        var states = new long[3];
        for (var n = 0; n < states.Length; n++)
        {
            using var system = new MachineSystem(Config(model, n), [PropertyNameOf()]);
            states[n] = Explore(system).States;
        }

        Assert.True(states[0] < states[1] && states[1] < states[2], $"{model}: {string.Join(" / ", states)} states with 0 / 1 / 2 host exits");

        // Unbounded (255: Spend keeps no count), with HostExit taken out of every state's list.
        using var unbounded = new MachineSystem(Config(model, 255), [PropertyNameOf()]);
        Assert.Equal(states[0], Explore(new WithoutHostExit(unbounded)).States);
    }

    public static TheoryData<string, string> MatrixModels
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var model in BuiltinModels.All.Where(m => m.InMatrix && m.Name != "truncate"))
            {
                data.Add(model.Name, "kvm-pf");
                data.Add(model.Name, "kvm-pf-int");
            }

            return data;
        }
    }

    /// <summary>
    /// Each built-in model's own bound (truncate's aside: BuiltinModels' remarks) is where one more exit reaches no new
    /// state, under kvm-pf (an exit that injects a waiting page-ready) and under kvm-pf-int (an exit whose entry uses
    /// up a KVM_REQ_APF_READY it cannot serve): with it the check is the unbounded one. The image of the states under
    /// the bound, each with one more exit in its budget, is a subset of the states under bound + 1; equal counts leave
    /// nothing outside it.
    /// </summary>
    [Theory]
    [MemberData(nameof(MatrixModels))]
    public void EachBuiltinModelsBound_ReachesEveryStateAnUnboundedCheckWould(string model, string protocol)
    {
        var own = BuiltinModels.Get(model).Bounds.HostExits;
        Assert.InRange(own, 1, 8);
        using var at = new MachineSystem(Config(model, own, protocol), [PropertyNameOf()]);
        using var past = new MachineSystem(Config(model, own + 1, protocol), [PropertyNameOf()]);
        Assert.Equal(Explore(at).States, Explore(past).States);
    }

    /// <summary>truncate keeps its bound below that point on purpose (its state count), but gives every path an exit.</summary>
    [Fact]
    public void Truncate_StopsShortOfUnbounded()
    {
        var own = BuiltinModels.Get("truncate").Bounds.HostExits;
        Assert.Equal(2, own);
        using var inner = new MachineSystem(Config("truncate", own), [PropertyNameOf()]);
        var counting = new CountingHostExits(inner);
        Explore(counting);
        Assert.Equal(own, counting.Most);
    }

    /// <summary>A safety property no built-in model breaks under kvm-pf, so that every search runs to the end.</summary>
    private static string PropertyNameOf() => "no-protocol-double-fault";

    /// <summary>The machine with one more byte: how many host exits the path to the state took (a state per count).</summary>
    private sealed class CountingHostExits(ITransitionSystem inner) : ForwardingSystem(inner)
    {
        private int _most;

        public int Most => Volatile.Read(ref _most);

        public override int StateSize => Inner.StateSize + 1;

        public override void WriteInitialState(Span<byte> state)
        {
            Inner.WriteInitialState(state[..^1]);
            state[^1] = 0;
        }

        public override int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions) => Inner.ListActions(state[..^1], actions);

        public override ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
        {
            var bits = Inner.Apply(state[..^1], action, next[..^1]);
            var taken = state[^1] + (MachineAction.Unpack(action).Kind == ActionKind.HostExit ? 1 : 0);
            next[^1] = (byte)taken;
            int seen;
            while (taken > (seen = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, taken, seen) != seen)
            {
            }

            return bits;
        }

        public override ulong PendingObligations(ReadOnlySpan<byte> state, int property) => Inner.PendingObligations(state[..^1], property);

        public override bool IsValidEnd(ReadOnlySpan<byte> state) => Inner.IsValidEnd(state[..^1]);

        public override bool IsAlive(ReadOnlySpan<byte> state) => Inner.IsAlive(state[..^1]);
    }

    /// <summary>The machine with HostExit never listed.</summary>
    private sealed class WithoutHostExit(ITransitionSystem inner) : ForwardingSystem(inner)
    {
        public override int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
        {
            var n = Inner.ListActions(state, actions);
            var kept = 0;
            for (var i = 0; i < n; i++)
            {
                if (MachineAction.Unpack(actions[i]).Kind != ActionKind.HostExit)
                {
                    actions[kept++] = actions[i];
                }
            }

            return kept;
        }
    }
}
