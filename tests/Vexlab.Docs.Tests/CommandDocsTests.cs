using System.CommandLine;
using System.CommandLine.Help;
using System.Reflection;
using System.Text.RegularExpressions;
using Vexlab.Cli;
using Vexlab.Cli.Infrastructure;
using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>
/// The docs follow the command tree itself, so a command or option added, renamed or removed
/// fails here until the docs say so: every command of <c>vexlab --help</c> is run, with its
/// output pasted, in the README's tour; every option of every command is named in README.md or
/// docs/*.md; and the README's exit codes are the ones the tool returns. Tried as a new user
/// would, the tour had left out <c>explain costs</c>, <c>explain properties</c>, <c>models</c>,
/// <c>sweeps show</c> and <c>results export</c>, the docs never named <c>--rules</c> or
/// <c>--title</c>, and they gave exit 3 for Ctrl-C where the tool exits 130.
/// </summary>
public sealed partial class CommandDocsTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Fact]
    public void Every_command_is_run_with_its_output_in_the_readme_tour()
    {
        var runs = ReadmeCommandLines();
        var missing = Commands()
            .Where(c => c.Command.Subcommands.Count == 0)
            .Select(c => c.Path)
            .Where(path => !runs.Any(line => Regex.IsMatch(line, $@"\b{Regex.Escape(path)}(?![\w-])")))
            .ToList();

        Assert.True(missing.Count == 0,
            "README.md runs no '$ " + string.Join("', no '$ ", missing) + "' in a pasted block (the tour shows every command with real output)");
    }

    [Fact]
    public void Every_option_is_named_in_the_docs()
    {
        var docs = AllDocs();
        var missing = new List<string>();
        foreach (var (path, command) in Commands())
        {
            foreach (var option in command.Options)
            {
                if (option is HelpOption || option.Hidden)
                {
                    continue;
                }

                if (!Regex.IsMatch(docs, $@"{Regex.Escape(option.Name)}(?![\w-])"))
                {
                    missing.Add($"{path} {option.Name}");
                }
            }
        }

        Assert.True(missing.Count == 0, "no page of README.md or docs/*.md names: " + string.Join(", ", missing));
    }

    [Fact]
    public void The_readme_gives_every_exit_code_the_tool_returns()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var conventions = ExitCodesItem().Match(readme);
        Assert.True(conventions.Success, "README.md's Conventions have no '- Exit codes:' item");

        var codes = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (Name: f.Name, Value: (int)f.GetRawConstantValue()!))
            .ToList();
        Assert.True(codes.Count >= 7, $"only {codes.Count} exit codes found");
        var missing = codes.Where(c => !Regex.IsMatch(conventions.Value, $@"(?<![\d.]){c.Value}(?![\d.])")).ToList();

        Assert.True(missing.Count == 0,
            "README.md's exit codes leave out " + string.Join(", ", missing.Select(c => $"{c.Value} ({c.Name})")));
    }

    // docs/output.md's field table left out guest.panic, which every run's JSON holds.
    [Fact]
    public void Every_field_of_a_runs_json_is_in_the_output_fields_table()
    {
        var output = new StringWriter();
        var code = VexlabApp.Run(["run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "2ms", "--json"],
            new CliContext(output, TextWriter.Null, errorIsTerminal: false, color: false));
        Assert.Equal(ExitCodes.Done, code);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(output.ToString())!.AsObject();
        var table = string.Join("\n", File.ReadLines(Path.Combine(Root, "docs", "output.md")).Where(l => l.StartsWith("| `", StringComparison.Ordinal)));

        var fields = doc.Select(p => p.Key)
            .Concat(doc["guest"]!.AsObject().Select(p => "guest." + p.Key))
            .Where(f => f != "guest");
        var missing = fields.Where(f => !Regex.IsMatch(table, $@"`{Regex.Escape(f)}[`.\[]")).ToList();

        Assert.True(missing.Count == 0, "docs/output.md's table of fields has no row for: " + string.Join(", ", missing));
    }

    /// <summary>Every command under the root (the root included), with its path as typed.</summary>
    private static List<(string Path, Command Command)> Commands()
    {
        var root = VexlabApp.BuildRoot(new CliContext(TextWriter.Null, TextWriter.Null, errorIsTerminal: false, color: false));
        var all = new List<(string, Command)>();
        void Walk(string path, Command command)
        {
            all.Add((path, command));
            foreach (var sub in command.Subcommands)
            {
                Walk(path + " " + sub.Name, sub);
            }
        }

        Walk("vexlab", root);
        return all;
    }

    /// <summary>The commands the README runs: its <c>$ </c> lines (and a generated table's <c>&lt;!-- $ </c> line).</summary>
    private static List<string> ReadmeCommandLines() =>
        File.ReadAllLines(Path.Combine(Root, "README.md"))
            .Where(l => l.StartsWith("$ ", StringComparison.Ordinal) || l.StartsWith("<!-- $ ", StringComparison.Ordinal))
            .ToList();

    private static string AllDocs() =>
        string.Join("\n", new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"))
            .Select(File.ReadAllText));

    [GeneratedRegex(@"^- Exit codes:.*?(?=^- |^#)", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ExitCodesItem();
}
