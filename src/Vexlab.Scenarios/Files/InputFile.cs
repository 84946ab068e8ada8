using System.Globalization;
using System.Text;
using Vexlab.Model.Configuration;

namespace Vexlab.Scenarios.Files;

/// <summary>
/// Reads an input file (scenario, model, sweep, counterexample trace) as text under
/// <see cref="InputLimits"/>: at most <see cref="InputLimits.MaxBytes"/> bytes are read, so
/// /dev/zero or a FIFO that never ends is refused before it fills memory; a directory, an empty
/// name, invalid UTF-8 and NUL bytes are refused with the place they are at.
/// </summary>
public static class InputFile
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads <paramref name="path"/>; <paramref name="what"/> names it in messages ("scenario file").</summary>
    public static string ReadText(string path, string what)
    {
        if (path.Length == 0)
        {
            throw InputException.At(null, 0, 0, null, $"the {what} name is empty");
        }

        var shown = ErrorText.Path(path);
        if (Directory.Exists(path))
        {
            throw InputException.At(shown, 0, 0, null, $"is a directory, not a {what}");
        }

        var limit = InputLimits.MaxBytes;
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            bytes = ReadBounded(stream, limit, shown, what);
        }
        catch (FileNotFoundException)
        {
            throw InputException.At(shown, 0, 0, null, $"no such {what}");
        }
        catch (DirectoryNotFoundException)
        {
            throw InputException.At(shown, 0, 0, null, $"no such {what} (a folder on its path is missing)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw InputException.At(shown, 0, 0, null, $"cannot read the {what}: " + ErrorText.OneLine(e.Message));
        }

        return Decode(bytes, shown, what);
    }

    /// <summary>Decodes UTF-8 text, refusing invalid bytes and NUL characters with their line and column.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, string file, string what)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        string text;
        try
        {
            text = s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            var index = e.Index >= 0 ? e.Index : 0;
            var valid = s_strictUtf8.GetString(bytes[..LastValidPrefix(bytes, index)]);
            var (line, column) = Place(valid, valid.Length);
            throw InputException.At(file, line, column, null, $"the {what} is not UTF-8 text");
        }

        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            var (line, column) = Place(text, nul);
            throw InputException.At(file, line, column, null, $"the {what} holds a NUL byte; it is not a text file");
        }

        return text;
    }

    private static int LastValidPrefix(ReadOnlySpan<byte> bytes, int index)
    {
        // The decoder reports the index inside its own buffer; clamp it and back up to a character start.
        var cut = Math.Clamp(index, 0, bytes.Length);
        while (cut > 0 && (bytes[cut - 1] & 0xC0) == 0x80)
        {
            cut--;
        }

        return cut > 0 && bytes[cut - 1] >= 0xC0 ? cut - 1 : cut;
    }

    /// <summary>The 1-based line and column of <paramref name="index"/> in <paramref name="text"/>.</summary>
    public static (int Line, int Column) Place(string text, int index)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return (line, column);
    }

    private static byte[] ReadBounded(Stream stream, long limit, string file, string what)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var want = (int)Math.Min(chunk.Length, limit + 1 - buffer.Length);
            var read = stream.Read(chunk, 0, want);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                throw InputException.At(
                    file, 0, 0, null,
                    string.Create(CultureInfo.InvariantCulture,
                        $"the {what} is larger than the {limit}-byte limit on input files; set {InputLimits.MaxBytesVariable} (such as 256MiB) to raise it"));
            }
        }
    }
}
