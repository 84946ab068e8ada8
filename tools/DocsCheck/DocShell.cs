using System.Globalization;
using System.Text;
using Vexlab.Cli;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.DocsCheck;

/// <summary>
/// Runs the commands of a doc in one working directory, as a shell would: <c>vexlab</c> in this
/// process (standard output and standard error interleaved as on a terminal), and the few
/// commands the docs use to show or make input files (<c>cat</c>, <c>echo</c>, <c>printf</c>).
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
            var target = command.RedirectTo is null ? output : new StringWriter { NewLine = "\n" };
            _lastStatus = Execute(words, target);
            if (command.RedirectTo is not null)
            {
                File.WriteAllText(Path.Combine(_directory, command.RedirectTo), target.ToString());
            }
        }

        var text = output.ToString().Replace(_directory, ShownDirectory, StringComparison.Ordinal);
        var lines = text.Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    private int Execute(string[] words, StringWriter output)
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
                        var context = new CliContext(output, output, errorIsTerminal: false, color: false, unicode)
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
                        output.Write($"cat: {file}: No such file or directory\n");
                        return 1;
                    }

                    output.Write(File.ReadAllText(path));
                }

                return 0;
            default:
                throw new FormatException($"the docs check runs vexlab, cat, echo and printf; not \"{words[0]}\"");
        }
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
