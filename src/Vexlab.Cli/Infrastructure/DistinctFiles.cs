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
                seen.Add((role, Path.GetFullPath(path), true));
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

            // Devices (/dev/null, /dev/stdout) take any number of writes.
            if (path is not { Length: > 0 } || path == "-")
            {
                continue;
            }

            var full = Path.GetFullPath(path);
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
}
