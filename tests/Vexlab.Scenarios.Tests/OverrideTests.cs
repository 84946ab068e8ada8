using Vexlab.Scenarios.Documents;
using static Vexlab.Scenarios.Tests.TestSupport;

namespace Vexlab.Scenarios.Tests;

public class OverrideTests
{
    private const string Tasks = "tasks:\n  - name: a\n    pattern: random\n  - name: b\n    pattern: sequential\n";

    [Fact]
    public void Scalar_override_wins_over_document_and_default()
    {
        var settings = Resolve("guest:\n  apf:\n    dummy_entries: true\n", "guest.apf.dummy_entries=false", "guest.memory = 8GiB");
        Assert.False(settings.GetBool("guest.apf.dummy_entries"));
        Assert.Equal("--set guest.apf.dummy_entries=false", settings["guest.apf.dummy_entries"].Source.ToString());
        Assert.Equal(8L << 30, settings.GetSize("guest.memory"));
    }

    [Fact]
    public void Later_overrides_win() =>
        Assert.Equal(8, Resolve(string.Empty, "guest.vcpus=4", "guest.vcpus=8").GetInteger("guest.vcpus"));

    [Fact]
    public void Parsed_parts()
    {
        var item = Overrides.ParseSet("tasks[12].count=4");
        Assert.Equal(("tasks[12].count", "4", "tasks", 12, "count"), (item.Key, item.Value, item.ListKey, item.Index, item.ElementKey));
        Assert.Equal("--set", item.Origin);
        var plain = Overrides.ParseSet("guest.vcpus=4");
        Assert.Null(plain.ListKey);
    }

    [Theory]
    [InlineData("name=\"a b\"", "a b")]
    [InlineData("name='it''s'", "it's")]
    [InlineData("name=x=y", "x=y")]
    [InlineData("name=\"\"", "")]
    [InlineData("name=\"q\\\"q\"", "q\"q")]
    public void Values_are_yaml_scalars(string text, string expected) =>
        Assert.Equal(expected, Resolve(string.Empty, text).GetString("name"));

    [Fact]
    public void List_element_override()
    {
        var tasks = Resolve(Tasks, "tasks[0].count=4", "tasks[1].vcpu=1").GetList("tasks");
        Assert.Equal(4, tasks[0].GetInteger("count"));
        Assert.Equal(1, tasks[1].GetInteger("vcpu"));
        Assert.Equal("--set tasks[0].count=4", tasks[0]["count"].Source.ToString());
        Assert.Equal("--set: tasks[0].count: not allowed", tasks[0].ErrorAt("count", "not allowed").Message);
    }

    [Fact]
    public void List_element_override_can_append()
    {
        var tasks = Resolve(Tasks, "tasks[2].name=c", "tasks[2].pattern=random").GetList("tasks");
        Assert.Equal(3, tasks.Count);
        Assert.Equal("c", tasks[2].GetString("name"));
        Assert.Equal(
            "--set: tasks[2]: missing required key pattern (each element of tasks needs name, pattern)",
            Fails(() => Resolve(Tasks, "tasks[2].name=c")));
    }

    [Theory]
    [InlineData("guest.apf.dumy_entries=false", "--set: guest.apf.dumy_entries: unknown key; did you mean guest.apf.dummy_entries?")]
    [InlineData("guest.memory=lots", "--set: guest.memory: expected a size such as 4GiB, 512MiB, 1.5GiB or 4096 (units B, KiB, MiB, GiB, TiB, PiB, KB, MB, GB, TB, PB), got \"lots\"")]
    [InlineData("guest.memory=-1GiB", "--set: guest.memory: must be at least 4KiB, got -1GiB")]
    [InlineData("guest.vcpus=", "--set: guest.vcpus: expected a whole number such as 4096 or 1_000_000, got nothing")]
    [InlineData("guest=1", "--set: guest: is a group of keys; set one of them, such as guest.apf.dummy_entries=...")]
    [InlineData("tasks=1", "--set: tasks: is a list; set a key of one element, such as tasks[0].count=...")]
    [InlineData("tasks[5].count=1", "--set: tasks[5].count: index 5 is out of range: tasks has 2 elements, tasks[0] to tasks[1]; tasks[2] adds one")]
    [InlineData("tasks[0].cont=1", "--set: tasks[0].cont: unknown key in an element of tasks; did you mean tasks[0].count?")]
    [InlineData("task[0].count=1", "--set: task[0].count: unknown list; did you mean tasks?")]
    [InlineData("tasks[0].pattern=zigzag", "--set: tasks[0].pattern: expected one of sequential, random; got \"zigzag\"")]
    public void Bad_overrides(string text, string expected) => Assert.Equal(expected, Fails(() => Resolve(Tasks, text)));

    [Theory]
    [InlineData("guest.vcpus", "--set: expected key=value such as guest.apf.dummy_entries=false, got \"guest.vcpus\"")]
    [InlineData("=4", "--set: expected key=value with a dotted key such as guest.apf.dummy_entries=false, got \"=4\"")]
    [InlineData("guest..vcpus=4", "--set: guest..vcpus: expected key=value with a dotted key such as guest.apf.dummy_entries=false, got \"guest..vcpus=4\"")]
    [InlineData("tasks[x].count=4", "--set: tasks[x].count: a list element key looks like tasks[0].count (list, index, then the element key)")]
    [InlineData("tasks[0]=4", "--set: tasks[0]: a list element key looks like tasks[0].count (list, index, then the element key)")]
    [InlineData("name=\"open", "--set: name: unbalanced quote in value \"\\\"open\"")]
    public void Malformed_set_text(string text, string expected) => Assert.Equal(expected, Fails(() => Overrides.ParseSet(text)));

    [Fact]
    public void Unknown_scalar_key_without_document() =>
        Assert.Equal(
            "--set: guest.vcpu: unknown key; did you mean guest.vcpus?",
            Fails(() => Schema().Resolve(null, [Overrides.ParseSet("guest.vcpu=2")])));
}
