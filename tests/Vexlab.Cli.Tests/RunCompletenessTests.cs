using System.Text.Json.Nodes;
using Vexlab.Results.Documents;

namespace Vexlab.Cli.Tests;

/// <summary>
/// run and compare say whether the result covers the whole duration as check does, with <c>"complete"</c>, true or
/// false, always there. They wrote <c>"incomplete": true</c> only when stopped and nothing otherwise; documents of
/// that form are still read as stopped by report and plot.
/// </summary>
public sealed class RunCompletenessTests : IDisposable
{
    private const string Forever = "9223372036854775807ns";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-complete-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms")]
    [InlineData("compare", "--builtin", "swap-overcommit", "--protocols", "sync,ve", "--duration", "5ms")]
    public void A_whole_run_is_complete(params string[] args)
    {
        var r = CliRunner.Run([.. args, "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var doc = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.True((bool)doc["complete"]!);
        Assert.False(doc.ContainsKey("incomplete"));

        // A whole run has no reason to have stopped: null, and there, as check's stop_reason always is.
        Assert.True(doc.ContainsKey("stop_reason"));
        Assert.Null(doc["stop_reason"]);
        if (args[0] == "compare")
        {
            // Every entry ran: none is left to name.
            Assert.Empty(doc["not_run"]!.AsArray());
        }
    }

    /// <summary>
    /// A stopped compare's JSON names the entries it never started, and report names them: report read the file
    /// with only "the compare was stopped", and the table looked like a compare of fewer entries.
    /// </summary>
    [Fact]
    public void A_stopped_compare_lists_the_entries_that_never_ran_and_report_names_them()
    {
        string[] asked = ["sync", "kvm-pf", "ve[guest.ve.can_continue=user-or-preemptible-kernel]"];
        var file = P("stopped.json");
        var r = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", string.Join(',', asked), "--duration", Forever, "--time-limit", "300ms", "--json", file);
        Assert.True(r.ExitCode == 3, r.Stderr);
        var doc = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        var ran = doc["results"]!.AsArray().Select(e => (string)e!["variant"]!).ToList();
        var notRun = doc["not_run"]!.AsArray().Select(e => (string)e!).ToList();

        // Exactly the entries missing from results, in order: together they are the entries asked for.
        Assert.Equal(["sync"], ran);
        Assert.Equal(asked, ran.Concat(notRun));
        Assert.Equal(notRun, RunSummaries.Load(file).NotRun);

        var report = CliRunner.Run("report", file, "--out", P("stopped.html"));
        Assert.True(report.ExitCode == 0, report.Stderr);
        var named = "never ran: " + string.Join(", ", notRun);
        Assert.Contains(named, report.Stderr, StringComparison.Ordinal);
        Assert.Contains(named, File.ReadAllText(P("stopped.html")), StringComparison.Ordinal);
    }

    /// <summary>
    /// compare --plot of a stopped compare marks its title as plot does for the same JSON: the image travels without
    /// the command's stderr, and its one bar passed for a whole compare of one entry.
    /// </summary>
    [Fact]
    public void A_stopped_compares_plot_says_it_stopped_early()
    {
        var r = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", Forever, "--time-limit", "300ms", "--json", P("c.json"), "--plot", P("c.svg"));
        Assert.True(r.ExitCode == 3, r.Stderr);
        Assert.Contains("(stopped early)", File.ReadAllText(P("c.svg")), StringComparison.Ordinal);

        var plot = CliRunner.Run("plot", P("c.json"), "--kind", "stacked", "--out", P("p.svg"));
        Assert.True(plot.ExitCode == 0, plot.Stderr);
        Assert.Contains("(stopped early)", File.ReadAllText(P("p.svg")), StringComparison.Ordinal);

        var whole = CliRunner.Run("compare", "--builtin", "swap-overcommit", "--protocols", "sync", "--duration", "5ms", "--plot", P("w.svg"));
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        Assert.DoesNotContain("stopped early", File.ReadAllText(P("w.svg")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", Forever, "--time-limit", "300ms")]
    [InlineData("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", Forever, "--time-limit", "300ms")]
    public void A_run_stopped_by_the_time_limit_is_not_complete(params string[] args)
    {
        var r = CliRunner.Run([.. args, "--json"]);
        Assert.True(r.ExitCode == 3, r.Stderr);
        var doc = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.False((bool)doc["complete"]!);
        Assert.False(doc.ContainsKey("incomplete"));
        Assert.True(RunSummaries.StoppedEarly(doc));

        // It says why, in check's words for the same cause: "complete": false alone left a limit and Ctrl-C alike.
        Assert.Equal("time-limit", (string?)doc["stop_reason"]);
    }

    /// <summary>A stopped run's file, in today's form and in the form written before "complete", and a whole one.</summary>
    [Theory]
    [InlineData("complete-false", true)]
    [InlineData("old-incomplete", true)]
    [InlineData("complete-true", false)]
    [InlineData("old-whole", false)]
    public void Report_and_plot_caution_a_stopped_run_in_either_form(string form, bool stopped)
    {
        foreach (var command in new[] { "run", "compare" })
        {
            string[] args = command == "run"
                ? ["run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "5ms", "--json"]
                : ["compare", "--builtin", "swap-overcommit", "--protocols", "sync,ve", "--duration", "5ms", "--json"];
            var doc = JsonNode.Parse(CliRunner.Run(args).Stdout)!.AsObject();
            doc.Remove("complete");
            switch (form)
            {
                case "complete-false":
                    doc["complete"] = false;
                    break;
                case "old-incomplete":
                    doc["incomplete"] = true;
                    break;
                case "complete-true":
                    doc["complete"] = true;
                    break;
            }

            var file = P($"{command}-{form}.json");
            File.WriteAllText(file, doc.ToJsonString());
            Assert.Equal(stopped, RunSummaries.StoppedEarly(doc));
            Assert.Equal(stopped, RunSummaries.Load(file).Stopped is not null);

            var report = CliRunner.Run("report", file, "--out", P($"{command}-{form}.html"));
            var plot = CliRunner.Run("plot", file, "--kind", "stacked", "--out", P($"{command}-{form}.png"));
            foreach (var result in new[] { report, plot })
            {
                Assert.True(result.ExitCode == 0, result.Stderr);
                var caution = $"vexlab: caution: the {command} was stopped before its duration";
                if (stopped)
                {
                    Assert.Contains(caution, result.Stderr, StringComparison.Ordinal);
                }
                else
                {
                    Assert.DoesNotContain("caution", result.Stderr, StringComparison.Ordinal);
                }
            }

            Assert.Equal(stopped, File.ReadAllText(P($"{command}-{form}.html")).Contains("was stopped before its duration", StringComparison.Ordinal));
        }
    }
}
