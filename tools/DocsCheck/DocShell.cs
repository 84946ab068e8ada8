using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vexlab.Cli;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.DocsCheck;

/// <summary>
/// Runs the commands of a doc in one working directory, as a shell would: <c>vexlab</c> in this
/// process (standard output and standard error interleaved as on a terminal; <c>&gt; FILE</c> and
/// <c>| head -N</c> take standard output only, as in a shell), the few
/// commands the docs use to show or make input files (<c>cat</c>, <c>echo</c>, <c>printf</c>), and
/// <c>trace-cmd</c>, the real one, to show that a trace.dat opens (<see cref="MissingToolException"/> where it is
/// not installed).
/// The working directory appears as <see cref="ShownDirectory"/> in the output.
/// </summary>
public sealed class DocShell
{
    /// <summary>How the docs show the directory the commands run in.</summary>
    public const string ShownDirectory = "/tmp";

    /// <summary>
    /// The terminal width the docs show, whatever runs the check: tables are fitted to it as on a
    /// 120-column terminal. A line can set another with a <c>COLUMNS=N</c> prefix, and a locale with
    /// <c>LANG=</c>, <c>LC_ALL=</c> or <c>LC_CTYPE=</c> (without one the docs' locale is UTF-8).
    /// </summary>
    public const int Columns = 120;

    private readonly string _directory;
    private int _lastStatus;

    public DocShell(string directory)
    {
        _directory = directory;
    }

    /// <summary>Runs one <c>$ </c> line and returns its output lines, trailing blanks removed.</summary>
    public List<string> Run(string line)
    {
        var output = new StringWriter { NewLine = "\n" };
        foreach (var command in ShellLine.Parse(line))
        {
            var words = command.Words.Select(w => ShellLine.Expand(w, _lastStatus)).ToArray();

            // '>' and '|' take standard output only; standard error stays on the terminal, in the block's output
            // (POSIX XCU 2.7.2 redirects descriptor 1 by default, 2.9.2 pipes only standard output).
            var file = command.RedirectTo is null ? null : new StringWriter { NewLine = "\n" };
            TextWriter standardOutput = file is not null ? file : command.Head is { } head ? new HeadWriter(output, head) : output;
            _lastStatus = Execute(words, standardOutput, output);
            if (file is not null)
            {
                File.WriteAllText(Path.Combine(_directory, command.RedirectTo!), file.ToString());
            }
            else if (command.Head is not null)
            {
                // A pipeline's status is its last command's: head's, 0.
                _lastStatus = 0;
            }
        }

        var shown = output.ToString().Replace(_directory, ShownDirectory, StringComparison.Ordinal);
        var lines = shown.Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    private int Execute(string[] words, TextWriter output, TextWriter error)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["COLUMNS"] = Columns.ToString(CultureInfo.InvariantCulture) };
        while (words.Length > 1 && words[0].IndexOf('=', StringComparison.Ordinal) is > 0 and var equals
            && words[0][..equals] is "COLUMNS" or "LANG" or "LC_ALL" or "LC_CTYPE")
        {
            environment[words[0][..equals]] = words[0][(equals + 1)..];
            words = words[1..];
        }

        switch (words[0])
        {
            case "vexlab":
                {
                    var previous = Environment.CurrentDirectory;
                    Environment.CurrentDirectory = _directory;
                    try
                    {
                        // Progress lines depend on the machine's speed, not on the command: the docs leave them out.
                        var unicode = OutputCharset.LocaleIsUtf8(name => environment.GetValueOrDefault(name));
                        var context = new CliContext(output, error, errorIsTerminal: false, color: false, unicode)
                        {
                            ProgressInterval = TimeSpan.MaxValue,
                            Columns = environment["COLUMNS"],
                        };
                        return VexlabApp.Run(words[1..], context);
                    }
                    finally
                    {
                        Environment.CurrentDirectory = previous;
                    }
                }

            case "echo":
                output.Write(string.Join(' ', words[1..]) + "\n");
                return 0;
            case "printf":
                output.Write(Printf(words[1], words[2..]));
                return 0;
            case "cat":
                foreach (var file in words[1..])
                {
                    var path = Path.Combine(_directory, file);
                    if (!File.Exists(path))
                    {
                        error.Write($"cat: {file}: No such file or directory\n");
                        return 1;
                    }

                    output.Write(File.ReadAllText(path));
                }

                return 0;
            case "trace-cmd":
                return RunTool(words, output, error);
            default:
                throw new FormatException($"the docs check runs vexlab, cat, echo, printf and trace-cmd; not \"{words[0]}\"");
        }
    }

    /// <summary>Runs an installed program in the doc's directory, its standard output then its standard error.</summary>
    private int RunTool(string[] words, TextWriter output, TextWriter error)
    {
        var path = FindOnPath(words[0]) ?? throw new MissingToolException(words[0]);
        var start = new ProcessStartInfo(path)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var word in words[1..])
        {
            start.ArgumentList.Add(word);
        }

        using var process = Process.Start(start) ?? throw new MissingToolException(words[0]);
        var errorText = process.StandardError.ReadToEndAsync();
        output.Write(process.StandardOutput.ReadToEnd());
        process.WaitForExit();
        error.Write(errorText.Result);
        return process.ExitCode;
    }

    private static string? FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string Printf(string format, string[] args)
    {
        var text = new StringBuilder();
        var next = 0;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '\\' && i + 1 < format.Length)
            {
                i++;
                text.Append(format[i] switch { 'n' => '\n', 't' => '\t', var other => other });
            }
            else if (c == '%' && i + 1 < format.Length)
            {
                i++;
                text.Append(format[i] switch
                {
                    '%' => "%",
                    's' => next < args.Length ? args[next++] : "",
                    var other => throw new FormatException($"printf: %{other} is not supported by the docs check"),
                });
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }
}

/// <summary>A doc's command needs a program this machine lacks (./test.sh installs the Debian packages).</summary>
public sealed class MissingToolException(string tool) : Exception($"{tool} is not installed")
{
    public string Tool { get; } = tool;
}
