using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>
/// Output in a locale that is not UTF-8 (<c>LANG=C</c>, <c>LC_ALL=POSIX</c>, <c>en_US.ISO-8859-1</c>):
/// ASCII table borders and progress bar, <c>us</c> for µs, <c>+-</c> for ±, and not one byte at or above 0x80.
/// </summary>
public sealed class PlainLocaleTests
{
    [Theory]
    [InlineData(null, null, null, true)] // nothing set: a bare container, whose terminal is UTF-8
    [InlineData(null, null, "C.UTF-8", true)]
    [InlineData(null, null, "en_US.utf8", true)]
    [InlineData(null, null, "de_DE.UTF-8@euro", true)]
    [InlineData(null, null, "C", false)]
    [InlineData(null, null, "POSIX", false)]
    [InlineData(null, null, "en_US", false)]
    [InlineData(null, null, "en_US.ISO-8859-1", false)]
    [InlineData("C", null, "en_US.UTF-8", false)] // LC_ALL overrides LANG
    [InlineData(null, "C", "en_US.UTF-8", false)] // so does LC_CTYPE
    [InlineData("", "C.UTF-8", "C", true)] // an empty one counts as unset
    [InlineData("en_US.UTF-8", "C", "C", true)]
    public void The_locale_decides_UTF_8_as_the_C_library_does(string? lcAll, string? lcCtype, string? lang, bool utf8)
    {
        var environment = new Dictionary<string, string?> { ["LC_ALL"] = lcAll, ["LC_CTYPE"] = lcCtype, ["LANG"] = lang };
        Assert.Equal(utf8, OutputCharset.LocaleIsUtf8(name => environment.GetValueOrDefault(name)));
    }

    [Fact]
    public void The_ASCII_writer_transliterates_what_it_can_and_marks_the_rest()
    {
        var inner = new StringWriter();
        var writer = new AsciiTextWriter(inner);
        writer.Write("12.5 \u00b5s \u00b1 3 \u00d7 2 \u2192 \u250c\u2500\u252c\u2510 \u2502 \u2501\u2501 caf\u00e9 \U0001F600");
        writer.Write('\u00b5');
        writer.WriteLine("\u2026");

        Assert.Equal("12.5 us +- 3 x 2 -> +-++ | -- caf? ?u...\n", inner.ToString().Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("explain", "rules")]
    [InlineData("explain", "protocol", "kvm-pf-int")]
    [InlineData("explain", "keys", "guest.apf")]
    [InlineData("explain", "backings")]
    [InlineData("explain", "bugs")]
    [InlineData("sweeps", "list")]
    [InlineData("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", "2ms", "--seeds", "2")]
    [InlineData("run", "--duration", "5\u00b5x")] // an error that quotes the input
    [InlineData("--help")]
    public void An_ASCII_locale_gets_no_byte_above_ASCII_and_ASCII_borders(params string[] args)
    {
        var (code, stdout, stderr) = Run(unicode: false, args);
        Assert.True(code is 0 or 2, $"exit {code}: {stderr}");
        AssertAscii(stdout);
        AssertAscii(stderr);
        if (stdout.Contains('|', StringComparison.Ordinal) && args[0] != "--help")
        {
            Assert.Contains("+-", stdout, StringComparison.Ordinal);
        }

        // The same command in a UTF-8 locale draws boxes: the difference is the locale's, not the command's.
        var (_, unicodeOut, _) = Run(unicode: true, args);
        if (args[0] is "explain" or "sweeps" or "compare")
        {
            Assert.Contains('\u2502', unicodeOut);
        }
    }

    [Fact]
    public void Means_with_an_interval_read_plus_minus()
    {
        var (code, stdout, stderr) = Run(unicode: false, "compare", "--builtin", "postcopy", "--protocols", "sync", "--duration", "2ms", "--seeds", "2");
        Assert.Equal(0, code);
        Assert.Contains("(mean +- 95%)", stdout, StringComparison.Ordinal);
        var lines = stdout.Split('\n').Where(l => l.StartsWith('|')).ToList();
        Assert.Contains(" +- ", lines.Single(l => l.Contains("work: total", StringComparison.Ordinal)), StringComparison.Ordinal);

        // The borders stay in line: every row as wide as the top border, its bars where the border's pluses are.
        var border = stdout.Split('\n').First(l => l.StartsWith('+'));
        Assert.All(lines, l => Assert.Equal(border.Length, l.Length));
        Assert.All(lines, l => Assert.Equal('|', l[border.IndexOf('+', 1)]));
        AssertAscii(stderr);
    }

    [Fact]
    public void JSON_on_standard_output_stays_the_same_document_in_ASCII()
    {
        // The sweep's axis unit in sweeps show is "us"; a string with a micro sign comes from the input (a scenario name).
        var args = new[] { "explain", "backings", "--json" };
        var (_, ascii, _) = Run(unicode: false, args);
        var (_, unicode, _) = Run(unicode: true, args);
        AssertAscii(ascii);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(unicode), JsonNode.Parse(ascii)));

        Assert.Equal("{\"unit\": \"\\u00b5s\"}", OutputCharset.EscapeJson("{\"unit\": \"\u00b5s\"}"));
        Assert.Equal("\u00b5s", JsonNode.Parse(OutputCharset.EscapeJson("\"\u00b5s\""))!.GetValue<string>());
    }

    [Fact]
    public void A_dumb_terminal_gets_no_line_redrawn_in_place()
    {
        Assert.False(VexlabApp.Redraws("dumb"));
        Assert.True(VexlabApp.Redraws("xterm-256color"));
        Assert.True(VexlabApp.Redraws(null));
    }

    [Theory]
    [InlineData("LC_ALL", "C")]
    [InlineData("LANG", "C")]
    [InlineData("LANG", "en_US.ISO-8859-1")]
    public void The_tool_reads_the_locale_from_its_environment(string name, string value)
    {
        var ascii = RunProcess((name, value), "explain", "protocol", "kvm-pf-int");
        Assert.DoesNotContain(ascii, b => b >= 0x80);
        Assert.Contains("+--------------------+", Encoding.ASCII.GetString(ascii), StringComparison.Ordinal);

        var utf8 = Encoding.UTF8.GetString(RunProcess(("LANG", "C.UTF-8"), "explain", "protocol", "kvm-pf-int"));
        Assert.Contains("\u250c\u2500\u2500", utf8, StringComparison.Ordinal);
    }

    private static byte[] RunProcess((string Name, string Value) locale, params string[] args)
    {
        var info = StartedProcess.Info(args);

        foreach (var name in (string[])["LC_ALL", "LC_CTYPE", "LANG"])
        {
            info.Environment.Remove(name);
        }

        info.Environment[locale.Name] = locale.Value;
        using var process = Process.Start(info)!;
        using var bytes = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(bytes);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr.Result);
        Assert.DoesNotContain(Encoding.UTF8.GetBytes(stderr.Result), b => b >= 0x80);
        return bytes.ToArray();
    }

    /// <summary>
    /// CSV is data a program reads: its values go out as they are, in any locale. In an ASCII locale a query's '→µ×'
    /// came out as "->ux" (the human text's transliteration); JSON keeps them as escapes.
    /// </summary>
    [Fact]
    public void An_ASCII_locale_leaves_CSV_values_as_they_are()
    {
        var dir = Directory.CreateTempSubdirectory("vexlab-csv-locale-").FullName;
        try
        {
            var sweep = Path.Combine(dir, "s.yaml");
            var store = Path.Combine(dir, "s.duckdb");
            File.WriteAllText(sweep, "scenario: postcopy\nprotocols: [sync]\nseeds: 1\n");
            Assert.Equal(0, CliRunner.RunFake("sweep", "run", sweep, "--db", store, "--jobs", "1").ExitCode);

            var (code, csv, stderr) = Run(unicode: false, "results", "query", store, "select '\u2192\u00b5\u00d7' as s", "--format", "csv");
            Assert.True(code == 0, stderr);
            Assert.Equal("s\n\u2192\u00b5\u00d7\n", csv.Replace("\r\n", "\n", StringComparison.Ordinal));
            AssertAscii(stderr);

            var (_, json, _) = Run(unicode: false, "results", "query", store, "select '\u2192' as s", "--format", "json");
            AssertAscii(json);
            Assert.Equal("\u2192", (string?)JsonNode.Parse(json)!["rows"]![0]!["s"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int Code, string Stdout, string Stderr) Run(bool unicode, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = VexlabApp.Run(args, new CliContext(output, error, errorIsTerminal: false, color: false, unicode));
        return (code, output.ToString(), error.ToString());
    }

    private static void AssertAscii(string text)
    {
        var bad = Array.FindIndex(text.ToCharArray(), c => !char.IsAscii(c));
        Assert.True(bad < 0, bad < 0 ? string.Empty : $"U+{(int)text[bad]:X4} in: {text[Math.Max(0, bad - 60)..Math.Min(text.Length, bad + 20)]}");
    }
}
