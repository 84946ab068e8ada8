using System.Globalization;
using System.Text;

namespace Vexlab.Scenarios;

/// <summary>Words of a replay line, which a person pastes into bash.</summary>
public static class ShellWord
{
    /// <summary>
    /// <paramref name="text"/> as one bash word: as it is where nothing in it is special to the shell, else
    /// <see cref="SingleQuoted"/>. The one rule for every word of every replay line: files, protocol entries,
    /// --set values and options.
    /// </summary>
    public static string Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '=' or '/' or ',' or ':' or '+' or '@' or '%')
            ? text
            : SingleQuoted(text);
    }

    /// <summary>
    /// <paramref name="text"/> in single quotes (<c>'it'\''s'</c>), or, when it holds a control character such as
    /// a newline, in bash's ANSI-C quotes (<c>$'a\nb'</c>): a single-quoted newline would print the "one-line" replay
    /// command over two lines, and a terminal escape in it would act on the terminal that shows it.
    /// </summary>
    public static string SingleQuoted(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
        {
            return "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
        }

        var builder = new StringBuilder("$'", text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => builder.Append("\\\\"),
                '\'' => builder.Append("\\'"),
                '\n' => builder.Append("\\n"),
                '\t' => builder.Append("\\t"),
                '\r' => builder.Append("\\r"),
                _ when char.IsControl(c) && c < 0x80 => builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ when char.IsControl(c) => builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => builder.Append(c),
            };
        }

        return builder.Append('\'').ToString();
    }
}
