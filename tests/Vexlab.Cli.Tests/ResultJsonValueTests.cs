using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>plot</c> and <c>report</c> refuse a run or compare JSON whose fields they read are of the wrong type, negative or
/// missing, at the field's place (FILE:LINE:COLUMN: FIELD), exit 2. They read such a value as absent or 0: a
/// vcpu_ns.guest of "abc" reported a run 93% halted, and a run without fault_latency_ns left the CDF without a word.
/// </summary>
public sealed class ResultJsonValueTests : IClassFixture<ResultJsonValueTests.Compare>, IDisposable
{
    private readonly Compare _compare;
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-result-json-").FullName;

    public ResultJsonValueTests(Compare compare) => _compare = compare;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>One short compare's JSON, shared by the tests.</summary>
    public sealed class Compare : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-result-json-compare-").FullName;

        public Compare()
        {
            var json = Path.Combine(_dir, "c.json");
            var run = CliRunner.Run("compare", "--builtin", "kernel-heavy", "--protocols", "kvm-pf-int,ve", "--duration", "5ms", "--json", json);
            Assert.Equal(0, run.ExitCode);
            Document = File.ReadAllText(json);
        }

        public string Document { get; }

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string, string, string, string> Edits => new()
    {
        { "vcpu_ns", "guest", "\"abc\"", "expected a number from 0, got \"abc\"" },
        { "vcpu_ns", "idle", "-5", "expected a number from 0, got -5" },
        { string.Empty, "work_done", "\"lots\"", "expected a number from 0, got \"lots\"" },
        { string.Empty, "simulated_ns", "true", "expected a number from 0, got true" },
        { string.Empty, "variant", "7", "expected a string, got 7" },
        { "fault_latency_ns", "p99", "\"fast\"", "expected a number from 0, got \"fast\"" },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void A_bad_value_is_refused_at_its_place(string parent, string field, string value, string problem)
    {
        // The second entry's field, written on a line of its own so that its place is known.
        var doc = JsonNode.Parse(_compare.Document)!;
        var owner = parent.Length == 0 ? doc["results"]![1]!.AsObject() : doc["results"]![1]![parent]!.AsObject();
        const string Marker = "\"@@marker@@\"";
        owner[field] = "@@marker@@";
        var text = doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var index = text.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(index > 0);
        text = text.Replace(Marker, value, StringComparison.Ordinal);
        var line = text[..index].Count(c => c == '\n') + 1;
        var column = index - text.LastIndexOf('\n', index) ;
        var file = Path.Combine(_dir, "edited.json");
        File.WriteAllText(file, text);

        var key = "results[1]." + (parent.Length == 0 ? field : parent + "." + field);
        var expected = string.Create(CultureInfo.InvariantCulture, $"vexlab: {file}:{line}:{column}: {key}: {problem}\n");
        foreach (var args in new[] { new[] { "report", file, "--out", Path.Combine(_dir, "r.html") }, ["plot", file, "--kind", "cdf", "--out", Path.Combine(_dir, "p.svg")], ["plot", file, "--kind", "stacked", "--out", Path.Combine(_dir, "s.svg")] })
        {
            var result = CliRunner.Run(args);
            Assert.Equal(expected, result.Stderr);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal(string.Empty, result.Stdout);
        }

        Assert.False(File.Exists(Path.Combine(_dir, "r.html")));
    }

    [Theory]
    [InlineData("fault_latency_ns")]
    [InlineData("vcpu_ns")]
    [InlineData("work_done")]
    public void A_missing_field_is_refused_at_the_run_that_lacks_it(string field)
    {
        var doc = JsonNode.Parse(_compare.Document)!;
        doc["results"]![1]!.AsObject().Remove(field);
        var text = doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var file = Path.Combine(_dir, "missing.json");
        File.WriteAllText(file, text);

        // The second entry's object starts on the line after the first entry's closing brace.
        var lines = text.Split('\n');
        var second = Array.FindIndex(lines, l => l == "    },") + 2;
        foreach (var args in new[] { new[] { "report", file, "--out", Path.Combine(_dir, "r.html") }, ["plot", file, "--kind", "cdf", "--out", Path.Combine(_dir, "p.svg")] })
        {
            var result = CliRunner.Run(args);
            Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"vexlab: {file}:{second}:5: results[1].{field}: missing (expected `vexlab run --json` or `vexlab compare --json` output)\n"), result.Stderr);
            Assert.Equal(2, result.ExitCode);
        }
    }

    [Fact]
    public void A_run_document_names_its_fields_without_a_prefix()
    {
        var doc = JsonNode.Parse(_compare.Document)!["results"]![0]!.DeepClone().AsObject();
        doc["vcpu_ns"]!["host_halted"] = -1;
        var file = Path.Combine(_dir, "run.json");
        File.WriteAllText(file, doc.ToJsonString());
        var result = CliRunner.Run("report", file, "--out", Path.Combine(_dir, "r.html"));
        Assert.Equal(2, result.ExitCode);
        Assert.Matches(@"^vexlab: .*run\.json:1:\d+: vcpu_ns\.host_halted: expected a number from 0, got -1\n$", result.Stderr);
    }

    [Fact]
    public void The_unedited_document_is_read()
    {
        var file = Path.Combine(_dir, "c.json");
        File.WriteAllText(file, _compare.Document);
        Assert.Equal(0, CliRunner.Run("report", file, "--out", Path.Combine(_dir, "r.html")).ExitCode);
    }
}
