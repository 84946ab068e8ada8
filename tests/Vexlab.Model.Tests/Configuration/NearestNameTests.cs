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

    // "kvm" is nearest "ve" by edit distance, yet plainly the start of three protocols: all three are offered.
    [Theory]
    [InlineData("kvm", "; did you mean kvm-halt, kvm-pf or kvm-pf-int?")]
    [InlineData("kvm-p", "; did you mean kvm-pf or kvm-pf-int?")]
    [InlineData("kvm-h", "; did you mean kvm-halt?")]
    [InlineData("s", "; did you mean sync?")]
    [InlineData("kvm-pff", "; did you mean kvm-pf?")]
    [InlineData("vee", "; did you mean ve?")]
    [InlineData("zzzzzz", "")]
    public void A_prefix_of_several_names_offers_them_all(string typed, string expected)
    {
        string[] protocols = ["sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve"];
        Assert.Equal(expected, NearestName.Hint(typed, protocols));
        Assert.Equal(expected.Length == 0 ? string.Empty : " (" + expected[2..] + ")", NearestName.Aside(typed, protocols));
    }

    [Fact]
    public void A_prefix_offers_a_group_not_the_keys_under_it_and_falls_back_past_the_bound()
    {
        string[] keys = ["guest.apf", "guest.apf.enabled", "guest.apf.dummy_entries", "guest.ve", "guest.ve.can_continue"];
        Assert.Equal(["guest.apf"], NearestName.Suggestions("guest.ap", keys));
        Assert.Equal(["guest.apf", "guest.ve"], NearestName.Suggestions("guest.", keys));
        Assert.Equal("; did you mean tasks[0].loop or tasks[0].loops?", NearestName.Hint("lo", ["loop", "loops", "name"], "tasks[0]."));

        // More names than the bound begin with the prefix: the nearest one by edit distance, as before.
        string[] many = ["a1", "a2", "a3", "a4", "a5", "a6"];
        Assert.Equal(NearestName.MaxBegun + 1, many.Length);
        Assert.Equal(["a1"], NearestName.Suggestions("a", many));
    }
}
