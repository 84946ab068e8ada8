using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
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

    /// <summary>
    /// The columns of the terminal on file descriptor <paramref name="fd"/> (TIOCGWINSZ, tty_ioctl(4)), or null
    /// when it is not a terminal or the system is not Linux. <see cref="Console.WindowWidth"/> cannot say it
    /// for standard error: .NET asks standard output, then standard input, and with both redirected
    /// (<c>vexlab compare --json &lt;/dev/null | jq</c>) it answers terminfo's default, so the tables that
    /// go to the terminal on standard error were drawn whole, past its edge.
    /// </summary>
    public static int? OfDescriptor(int fd)
    {
        // ioctl(2) is variadic: called through a fixed signature only where the third argument travels
        // in a register as a variadic one does (Linux on x86-64 and arm64); elsewhere .NET's answer stands.
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return null;
        }

        // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; } (include/uapi/asm-generic/termios.h).
        var size = new ushort[4];
        return NativeMethods.ioctl(fd, NativeMethods.TIOCGWINSZ, size) == 0 && size[1] > 0 ? size[1] : null;
    }

    /// <summary>
    /// One entry of a name-and-description list (<c>models list</c>, <c>scenarios list</c>): the name padded to
    /// <paramref name="nameWidth"/>, two spaces, the description. Wider than <paramref name="width"/>, the
    /// description wraps at word boundaries under itself, as <c>--help</c> does, rather than to the margin
    /// where the terminal would break it, under the names.
    /// </summary>
    public static void WriteListEntry(TextWriter writer, int width, string name, int nameWidth, string description)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(description);
        var indent = Math.Max(nameWidth, name.Length) + 2;
        var room = width == Full ? Full : width - indent;
        if (indent + description.Length <= width || room < 20)
        {
            writer.WriteLine(name.PadRight(indent - 2) + "  " + description);
            return;
        }

        var line = new System.Text.StringBuilder(name.PadRight(indent - 2) + "  ");
        var length = 0;
        foreach (var word in description.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (length > 0 && length + 1 + word.Length > room)
            {
                writer.WriteLine(line.ToString());
                line.Clear().Append(' ', indent);
                length = 0;
            }

            if (length > 0)
            {
                line.Append(' ');
                length++;
            }

            line.Append(word);
            length += word.Length;
        }

        writer.WriteLine(line.ToString());
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

    private static class NativeMethods
    {
        /// <summary>include/uapi/asm-generic/ioctls.h (x86 and arm64 use the generic numbers).</summary>
        internal const nuint TIOCGWINSZ = 0x5413;

        [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int ioctl(int fd, nuint request, [Out] ushort[] winsize);
    }
}
