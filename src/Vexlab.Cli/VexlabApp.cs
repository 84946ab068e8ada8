using System.CommandLine;
using System.Globalization;
using Vexlab.Cli.Commands;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli;

/// <summary>
/// The <c>vexlab</c> command tree and the mapping of outcomes to exit codes. Runs in process,
/// so tests drive it with string writers.
/// </summary>
public static class VexlabApp
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var terminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
        // TERM=dumb (Emacs' shell buffer, some CI logs) moves no cursor and erases no line: progress
        // goes as plain lines there, as in a log, and no escape code is written (ncurses' terminfo "dumb").
        var interactive = terminal && Redraws(Environment.GetEnvironmentVariable("TERM"));
        var color = interactive && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var unicode = OutputCharset.LocaleIsUtf8(Environment.GetEnvironmentVariable);
        return Run(args, new CliContext(output, new DiagnosticWriter(error), interactive, color, unicode)
        {
            Columns = Environment.GetEnvironmentVariable("COLUMNS"),
            // Each stream's own terminal: .NET's WindowWidth asks standard output or input, which may be redirected.
            OutputTerminalWidth = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? TerminalWidth.OfDescriptor(1) ?? WindowWidth() : null,
            ErrorTerminalWidth = terminal ? TerminalWidth.OfDescriptor(2) ?? WindowWidth() : null,
        });
    }

    /// <summary>Whether a terminal of type <paramref name="term"/> takes a line redrawn in place (<c>\r</c>, erase to end of line).</summary>
    internal static bool Redraws(string? term) => !string.Equals(term, "dumb", StringComparison.Ordinal);

    private static int? WindowWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static int Run(string[] args, CliContext context)
    {
        RootCommand root;
        ParseResult parse;
        try
        {
            root = BuildRoot(context);
            // No response files: System.CommandLine reads "@name" as a file of arguments, so a scenario file named
            // @scen.yaml was refused as "Response file not found 'scen.yaml'", and any @word was read as one. Every
            // argument is what it says; a shell expands a file of arguments where one is wanted.
            parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Internal(context, e);
        }

        if (parse.Errors.Count > 0)
        {
            // One line naming the problem; System.CommandLine would print the whole help and exit 1. It begins
            // "vexlab:" as every other error does (it began "vexlab run:", "vexlab explain costs:"); the help it
            // points to names the command.
            var command = parse.CommandResult.Command;
            var path = command == root ? "vexlab" : "vexlab " + CommandPath(parse);
            return Report(context, $"vexlab: {UsageErrors.Describe(parse)} (see '{path} --help')", ExitCodes.BadInput);
        }

        try
        {
            UsageErrors.CheckBeforeWork(parse);
            var config = new InvocationConfiguration
            {
                Output = context.Output,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
            };
            return parse.Invoke(config);
        }
        catch (InputException e)
        {
            return Report(context, "vexlab: " + ErrorText.Escape(e.Message), ExitCodes.BadInput);
        }
        catch (OutputFailedException e)
        {
            return Report(context, "vexlab: " + ErrorText.Escape(e.Message), ExitCodes.OutputFailed);
        }
        catch (IOException e) when (IsOutputFailure(e))
        {
            // stdout full (/dev/full), closed, or a pipe whose reader has gone (EPIPE, which StandardOutputStream throws
            // where .NET's console stream ignored it): one line on stderr, EX_IOERR, no stack trace.
            return Report(context, "vexlab: cannot write standard output: " + ErrorText.Escape(FirstLine(e.Message)), ExitCodes.OutputFailed);
        }
        catch (ArgumentOutOfRangeException e) when (OutputFile.IsFileTooLarge(e))
        {
            // stdout a file past `ulimit -f`: EFBIG, once SIGXFSZ no longer ends the process (FileSizeLimitSignal). Every
            // other output reports its own, by name, through OutputFile.
            return Report(context, "vexlab: cannot write standard output: " + OutputFile.WriteFailure(e), ExitCodes.OutputFailed);
        }
        catch (UnauthorizedAccessException e) when (e.InnerException is IOException)
        {
            // A closed stdout (>&-) fails with EBADF, which .NET reports as access denied.
            return Report(context, "vexlab: cannot write standard output: " + ErrorText.Escape(FirstLine(e.InnerException.Message)), ExitCodes.OutputFailed);
        }
        catch (DuckDB.NET.Data.DuckDBException e) when (Vexlab.Results.Store.SweepStore.IsWriteFailure(e))
        {
            // A full disk refused a store's write: EX_IOERR, as for any output, not a damaged store.
            return Report(context, "vexlab: cannot write a result store: " + ErrorText.Escape(Vexlab.Results.Store.SweepStore.WriteFailureReason(e)), ExitCodes.OutputFailed);
        }
        catch (DuckDB.NET.Data.DuckDBException e) when (e.Message.StartsWith("IO Error", StringComparison.Ordinal))
        {
            // A store damaged on disk (a flipped bit, a cut file) is bad input, not a fault of vexlab.
            return Report(context, "vexlab: a result store is damaged: " + ErrorText.Escape(FirstLine(e.Message)) + "; run the sweep again into a new --db", ExitCodes.BadInput);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Internal(context, e);
        }
    }

    internal static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand(
            "Vexlab: an executable model of how a hypervisor and its guest share the work of a missing page " +
            "(KVM async page faults and the #VE design), with a timed simulator and an exhaustive checker.");
        root.Subcommands.Add(ExplainCommand.Create(context));
        foreach (var command in SimulateCommands.Create(context))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(CheckCommand.Create(context));
        root.Subcommands.Add(ModelsCommand.Create(context));
        root.Subcommands.Add(ReplayCommand.Create(context));
        root.Subcommands.Add(SweepCommand.Create(context));
        root.Subcommands.Add(SweepsCommand.Create(context));
        root.Subcommands.Add(ResultsCommand.Create(context));
        root.Subcommands.Add(PlotCommand.Create(context));
        root.Subcommands.Add(HtmlReportCommand.Create(context));
        VersionAction.Install(root, context);
        FitHelp(root, context);
        return root;
    }

    /// <summary>
    /// <c>--help</c> wraps at the width tables take on standard output: System.CommandLine reads only the
    /// terminal's, so under <c>COLUMNS=60</c> on a pipe the help ran to 306 columns beside 60-column tables.
    /// </summary>
    private static void FitHelp(RootCommand root, CliContext context)
    {
        var width = TerminalWidth.Resolve(false, context.Columns, context.OutputTerminalWidth);
        if (width == TerminalWidth.Full)
        {
            return;
        }

        foreach (var option in root.Options)
        {
            if (option is System.CommandLine.Help.HelpOption { Action: System.CommandLine.Help.HelpAction help })
            {
                help.MaxWidth = width;
            }
        }
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (result.Parent is null)
            {
                break;
            }

            names.Add(result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>True for a failed write to a standard stream (an I/O error no input file caused).</summary>
    private static bool IsOutputFailure(IOException e) =>
        e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException or EndOfStreamException);

    private static int Report(CliContext context, string line, int code)
    {
        try
        {
            context.Error.WriteLine(line);
        }
        catch (Exception e) when (OutputFile.IsWriteFailure(e))
        {
            // stderr is gone too: the exit code is all that is left to say it.
        }

        return code;
    }

    private static int Internal(CliContext context, Exception e)
    {
        var log = Path.Combine(Path.GetTempPath(), string.Create(
            CultureInfo.InvariantCulture, $"vexlab-error-{Environment.ProcessId}.log"));
        try
        {
            // The exception's type and stack are for whoever fixes the bug: in the log, not on the screen.
            File.WriteAllText(log, e.ToString());
            context.Error.WriteLine($"vexlab: internal error (a bug in vexlab): {FirstLine(e.Message)}; details in {log}");
        }
        catch (Exception failed) when (OutputFile.IsWriteFailure(failed))
        {
            context.Error.WriteLine($"vexlab: internal error (a bug in vexlab): {FirstLine(e.Message)}");
        }

        return ExitCodes.Internal;
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline];
    }
}
