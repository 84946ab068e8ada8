using Vexlab.Model.Configuration;
using Vexlab.Scenarios;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A command's files, refused before any work when two of them are one: an output named like another output (the
/// second written would replace the first, and the command would still report both), or an output named like an
/// input (a scenario, a store, a counterexample the command reads would be replaced by its own result); two outputs
/// that are both standard output (--json - and --trace /dev/stdout); and an output other than --json given as "-",
/// which would be a file of that name rather than standard output.
/// </summary>
public static class DistinctFiles
{
    /// <param name="inputs">Each file the command reads, with the name people know it by ("FILE", "--db").</param>
    /// <param name="outputs">Each file the command writes, with its option ("--json", "--trace").</param>
    public static void Require(IEnumerable<(string Role, string? Path)> inputs, IEnumerable<(string Option, string? Path)> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var seen = new List<(string Role, string Full, bool Input)>();
        foreach (var (role, path) in inputs)
        {
            if (path is { Length: > 0 })
            {
                seen.Add((role, Real(Path.GetFullPath(path)), true));
            }
        }

        string? stdoutTaken = null;
        foreach (var (option, path) in outputs)
        {
            // "-" is standard output for --json; for any other output it would be a file named "-" in the current folder.
            if (path == "-" && option != "--json")
            {
                throw InputException.At(null, 0, 0, option, "'-' (standard output) goes with --json only; give a file name");
            }

            // Two outputs on standard output (--json - and --trace /dev/stdout) would leave it holding two documents.
            if (path == "-" || (path is { Length: > 0 } && Scenarios.Files.FileKinds.IsStandardOutput(path)))
            {
                var shown = path == "-" ? option + " -" : option + " " + ErrorText.Quote(path);
                if (stdoutTaken is not null)
                {
                    throw InputException.At(
                        null, 0, 0, option,
                        $"{ErrorText.Quote(path)} is standard output, which {stdoutTaken} already writes to; give one of them a file, as standard output holds one document");
                }

                stdoutTaken = shown;
                continue;
            }

            if (path is not { Length: > 0 })
            {
                continue;
            }

            var full = Real(Path.GetFullPath(path));
            // Devices and process files (/dev/null) take any number of writes.
            if (Scenarios.Files.FileKinds.IsSystem(full))
            {
                continue;
            }

            foreach (var (role, other, input) in seen)
            {
                if (string.Equals(other, full, StringComparison.Ordinal))
                {
                    throw InputException.At(
                        null, 0, 0, option,
                        input
                            ? $"{ErrorText.Quote(path)} is the {role} this command reads; its output would replace it"
                            : $"{ErrorText.Quote(path)} is also the {role} file; give each output a file of its own");
                }
            }

            seen.Add((option, full, false));
        }
    }

    /// <summary>
    /// <paramref name="full"/> with every symbolic link on it followed, as the kernel follows them (realpath(3)): an
    /// output is written to the file its links end at (<c>OutputFile</c> follows them), so <c>--json latest.json</c>,
    /// a link to the shard or counterexample the command reads, replaced that file while the names differed. A path
    /// whose links cannot be read (a loop, no permission) stays as written; links are not followed past /dev or /proc,
    /// whose files (<c>/dev/stdout</c>) are written in place.
    /// </summary>
    private static string Real(string full)
    {
        var hops = 0;
        return Follow(full, ref hops);
    }

    private static string Follow(string full, ref int hops)
    {
        const int MaxLinkHops = 40;
        var parent = Path.GetDirectoryName(full);
        if (parent is null || hops > MaxLinkHops)
        {
            return full;
        }

        var here = Path.Join(Follow(parent, ref hops), Path.GetFileName(full));
        try
        {
            while (!Scenarios.Files.FileKinds.IsSystem(here) && new FileInfo(here).LinkTarget is { } target && ++hops <= MaxLinkHops)
            {
                var folder = Path.GetDirectoryName(here) ?? "/";
                here = Path.GetFullPath(target, folder);
                if (Path.GetDirectoryName(here) is { } linkedParent && !string.Equals(linkedParent, folder, StringComparison.Ordinal))
                {
                    here = Path.Join(Follow(linkedParent, ref hops), Path.GetFileName(here));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return here;
    }
}
