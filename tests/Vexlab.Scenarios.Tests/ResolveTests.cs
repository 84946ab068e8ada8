using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Values;
using static Vexlab.Scenarios.Tests.TestSupport;

namespace Vexlab.Scenarios.Tests;

public class ResolveTests
{
    private const string Tasks = "tasks:\n  - name: a\n    pattern: random\n    vcpu: 9\n  - name: b\n    pattern: sequential\n    count: 3\n";

    [Fact]
    public void Defaults_fill_every_key()
    {
        var settings = Schema().Resolve(null);
        Assert.True(settings.GetBool("guest.apf.dummy_entries"));
        Assert.Equal(4L << 30, settings.GetSize("guest.memory"));
        Assert.Equal(2, settings.GetInteger("guest.vcpus"));
        Assert.Equal(250_000, settings.GetDuration("host.fault_latency"));
        Assert.Equal(Rate.FromEventsPerSecond(1000), settings.GetRate("host.fault_rate"));
        Assert.Equal(0.5, settings.GetRatio("host.swap_ratio"));
        Assert.Equal("user", settings.GetString("guest.ve.can_continue"));
        Assert.Equal("default", settings["name"].Source.ToString());
        Assert.Empty(settings.GetList("tasks"));
        Assert.Equal(
            ["guest.apf.dummy_entries", "guest.memory", "guest.vcpus", "guest.ve.can_continue", "host.fault_latency",
             "host.fault_rate", "host.swap_ratio", "name"],
            settings.Keys);
    }

    [Fact]
    public void Document_values_are_typed_and_sourced()
    {
        var settings = Resolve("guest:\n  apf: {dummy_entries: false}\n  memory: 1.5GiB\nhost.fault_rate: 5/ms\nname: \"true\"\n");
        Assert.False(settings.GetBool("guest.apf.dummy_entries"));
        Assert.Equal(3L << 29, settings.GetSize("guest.memory"));
        Assert.Equal("s.yaml:3:11", settings["guest.memory"].Source.ToString());
        Assert.Equal("1536MiB", settings["guest.memory"].Text);
        Assert.Equal(5000.0, settings.GetRate("host.fault_rate").EventsPerSecond);
        Assert.Equal("true", settings.GetString("name"));
    }

    [Fact]
    public void Unknown_key_suggests_the_nearest() =>
        Assert.Equal(
            "s.yaml:3:5: guest.apf.dummy_entrys: unknown key; did you mean guest.apf.dummy_entries?",
            Fails(() => Resolve("guest:\n  apf:\n    dummy_entrys: false\n")));

    [Fact]
    public void Unknown_key_in_wrong_group_suggests_by_leaf() =>
        Assert.Equal(
            "s.yaml:1:1: host.dummy_entries: unknown key; did you mean guest.apf.dummy_entries?",
            Fails(() => Resolve("host.dummy_entries: false\n")));

    [Fact]
    public void Unknown_key_far_from_everything_has_no_suggestion() =>
        Assert.Equal("s.yaml:1:1: zzz: unknown key", Fails(() => Resolve("zzz: 1\n")));

    [Fact]
    public void Wrong_type_names_what_was_expected() =>
        Assert.Equal(
            "s.yaml:2:11: guest.memory: " + ScalarParsers.SizeExpected + ", got \"lots\"",
            Fails(() => Resolve("guest:\n  memory: lots\n")));

    [Fact]
    public void Mapping_where_a_value_belongs() =>
        Assert.Equal(
            "s.yaml:3:5: guest.vcpus: expected a whole number such as 4096 or 1_000_000, got a mapping",
            Fails(() => Resolve("guest:\n  vcpus:\n    n: 2\n")));

    [Fact]
    public void Empty_value_is_nothing() =>
        Assert.Equal(
            "s.yaml:1:25: guest.apf.dummy_entries: expected true or false, got nothing",
            Fails(() => Resolve("guest.apf.dummy_entries:\nname: x\n")));

    [Fact]
    public void Negative_size_is_out_of_range() =>
        Assert.Equal(
            "s.yaml:1:17: guest.memory: must be at least 4KiB, got -4GiB",
            Fails(() => Resolve("guest: {memory: -4GiB}\n")));

    [Theory]
    [InlineData("guest.vcpus: 0\n", "s.yaml:1:14: guest.vcpus: must be at least 1, got 0")]
    [InlineData("guest.vcpus: 65\n", "s.yaml:1:14: guest.vcpus: must be at most 64, got 65")]
    [InlineData("host.fault_latency: 0s\n", "s.yaml:1:21: host.fault_latency: must be at least 1ns, got 0s")]
    [InlineData("host.fault_rate: 2/us\n", "s.yaml:1:18: host.fault_rate: must be at most 1000000/s, got 2000000/s")]
    [InlineData("host.swap_ratio: 150%\n", "s.yaml:1:18: host.swap_ratio: must be at most 1 (100%), got 1.5 (150%)")]
    [InlineData("host.swap_ratio: 1.07\n", "s.yaml:1:18: host.swap_ratio: must be at most 1 (100%), got 1.07 (107%)")]
    [InlineData("host.swap_ratio: -0.5%\n", "s.yaml:1:18: host.swap_ratio: must be at least 0 (0%), got -0.005 (-0.5%)")]
    [InlineData("tasks: [{name: a, pattern: random, size: 0}]\n", "s.yaml:1:42: tasks[0].size: must be at least 1B, got 0B")]
    public void Ranges_are_checked(string yaml, string expected) => Assert.Equal(expected, Fails(() => Resolve(yaml)));

    [Fact]
    public void Group_given_a_scalar() =>
        Assert.Equal(
            "s.yaml:1:8: guest: expected a mapping of keys under guest (such as guest.apf.dummy_entries), got a scalar",
            Fails(() => Resolve("guest: 5\n")));

    [Fact]
    public void Dotted_and_nested_spellings_of_one_key_are_duplicates() =>
        Assert.Equal(
            "s.yaml:3:3: guest.vcpus: duplicate key (first defined at line 1, column 1)",
            Fails(() => Resolve("guest.vcpus: 2\nguest:\n  vcpus: 4\n")));

    [Fact]
    public void Enum_error_lists_allowed_values() =>
        Assert.Equal(
            "s.yaml:1:24: guest.ve.can_continue: expected one of never, user, user-or-preemptible-kernel; got \"always\"",
            Fails(() => Resolve("guest.ve.can_continue: always\n")));

    [Fact]
    public void List_elements_are_validated_with_defaults()
    {
        var tasks = Resolve(Tasks).GetList("tasks");
        Assert.Equal(2, tasks.Count);
        Assert.Equal("tasks[1]", tasks[1].Path);
        Assert.Equal("b", tasks[1].GetString("name"));
        Assert.Equal(3, tasks[1].GetInteger("count"));
        Assert.Equal(1, tasks[0].GetInteger("count"));
        Assert.Equal(ValueSourceKind.Default, tasks[0]["count"].Source.Kind);
        Assert.False(tasks[1].Contains("vcpu"));
        Assert.Equal("s.yaml:5:5", tasks[1].Source.ToString());
    }

    [Fact]
    public void Missing_required_element_key() =>
        Assert.Equal(
            "s.yaml:4:5: tasks[1]: missing required key pattern (each element of tasks needs name, pattern)",
            Fails(() => Resolve("tasks:\n  - name: a\n    pattern: random\n  - name: b\n")));

    [Fact]
    public void Unknown_element_key_suggests_within_the_element() =>
        Assert.Equal(
            "s.yaml:3:5: tasks[0].patern: unknown key; did you mean tasks[0].pattern?",
            Fails(() => Resolve("tasks:\n  - name: a\n    patern: random\n")));

    [Fact]
    public void Element_must_be_a_mapping() =>
        Assert.Equal(
            "s.yaml:2:5: tasks[0]: expected a mapping with keys such as count, name, pattern, size, got a scalar",
            Fails(() => Resolve("tasks:\n  - a\n")));

    [Fact]
    public void List_must_be_a_list() =>
        Assert.Equal(
            "s.yaml:1:8: tasks: expected a list of mappings, got a mapping",
            Fails(() => Resolve("tasks: {name: a}\n")));

    [Fact]
    public void Semantic_errors_point_at_the_element_key()
    {
        var settings = Resolve(Tasks);
        var tasks = settings.GetList("tasks");
        Assert.Equal(
            "s.yaml:4:11: tasks[0].vcpu: pinned to vCPU 9 but the guest has 2",
            ResolvedSettings.ErrorAt(tasks[0], "vcpu", "pinned to vCPU 9 but the guest has 2").Message);
        Assert.Equal(
            "s.yaml:5:5: tasks[1].vcpu: not pinned",
            ResolvedSettings.ErrorAt(tasks[1], "vcpu", "not pinned").Message);
        Assert.Equal("s.yaml:5:5: tasks[1]: too big", tasks[1].ErrorAt(null, "too big").Message);
        Assert.Equal("default: guest.memory: too small", settings.ErrorAt("guest.memory", "too small").Message);
    }

    [Fact]
    public void Later_documents_override_earlier_ones()
    {
        var schema = Schema();
        var builtin = ScenarioDocument.Parse("guest.vcpus: 4\n" + Tasks, "builtin:postcopy");
        var user = ScenarioDocument.Parse("guest:\n  vcpus: 8\ntasks: [{name: z, pattern: random}]\n", FileName);
        var settings = schema.ResolveLayers([builtin, user]);
        Assert.Equal(8, settings.GetInteger("guest.vcpus"));
        Assert.Equal("z", Assert.Single(settings.GetList("tasks")).GetString("name"));
        Assert.Equal("s.yaml:2:10", settings["guest.vcpus"].Source.ToString());
    }

    [Fact]
    public void Typed_getter_of_the_wrong_kind_is_a_programming_error() =>
        Assert.Throws<InvalidOperationException>(() => Schema().Resolve(null).GetSize("guest.vcpus"));

    [Fact]
    public void Schema_rejects_inconsistent_specs()
    {
        Assert.Throws<ArgumentException>(() => Schema().Add(new KeySpec { Key = "guest.vcpus", Kind = ValueKind.Integer, Description = "x" }));
        Assert.Throws<ArgumentException>(() => Schema().Add(new KeySpec { Key = "guest", Kind = ValueKind.Integer, Description = "x" }));
        Assert.Throws<ArgumentException>(() => Schema().Add(new KeySpec { Key = "guest.vcpus.x", Kind = ValueKind.Integer, Description = "x" }));
        Assert.Throws<ArgumentException>(() => new KeySchema().Add(new KeySpec { Key = "Bad.Key", Kind = ValueKind.Bool, Description = "x" }));
        Assert.Throws<ArgumentException>(() => new KeySchema().Add(new KeySpec { Key = "a", Kind = ValueKind.Size, Default = "lots", Description = "x" }));
        Assert.Throws<ArgumentException>(() => new KeySchema().Add(new KeySpec { Key = "a", Kind = ValueKind.Enum, EnumValues = ["Bad_Name"], Description = "x" }));
        Assert.Throws<ArgumentException>(() => new KeySchema().Add(new KeySpec { Key = "a", Kind = ValueKind.Integer, Default = 0, Min = 1, Description = "x" }));
        Assert.Throws<ArgumentException>(() => new KeySchema().Add(new KeySpec { Key = "a", Kind = ValueKind.Bool, Default = 1, Description = "x" }));
    }

    [Fact]
    public void Spec_applies_to_protocols()
    {
        Assert.True(Schema().TryGetKey("guest.ve.can_continue", out var ve));
        Assert.True(ve.AppliesTo("ve"));
        Assert.False(ve.AppliesTo("kvm-pf"));
        Assert.True(Schema().TryGetKey("guest.vcpus", out var all));
        Assert.True(all.AppliesTo("kvm-pf"));
    }
}
