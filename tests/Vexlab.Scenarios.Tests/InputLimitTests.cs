using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Files;

namespace Vexlab.Scenarios.Tests;

/// <summary>
/// Input files are read under bounds (docs/limits.md): size, nesting depth, text only, not empty.
/// Each case was an abort or an accepted-but-invalid input before the bound existed.
/// </summary>
public sealed class InputLimitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-limits-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Fails(Action action) => Assert.Throws<InputException>(action).Message;

    [Theory]
    [InlineData("[", 20_000)]
    [InlineData("{a: ", 20_000)]
    [InlineData("[{a: ", 10_000)]
    public void Deep_nesting_is_refused_at_its_place_not_a_stack_overflow(string level, int depth)
    {
        var path = Write("deep.yaml", "a: " + string.Concat(Enumerable.Repeat(level, depth)) + "\n");
        var message = Fails(() => ScenarioDocument.Load(path));
        Assert.Matches(@"deep\.yaml:1:\d+: nested deeper than 64 levels; set VEXLAB_MAX_INPUT_DEPTH to raise the limit$", message);
    }

    [Fact]
    public void Nesting_at_the_limit_is_read()
    {
        var yaml = "a: " + new string('[', InputLimits.DefaultMaxDepth - 1) + new string(']', InputLimits.DefaultMaxDepth - 1) + "\n";
        Assert.Single(ScenarioDocument.Parse(yaml, "s.yaml").Root.Entries);
    }

    [Fact]
    public void An_unbounded_input_is_refused_before_it_is_read_whole()
    {
        // /dev/zero never ends: the reader stops one byte past the bound.
        var message = Fails(() => ScenarioDocument.Load("/dev/zero"));
        Assert.Equal(
            "/dev/zero: the scenario file is larger than the 16777216-byte limit on input files; set VEXLAB_MAX_INPUT_SIZE (such as 256MiB) to raise it",
            message);
    }

    [Theory]
    [InlineData("", "empty.yaml:1:1: the scenario file is empty; write at least one key")]
    [InlineData("# only a comment\n", "empty.yaml:1:1: the scenario file is empty; write at least one key")]
    [InlineData("null\n", "empty.yaml:1:1: the scenario file is an empty (null) document; write at least one key")]
    [InlineData("~\n", "empty.yaml:1:1: the scenario file is an empty (null) document; write at least one key")]
    [InlineData("a: 1\n\0\0\0", "empty.yaml:2:1: the scenario file holds a NUL byte; it is not a text file")]
    public void Empty_null_and_nul_files_are_errors(string text, string expected)
    {
        var path = Write("empty.yaml", text);
        Assert.Equal(expected.Replace("empty.yaml", path, StringComparison.Ordinal), Fails(() => ScenarioDocument.Load(path)));
    }

    [Fact]
    public void A_folder_and_an_empty_name_are_named_as_such()
    {
        Assert.Equal(_dir + ": is a directory, not a scenario file", Fails(() => ScenarioDocument.Load(_dir)));
        Assert.Equal("command line: the scenario file name is empty", Fails(() => ScenarioDocument.Load(string.Empty)));
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_its_line_and_column()
    {
        var path = Path.Combine(_dir, "latin1.yaml");
        File.WriteAllBytes(path, [.. "a: 1\nb: caf"u8.ToArray(), 0xE9, .. "\n"u8.ToArray()]);
        Assert.Equal(path + ":2:7: the scenario file is not UTF-8 text", Fails(() => ScenarioDocument.Load(path)));
    }

    [Fact]
    public void Control_characters_in_a_file_name_are_escaped()
    {
        var message = Fails(() => ScenarioDocument.Load(Path.Combine(_dir, "a\u001b[31mred")));
        Assert.DoesNotContain('\u001b', message);
        Assert.Contains("a\\u001b[31mred: no such scenario file", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("bell\a", "bell\\u0007")]
    [InlineData("two\nlines\r", "two\\nlines\\r")]
    [InlineData("\u009b2J", "\\u009b2J")]
    public void Escape_writes_every_control_character_as_an_escape(string text, string expected) =>
        Assert.Equal(expected, ErrorText.Escape(text));
}
