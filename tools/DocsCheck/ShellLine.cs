using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Vexlab.DocsCheck;

/// <summary>
/// One simple command of a <c>$ </c> line: its words, where <c>&gt; FILE</c> sends its standard output, and
/// <see cref="Head"/>, the line count of a <c>| head -N</c> after it (null for none).
/// </summary>
public sealed record SimpleCommand(IReadOnlyList<string> Words, string? RedirectTo)
{
    public int? Head { get; init; }
}

/// <summary>
/// The small part of POSIX shell syntax the docs use: words, single and double quotes, <c>;</c>
/// between commands, <c>&gt; FILE</c>, <c>| head -N</c> (the only pipe), <c>$?</c> inside double quotes or
/// bare, and a trailing <c># comment</c>. Anything else (other pipes, <c>&amp;&amp;</c>, globs, other variables) is refused
/// so a doc never shows a command line the check does not run as written.
/// </summary>
public static partial class ShellLine
{
    /// <summary>Stands for <c>$?</c> in a parsed word: it expands when the command runs.</summary>
    public const string LastStatus = "\u0001?";

    public static List<SimpleCommand> Parse(string line)
    {
        var commands = new List<SimpleCommand>();
        var words = new List<string>();
        string? redirect = null;
        int? head = null;
        var expectRedirect = false;
        var word = new StringBuilder();
        var inWord = false;

        void EndWord()
        {
            if (!inWord)
            {
                return;
            }

            if (expectRedirect)
            {
                redirect = word.ToString();
                expectRedirect = false;
            }
            else
            {
                words.Add(word.ToString());
            }

            word.Clear();
            inWord = false;
        }

        void EndCommand()
        {
            EndWord();
            if (expectRedirect)
            {
                throw new FormatException($"'>' without a file in: {line}");
            }

            if (words.Count > 0)
            {
                commands.Add(new SimpleCommand(words.ToArray(), redirect) { Head = head });
            }
            else if (head is not null)
            {
                throw new FormatException($"'|' without a command before it in: {line}");
            }

            if (head is not null && redirect is not null)
            {
                throw new FormatException($"'>' and '| head' in one command are outside the shell syntax the docs check runs: {line}");
            }

            words.Clear();
            redirect = null;
            head = null;
        }

        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            switch (c)
            {
                case ' ' or '\t':
                    EndWord();
                    break;
                case ';':
                    EndCommand();
                    break;
                case '#' when !inWord:
                    i = line.Length;
                    break;
                case '>':
                    EndWord();
                    expectRedirect = true;
                    break;
                case '\'':
                    {
                        var close = line.IndexOf('\'', i + 1);
                        if (close < 0)
                        {
                            throw new FormatException($"unclosed ' in: {line}");
                        }

                        word.Append(line, i + 1, close - i - 1);
                        inWord = true;
                        i = close;
                        break;
                    }

                case '"':
                    i = DoubleQuoted(line, i, word);
                    inWord = true;
                    break;
                case '$' when i + 1 < line.Length && line[i + 1] == '?':
                    word.Append(LastStatus);
                    inWord = true;
                    i++;
                    break;
                case '|' when head is null && !expectRedirect:
                    EndWord();
                    i = HeadPipe(line, i, out var count);
                    head = count;
                    break;
                case '|' or '&' or '<' or '*' or '$' or '`' or '(' or ')' or '\\':
                    throw new FormatException($"'{c}' is outside the shell syntax the docs check runs: {line}");
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }

        EndCommand();
        return commands;
    }

    /// <summary>Expands <c>$?</c> in a word.</summary>
    public static string Expand(string word, int lastStatus) =>
        word.Replace(LastStatus, lastStatus.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>
    /// Reads <c>| head -N</c> (or <c>head -n N</c>) from the pipe at <paramref name="bar"/>; returns the index of the
    /// last character read. Any other command after a pipe is refused.
    /// </summary>
    private static int HeadPipe(string line, int bar, out int count)
    {
        var match = HeadPattern().Match(line, bar + 1);
        if (!match.Success || !int.TryParse(match.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1)
        {
            throw new FormatException($"'|' is outside the shell syntax the docs check runs (only '| head -N'): {line}");
        }

        return match.Index + match.Length - 1;
    }

    [GeneratedRegex(@"\G[ \t]*head[ \t]+(?:-n[ \t]*|-)(?<n>[0-9]+)(?=[ \t]*(?:;|#|$))")]
    private static partial Regex HeadPattern();

    private static int DoubleQuoted(string line, int open, StringBuilder word)
    {
        for (var i = open + 1; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
            {
                return i;
            }

            if (c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$')
            {
                word.Append(line[i + 1]);
                i++;
            }
            else if (c == '$' && i + 1 < line.Length && line[i + 1] == '?')
            {
                word.Append(LastStatus);
                i++;
            }
            else if (c is '$' or '`')
            {
                throw new FormatException($"'{c}' inside double quotes is outside the shell syntax the docs check runs: {line}");
            }
            else
            {
                word.Append(c);
            }
        }

        throw new FormatException($"unclosed \" in: {line}");
    }
}
