using System.Buffers.Binary;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Vexlab.Cli.Tests;

/// <summary>
/// plot's --title, --size and --log-x, and plot's and report's --by with a column other than variant, on a store of
/// the fake runner's numbers holding two entries of one protocol (ve, and ve with a knob set) beside sync.
/// </summary>
public sealed partial class PlotOptionTests : IDisposable
{
    private const string KnobEntry = "ve[guest.ve.can_continue=user-or-preemptible-kernel]";

    private const string Sweep = $$"""
        name: opts
        scenario: postcopy
        protocols: [sync, ve, '{{KnobEntry}}']
        seeds: 2
        axes:
          - name: latency
            key: host.latency
            unit: us
            log: {from: 1, to: 1000, points: 4}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-plotopts-").FullName;

    private readonly string _db;

    public PlotOptionTests()
    {
        File.WriteAllText(P("s.yaml"), Sweep);
        _db = P("s.duckdb");
        var sweep = CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", _db, "--jobs", "1");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Title_replaces_the_default_title()
    {
        var svg = Plot("t.svg", "--x", "latency", "--y", "work_done", "--title", "Work against latency");
        Assert.Contains("Work against latency", Texts(svg));
        Assert.DoesNotContain(Texts(svg), t => t.Contains("by latency (mean", StringComparison.Ordinal));
    }

    [Fact]
    public void Size_sets_the_png_and_svg_dimensions()
    {
        string[] args = ["--x", "latency", "--y", "work_done", "--by", "protocol", "--size", "400x300"];
        var png = File.ReadAllBytes(PlotFile("s.png", args));

        // A PNG's IHDR chunk, first after the 8-byte signature, holds the width and height (RFC 2083 4.1.1).
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal((400, 300), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));

        var svg = Plot("s.svg", args);
        Assert.Matches("<svg [^>]*width=\"400\" height=\"300\"", svg);
        Assert.Contains("latency (us)", Texts(svg));
    }

    [Fact]
    public void Smallest_size_with_the_knob_entry_in_the_legend_draws_the_lines_under_a_readable_title()
    {
        // At 400x300 the knob entry's legend beside the data left it no width: no line was drawn, and the
        // title, wrapped to that width, came out a letter or two a line.
        var svg = Plot("small.svg", "--x", "latency", "--y", "work_done", "--size", "400x300");
        Assert.Contains(Texts(svg), t => t.StartsWith("work per second by latency", StringComparison.Ordinal));
        Assert.Contains(Texts(svg), t => t.StartsWith("ve[guest.ve.can_continue=", StringComparison.Ordinal));

        // A line per entry through the axis's 4 points (a legend's symbol is a single segment), in Category10's colours.
        foreach (var colour in new[] { "#1F77B4", "#FF7F0E", "#2CA02C" })
        {
            Assert.Contains(
                DataPaths().Matches(svg),
                m => m.Groups[1].Value == colour && m.Groups[2].Value.Count(c => c == 'L') == 3);
        }
    }

    [Fact]
    public void Log_x_says_so_on_the_axis_and_refuses_values_at_or_below_0()
    {
        Assert.Contains("latency (us), log scale", Texts(Plot("log.svg", "--x", "latency", "--y", "work_done", "--log-x")));
        Assert.Contains("latency (us)", Texts(Plot("linear.svg", "--x", "latency", "--y", "work_done")));

        // sync never halts a vCPU in the host: its x is 0, which no log axis can place.
        var zero = CliRunner.Run("plot", _db, "--x", "vcpu_ns_host_halted", "--y", "work_done", "--log-x", "--out", P("z.svg"));
        Assert.Equal(2, zero.ExitCode);
        Assert.Equal("vexlab: --log-x: vcpu_ns_host_halted has values at or below 0\n", zero.Stderr);
        Assert.False(File.Exists(P("z.svg")));
    }

    [Fact]
    public void Plot_by_protocol_draws_one_line_per_protocol()
    {
        // The legend names each line: by variant, ve's two entries are two lines; by protocol, one.
        var byVariant = Texts(Plot("v.svg", "--x", "latency", "--y", "work_done"));
        Assert.Contains(byVariant, t => t.StartsWith("ve[guest.ve.can_continue=", StringComparison.Ordinal));

        var byProtocol = Texts(Plot("p.svg", "--x", "latency", "--y", "work_done", "--by", "protocol"));
        Assert.Contains("sync", byProtocol);
        Assert.Single(byProtocol, t => t == "ve");
        Assert.DoesNotContain(byProtocol, t => t.StartsWith("ve[", StringComparison.Ordinal));
    }

    [Fact]
    public void Report_by_protocol_has_one_entry_per_protocol()
    {
        Assert.Equal(["sync", "ve", KnobEntry], ReportEntries("v.html"));
        Assert.Equal(["sync", "ve"], ReportEntries("p.html", "--by", "protocol"));
        Assert.Equal(["1", "2"], ReportEntries("s.html", "--by", "seed"));
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string PlotFile(string name, params string[] args)
    {
        var result = CliRunner.Run(["plot", _db, .. args, "--out", P(name)]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return P(name);
    }

    private string Plot(string name, params string[] args) => File.ReadAllText(PlotFile(name, args));

    private List<string> ReportEntries(string name, params string[] args)
    {
        var result = CliRunner.Run(["report", _db, .. args, "--out", P(name), "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. JsonNode.Parse(result.Stdout)!["entries"]!.AsArray().Select(e => (string)e!)];
    }

    /// <summary>The SVG's text elements, trimmed: axis labels, ticks, legend entries and title lines.</summary>
    private static List<string> Texts(string svg) => [.. TextElement().Matches(svg).Select(m => m.Groups[1].Value.Trim())];

    [GeneratedRegex("<text[^>]*>([^<]*)</text>")]
    private static partial Regex TextElement();

    [GeneratedRegex("<path fill=\"none\" stroke=\"(#[0-9A-F]{6})\" stroke-width=\"2\"[^>]* d=\"([^\"]*)\"")]
    private static partial Regex DataPaths();
}
