using System.Text;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Whether the output may carry UTF-8, read from the locale as the C library reads it, and what the
/// tool prints instead when it may not.
/// </summary>
/// <remarks>
/// .NET cannot be asked: under <c>LANG=C</c> its <see cref="Console.OutputEncoding"/> is UTF-8 (it
/// takes a charset only from an explicit <c>.CODESET</c> suffix), so Spectre.Console, which draws
/// box characters whenever the writer's encoding is a Unicode one, drew them where the terminal
/// shows three bytes of mojibake per character; under <c>LANG=en_US.ISO-8859-1</c> .NET encodes as
/// Latin-1 and every border became <c>?</c>.
/// </remarks>
public static class OutputCharset
{
    /// <summary>
    /// True when the locale's character set is UTF-8. The first of <c>LC_ALL</c>, <c>LC_CTYPE</c>
    /// and <c>LANG</c> that is set and not empty decides (POSIX XBD 8.2, Internationalization
    /// Variables). None set at all counts as UTF-8, as systemd's <c>is_locale_utf8()</c> decides: a
    /// bare container sets no locale and its terminal is UTF-8; <c>C</c> or <c>POSIX</c> set on
    /// purpose, or a locale without a codeset (glibc's <c>en_US</c> is ISO-8859-1), is not.
    /// </summary>
    public static bool LocaleIsUtf8(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        foreach (var name in (ReadOnlySpan<string>)["LC_ALL", "LC_CTYPE", "LANG"])
        {
            var locale = environment(name);
            if (!string.IsNullOrEmpty(locale))
            {
                return CodesetIsUtf8(locale);
            }
        }

        return true;
    }

    /// <summary>True for a locale name <c>language[_territory][.codeset][@modifier]</c> whose codeset is UTF-8.</summary>
    public static bool CodesetIsUtf8(string locale)
    {
        ArgumentNullException.ThrowIfNull(locale);
        var at = locale.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? locale : locale[..at];
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return false;
        }

        // glibc normalises the codeset before it looks it up: "UTF-8", "utf8" and "UTF8" are one.
        var codeset = name[(dot + 1)..].Replace("-", string.Empty, StringComparison.Ordinal);
        return codeset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The ASCII a person reads for <paramref name="c"/>, or null when it has none (the caller prints <c>?</c>).</summary>
    public static string? Transliterate(char c) => c switch
    {
        '\u00b5' or '\u03bc' => "u", // micro sign, Greek mu: "us" as the tool's own durations say
        '\u00d7' => "x",
        '\u00b1' => "+-",
        '\u2192' or '\u27f6' => "->",
        '\u2190' or '\u27f5' => "<-",
        '\u2194' => "<->",
        '\u21d2' => "=>",
        '\u2026' => "...",
        '\u2264' => "<=",
        '\u2265' => ">=",
        '\u2260' => "!=",
        '\u2248' => "~",
        '\u2010' or '\u2011' or '\u2012' or '\u2013' or '\u2014' or '\u2212' => "-",
        '\u2018' or '\u2019' or '\u201a' or '\u2032' => "'",
        '\u201c' or '\u201d' or '\u201e' or '\u2033' => "\"",
        '\u2022' or '\u25cf' => "*",
        '\u00b7' or '\u22c5' => ".",
        '\u00a0' or '\u2009' or '\u202f' => " ",
        '\u00b0' => " deg",
        '\u00b2' => "^2",
        // Box drawing (U+2500..U+257F): straight lines stay lines, every corner and tee becomes a plus.
        '\u2500' or '\u2501' or '\u2504' or '\u2505' or '\u2508' or '\u2509' or '\u254c' or '\u254d' or '\u2550' or '\u2574' or '\u2576' or '\u2578' or '\u257a' => "-",
        '\u2502' or '\u2503' or '\u2506' or '\u2507' or '\u250a' or '\u250b' or '\u254e' or '\u254f' or '\u2551' or '\u2575' or '\u2577' or '\u2579' or '\u257b' => "|",
        >= '\u2500' and <= '\u257f' => "+",
        // Block elements (progress bars, sparklines).
        >= '\u2580' and <= '\u259f' => "#",
        _ => null,
    };

    /// <summary>
    /// <paramref name="text"/> in ASCII: every other character becomes its transliteration
    /// (<see cref="Transliterate"/>) or <c>?</c>, a surrogate pair one <c>?</c>.
    /// </summary>
    public static string ToAscii(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.All(char.IsAscii))
        {
            return text;
        }

        var ascii = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (char.IsAscii(c))
            {
                ascii.Append(c);
            }
            else if (!char.IsLowSurrogate(c))
            {
                ascii.Append(Transliterate(c) ?? "?");
            }
        }

        return ascii.ToString();
    }

    /// <summary>
    /// JSON with every character above ASCII written as a <c>\uXXXX</c> escape: the same document
    /// (RFC 8259 section 7), whatever encoding the stream then applies. Outside strings JSON is
    /// ASCII, so only string contents change.
    /// </summary>
    public static string EscapeJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.All(char.IsAscii))
        {
            return json;
        }

        var text = new StringBuilder(json.Length + 16);
        foreach (var c in json)
        {
            if (char.IsAscii(c))
            {
                text.Append(c);
            }
            else
            {
                text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// A writer that passes on ASCII only (<see cref="OutputCharset.ToAscii"/>). Used for
/// both standard streams when the locale is not UTF-8, so no byte at or above 0x80 reaches them
/// from any path (tables, Spectre's progress bar, messages that quote the input).
/// </summary>
public sealed class AsciiTextWriter : TextWriter
{
    private readonly TextWriter _inner;

    public AsciiTextWriter(TextWriter inner)
        : base(System.Globalization.CultureInfo.InvariantCulture)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        CoreNewLine = inner.NewLine.ToCharArray();
    }

    /// <summary>ASCII: Spectre.Console reads it and so draws its ASCII table borders and progress bar.</summary>
    public override Encoding Encoding => Encoding.ASCII;

    public override void Write(char value)
    {
        if (char.IsAscii(value))
        {
            _inner.Write(value);
        }
        else if (!char.IsLowSurrogate(value))
        {
            _inner.Write(OutputCharset.Transliterate(value) ?? "?");
        }
    }

    public override void Write(string? value)
    {
        if (value is not null)
        {
            _inner.Write(OutputCharset.ToAscii(value));
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(ReadOnlySpan<char> buffer) => Write(new string(buffer));

    public override void WriteLine(string? value) => Write(value + NewLine);

    public override void Flush() => _inner.Flush();
}
