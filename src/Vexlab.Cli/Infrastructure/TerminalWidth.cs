using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// How wide tables may be: <c>--wide</c> gives the full table; otherwise <c>COLUMNS</c> when set
/// (as shells export it), the terminal's width when the table goes to one, and the full table for a
/// pipe or a file (where nothing wraps a long line and scripts read whole rows).
/// </summary>
public static class TerminalWidth
{
    /// <summary>No limit: every table at its natural width.</summary>
    public const int Full = int.MaxValue;

    /// <summary>Below this a table cannot show a name and a value side by side.</summary>
    public const int Narrowest = 40;

    /// <summary>The <c>--wide</c> option of every command that prints a table.</summary>
    public static Option<bool> CreateOption() => new("--wide")
    {
        Description = "Print tables at full width, however wide the terminal (default: fit COLUMNS or the terminal)",
    };

    /// <summary>Runs <paramref name="write"/> with the text around its tables wrapped at <paramref name="width"/> too.</summary>
    public static void WrapText(IAnsiConsole console, int width, Action write)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(write);
        var previous = console.Profile.Width;
        console.Profile.Width = Math.Min(width, previous);
        try
        {
            write();
        }
        finally
        {
            console.Profile.Width = previous;
        }
    }

    public static int Resolve(bool wide, string? columns, int? terminal)
    {
        if (wide)
        {
            return Full;
        }

        if (int.TryParse(columns, NumberStyles.None, CultureInfo.InvariantCulture, out var fromEnvironment) && fromEnvironment > 0)
        {
            return Math.Max(fromEnvironment, Narrowest);
        }

        return terminal is int width and > 0 ? Math.Max(width, Narrowest) : Full;
    }
}
