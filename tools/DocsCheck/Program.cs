using System.Globalization;
using Vexlab.DocsCheck;

// dotnet run --project tools/DocsCheck -c Release -- [--update [--remeasure]] [--slow] [--quiet] [--prose] [FILE.md ...]
// --prose: only the prose-number check (no command runs).
var update = args.Contains("--update");
var proseOnly = args.Contains("--prose");
var slow = args.Contains("--slow");
var quiet = args.Contains("--quiet");
var unknown = args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a is not ("--update" or "--remeasure" or "--slow" or "--quiet" or "--prose")).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"DocsCheck: unknown option {unknown[0]}; usage: DocsCheck [--update [--remeasure]] [--slow] [--quiet] [--prose] [FILE.md ...]");
    return 2;
}

var root = DocsRun.FindRoot(Environment.CurrentDirectory);
var run = new DocsRun(root) { Update = update, Remeasure = update && args.Contains("--remeasure"), Slow = slow, Log = quiet ? null : Console.Error };
var files = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))
    .Select(a => Path.GetRelativePath(root, Path.GetFullPath(a)))
    .ToList();
var report = proseOnly ? new DocsReport(0, 0, 0, 0, [], TimeSpan.Zero) : run.Run(files.Count > 0 ? files : run.DefaultFiles());
foreach (var mismatch in report.Mismatches)
{
    Console.Out.WriteLine(mismatch.Describe());
}

IReadOnlyList<string> staleFiles = proseOnly ? [] : GeneratedDocs.Check(root, update);
foreach (var file in staleFiles)
{
    Console.Out.WriteLine($"{file}: {(update ? "regenerated" : "differs from what the code generates")}");
}

var allowed = ProseNumbers.ReadAllowlist(root);
var (unsourced, staleAllowed) = ProseNumbers.Check(root, files.Count > 0 ? files : run.DefaultFiles(), allowed);
foreach (var number in unsourced)
{
    Console.Out.WriteLine(number.Describe());
}

foreach (var entry in staleAllowed)
{
    Console.Out.WriteLine(entry);
}

if (unsourced.Count > 0)
{
    Console.Out.WriteLine($"{unsourced.Count} numbers in prose come from no pasted output: quote the output that has them, add the block that prints them, or reword (a number that is not a result goes in {ProseNumbers.AllowFile} with its reason)");
}

foreach (var skipped in report.SkippedForTools)
{
    Console.Out.WriteLine($"{skipped} is not installed: its block is not checked (./test.sh installs it)");
}

var verb = update ? "updated" : "differ";
Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"docs: {report.Commands} commands in {report.Blocks} blocks of {report.Files} files, {report.Mismatches.Count} {verb}, {report.SkippedSlow} slow blocks skipped, {report.Elapsed.TotalSeconds:F1} s"));
if (unsourced.Count > 0 || staleAllowed.Count > 0)
{
    return 1;
}

if ((report.Mismatches.Count > 0 || staleFiles.Count > 0) && !update)
{
    Console.Out.WriteLine($"regenerate with: {DocsRun.UpdateCommand} (then review the diff)");
    return 1;
}

return 0;
