using Vexlab.Scenarios.Documents;
using static Vexlab.Scenarios.Tests.TestSupport;

namespace Vexlab.Scenarios.Tests;

public class DocumentTests
{
    [Fact]
    public void Nodes_carry_positions_and_paths()
    {
        var doc = ScenarioDocument.Parse("guest:\n  apf:\n    dummy_entries: false\ntasks:\n  - name: a\n    pattern: random\n", FileName);
        Assert.True(doc.Root.TryGetValue("guest", out var guest));
        var apf = Assert.IsType<MappingNode>(Assert.IsType<MappingNode>(guest).Entries[0].Value);
        var entry = apf.Entries[0];
        Assert.Equal(("guest.apf.dummy_entries", 3, 5), (entry.Key.Path, entry.Key.Line, entry.Key.Column));
        var value = Assert.IsType<ScalarNode>(entry.Value);
        Assert.Equal(("false", 3, 20), (value.Value, value.Line, value.Column));

        Assert.True(doc.Root.TryGetValue("tasks", out var tasks));
        var task = Assert.IsType<MappingNode>(Assert.IsType<SequenceNode>(tasks).Items[0]);
        Assert.Equal("tasks[0]", task.Path);
        Assert.Equal(("tasks[0].pattern", 6, 5), (task.Entries[1].Key.Path, task.Entries[1].Key.Line, task.Entries[1].Key.Column));
    }

    [Fact]
    public void Duplicate_key_names_both_lines()
    {
        var message = Fails(() => ScenarioDocument.Parse("guest:\n  vcpus: 2\n  memory: 1GiB\n  vcpus: 4\n", FileName));
        Assert.Equal("s.yaml:4:3: guest.vcpus: duplicate key (first defined at line 2, column 3)", message);
    }

    [Fact]
    public void Malformed_yaml_reports_parser_position()
    {
        var message = Fails(() => ScenarioDocument.Parse("guest:\n  memory: 4GiB\n vcpus: 2\n", FileName));
        Assert.Equal("s.yaml:3:2: malformed YAML: While parsing a block mapping, did not find expected key", message);

        var flow = Fails(() => ScenarioDocument.Parse("tasks: [a, b\n", FileName));
        Assert.Equal("s.yaml:2:1: malformed YAML: While parsing a flow sequence, did not find expected ',' or ']'", flow);
    }

    // YamlDotNet puts a tab in the indentation at the start of what it was scanning (1:1, or the end of the line
    // before); the error names the tab.
    [Theory]
    [InlineData("guest:\n\tvcpus: 2\n", "s.yaml:2:1: malformed YAML: While scanning a mapping, found invalid tab as indentation")]
    [InlineData("name: x\nguest:\n  vcpus: 2\n  \tmemory: 1GiB\n", "s.yaml:4:3: malformed YAML: While scanning a plain scalar, found a tab character that violate indentation")]
    public void A_tab_in_the_indentation_is_named_where_it_is(string yaml, string expected)
    {
        Assert.Equal(expected, Fails(() => ScenarioDocument.Parse(yaml, FileName)));
    }

    // YAML 1.2.2 section 6.1: tabs are never indentation. YamlDotNet took a tab before the first line's key as the
    // root mapping's indentation and read the file as if it were not there.
    [Theory]
    [InlineData("\tname: x\n", "s.yaml:1:1")]
    [InlineData("# a comment\n\tname: x\n", "s.yaml:2:1")]
    [InlineData("\n \tname: x\n", "s.yaml:2:2")]
    [InlineData("  \t  name: x\n  seed: 1\n", "s.yaml:1:3")]
    public void A_tab_before_the_first_key_is_refused(string yaml, string place)
    {
        Assert.Equal(place + ": malformed YAML: a tab in the indentation; YAML indents with spaces only (YAML 1.2.2 section 6.1)", Fails(() => ScenarioDocument.Parse(yaml, FileName)));
    }

    // A tab is separation where it is not indentation: after a key's colon, in a comment, in a flow collection.
    [Theory]
    [InlineData("name:\tx\n", "name")]
    [InlineData("name: x\t# a comment\n", "name")]
    [InlineData("\t\nname: x\n", "name")]
    [InlineData("guest: {vcpus: 2,\n\tmemory: 1GiB}\n", "guest")]
    public void A_tab_that_is_not_indentation_is_taken(string yaml, string key)
    {
        Assert.Equal(key, ScenarioDocument.Parse(yaml, FileName).Root.Entries[0].Key.Value);
    }

    [Fact]
    public void Builtin_documents_use_their_pseudo_file_name()
    {
        var message = Fails(() => ScenarioDocument.Parse("a: 1\na: 2\n", "builtin:postcopy"));
        Assert.Equal("builtin:postcopy:2:1: a: duplicate key (first defined at line 1, column 1)", message);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("# nothing\n", 0)]
    [InlineData("---\n", 0)]
    [InlineData("name: x\n", 1)]
    public void Empty_documents_are_empty_mappings(string yaml, int count) =>
        Assert.Equal(count, ScenarioDocument.Parse(yaml, FileName).Root.Entries.Count);

    // The errors name the kind of file read: a model or sweep file goes through the same reader.
    [Theory]
    [InlineData("scenario file")]
    [InlineData("model file")]
    [InlineData("sweep file")]
    public void Root_must_be_a_mapping(string what) =>
        Assert.Equal(
            $"s.yaml:1:1: the {what} must be a mapping of keys, got a list",
            Fails(() => ScenarioDocument.Parse("- a\n- b\n", FileName, what)));

    [Theory]
    [InlineData("scenario file")]
    [InlineData("model file")]
    public void One_document_per_file(string what) =>
        Assert.Equal(
            $"s.yaml:2:1: the {what} holds one YAML document, found a second",
            Fails(() => ScenarioDocument.Parse("a: 1\n---\nb: 2\n", FileName, what)));

    [Fact]
    public void Aliases_are_rejected() =>
        Assert.Equal(
            "s.yaml:2:4: b: aliases (*x) are not supported; write the value out",
            Fails(() => ScenarioDocument.Parse("a: &x 1\nb: *x\n", FileName)));

    [Fact]
    public void Keys_must_be_scalars() =>
        Assert.StartsWith(
            "s.yaml:1:3: a key must be a plain name",
            Fails(() => ScenarioDocument.Parse("? [a, b]\n: 1\n", FileName)), StringComparison.Ordinal);

    [Fact]
    public void Load_missing_file_is_an_input_error()
    {
        var path = Path.Combine(Path.GetTempPath(), "vexlab-missing-" + Environment.ProcessId + ".yaml");
        Assert.Equal(path + ": no such scenario file", Fails(() => ScenarioDocument.Load(path)));
    }

    [Fact]
    public void Load_reads_a_file()
    {
        var path = Path.Combine(Path.GetTempPath(), "vexlab-load-" + Environment.ProcessId + ".yaml");
        System.IO.File.WriteAllText(path, "guest:\n  vcpus: 4\n");
        try
        {
            var settings = Schema().Resolve(ScenarioDocument.Load(path));
            Assert.Equal(4, settings.GetInteger("guest.vcpus"));
            Assert.Equal(path + ":2:10", settings["guest.vcpus"].Source.ToString());
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
