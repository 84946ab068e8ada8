using System.Globalization;
using System.Text;

namespace Vexlab.Scenarios;

public static class ErrorText
{
    private const int MaxQuoted = 80;

    /// <summary>Quotes user text for an error message, on one line and not too long.</summary>
    public static string Quote(string text)
    {
        var builder = new StringBuilder(text.Length + 2);
        builder.Append('"');
        var count = 0;
        foreach (var c in text)
        {
            if (count++ >= MaxQuoted)
            {
                builder.Append("...");
                break;
            }

            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c))
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
        return builder.ToString();
    }

    /// <summary>
    /// Text for a message with every control character written as an escape (\n, \u001b), so a
    /// file name or value holding terminal escapes cannot drive the terminal it is printed on.
    /// <paramref name="keepNewlines"/>: a newline stays one, for a table cell, which is drawn as lines
    /// (a NUL or a tab has no width a table can count, and an ESC would start a sequence).
    /// </summary>
    public static string Escape(string text, bool keepNewlines = false)
    {
        var clean = true;
        foreach (var c in text)
        {
            if ((char.IsControl(c) && !(keepNewlines && c == '\n')) || c is '\u2028' or '\u2029')
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\n': builder.Append(keepNewlines ? "\n" : "\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029')
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>A file name for a message: as given, with control characters escaped.</summary>
    public static string Path(string path) => Escape(path);

    /// <summary>Joins the lines of a message into one line.</summary>
    public static string OneLine(string text)
    {
        var lines = text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(' ', lines);
    }
}
