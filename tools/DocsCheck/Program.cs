using System.Globalization;
using Vexlab.DocsCheck;

// dotnet run --project tools/DocsCheck -c Release -- [--update] [--slow] [--quiet] [FILE.md ...]
var update = args.Contains("--update");
var slow = args.Contains("--slow");
var quiet = args.Contains("--quiet");
var unknown = args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a is not ("--update" or "--slow" or "--quiet")).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"DocsCheck: unknown option {unknown[0]}; usage: DocsCheck [--update] [--slow] [--quiet] [FILE.md ...]");
    return 2;
}

var root = DocsRun.FindRoot(Environment.CurrentDirectory);
var run = new DocsRun(root) { Update = update, Slow = slow, Log = quiet ? null : Console.Error };
var files = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))
    .Select(a => Path.GetRelativePath(root, Path.GetFullPath(a)))
    .ToList();
var report = run.Run(files.Count > 0 ? files : run.DefaultFiles());
foreach (var mismatch in report.Mismatches)
{
    Console.Out.WriteLine(mismatch.Describe());
}

var staleFiles = GeneratedDocs.Check(root, update);
foreach (var file in staleFiles)
{
    Console.Out.WriteLine($"{file}: {(update ? "regenerated" : "differs from what the code generates")}");
}

var verb = update ? "updated" : "differ";
Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"docs: {report.Commands} commands in {report.Blocks} blocks of {report.Files} files, {report.Mismatches.Count} {verb}, {report.SkippedSlow} slow blocks skipped, {report.Elapsed.TotalSeconds:F1} s"));
if ((report.Mismatches.Count > 0 || staleFiles.Count > 0) && !update)
{
    Console.Out.WriteLine($"regenerate with: {DocsRun.UpdateCommand} (then review the diff)");
    return 1;
}

return 0;
