using System.CommandLine;
using System.Text;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// What an output option writes (a trace, a counterexample, a timeline, a plot, a report, an export, a store), told by
/// the bytes such a file starts with. <see cref="Refuse"/> uses it so an output never replaces a file that is not an
/// earlier output of its kind: <c>run --trace tf2.yaml --protocol sync</c> took the scenario the person meant to run as
/// the trace's FILE, ran the built-in default and wrote Perfetto JSON over the scenario. The same rule as
/// <c>--json</c>'s (<see cref="JsonTarget"/>), for every other option that writes a file.
/// </summary>
public sealed partial class OutputKind
{
    private readonly Func<string, bool> _holds;

    private OutputKind(string what, string named, Func<string, bool> holds)
    {
        What = what;
        Named = named;
        _holds = holds;
    }

    private OutputKind(string what, string named, Func<byte[], int, bool> startsAs)
        : this(what, named, path => StartsAs(path, startsAs))
    {
    }

    /// <summary>The output in words ("Perfetto trace").</summary>
    public string What { get; }

    /// <summary>The name such a file is given ("*.json").</summary>
    public string Named { get; }

    public static readonly OutputKind Counterexample = new("counterexample", "*.json", path => JsonFileKinds.OfFile(path) is JsonFileKind.Counterexample);
    public static readonly OutputKind Report = new("HTML report", "*.html", (b, n) => StartsWith(b, n, "<!doctype html") || StartsWith(b, n, "<html"));

    /// <summary>A command's JSON result (<c>--json FILE</c>), for naming what an existing file holds.</summary>
    private static readonly OutputKind s_result = new("JSON result", "*.json", path => JsonFileKinds.OfFile(path) is JsonFileKind.Result);

    private static readonly OutputKind s_perfetto = new("Perfetto trace", "*.json", path => JsonFileKinds.OfFile(path) is JsonFileKind.PerfettoTrace);

    // trace.dat opens with 0x17 0x08 0x44 "tracing" (trace-cmd's trace-cmd.dat(5)); TraceDatWriter writes it.
    private static readonly OutputKind s_traceDat = new("trace.dat trace", "*.dat", (b, n) => Magic(b, n, [0x17, 0x08, 0x44, .. "tracing"u8]));

    // trace-cmd report's first line, as FtraceWriter writes it.
    private static readonly OutputKind s_ftrace = new("ftrace text trace", "*.txt", (b, n) => StartsWith(b, n, "cpus="));

    /// <summary>A trace in <c>--trace-format</c> <paramref name="format"/>: perfetto, ftrace or trace-dat.</summary>
    public static OutputKind Trace(string format) => format switch
    {
        "trace-dat" => s_traceDat,
        "ftrace" => s_ftrace,
        _ => s_perfetto,
    };

    /// <summary>
    /// <c>run --timeline</c>'s table: its first two columns are the interval (TimelineRecorder's <c>start_ns</c>,
    /// <c>end_ns</c>), as a CSV header or as Parquet schema names.
    /// </summary>
    public static OutputKind Timeline(string format) => format == "parquet"
        ? new("timeline (Parquet)", "*.parquet", path => ParquetNames(path, "start_ns", "end_ns"))
        : new("timeline (CSV)", "*.csv", (b, n) => CsvHeader(b, n, "start_ns,end_ns,"));

    /// <summary>
    /// <c>results export</c>'s table: a store's <c>results</c> and <c>tasks</c> open with <c>run_key</c>, its
    /// <c>sweep</c> table is <c>key</c>, <c>value</c> (SweepStore's CREATE TABLEs).
    /// </summary>
    public static OutputKind Export(string format) => format == "parquet"
        ? new("table export (Parquet)", "*.parquet", path => ParquetNames(path, "run_key") || ParquetNames(path, "key", "value"))
        : new("table export (CSV)", "*.csv", (b, n) => CsvHeader(b, n, "run_key,") || CsvHeader(b, n, "key,value"));

    /// <summary>
    /// A result store (<c>sweep run --db</c>, <c>sweep merge</c>'s OUT): DuckDB's header has "DUCK" at byte 8, after
    /// its checksum. The stores refuse an existing file of another kind themselves; only the name is checked here.
    /// </summary>
    public static readonly OutputKind Store = new("result store", "*.duckdb", (b, n) => n >= 12 && b.AsSpan(8, 4).SequenceEqual("DUCK"u8));

    private static readonly OutputKind s_svg = new("SVG plot", "*.svg", (b, n) => StartsWith(b, n, "<?xml") || StartsWith(b, n, "<svg"));
    private static readonly OutputKind s_png = new("PNG plot", "*.png", (b, n) => Magic(b, n, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]));

    /// <summary>A plot, by its extension (.png or .svg; any other is refused by the plot itself).</summary>
    public static OutputKind Plot(string path) => Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase) ? s_svg : s_png;

    /// <summary>Every kind vexlab writes, to name what an existing file holds when a refusal says so.</summary>
    private static readonly OutputKind[] s_all =
    [
        s_result, Counterexample, s_perfetto, s_ftrace, s_traceDat, Timeline("csv"), Timeline("parquet"), Export("csv"),
        Export("parquet"), Store, Report, s_png, s_svg,
    ];

    /// <summary>
    /// The output of vexlab's that the existing regular file <paramref name="path"/> holds (a result store, a JSON
    /// result, a trace, ...), or null: none, a file that is not regular or not there, or one that cannot be read (its
    /// reader then says why).
    /// </summary>
    public static OutputKind? HeldBy(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            if (FileKinds.Of(path) != FileKind.Regular || new FileInfo(path).Length == 0)
            {
                return null;
            }

            return s_all.FirstOrDefault(k => k._holds(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Refuses, before any work, an output <paramref name="path"/> given to <paramref name="option"/> that names a
    /// scenario or model file (*.yaml, *.yml: vexlab writes none), or an existing regular file that is not empty and
    /// does not start as <paramref name="kind"/> does. Either way the file would be replaced by something else, most
    /// often because the person typed the scenario after the option instead of as the command's FILE. Devices
    /// (/dev/null) and a missing path are taken as they are.
    /// </summary>
    public static void Refuse(ParseResult parse, string option, string? path, OutputKind kind)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(kind);
        if (path is not { Length: > 0 } || path == "-" || FileKinds.IsSystem(Path.GetFullPath(path)))
        {
            return;
        }

        var meant = Meant(parse, option, path);
        RefuseScenarioName(option, path, kind, meant);

        // Only a regular file is read: opening a FIFO to look would wait for its writer.
        if (FileKinds.Of(path) == FileKind.Regular && !Holds(path, kind))
        {
            // An earlier output of another kind is named, so that the refusal does not read as a damaged file of this one.
            var other = s_all.FirstOrDefault(k => k.What != kind.What && Holds(path, k));
            var holds = other is null ? $"holds no {kind.What}" : $"holds {Article(other.What)} {other.What}, not {Article(kind.What)} {kind.What}";
            throw InputException.At(null, 0, 0, option, $"{ErrorText.Quote(path)} is an existing file that {holds}; the {kind.What} would replace it: {meant}give a new file name, or remove the file first");
        }
    }

    /// <summary>
    /// Refuses only an output name like a scenario's (*.yaml, *.yml), for an output whose existing files the writer
    /// itself tells apart (a result store): <c>sweep run --db new.yaml</c> created a DuckDB store named like YAML.
    /// </summary>
    public static void RefuseScenarioName(ParseResult parse, string option, string? path, OutputKind kind)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(kind);
        if (path is not { Length: > 0 } || path == "-" || FileKinds.IsSystem(Path.GetFullPath(path)))
        {
            return;
        }

        RefuseScenarioName(option, path, kind, Meant(parse, option, path));
    }

    /// <summary>
    /// "FILE was not given: if PATH is the FILE, put it before OPTION; otherwise ", or null: the word was most likely
    /// meant as the command's argument when that argument was not given (nor --builtin, which stands for a scenario,
    /// model or sweep FILE) and OPTION's value may be left out.
    /// </summary>
    private static string? Meant(ParseResult parse, string option, string path)
    {
        var command = parse.CommandResult.Command;

        // An option that always takes a value (--timeline, --trace) took the argument's place only when the word could be
        // the argument, a scenario, model or sweep file (run --trace tf2.yaml, --trace taken for a flag); a table
        // export or a CSV given to it is its own value, which the hint misread as the FILE.
        if (command.Options.FirstOrDefault(o => o.Name == option) is { Arity.MinimumNumberOfValues: > 0 }
            && Path.GetExtension(path).ToLowerInvariant() is not (".yaml" or ".yml"))
        {
            return null;
        }

        var builtin = command.Options.FirstOrDefault(o => o.Name == "--builtin");
        var missing = builtin is not null && parse.GetResult(builtin) is { Implicit: false }
            ? null
            : command.Arguments.FirstOrDefault(a => parse.GetResult(a) is not { Tokens.Count: > 0 });
        return missing is null ? null : $"{missing.Name} was not given: if {ErrorText.Quote(path)} is the {missing.Name}, put it before {option}; otherwise ";
    }

    private static void RefuseScenarioName(string option, string path, OutputKind kind, string? meant)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".yaml" or ".yml")
        {
            // An argument (sweep merge's OUT) names its place as an option does: "OUT: ...", as "FIRST: ..." does.
            var problem = $"{ErrorText.Quote(path)} is named like a scenario or model file ({extension}), not a {kind.What}; {meant}name the {kind.What} {kind.Named}";
            throw option.StartsWith('-') ? InputException.At(null, 0, 0, option, problem) : new InputException(option + ": " + problem);
        }
    }

    private static bool Holds(string path, OutputKind kind)
    {
        try
        {
            // An empty file (touch, mktemp) holds nothing to lose.
            return new FileInfo(path).Length == 0 || kind._holds(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable: the write will say why.
            return true;
        }
    }

    /// <summary>"an" before a vowel sound ("an HTML report", "an ftrace text trace"), else "a".</summary>
    internal static string Article(string what) =>
        "aeiou".Contains(char.ToLowerInvariant(what[0]), StringComparison.Ordinal) || what.StartsWith("HTML", StringComparison.Ordinal) || what.StartsWith("ftrace", StringComparison.Ordinal) ? "an" : "a";

    /// <summary>True when the file's first 512 bytes satisfy <paramref name="startsAs"/>.</summary>
    private static bool StartsAs(string path, Func<byte[], int, bool> startsAs)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[512];
        var n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return startsAs(buffer, n);
    }

    /// <summary>
    /// True when the Parquet file's footer (FileMetaData, Thrift compact: a string is its varint length, then its
    /// bytes) names every one of <paramref name="columns"/>; the footer ends in its length and "PAR1" (Parquet's
    /// format spec, "File format").
    /// </summary>
    private static bool ParquetNames(string path, params string[] columns)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length < 12)
        {
            return false;
        }

        var tail = new byte[8];
        stream.Seek(-8, SeekOrigin.End);
        stream.ReadExactly(tail);
        var length = BitConverter.ToInt32(tail, 0);
        if (!tail.AsSpan(4).SequenceEqual("PAR1"u8) || length <= 0 || length > stream.Length - 12 || length > JsonFileKinds.HeadBytes)
        {
            return false;
        }

        var footer = new byte[length];
        stream.Seek(-8 - length, SeekOrigin.End);
        stream.ReadExactly(footer);
        return columns.All(c => footer.AsSpan().IndexOf([(byte)c.Length, .. Encoding.UTF8.GetBytes(c)]) >= 0);
    }

    /// <summary>True when the text, past leading blanks, starts with <paramref name="text"/> (ASCII, any case).</summary>
    private static bool StartsWith(byte[] b, int n, string text)
    {
        var i = SkipBlank(b, n);
        if (n - i < text.Length)
        {
            return false;
        }

        return Encoding.ASCII.GetString(b, i, text.Length).Equals(text, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A CSV header that opens with <paramref name="first"/> (the table's first columns, which vexlab names): a first
    /// line with no control characters, read as UTF-8, that does not open as a YAML mapping does (<c>key: value</c>).
    /// Later column names carry task names, which a scenario may spell with any character (<c>work_kv:get</c>,
    /// <c>work_café</c>), so those are not restricted.
    /// </summary>
    private static bool CsvHeader(byte[] b, int n, string first)
    {
        var end = Array.IndexOf(b, (byte)'\n', 0, n);
        var line = Encoding.UTF8.GetString(b, 0, end < 0 ? n : end).TrimEnd('\r');
        return line.StartsWith(first, StringComparison.Ordinal)
            && !line.Any(char.IsControl)
            && !YamlKeyLine().IsMatch(line);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\s*[A-Za-z_][\w.-]*:(\s|$)")]
    private static partial System.Text.RegularExpressions.Regex YamlKeyLine();

    /// <summary>True when the file's first bytes are <paramref name="magic"/>.</summary>
    private static bool Magic(byte[] b, int n, ReadOnlySpan<byte> magic) => n >= magic.Length && b.AsSpan(0, magic.Length).SequenceEqual(magic);

    private static int SkipBlank(byte[] b, int n)
    {
        var i = 0;
        while (i < n && b[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }

        return i;
    }
}
