using Spectre.Console;
using Vexlab.Results.Sweeps;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Where a command writes: the real standard streams in the tool, string writers in tests.
/// Tables and progress for people go to <see cref="Human"/>: standard output, unless JSON
/// takes standard output, then standard error.
/// </summary>
public sealed class CliContext
{
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="errorIsTerminal">Standard error is a terminal that takes a line redrawn in place.</param>
    /// <param name="color">Colour is wanted (a terminal, no <c>NO_COLOR</c>).</param>
    /// <param name="unicode">
    /// The streams may carry UTF-8 (<see cref="OutputCharset.LocaleIsUtf8"/>); otherwise both are
    /// ASCII only: ASCII table borders and progress bar, <c>us</c> for µs, <c>+-</c> for ±.
    /// </param>
    public CliContext(TextWriter output, TextWriter error, bool errorIsTerminal, bool color, bool unicode = true)
    {
        DataOutput = output;
        Output = unicode ? output : TextWriter.Synchronized(new AsciiTextWriter(output));
        Error = unicode ? error : TextWriter.Synchronized(new AsciiTextWriter(error));
        ErrorIsTerminal = errorIsTerminal;
        Color = color;
        Unicode = unicode;
        OutConsole = CreateConsole(Output, color, unicode);
        ErrorConsole = CreateConsole(Error, color, unicode);
    }

    public TextWriter Output { get; }

    /// <summary>
    /// Standard output for data a program reads (<c>results query --format csv</c>): the values as they are, in UTF-8
    /// whatever the locale, where <see cref="Output"/> passes on ASCII alone in a locale that is not UTF-8 and would
    /// change the data (a '→' in a value became "->"). JSON needs none: it escapes what is not ASCII.
    /// </summary>
    public TextWriter DataOutput { get; }

    public TextWriter Error { get; }

    /// <summary>
    /// True when standard error is a terminal that can redraw a line (not <c>TERM=dumb</c>): only then is a
    /// progress bar drawn, and only then does any escape code go out.
    /// </summary>
    public bool ErrorIsTerminal { get; }

    public bool Color { get; }

    /// <summary>False when the locale is not UTF-8: <see cref="Output"/> and <see cref="Error"/> then pass on ASCII only.</summary>
    public bool Unicode { get; }

    /// <summary>How often a long command prints a progress line when standard error is not a terminal.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The runner factory of <c>vexlab sweep run</c>: the timed simulator unless a test injects
    /// another (a stand-in with made-up numbers lives with the tests, never in the tool).
    /// </summary>
    public Func<RunPoint> SweepRunner { get; init; } = SimulatorSweepRunner.Create;

    /// <summary>
    /// The check <c>vexlab sweep run</c> runs over every point before it opens the store: the
    /// simulator's resolution of each run, without simulating (kept when a test injects a runner); its
    /// argument takes each note the check makes.
    /// </summary>
    public Func<Action<string>, CheckPoint> SweepCheck { get; init; } = SimulatorSweepRunner.CreateCheck;

    public IAnsiConsole OutConsole { get; }

    public IAnsiConsole ErrorConsole { get; }

    /// <summary>The console for tables: stderr when JSON goes to stdout.</summary>
    public IAnsiConsole Human(JsonTarget json) => json.IsStdout ? ErrorConsole : OutConsole;

    /// <summary>The value of <c>COLUMNS</c>, which narrows (or widens) tables wherever they go.</summary>
    public string? Columns { get; init; }

    /// <summary>The width of the terminal standard output is, or null when it is a pipe or a file.</summary>
    public int? OutputTerminalWidth { get; init; }

    /// <summary>The width of the terminal standard error is, or null when it is a pipe or a file.</summary>
    public int? ErrorTerminalWidth { get; init; }

    /// <summary>How wide a table written to <paramref name="console"/> may be (<see cref="TerminalWidth"/>).</summary>
    public int TableWidth(IAnsiConsole console, bool wide) =>
        TerminalWidth.Resolve(wide, Columns, ReferenceEquals(console, ErrorConsole) ? ErrorTerminalWidth : OutputTerminalWidth);

    /// <summary>
    /// A progress line to redraw in place on the terminal of standard error, cut to one column less than its
    /// width: a line that reaches the last column wraps, and the next <c>\r</c> goes back to the start of
    /// the wrapped part only, so every redraw left a copy of the line's first row above it.
    /// </summary>
    public string FitToTerminal(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var width = ProgressWidth;
        return width is int w && line.Length >= w ? line[..(w - 1)] : line;
    }

    /// <summary>
    /// The columns a progress line redrawn on standard error may use: its terminal's, else <c>COLUMNS</c>, else
    /// null (unknown).
    /// </summary>
    public int? ProgressWidth
    {
        get
        {
            var width = ErrorTerminalWidth is int w && w > 1 ? w : TerminalWidth.Resolve(false, Columns, null);
            return width == TerminalWidth.Full ? null : width;
        }
    }

    /// <summary>The writer for plain human text: stderr when JSON goes to stdout.</summary>
    public TextWriter HumanWriter(JsonTarget json) => json.IsStdout ? Error : Output;

    private static IAnsiConsole CreateConsole(TextWriter writer, bool color, bool unicode)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = color ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        // Text outside tables wraps only past 200 columns; each table is fitted to its own width (FittedTable).
        console.Profile.Width = 200;
        // Spectre decides from the writer's encoding, which .NET makes UTF-8 under LANG=C: the locale decides instead.
        console.Profile.Capabilities.Unicode = unicode;
        return console;
    }
}
