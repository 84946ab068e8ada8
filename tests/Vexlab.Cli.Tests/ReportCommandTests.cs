using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SkiaSharp;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>vexlab report</c> opened in a real browser (Chromium headless, installed by test.sh): no console
/// errors (a blocked fetch is one, by the page's Content-Security-Policy), tables that hold the JSON's
/// numbers, and a screenshot that is not blank.
/// </summary>
public sealed partial class ReportCommandTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Report_OfCompare_OpensCleanInChromium_TablesHoldTheJsonsNumbers()
    {
        var json = Path.Combine(_dir, "c.json");
        var html = Path.Combine(_dir, "c.html");
        Assert.Equal(0, CliRunner.Run("compare", "--builtin", "kernel-heavy", "--protocols", "kvm-pf-int,ve,ve[guest.ve.can_continue=user-or-preemptible-kernel]", "--duration", "30ms", "--json", json).ExitCode);
        var report = CliRunner.Run("report", json, "--out", html);
        Assert.Equal(0, report.ExitCode);
        Assert.Equal($"wrote {html}\n", report.Stdout);

        // Self-contained: no address to fetch, no script, no external style or image.
        var text = File.ReadAllText(html);
        Assert.DoesNotMatch(ExternalReference(), text);
        var ids = Regex.Matches(text, " id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());

        var (dom, console, screenshot) = OpenInChromium(html, "page");
        Assert.Empty(console);
        var results = JsonNode.Parse(File.ReadAllText(json))!["results"]!.AsArray();
        Assert.Equal(results.Select(r => (string)r!["variant"]!), Header(dom, "comparison"));
        Assert.Equal(results.Select(r => (long)r!["work_done"]!), Cells(dom, "work_done").Select(Number));
        Assert.Equal(results.Select(r => (long)r!["fault_latency_ns"]!["p99"]! / 1000.0), Cells(dom, "fault_latency_ns_p99").Select(Parse), new Rounded(1));
        Assert.Equal(results.Select(r => (long?)r!["exits"]!["VMCALL"] ?? 0), Cells(dom, "exits_VMCALL").Select(Number));
        foreach (var r in results)
        {
            // The DOM as the browser serializes it: a text node's apostrophes (a quoted protocol entry) stay as they are.
            Assert.Contains(System.Net.WebUtility.HtmlEncode((string)r!["replay"]!).Replace("&#39;", "'", StringComparison.Ordinal), dom, StringComparison.Ordinal);
        }

        Assert.Equal(2, Regex.Count(dom, "<svg "));
        Assert.Contains("<li>", dom, StringComparison.Ordinal);

        // Not blank: a good share of inked pixels, in many colours (text, bars, lines).
        using var image = SKBitmap.Decode(screenshot);
        Assert.Equal((1200, 1800), (image.Width, image.Height));
        var inked = 0;
        var colours = new HashSet<SKColor>();
        for (var y = 0; y < image.Height; y += 3)
        {
            for (var x = 0; x < image.Width; x += 3)
            {
                var c = image.GetPixel(x, y);
                colours.Add(c);
                inked += c.Red < 235 || c.Green < 235 || c.Blue < 235 ? 1 : 0;
            }
        }

        Assert.InRange(inked / (image.Width / 3.0 * (image.Height / 3.0)), 0.03, 0.9);
        Assert.True(colours.Count > 50, $"{colours.Count} colours");

        // The check sees what it is meant to: the same page with one outside image logs a console error.
        var control = Path.Combine(_dir, "control.html");
        File.WriteAllText(control, text.Replace("<h1>", "<img src=\"https://example.invalid/x.png\"><h1>", StringComparison.Ordinal));
        Assert.NotEmpty(OpenInChromium(control, "control").Console);
    }

    [Fact]
    public void Report_Json_SaysWhatItWrote_SectionsAndFindingsAsOnThePage()
    {
        var json = Path.Combine(_dir, "r.json");
        var html = Path.Combine(_dir, "r.html");
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "kvm-pf-int", "--duration", "10ms", "--exits", "--json", json).ExitCode);

        var report = CliRunner.Run("report", json, "--out", html, "--json");
        Assert.Equal(0, report.ExitCode);
        Assert.Equal($"wrote {html}\nvexlab: replay: vexlab report {json} --out {html}\n", report.Stderr);
        var doc = JsonNode.Parse(report.Stdout)!.AsObject();
        var page = File.ReadAllText(html);
        Assert.Equal(json, (string?)doc["input"]);
        Assert.Equal("run", (string?)doc["source"]);
        Assert.Null(doc["by"]);
        Assert.Equal(html, (string?)doc["out"]);
        Assert.Equal(new FileInfo(html).Length, (long)doc["bytes"]!);
        Assert.Equal(["kvm-pf-int"], doc["entries"]!.AsArray().Select(e => (string)e!));

        // Every section the JSON names is on the page, in its order, and no other: with --exits, perf's table too.
        string[] sections = [.. doc["sections"]!.AsArray().Select(e => (string)e!)];
        Assert.Equal(["findings", "comparison", "split", "latency", "exits", "exit-stats", "replay"], sections);
        var ids = new Dictionary<string, string>
        {
            ["findings"] = "id=\"findings\"", ["comparison"] = "id=\"comparison\"", ["split"] = "id=\"split\"", ["latency"] = "id=\"latency\"",
            ["exits"] = "id=\"exits\"", ["exit-stats"] = "class=\"exit-stats\"", ["replay"] = "id=\"replay\"",
        };
        var positions = sections.Select(s => page.IndexOf(ids[s], StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(-1, positions);
        Assert.Equal(positions.Order(), positions);

        var findings = doc["findings"]!.AsArray().Select(e => (string)e!).ToList();
        Assert.NotEmpty(findings);
        Assert.Equal(findings.Select(f => "<li>" + System.Net.WebUtility.HtmlEncode(f) + "</li>"), Regex.Matches(page, "<li>.*?</li>").Select(m => m.Value));

        // Without --exits there is no perf table, and the JSON says so.
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "10ms", "--json", json).ExitCode);
        var plain = JsonNode.Parse(CliRunner.Run("report", json, "--out", html, "--json").Stdout)!;
        Assert.DoesNotContain("exit-stats", plain["sections"]!.AsArray().Select(e => (string)e!));
    }

    [Fact]
    public void Report_BadOutputOrWhereOnJson_ExitsTwoBeforeWriting()
    {
        var json = Path.Combine(_dir, "r.json");
        File.WriteAllText(json, "{}");
        var wrongExtension = CliRunner.Run("report", json, "--out", Path.Combine(_dir, "r.pdf"));
        Assert.Equal(2, wrongExtension.ExitCode);
        Assert.Contains("--out", wrongExtension.Stderr, StringComparison.Ordinal);
        var where = CliRunner.Run("report", json, "--where", "seed = 1", "--out", Path.Combine(_dir, "r.html"));
        Assert.Equal(2, where.ExitCode);
        var notResult = CliRunner.Run("report", json, "--out", Path.Combine(_dir, "r.html"));
        Assert.Equal(2, notResult.ExitCode);
        Assert.StartsWith($"vexlab: {json}:1:1:", notResult.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "r.html")));
    }

    private (string Dom, List<string> Console, string Screenshot) OpenInChromium(string html, string name)
    {
        Assert.True(File.Exists(Chromium), "chromium is missing: ./test.sh installs it (apt-get install chromium)");
        var profile = Directory.CreateDirectory(Path.Combine(_dir, "profile-" + name)).FullName;
        var screenshot = Path.Combine(_dir, name + ".png");
        var start = new ProcessStartInfo(Chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile, "--window-size=1200,1800",
            "--screenshot=" + screenshot, "--dump-dom", "--enable-logging=stderr", "--v=0", new Uri(html).AbsoluteUri,
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var browser = Process.Start(start)!;
        var stdout = browser.StandardOutput.ReadToEndAsync();
        var stderr = browser.StandardError.ReadToEndAsync();
        if (!browser.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            browser.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish within 60 s");
        }

        var console = stderr.Result.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
        return (stdout.Result, console, screenshot);
    }

    private static List<string> Header(string dom, string table)
    {
        var body = Regex.Match(dom, $"<table id=\"{table}\">.*?</thead>", RegexOptions.Singleline).Value;
        return [.. Regex.Matches(body, "<th class=\"v\">(.*?)</th>").Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value))];
    }

    private static List<string> Cells(string dom, string metric)
    {
        var row = Regex.Match(dom, $"<tr data-metric=\"{Regex.Escape(metric)}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(row.Success, $"no row {metric}");
        return [.. Regex.Matches(row.Groups[1].Value, "<td[^>]*>(.*?)</td>").Select(m => m.Groups[1].Value)];
    }

    private static double Parse(string cell) => double.Parse(cell.Replace(",", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private static long Number(string cell) => (long)Parse(cell);

    [GeneratedRegex("https?://|<script|<link|\\ssrc=|url\\((?!#)", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();

    private sealed class Rounded(int digits) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Round(x, digits) == Math.Round(y, digits);

        public int GetHashCode(double obj) => Math.Round(obj, digits).GetHashCode();
    }
}
