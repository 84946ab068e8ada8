using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace Vexlab.Docs.Tests;

/// <summary>The README's BenchmarkDotNet command selects benchmarks and runs them (it once ran 0 and exited 0).</summary>
public sealed class BenchmarkCommandTests
{
    [Fact]
    public void The_readme_filter_selects_every_benchmark()
    {
        var readme = File.ReadAllText(Path.Combine(Vexlab.DocsCheck.DocsRun.FindRoot(AppContext.BaseDirectory), "README.md"));
        Assert.Contains("dotnet run -c Release --project benchmarks/Vexlab.Benchmarks -- --filter '*'", readme, StringComparison.Ordinal);
        var benchmarks = typeof(Vexlab.Benchmarks.Program).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Count(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null);
        Assert.True(benchmarks >= 10, $"{benchmarks} benchmarks");
    }

    [Fact]
    public void A_filtered_dry_run_measures_the_benchmark()
    {
        // BenchmarkDotNet writes its log and reports under BenchmarkDotNet.Artifacts in the current folder (the test
        // output folder, where they piled up run after run) unless told another.
        var artifacts = Directory.CreateTempSubdirectory("vexlab-bdn-").FullName;
        try
        {
            var summaries = Vexlab.Benchmarks.Program.Run(["--filter", "*SimRandomBenchmarks.NextUInt64*", "--job", "dry", "--artifacts", artifacts]);
            var report = Assert.Single(summaries.SelectMany(s => s.Reports));
            Assert.True(report.Success);
            Assert.NotEmpty(report.AllMeasurements);
            Assert.NotEmpty(Directory.GetFiles(artifacts, "*.log"));
        }
        finally
        {
            Directory.Delete(artifacts, recursive: true);
        }
    }

    [Fact]
    public void A_filter_that_matches_nothing_exits_1()
    {
        Assert.Equal(1, Vexlab.Benchmarks.Program.Main(["--filter", "*NoSuchBenchmark*"]));
    }
}
