using Vexlab.Results.Sweeps;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

public sealed class SweepFileTests
{
    [Fact]
    public void Parse_GoodFile_ReadsEverything()
    {
        var sweep = Small();
        Assert.Equal("small", sweep.Name);
        Assert.Equal("postcopy", sweep.Scenario.Name);
        Assert.Equal(["sync", "ve", "ve[guest.ve.can_continue=user-or-preemptible-kernel]"], sweep.Protocols.Select(p => p.Label));
        Assert.Equal("guest.ve.can_continue", Assert.Single(sweep.Protocols[2].Overrides).Key);
        Assert.Equal([1L, 2, 3], sweep.Seeds);
        Assert.Equal(["1", "10", "100", "1000"], sweep.Axes[0].Values.Select(v => v.Text));
        Assert.Equal("host.latency=10us", sweep.Axes[0].SetText(sweep.Axes[0].Values[1]));
        Assert.Equal(8, sweep.PointCount);
        Assert.Equal(72, sweep.RunCount);
    }

    [Fact]
    public void Parse_Ranges_AreExact()
    {
        var sweep = SweepFile.Parse("""
            scenario: postcopy
            protocols: all
            seeds: [7, 9]
            axes:
              - {name: overcommit, key: host.overcommit, range: {from: 1.0, to: 2.0, step: 0.1}}
              - {name: latency, key: host.latency, unit: us, log: {from: 1, to: 10000, points: 9}}
              - {name: mode, key: guest.ve.can_continue, values: [user, "always"]}
            """, "r.yaml");
        Assert.Equal(["1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "2"], sweep.Axes[0].Values.Select(v => v.Text));
        Assert.Equal(["1", "3.162", "10", "31.62", "100", "316.2", "1000", "3162", "10000"], sweep.Axes[1].Values.Select(v => v.Text));
        Assert.False(sweep.Axes[2].IsNumeric);
        Assert.Equal(5, sweep.Protocols.Count);
        Assert.Equal([7L, 9], sweep.Seeds);
    }

    [Theory]
    // A misspelt key is offered the nearest one, as a scenario's and a model file's are.
    [InlineData("scenario: postcopy\nprotocols: [ve]\nsets:\n  duration: 5ms\n", "x.yaml:3:1: sets: unknown sweep key; did you mean set? (expected one of name, description, scenario, set, protocols, seeds, axes); scenario keys and knobs go under set:")]
    // A scenario key at the top level is told where it belongs.
    [InlineData("scenario: postcopy\nprotocols: [ve]\nduration: 5ms\n", "x.yaml:3:1: duration: unknown sweep key (expected one of name, description, scenario, set, protocols, seeds, axes); scenario keys and knobs go under set:")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: a.b\n    valuse: [1]\n", "x.yaml:6:5: axes[0].valuse: unknown axis key; did you mean values? (expected one of name, key, unit, values, range, log)")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: a.b\n    range: {from: 1, to: 5, stpe: 1}\n", "x.yaml:6:29: axes[0].range.stpe: unknown key; did you mean step? (expected one of from, to, step)")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\nbogus: 1\n", "x.yaml:3:1: bogus: unknown sweep key (expected one of")]
    [InlineData("protocols: [ve]\n", "x.yaml:1:1: missing key 'scenario'")]
    [InlineData("scenario: postcopy\nprotocols: [ve, nope]\n", "x.yaml:2:17: protocols[1]: unknown protocol 'nope' (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)")]
    [InlineData("scenario: postcopy\nprotocols: nope\n", "x.yaml:2:12: protocols: unknown protocol 'nope' (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)")]
    [InlineData("scenario: postcopy\nprotocols:\n  - ve\n  - \"ve[host.apf.ready_target=any]\"\n", "x.yaml:4:5: protocols[1]: ve[host.apf.ready_target=any]: host.apf.ready_target: ve does not use this knob (it applies to kvm-pf, kvm-pf-int)")]
    [InlineData("scenario: postcopy\nprotocols: [ve, ve]\n", "x.yaml:2:17: protocols[1]: protocol entry \"ve\" is listed twice")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\nseeds: 0\n", "x.yaml:3:8: seeds: expected a number of seeds")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: latency\n    key: host.latency\n", "x.yaml:4:5: axes[0]: axis latency: give its values")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: seed\n    key: a.b\n    values: [1]\n", "x.yaml:4:11: axes[0].name: \"seed\" is a column of every result")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: cpu_ns\n    key: host.latency\n    values: [1]\n", "x.yaml:4:11: axes[0].name: \"cpu_ns\" is a column of every result")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: vcpu_ns_guest\n    key: host.latency\n    values: [1]\n", "x.yaml:4:11: axes[0].name: \"vcpu_ns_guest\" is named like the result columns vcpu_ns_*")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: Not A Key\n    values: [1]\n", "x.yaml:5:10: axes[0].key: \"Not A Key\" is not a scenario key")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: a.b\n    range: {from: 1, to: 5, step: 0}\n", "x.yaml:6:35: axes[0].range.step: the step must be greater than 0")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: a.b\n    log: {from: 0, to: 5, points: 3}\n", "x.yaml:6:17: axes[0].log.from: a log range starts above 0")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: a.b\n    values: [1, 1]\n", "x.yaml:6:17: axes[0].values[1]: value \"1\" is listed twice")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: a.b\n    values: [1, 1.0]\n", "x.yaml:6:17: axes[0].values[1]: value \"1.0\" is listed twice")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: x\n    key: a.b\n    values: [0.5, 5e-1]\n", "x.yaml:6:19: axes[0].values[1]: value \"5e-1\" is listed twice")]
    [InlineData("scenario: missing.yaml\nprotocols: [ve]\n", "x.yaml:1:11: scenario: cannot read the scenario file")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\nscenario: sync\n", "x.yaml:3:1: scenario: duplicate key")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\nset:\n  host.latency: 5us\naxes:\n  - name: latency\n    key: host.latency\n    values: [1]\n", "x.yaml:4:3: host.latency is the sweep's axis latency; each run sets it from the axis values")]
    [InlineData("scenario: postcopy\nprotocols: [sync, \"ve[guest.ve.can_continue=always]\"]\naxes:\n  - name: cc\n    key: guest.ve.can_continue\n    values: [seed, never]\n", "x.yaml:2:19: protocols[1]: ve[guest.ve.can_continue=always]: guest.ve.can_continue is the sweep's axis cc; each run sets it from the axis values")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\nset:\n  tasks[00].count: 2\naxes:\n  - name: tasks\n    key: tasks[0].count\n    values: [1]\n", "x.yaml:4:3: tasks[00].count is the sweep's axis tasks; each run sets it from the axis values")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\nset:\n  seed: 42\n", "x.yaml:4:3: seed: each run's seed comes from the sweep's seeds; list them there (seeds: N, or a list such as [1, 7, 42])")]
    [InlineData("scenario: postcopy\nprotocols: [sync, \"ve[seed=3]\"]\n", "x.yaml:2:19: protocols[1]: ve[seed=3]: seed: each run's seed comes from the sweep's seeds; list them there (seeds: N, or a list such as [1, 7, 42])")]
    [InlineData("scenario: postcopy\nset:\n  duration: 5ms\nprotocols: [sync, \"ve[duration=1ms]\"]\n", "x.yaml:4:19: protocols[1]: ve[duration=1ms]: duration: the entries run for one duration; set it for all under set: or with --set duration=T")]
    [InlineData("scenario: postcopy\nprotocols: [ve]\naxes:\n  - name: s\n    key: seed\n    values: [1, 2]\n", "x.yaml:5:10: axes[0].key: seed: each run's seed comes from the sweep's seeds; list them there (seeds: N, or a list such as [1, 7, 42])")]
    public void Parse_BadFile_NamesFileLineAndKey(string yaml, string expected)
    {
        var message = Fails(() => SweepFile.Parse(yaml, "x.yaml", Path.GetTempPath()));
        Assert.StartsWith(expected, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void Hash_ChangesWithAValue_NotWithTheDescription()
    {
        var a = Small();
        var b = SweepFile.Parse(SmallSweep.Replace("name: small", "name: small\ndescription: words"), "b.yaml");
        var c = SweepFile.Parse(SmallSweep.Replace("seeds: 3", "seeds: 4"), "c.yaml");
        Assert.Equal(a.ComputeHash(), b.ComputeHash());
        Assert.NotEqual(a.ComputeHash(), c.ComputeHash());
        Assert.NotEqual(a.ComputeHash(), a.WithSets([Scenarios.Documents.Overrides.ParseSet("guest.vcpus=4")]).ComputeHash());
    }

    // Each run sets an axis's key after the sweep's overrides: a --set of it would change nothing while the
    // sweep hash and every replay line carried it, so it is refused; another key is still accepted.
    [Theory]
    [InlineData("host.latency=5us", "--set: host.latency is the sweep's axis latency; each run sets it from the axis values")]
    [InlineData("tasks[0].count=2", "--set: tasks[0].count is the sweep's axis tasks; each run sets it from the axis values")]
    [InlineData("tasks[00].count=2", "--set: tasks[00].count is the sweep's axis tasks; each run sets it from the axis values")]
    public void WithSets_OfAnAxisKey_IsRefused(string set, string expected)
    {
        var sets = Scenarios.Documents.Overrides.ParseSets(["guest.vcpus=2", set]);
        Assert.Equal(expected, Fails(() => Small().WithSets(sets)));
        Assert.Equal(2, Small().WithSets(Scenarios.Documents.Overrides.ParseSets(["guest.vcpus=2", "tasks[1].count=2"])).Sets.Count);
    }

    // Each run's seed is set from the sweep's seeds after every override: a --set seed=N ran the sweep's seeds.
    [Fact]
    public void WithSets_OfTheSeed_IsRefused() =>
        Assert.Equal("--set: seed: each run's seed comes from the sweep's seeds; list them there (seeds: N, or a list such as [1, 7, 42])", Fails(() => Small().WithSets(Scenarios.Documents.Overrides.ParseSets(["seed=9"]))));

    [Fact]
    public void Builtins_AllParse()
    {
        foreach (var name in BuiltinSweeps.Names)
        {
            var sweep = BuiltinSweeps.Load(name);
            Assert.True(sweep.PointCount > 1);
            Assert.Equal(5, sweep.Protocols.Count);
        }

        var latency = BuiltinSweeps.Load("latency").Axes.Single();
        Assert.Equal("host.latency", latency.Key);
        Assert.Equal(1, latency.Values[0].Number);
        Assert.Equal(10000, latency.Values[^1].Number);
        Assert.Equal(16, BuiltinSweeps.Load("tasks-per-vcpu").Axes.Single().Values.Count);
        Assert.Equal(3.0, BuiltinSweeps.Load("overcommit").Axes.Single().Values[^1].Number);
    }
}
