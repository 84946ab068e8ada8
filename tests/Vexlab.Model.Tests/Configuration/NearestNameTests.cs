using Vexlab.Model.Configuration;

namespace Vexlab.Model.Tests.Configuration;

public sealed class NearestNameTests
{
    [Theory]
    [InlineData("", "", 0)]
    [InlineData("ve", "", 2)]
    [InlineData("kvm-pf", "kvm-pf", 0)]
    [InlineData("kvmpf", "kvm-pf", 1)]
    [InlineData("kvm-pf-irq", "kvm-pf-int", 2)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("sync", "ve", 4)]
    public void Edit_distance_counts_insertions_deletions_and_substitutions(string a, string b, int expected)
    {
        Assert.Equal(expected, NearestName.EditDistance(a, b));
        Assert.Equal(expected, NearestName.EditDistance(b, a));
    }

    [Theory]
    [InlineData("kvm-pff", "kvm-pf")]
    [InlineData("vee", "ve")]
    [InlineData("kvm-pf-irq", "kvm-pf-int")]
    [InlineData("zzzzzz", null)]
    [InlineData("apf", null)]
    public void The_nearest_protocol_is_offered_only_when_near(string typed, string? expected)
        => Assert.Equal(expected, NearestName.Of(typed, ["sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve"]));

    [Fact]
    public void A_dotted_key_is_found_by_its_last_segment_when_only_one_has_it()
    {
        string[] keys = ["guest.apf.enabled", "guest.apf.dummy_entries", "guest.ve.can_continue"];
        Assert.Equal("guest.apf.dummy_entries", NearestName.Of("apf.dummy_entries", keys));
        Assert.Equal("guest.ve.can_continue", NearestName.Of("can_continue", keys));
        Assert.Null(NearestName.Of("enabled", ["guest.apf.enabled", "host.apf.enabled"]));
    }

    [Fact]
    public void The_refusal_names_the_kind_the_name_the_nearest_and_every_name_in_order()
    {
        Assert.Equal(
            "unknown built-in sweep 'latenc'; did you mean latency? (expected one of latency, tasks-per-vcpu, overcommit)",
            NearestName.Unknown("built-in sweep", "latenc", ["latency", "tasks-per-vcpu", "overcommit"]));
        Assert.Equal(
            "unknown built-in sweep 'x' (expected one of latency, overcommit)",
            NearestName.Unknown("built-in sweep", "x", ["latency", "overcommit"]));
    }

    [Fact]
    public void The_hint_and_the_aside_offer_the_nearest_name_or_nothing()
    {
        string[] names = ["latency", "tasks-per-vcpu", "overcommit"];
        Assert.Equal("; did you mean latency?", NearestName.Hint("latenc", names));
        Assert.Equal("; did you mean tasks[0].loop?", NearestName.Hint("loops", ["loop", "name"], "tasks[0]."));
        Assert.Equal(" (did you mean latency?)", NearestName.Aside("latenc", names));
        Assert.Equal(string.Empty, NearestName.Hint("zzzzzz", names));
        Assert.Equal(string.Empty, NearestName.Aside("zzzzzz", names));
    }
}
