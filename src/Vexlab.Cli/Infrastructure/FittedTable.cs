using Vexlab.Scenarios;
using Spectre.Console;

namespace Vexlab.Cli.Infrastructure;

/// <summary>What the rows of a table are, which decides how it narrows.</summary>
public enum TableShape
{
    /// <summary>
    /// Rows are records with fields of their own (a bug, a knob, a query row): too wide, the cells
    /// wrap at word boundaries, and where even that does not fit each record becomes a block of
    /// "field | value" rows.
    /// </summary>
    Records,

    /// <summary>
    /// The first column names a metric and every other column holds that metric for one entry (a
    /// protocol, a model): too wide, the entries are paged, each page repeating the metric column.
    /// </summary>
    Pivot,
}

/// <summary>
/// A table that fits a width (<see cref="TerminalWidth"/>): drawn as is when it fits, otherwise
/// narrowed by its <see cref="TableShape"/> so that no line is wider than the width and every
/// value is still printed whole.
/// </summary>
public sealed class FittedTable
{
    // Spectre's default border and padding: one border column per column plus one, one space each side of a cell.
    private const int Padding = 2;

    private readonly TableShape _shape;
    private readonly string? _title;
    private readonly string? _caption;
    private readonly List<(string Name, Justify Justify)> _columns = [];
    private readonly List<string[]> _rows = [];

    public FittedTable(TableShape shape, string? title = null, string? caption = null)
    {
        _shape = shape;
        _title = title is null ? null : Cell(title);
        _caption = caption is null ? null : Cell(caption);
    }

    public int ColumnCount => _columns.Count;

    /// <summary>
    /// A cell's text with its control characters escaped as messages escape them (a NUL in a results query value
    /// drew its row's border out of line, an ESC reached the terminal as a colour sequence); its lines stay lines.
    /// </summary>
    private static string Cell(string text) => ErrorText.Escape(text, keepNewlines: true);

    public int RowCount => _rows.Count;

    /// <summary>Adds a column; numbers align right.</summary>
    public FittedTable Column(string name, Justify justify = Justify.Left)
    {
        _columns.Add((Cell(name), justify));
        return this;
    }

    /// <summary>Adds a row of plain text cells (markup escaped when drawn, control characters now), one per column.</summary>
    public FittedTable Row(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _columns.Count)
        {
            throw new ArgumentException($"a row of {cells.Length} cells in a table of {_columns.Count} columns", nameof(cells));
        }

        _rows.Add([.. cells.Select(Cell)]);
        return this;
    }

    public void Write(IAnsiConsole console, int width)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (!console.Profile.Capabilities.Unicode)
        {
            // An ASCII locale: the cells are measured as they will be printed ("1.2 +- 0.1" is wider than "1.2 ± 0.1"),
            // or the writer's transliteration would push the borders out of line.
            ToAscii().WriteFitted(console, width);
            return;
        }

        WriteFitted(console, width);
    }

    private FittedTable ToAscii()
    {
        var ascii = new FittedTable(_shape, _title is null ? null : OutputCharset.ToAscii(_title), _caption is null ? null : OutputCharset.ToAscii(_caption));
        foreach (var (name, justify) in _columns)
        {
            ascii.Column(OutputCharset.ToAscii(name), justify);
        }

        foreach (var row in _rows)
        {
            ascii.Row([.. row.Select(OutputCharset.ToAscii)]);
        }

        return ascii;
    }

    private void WriteFitted(IAnsiConsole console, int width)
    {
        var all = Enumerable.Range(0, _columns.Count).ToList();
        var natural = Width(all, Longest);
        if (natural <= width)
        {
            Draw(console, Build(all, _title, _caption, width), width == TerminalWidth.Full ? natural : width);
            return;
        }

        if (_shape == TableShape.Pivot && _columns.Count > 2 && Width([0, 1], Longest) <= width)
        {
            WritePages(console, width);
            return;
        }

        if (_shape == TableShape.Records && _columns.Count > 2 && Width(all, LongestWord) > width)
        {
            AsRecords().Write(console, width);
            return;
        }

        // The cells wrap at word boundaries.
        Draw(console, Build(all, _title, _caption, width), width);
    }

    private void WritePages(IAnsiConsole console, int width)
    {
        var page = new List<int> { 0 };
        var first = true;
        for (var c = 1; c < _columns.Count; c++)
        {
            if (page.Count > 1 && Width([.. page, c], Longest) > width)
            {
                Draw(console, Build(page, first ? _title : null, null, width), width);
                console.WriteLine();
                first = false;
                page = [0];
            }

            page.Add(c);
        }

        Draw(console, Build(page, first ? _title : null, _caption, width), width);
    }

    /// <summary>The same cells as one "field | value" row each, a blank row between records.</summary>
    private FittedTable AsRecords()
    {
        // The field names are short: the values get nearly the whole width.
        var records = new FittedTable(TableShape.Records, _title, _caption).Column("field").Column("value");
        for (var r = 0; r < _rows.Count; r++)
        {
            if (r > 0)
            {
                records.Row(string.Empty, string.Empty);
            }

            for (var c = 0; c < _columns.Count; c++)
            {
                records.Row(_columns[c].Name, _rows[r][c]);
            }
        }

        return records;
    }

    private Table Build(List<int> columns, string? title, string? caption, int width)
    {
        var table = new Table();
        if (title is not null)
        {
            table.Title(Markup.Escape(title));
        }

        if (caption is not null)
        {
            table.Caption(Markup.Escape(caption));
        }

        var widths = Allocate(columns, width);
        for (var i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            var column = new TableColumn(Markup.Escape(_columns[c].Name)) { Alignment = _columns[c].Justify };
            table.AddColumn(widths is null ? column : column.Width(widths[i]));
        }

        foreach (var row in _rows)
        {
            table.AddRow([.. columns.Select(c => Markup.Escape(row[c]))]);
        }

        return table;
    }

    /// <summary>
    /// Content widths when <paramref name="columns"/> must wrap to fit <paramref name="width"/>, or null when they
    /// need not: each column gets its longest word (so no word is cut where one can fit), the first its longest
    /// line, and what is left goes to the columns by how much wrapping they would otherwise need.
    /// </summary>
    private int[]? Allocate(List<int> columns, int width)
    {
        if (width == TerminalWidth.Full || Width(columns, Longest) <= width)
        {
            return null;
        }

        var budget = width - Width(columns, _ => 0);
        var least = columns.Select(c => Measure(c, LongestWord)).ToArray();
        var most = columns.Select(c => Measure(c, Longest)).ToArray();
        if (least.Sum() - least[0] + most[0] <= budget)
        {
            // The first column names the row (a key, a metric, a field): it stays on one line where it can.
            least[0] = most[0];
        }

        var spare = budget - least.Sum();
        if (spare <= 0)
        {
            // Even the longest words do not fit: the widest columns give up the difference.
            var widths = (int[])least.Clone();
            while (widths.Sum() > budget && widths.Max() > 1)
            {
                widths[Array.IndexOf(widths, widths.Max())]--;
            }

            return widths;
        }

        var want = most.Zip(least, (m, l) => m - l).ToArray();
        var wanted = Math.Max(1, want.Sum());
        var given = least.Select((l, i) => l + (int)((long)spare * want[i] / wanted)).ToArray();
        for (var i = 0; given.Sum() < budget && i < given.Length; i++)
        {
            if (given[i] < most[i])
            {
                given[i]++;
            }
        }

        return given;
    }

    private static void Draw(IAnsiConsole console, Table table, int width)
    {
        var previous = console.Profile.Width;
        console.Profile.Width = width;
        try
        {
            console.Write(table);
        }
        finally
        {
            console.Profile.Width = previous;
        }
    }

    /// <summary>The width of a table of <paramref name="columns"/>, each as wide as <paramref name="measure"/> says.</summary>
    private int Width(IReadOnlyList<int> columns, Func<string, int> measure)
    {
        var total = 1;
        foreach (var c in columns)
        {
            total += Measure(c, measure) + Padding + 1;
        }

        return total;
    }

    private int Measure(int column, Func<string, int> measure)
    {
        var widest = measure(_columns[column].Name);
        foreach (var row in _rows)
        {
            widest = Math.Max(widest, measure(row[column]));
        }

        return widest;
    }

    private static int Longest(string text)
    {
        var widest = 0;
        foreach (var line in text.Split('\n'))
        {
            widest = Math.Max(widest, line.Length);
        }

        return widest;
    }

    private static int LongestWord(string text)
    {
        var widest = 0;
        foreach (var word in text.Split([' ', '\n']))
        {
            widest = Math.Max(widest, word.Length);
        }

        return widest;
    }
}
