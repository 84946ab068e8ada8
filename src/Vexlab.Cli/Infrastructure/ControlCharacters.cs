using System.Globalization;
using System.Text;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Control characters in text bound for a terminal table, written as escapes. A table cell may hold
/// anything a result store or a scenario file holds: a NUL or a tab has no width a table can count
/// (its border would be drawn out of line), and an ESC would start a sequence the terminal obeys
/// (colours, cursor moves, a changed window title) instead of text. A newline stays: a cell's lines
/// are drawn as lines.
/// </summary>
public static class ControlCharacters
{
    /// <summary>
    /// <paramref name="text"/> with each control character (C0 but the newline, DEL, C1) written as
    /// <c>\0</c>, <c>\t</c>, <c>\r</c> or <c>\xHH</c>; the text itself when it has none.
    /// </summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = IndexOfControl(text);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!IsEscaped(c))
            {
                builder.Append(c);
                continue;
            }

            builder.Append(c switch
            {
                '\0' => "\\0",
                '\t' => "\\t",
                '\r' => "\\r",
                _ => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
            });
        }

        return builder.ToString();
    }

    private static int IndexOfControl(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (IsEscaped(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    // char.IsControl: U+0000-U+001F, U+007F and U+0080-U+009F, the Cc category.
    private static bool IsEscaped(char c) => c != '\n' && char.IsControl(c);
}
