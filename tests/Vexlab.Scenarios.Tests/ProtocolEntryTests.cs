using Vexlab.Scenarios.Documents;
using static Vexlab.Scenarios.Tests.TestSupport;

namespace Vexlab.Scenarios.Tests;

public class ProtocolEntryTests
{
    [Fact]
    public void Plain_and_bracketed_entries()
    {
        var entries = Overrides.ParseProtocols("kvm-pf-int,ve,ve[guest.ve.can_continue=user-or-preemptible-kernel]");
        Assert.Equal(["kvm-pf-int", "ve", "ve[guest.ve.can_continue=user-or-preemptible-kernel]"], entries.Select(e => e.Label));
        Assert.Equal(["kvm-pf-int", "ve", "ve"], entries.Select(e => e.Protocol));
        Assert.Empty(entries[0].Overrides);
        var knob = Assert.Single(entries[2].Overrides);
        Assert.Equal(("guest.ve.can_continue", "user-or-preemptible-kernel"), (knob.Key, knob.Value));
        Assert.Equal("--protocols ve[guest.ve.can_continue=user-or-preemptible-kernel]", knob.Origin);
    }

    [Fact]
    public void Commas_inside_brackets_do_not_split_entries()
    {
        var entries = Overrides.ParseProtocols("ve[guest.ve.can_continue=never,guest.vcpus=4], sync ,kvm-pf[guest.vcpus=1;guest.memory=1GiB]");
        Assert.Equal(["ve", "sync", "kvm-pf"], entries.Select(e => e.Protocol));
        Assert.Equal(["guest.ve.can_continue", "guest.vcpus"], entries[0].Overrides.Select(o => o.Key));
        Assert.Equal(["guest.vcpus", "guest.memory"], entries[2].Overrides.Select(o => o.Key));
    }

    [Fact]
    public void Element_keys_inside_brackets()
    {
        var entry = Assert.Single(Overrides.ParseProtocols("ve[tasks[0].count=2;guest.vcpus=4]"));
        Assert.Equal(["tasks[0].count", "guest.vcpus"], entry.Overrides.Select(o => o.Key));
        Assert.Equal(0, entry.Overrides[0].Index);
    }

    [Fact]
    public void Entry_knobs_resolve_against_the_schema()
    {
        var entries = Overrides.ParseProtocols("kvm-pf,ve[guest.ve.can_continue=never]");
        var settings = Schema().Resolve(null, entries[1].Overrides);
        Assert.Equal("never", settings.GetString("guest.ve.can_continue"));
        var bad = Overrides.ParseProtocols("ve[guest.ve.can_continue=usr]");
        Assert.Equal(
            "--protocols ve[guest.ve.can_continue=usr]: guest.ve.can_continue: expected one of never, user, user-or-preemptible-kernel; got \"usr\" (did you mean user?)",
            Fails(() => Schema().Resolve(null, bad[0].Overrides)));
    }

    [Theory]
    [InlineData("ve[guest.vcpus=4", "--protocols: unbalanced '[' in \"ve[guest.vcpus=4\"")]
    [InlineData("ve]", "--protocols: unbalanced ']' in \"ve]\"")]
    [InlineData("kvm-pf,,ve", "--protocols: empty protocol entry in \"kvm-pf,,ve\"; separate entries with one comma")]
    [InlineData("ve,ve", "--protocols: protocol entry \"ve\" is listed twice")]
    [InlineData("VE", "--protocols: expected a protocol name such as kvm-pf-int, got \"VE\"")]
    [InlineData("[guest.vcpus=4]", "--protocols: expected a protocol name such as kvm-pf-int, got \"\"")]
    [InlineData("ve[]", "--protocols: empty knob in \"ve[]\"; write ve[key=value;key=value]")]
    [InlineData("ve[a=1]x", "--protocols: expected ve[key=value;...] with nothing after the closing bracket, got \"ve[a=1]x\"")]
    [InlineData("ve[guest.vcpus]", "--protocols ve[guest.vcpus]: expected key=value such as guest.apf.dummy_entries=false, got \"guest.vcpus\"")]
    [InlineData("", "--protocols: empty protocol entry in \"\"; separate entries with one comma")]
    public void Malformed_entries(string text, string expected) =>
        Assert.Equal(expected, Fails(() => Overrides.ParseProtocols(text)));
}
