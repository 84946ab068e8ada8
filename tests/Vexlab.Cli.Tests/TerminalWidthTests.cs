using System.Diagnostics;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>Tables fit COLUMNS or the terminal, every value still printed; --wide prints the full table.</summary>
public sealed class TerminalWidthTests : IDisposable
{
    private const string LongEntries = "kvm-pf-int,ve,ve[guest.ve.can_continue=user-or-preemptible-kernel]";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-width-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData(false, "80", null, 80)]
    [InlineData(true, "80", 100, TerminalWidth.Full)]
    [InlineData(false, null, null, TerminalWidth.Full)]
    [InlineData(false, null, 100, 100)]
    [InlineData(false, "132", 100, 132)]
    [InlineData(false, "10", null, TerminalWidth.Narrowest)]
    [InlineData(false, "junk", 120, 120)]
    [InlineData(false, "0", null, TerminalWidth.Full)]
    public void Width_comes_from_wide_then_COLUMNS_then_the_terminal(bool wide, string? columns, int? terminal, int expected) =>
        Assert.Equal(expected, TerminalWidth.Resolve(wide, columns, terminal));

    public static TheoryData<string[]> WideCommands() => new()
    {
        new[] { "explain", "bugs" },
        new[] { "explain", "keys" },
        new[] { "explain", "rules" },
        new[] { "explain", "properties" },
        new[] { "explain", "costs" },
        new[] { "explain", "backings" },
        new[] { "explain", "protocol", "ve" },
        new[] { "sweeps", "list" },
        new[] { "compare", "--builtin", "swap-overcommit", "--duration", "5ms" },
        new[] { "compare", "--builtin", "kernel-heavy", "--duration", "5ms", "--protocols", LongEntries },
        new[] { "compare", "--builtin", "postcopy", "--duration", "2ms", "--seeds", "3" },
        new[] { "run", "--builtin", "swap-overcommit", "--protocol", "kvm-pf-int", "--duration", "5ms", "--exits" },
        new[] { "check", "--matrix", "--protocols", "sync,kvm-halt,kvm-pf,kvm-pf-int,ve", "--property", "fault-info-intact" },
    };

    [Theory]
    [MemberData(nameof(WideCommands))]
    public void At_80_columns_no_line_is_wider_and_every_word_of_the_full_table_is_printed(string[] args)
    {
        var narrow = Run("80", args);
        var full = Run(null, [.. args, "--wide"]);

        Assert.All(narrow.Split('\n'), l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.Contains(full.Split('\n'), l => l.Length > 80);
        var printed = Words(narrow);
        Assert.All(Words(full), w => Assert.True(printed.Contains(w), $"\"{w}\" is missing at 80 columns"));
    }

    [Fact]
    public void A_results_query_fits_80_columns()
    {
        var sweep = Path.Combine(_dir, "s.yaml");
        var db = Path.Combine(_dir, "s.duckdb");
        File.WriteAllText(sweep, "scenario: postcopy\nprotocols: [sync, ve]\nseeds: 2\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", sweep, "--db", db, "--jobs", "1").ExitCode);
        string[] query = ["results", "query", db, "select * from results order by run_key"];

        var narrow = Run("80", query);
        var full = Run(null, [.. query, "--wide"]);

        Assert.All(narrow.Split('\n'), l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        var printed = Words(narrow);
        Assert.All(Words(full), w => Assert.True(printed.Contains(w), $"\"{w}\" is missing at 80 columns"));
    }

    // A NUL in a value once drew its row's border a column left of the others (the terminal gives it no width), and an
    // ESC reached the terminal as the start of a colour sequence. Tried as a new user would, with chr(0) in a query.
    [Fact]
    public void A_results_query_table_writes_control_characters_as_escapes_and_keeps_its_borders_in_line()
    {
        var sweep = Path.Combine(_dir, "c.yaml");
        var db = Path.Combine(_dir, "c.duckdb");
        File.WriteAllText(sweep, "scenario: postcopy\nprotocols: [sync]\nseeds: 1\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", sweep, "--db", db, "--jobs", "1").ExitCode);

        var table = Run(null, "results", "query", db,
            "select 'a' || chr(0) || 'b' as \"n\u0007\", 'c' || chr(27) || '[31mred' as e, 'x' || chr(9) || 'y' || chr(13) || chr(127) || chr(133) as t, 'two' || chr(10) || 'lines' as l");

        var lines = table.TrimEnd('\n').Split('\n');
        Assert.DoesNotContain(table, c => char.IsControl(c) && c != '\n');
        Assert.Contains(@"a\u0000b", table, StringComparison.Ordinal);
        Assert.Contains(@"n\u0007", table, StringComparison.Ordinal);
        Assert.Contains(@"c\u001b[31mred", table, StringComparison.Ordinal);
        Assert.Contains(@"x\ty\r\u007f\u0085", table, StringComparison.Ordinal);
        Assert.Contains("two", table, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("lines", StringComparison.Ordinal) && !l.Contains("two", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.Equal(lines[0].Length, l.Length));
    }

    [Fact]
    public void Without_COLUMNS_or_a_terminal_tables_are_full_and_wide_changes_nothing()
    {
        Assert.Equal(Run(null, "explain", "bugs", "--wide"), Run(null, "explain", "bugs"));
        Assert.Equal(Run("80", "explain", "bugs", "--wide"), Run(null, "explain", "bugs"));
    }

    [Fact]
    public void A_terminal_narrows_tables_as_COLUMNS_does()
    {
        var output = new StringWriter();
        var context = new CliContext(output, new StringWriter(), errorIsTerminal: false, color: false) { OutputTerminalWidth = 80 };
        Assert.Equal(0, VexlabApp.Run(["sweeps", "list"], context));

        Assert.Equal(Run("80", "sweeps", "list"), output.ToString());
    }

    [Fact]
    public void A_table_under_json_on_stdout_fits_the_terminal_of_standard_error()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(output, error, errorIsTerminal: true, color: false) { ErrorTerminalWidth = 80 };
        Assert.Equal(0, VexlabApp.Run(["sweeps", "list", "--json"], context));

        Assert.All(error.ToString().Split('\n'), l => Assert.True(l.Length <= 80, l));
        Assert.StartsWith("{", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_tool_reads_COLUMNS_from_its_environment()
    {
        static string[] Lines(params string[] args)
        {
            var info = StartedProcess.Info(args);

            info.Environment["COLUMNS"] = "80";
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            return stdout.Split('\n');
        }

        Assert.All(Lines("explain", "bugs"), l => Assert.True(l.Length <= 80, l));
        Assert.Contains(Lines("explain", "bugs", "--wide"), l => l.Length > 80);
    }

    [Fact]
    public void Help_wraps_at_COLUMNS_as_tables_do()
    {
        var narrow = Run("60", "check", "--help").Split('\n');
        Assert.Contains(narrow, l => l.Contains("--max-states", StringComparison.Ordinal));
        Assert.All(narrow, l => Assert.True(l.Length <= 60, l));
        Assert.Contains(Run(null, "check", "--help").Split('\n'), l => l.Length > 120);
    }

    [Theory]
    [InlineData("models")]
    [InlineData("scenarios")]
    public void A_list_wraps_its_descriptions_under_themselves(string command)
    {
        // A terminal breaks a long line at its margin, under the names; the list wraps each description in its own column.
        var full = Run(null, command, "list").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var narrow = Run("60", command, "list").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(full, l => l.Length > 60);
        Assert.All(narrow, l => Assert.True(l.Length <= 60, l));

        var indent = full[0].IndexOf("  ", StringComparison.Ordinal) + 2;
        while (full[0][indent] == ' ')
        {
            indent++;
        }

        Assert.All(narrow.Where(l => l.StartsWith(' ')), l => Assert.Equal(indent, l.Length - l.TrimStart().Length));
        Assert.Equal(string.Join(' ', full.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))),
            string.Join(' ', narrow.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))));
    }

    [PseudoTerminalFact]
    public void Tables_on_a_terminal_on_standard_error_fit_it_with_standard_input_and_output_redirected()
    {
        // script(1) gives the command a terminal 60 columns wide; JSON goes to /dev/null, input comes from it, and
        // the table goes to standard error, the terminal: .NET's Console.WindowWidth asks the other two and misses it.
        var terminal = OnSixtyColumnTerminal("sweeps list --json");
        var lines = terminal.Replace("\r", string.Empty, StringComparison.Ordinal).Split('\n');
        Assert.Contains(lines, l => l.Contains("tasks-per-vcpu", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.Length <= 60, l));
    }

    [PseudoTerminalFact]
    public void The_sweep_progress_bar_fits_the_terminal_of_standard_error()
    {
        // Spectre sizes its bar by Console.WindowWidth: with standard input and output redirected it drew 80 columns on
        // a 60-column terminal, and every redraw wrapped and left a row behind.
        var sweep = Path.Combine(_dir, "s.yaml");
        File.WriteAllText(sweep, "name: s\nscenario: postcopy\nset:\n  duration: 2ms\nprotocols: [sync, ve]\nseeds: 2\naxes:\n  - name: latency\n    key: host.latency\n    unit: us\n    values: [1, 10]\n");
        var terminal = OnSixtyColumnTerminal($"sweep run '{sweep}' --db '{Path.Combine(_dir, "s.duckdb")}' --json");
        var text = System.Text.RegularExpressions.Regex.Replace(terminal, "\u001b\\[[0-9;?]*[a-zA-Z]", string.Empty);
        var bars = text.Split('\r', '\n').Where(l => l.Contains("/8 runs", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(bars);
        Assert.All(bars, l => Assert.True(l.Length <= 60, l));
    }

    /// <summary>
    /// Runs <c>vexlab ARGS</c> under script(1) on a terminal 60 columns wide, standard input and output
    /// on /dev/null so that only standard error reaches the terminal; returns what the terminal showed.
    /// </summary>
    private static string OnSixtyColumnTerminal(string args)
    {
        var vexlab = typeof(VexlabApp).Assembly.Location;
        var info = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-qec", $"stty cols 60; dotnet '{vexlab}' {args} </dev/null >/dev/null", "/dev/null"])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("COLUMNS");
        info.Environment["LANG"] = "C.UTF-8";
        using var process = Process.Start(info)!;
        var terminal = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return terminal;
    }

    private static string Run(string? columns, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(output, error, errorIsTerminal: false, color: false) { Columns = columns };
        var code = VexlabApp.Run(args, context);
        Assert.True(code is 0 or 1, $"exit {code}: {error}");
        return output.ToString();
    }

    /// <summary>
    /// The words of a table: cell text without borders, so wrapping moves them but never loses one. A word wider
    /// than any column can be at 80 (a message id of 70 characters) is cut, and punctuation alone is layout.
    /// </summary>
    private static HashSet<string> Words(string text) =>
        [.. text.Split([' ', '\n', '│', '┌', '┐', '└', '┘', '├', '┤', '┬', '┴', '┼', '─'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => w.Length <= 50 && w.Any(char.IsLetterOrDigit))];
}

/// <summary>A fact that needs script(1) (util-linux) for a pseudo-terminal; skipped, saying so, where it is missing.</summary>
internal sealed class PseudoTerminalFactAttribute : FactAttribute
{
    public PseudoTerminalFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/script"))
        {
            Skip = "needs script(1) from util-linux for a pseudo-terminal (apt-get install util-linux)";
        }
    }
}
