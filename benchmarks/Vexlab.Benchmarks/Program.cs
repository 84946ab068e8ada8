using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Vexlab.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Vexlab.Benchmarks -- --filter '*'</c>. The
/// benchmarks run in this process (BenchmarkDotNet's <c>--inProcess</c>): its default toolchain
/// generates and builds a project of its own, which this repository's Directory.Build.props
/// (warnings as errors, analyzers) makes fail, and BenchmarkDotNet then ran 0 benchmarks and
/// exited 0. Here a run that measures nothing exits 1.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Any(a => a.StartsWith("--list", StringComparison.Ordinal) || a is "--help" or "-h" or "--version"))
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
            return 0;
        }

        var summaries = Run(args);
        var reports = summaries.SelectMany(s => s.Reports).ToList();
        if (reports.Count == 0)
        {
            Console.Error.WriteLine("Vexlab.Benchmarks: no benchmark ran (check --filter; --list flat lists them)");
            return 1;
        }

        var failed = reports.Where(r => !r.Success).ToList();
        foreach (var report in failed)
        {
            Console.Error.WriteLine($"Vexlab.Benchmarks: {report.BenchmarkCase.DisplayInfo} did not run to the end");
        }

        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>Runs the benchmarks <paramref name="args"/> select, in this process.</summary>
    public static IReadOnlyList<Summary> Run(string[] args)
    {
        var inProcess = args.Any(a => a is "--inProcess" or "-i") ? args : [.. args, "--inProcess"];
        return [.. BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(inProcess)];
    }
}
