using System.Text.Json.Nodes;
using static System.FormattableString;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A compare whose entries end at different simulated times: under sync the kernel's read() of a page the host
/// truncated is a VM error, which ends that entry's run at the truncation, while the others run to the end. The
/// table's heading and the report's header once gave the first entry's span for all of them, and the report ranked
/// the entries by iterations.
/// </summary>
public sealed class DifferentSpansTests : IDisposable
{
    // Two vCPUs, a DAX file mapped by one task and read() by the other, truncated halfway (dax-truncate, smaller).
    private const string Scenario = """
        name: dax-spans
        duration: 20ms
        seed: 1
        guest:
          vcpus: 2
          memory: 16MiB
          tick: 4ms
        regions:
          - name: file
            size: 256KiB
            backing: dax
            absent: 100%
        tasks:
          - name: mapper
            vcpu: 0
            loop: touch file random; compute 50
          - name: reader
            vcpu: 1
            loop: read file random; compute 50
        host:
          events:
            - kind: truncate
              at_fraction: 0.5
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-spans-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Compare_AndReport_ShowEachEntrysSpan_AndRankByRate()
    {
        var yaml = Path.Combine(_dir, "dax-spans.yaml");
        File.WriteAllText(yaml, Scenario);
        var json = Path.Combine(_dir, "c.json");
        var compare = CliRunner.Run("compare", yaml, "--protocols", "sync,kvm-pf,ve", "--json", json);
        Assert.Equal(0, compare.ExitCode);
        var results = JsonNode.Parse(File.ReadAllText(json))!["results"]!.AsArray();
        var spans = results.Select(r => (long)r!["simulated_ns"]!).ToList();
        Assert.Equal(["vm-error", "running", "running"], results.Select(r => (string)r!["guest"]!["outcome"]!));
        Assert.True(spans[0] < spans[1] && spans[1] == spans[2], string.Join(", ", spans));

        var lines = compare.Stdout.Split('\n');
        Assert.Equal(Invariant($"dax-spans: {spans[0] / 1e6:F1} to 20.0 ms simulated (the entries' spans differ: row simulated), seed 1"), lines[0]);
        var row = lines.Single(l => l.StartsWith("│ simulated ", StringComparison.Ordinal)).Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["simulated", Invariant($"{spans[0] / 1e6:N1} ms"), "20.0 ms", "20.0 ms"], row);

        var html = Path.Combine(_dir, "c.html");
        var report = CliRunner.Run("report", json, "--out", html, "--json", "-");
        Assert.Equal(0, report.ExitCode);
        var findings = JsonNode.Parse(report.Stdout)!["findings"]!.AsArray().Select(f => (string)f!).ToList();
        var rates = results.Select(r => (long)r!["work_done"]! * 1e9 / (long)r!["simulated_ns"]!).ToList();
        var (best, worst) = rates[1] >= rates[2] ? (1, 2) : (2, 1);
        Assert.StartsWith(Invariant($"{results[best]!["variant"]} gets the most work done per simulated second ({rates[best]:N0} work/s), {rates[best] / rates[worst]:F1}x what {results[worst]!["variant"]}"), findings[0], StringComparison.Ordinal);
        Assert.Contains(Invariant($"sync is left out of that ranking: its guest ends vm-error at {spans[0] / 1e6:N1} ms ({rates[0]:N0} work/s until then)."), findings);
        Assert.Contains(Invariant($"The entries cover different simulated spans (sync {spans[0] / 1e6:N1} ms, the others 20.0 ms), so work is compared per simulated second, not by iterations."), findings);

        var page = File.ReadAllText(html);
        Assert.Contains(Invariant($"scenario dax-spans, {spans[0] / 1e6:F1} to 20.0 ms simulated (the entries&#39; spans differ: row simulated)"), page, StringComparison.Ordinal);
        Assert.Contains(Invariant($"<tr data-metric=\"simulated_ns\"><th>simulated (ms)</th><td class=\"n\">{spans[0] / 1e6:N1}</td><td class=\"n\">20.0</td><td class=\"n\">20.0</td></tr>"), page, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_OfEqualSpans_KeepsOneSpanInTheHeading_AndNoRow()
    {
        var yaml = Path.Combine(_dir, "dax-spans.yaml");
        File.WriteAllText(yaml, Scenario);
        var json = Path.Combine(_dir, "c.json");
        var compare = CliRunner.Run("compare", yaml, "--protocols", "kvm-pf,ve", "--json", json);
        Assert.Equal(0, compare.ExitCode);
        Assert.StartsWith("dax-spans: 20.0 ms simulated, seed 1\n", compare.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("│ simulated ", compare.Stdout, StringComparison.Ordinal);

        var html = Path.Combine(_dir, "c.html");
        Assert.Equal(0, CliRunner.Run("report", json, "--out", html).ExitCode);
        var page = File.ReadAllText(html);
        Assert.Contains("scenario dax-spans, 20.0 ms simulated, seed 1", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-metric=\"simulated_ns\"", page, StringComparison.Ordinal);
    }
}
