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
