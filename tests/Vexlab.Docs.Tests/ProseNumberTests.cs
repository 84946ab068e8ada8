using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>Every number the docs state in prose comes from a pasted output of the same doc.</summary>
public sealed class ProseNumberTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    private static readonly string[] Doc =
    [
        "# Example",
        "",
        "Under `kvm-pf-int` the run does 51,472 iterations, 94.5% of them by `cpu`, and a fault",
        "takes 96.0 us on average (p99 122 us); `sync` is about 2x slower in `--duration 300ms`.",
        "",
        "```",
        "$ vexlab run --builtin swap-overcommit --protocol kvm-pf-int",
        "│ work: total               │     51,472 │",
        "│ cpu share: cpu            │      94.5% │",
        "│ fault mean                │    96.0 us │",
        "│ fault p99                 │   122.0 us │",
        "│ ratio                     │       2.04 │",
        "```",
        "",
        "```yaml",
        "duration: 12.5 ms",
        "```",
    ];

    [Fact]
    public void Every_number_in_prose_comes_from_a_pasted_output_or_is_allowlisted_with_a_reason()
    {
        var run = new DocsRun(Root);
        var allowed = ProseNumbers.ReadAllowlist(Root);
        var (unsourced, stale) = ProseNumbers.Check(Root, run.DefaultFiles(), allowed);

        Assert.True(unsourced.Count == 0 && stale.Count == 0,
            string.Join("\n", unsourced.Select(u => u.Describe()).Concat(stale)) +
            $"\nquote the output that has them, add the block that prints them, or reword; a number that is not a result goes in {ProseNumbers.AllowFile} with its reason");
        Assert.All(allowed, a => Assert.False(string.IsNullOrWhiteSpace(a.Reason)));
    }

    [Fact]
    public void A_synthetic_doc_passes_as_written()
    {
        Assert.Empty(Check(Doc));
    }

    [Theory]
    [InlineData("51,472", "51,473")]
    [InlineData("94.5%", "95.5%")]
    [InlineData("96.0 us", "96.1 us")]
    [InlineData("122 us", "121 us")]
    [InlineData("2x", "3x")]
    public void A_prose_number_edited_by_hand_fails(string written, string edited)
    {
        var doc = Doc.Select(l => l.StartsWith("Under", StringComparison.Ordinal) || l.StartsWith("takes", StringComparison.Ordinal) ? l.Replace(written, edited, StringComparison.Ordinal) : l).ToArray();
        Assert.NotEqual(Doc, doc);

        var unsourced = Assert.Single(Check(doc));
        Assert.Equal(edited, unsourced.Text);
        Assert.Equal(3 + (written is "96.0 us" or "122 us" or "2x" ? 1 : 0), unsourced.Line);
    }

    [Theory]
    [InlineData("README.md", "(41,719 against", "(41,729 against", "41,729")]
    [InlineData("docs/checking.md", "its 74,320 states", "its 74,321 states", "74,321")]
    [InlineData("docs/checking.md", "| sym3 | ve | 315,566 |", "| sym3 | ve | 315,569 |", "315,569")]
    [InlineData("docs/checking.md", "| race | 65,005 | 24,310 |", "| race | 65,005 | 24,210 |", "24,210")]
    [InlineData("docs/checking.md", "after 4,015,303 states", "after 4,015,000 states", "4,015,000")]
    public void A_number_edited_by_hand_in_a_docs_prose_fails(string file, string written, string edited, string number)
    {
        var lines = File.ReadAllText(Path.Combine(Root, file)).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var allowed = ProseNumbers.ReadAllowlist(Root).Where(a => a.File == file).ToList();
        var line = Array.FindIndex(lines, l => l.Contains(written, StringComparison.Ordinal));
        Assert.True(line >= 0, $"{file} states \"{written}\" in prose");
        Assert.Empty(Check(lines, allowed));

        lines[line] = lines[line].Replace(written, edited, StringComparison.Ordinal);
        var unsourced = Assert.Single(Check(lines, allowed));
        Assert.Equal(number, unsourced.Text);
        Assert.Equal(line + 1, unsourced.Line);
    }

    [Fact]
    public void A_pasted_output_edited_away_from_the_prose_fails_it_too()
    {
        var doc = Doc.Select(l => l.Replace("51,472 │", "51,471 │", StringComparison.Ordinal)).ToArray();
        Assert.Equal("51,472", Assert.Single(Check(doc)).Text);
    }

    [Fact]
    public void A_recorded_benchmark_block_sources_the_prose_that_quotes_it()
    {
        string[] doc =
        [
            "Measured on a 2-core machine: 220,455 states/s, 11.2 bytes a state (about 556,000 per cpu-second).",
            "",
            "<!-- docs-check: slow measured -->",
            "```",
            "$ vexlab bench --checker",
            "states/s          220,455 (target >= 2,000,000)",
            "bytes/state       11.2 (target <= 12, parent links included)",
            "cpu               25.6 s (555,623 states per cpu-second); load average 24.54",
            "```",
        ];
        Assert.Empty(Check(doc));

        var edited = doc.Select((l, i) => i == 0 ? l.Replace("220,455", "230,455", StringComparison.Ordinal) : l).ToArray();
        Assert.StartsWith("230,455", Assert.Single(Check(edited)).Text, StringComparison.Ordinal);
        var rounded = doc.Select((l, i) => i == 0 ? l.Replace("about 556,000", "about 557,000", StringComparison.Ordinal) : l).ToArray();
        Assert.Equal("557,000", Assert.Single(Check(rounded)).Text);
    }

    [Theory]
    [InlineData("59.6", "59%", false)]
    [InlineData("59.6", "60%", true)]
    [InlineData("29.2", "29%", true)]
    [InlineData("2060", "2,060", true)]
    [InlineData("2.154", "2.2 us", true)]
    [InlineData("2.154", "2.1 us", false)]
    [InlineData("76", "76.0%", true)]
    [InlineData("555,623", "about 556,000", true)]
    [InlineData("555,623", "556,000", false)]
    [InlineData("555,623", "about 550,000", false)]
    public void A_prose_number_is_an_outputs_value_rounded_to_its_own_decimals(string output, string prose, bool sourced)
    {
        string[] doc = ["It reads " + prose + " here.", "", "```", "$ vexlab x", "value " + output, "```"];
        Assert.Equal(sourced, Check(doc).Count == 0);
    }

    [Theory]
    [InlineData("a 5.7 host, 2 vCPUs, 16 runs and B6")]
    [InlineData("commit 2f15d027c05f, msgid 20210422092948.568327-1-vkuznets@redhat.com, 0x7f001000")]
    [InlineData("`--max-states 20,000` and `ve[host.latency=2.5]` in code")]
    [InlineData("a [link](docs/5.7.md) and <!-- 12.5 ms --> a comment")]
    public void Numbers_in_code_links_comments_and_plain_counts_are_not_prose_results(string line)
    {
        string[] doc = [line.Replace("a 5.7 host, ", "", StringComparison.Ordinal)];
        Assert.Empty(Check(doc));
    }

    [Fact]
    public void An_allowlisted_phrase_allows_its_numbers_and_a_stale_entry_is_reported()
    {
        string[] doc = ["`kvm-pf` models a 5.7 host and guest; the run took 12.5 ms."];
        var allowed = new List<ProseNumbers.Allowed> { new("doc.md", "a 5.7 host and guest", "Linux release") };
        var unsourced = new List<UnsourcedNumber>();
        var (_, used) = ProseNumbers.CheckText("doc.md", doc, allowed, unsourced);

        Assert.Equal("12.5 ms", Assert.Single(unsourced).Text);
        Assert.Single(used);

        var gone = new List<UnsourcedNumber>();
        var (_, none) = ProseNumbers.CheckText("doc.md", ["`kvm-pf` models a 5.8 host."], allowed, gone);
        Assert.Empty(none);
        Assert.Equal("5.8", Assert.Single(gone).Text);
    }

    [Fact]
    public void Cited_figures_are_exempt_to_the_next_heading_only()
    {
        string[] doc =
        [
            "## Sources",
            ProseNumbers.CitedMarker,
            "| exit | about 2,000 cycles at 2.93 GHz (SplitX) |",
            "## Results",
            "The run took 12.5 ms.",
        ];
        Assert.Equal("12.5 ms", Assert.Single(Check(doc)).Text);
    }

    private static List<UnsourcedNumber> Check(IReadOnlyList<string> lines, IReadOnlyList<ProseNumbers.Allowed>? allowed = null)
    {
        var unsourced = new List<UnsourcedNumber>();
        ProseNumbers.CheckText("doc.md", lines, allowed ?? [], unsourced);
        return unsourced;
    }
}
