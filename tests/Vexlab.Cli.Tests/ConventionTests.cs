using System.CommandLine;
using System.Reflection;
using System.Text.RegularExpressions;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>The conventions every command follows: exit codes, one-line errors, help and version.</summary>
public sealed class ConventionTests
{
    [Fact]
    public void Version_PrintsVersionAndExitsZero()
    {
        var result = CliRunner.Run("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.Stdout);

        // The tool's own version, also when it runs inside another process (here the test host,
        // whose version System.CommandLine's default printed: 18.0.1).
        var own = typeof(VexlabApp).Assembly.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(own, result.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public void Help_ListsCommandsAndExitsZero()
    {
        var result = CliRunner.Run("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("explain", result.Stdout);
    }

    [Theory]
    [InlineData("--no-such-option")]
    [InlineData("no-such-command")]
    [InlineData("explain", "--bogus")]
    public void UnknownInput_IsOneLineAndExitTwo(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }
}

public sealed class ExplainProtocolTests
{
    [Fact]
    public void ExplainProtocol_Json_HasEveryRow()
    {
        var result = CliRunner.Run("explain", "protocol", "kvm-pf-int", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        Assert.Equal("kvm-pf-int", doc.RootElement.GetProperty("protocol").GetString());
        var rows = doc.RootElement.GetProperty("rows");
        Assert.Equal(7, rows.GetArrayLength());
        Assert.Equal("pf-not-present", rows[0].GetProperty("not_present").GetString());
    }

    [Theory]
    [InlineData("explain", "protocol", "nope")]
    [InlineData("explain", "protocol", "ve", "--set", "guest.ve.no_such=1")]
    [InlineData("explain", "protocol", "sync", "--set", "guest.ve.can_continue=always")]
    [InlineData("explain", "protocol", "ve", "--set", "guest.ve.can_continue=sometimes")]
    public void ExplainProtocol_BadInput_ExitsTwo(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    // The NAME argument is named as such; it used to be reported as a --set value the command line never had.
    [Fact]
    public void ExplainProtocol_UnknownName_IsNamedAsTheProtocol()
    {
        var result = CliRunner.Run("explain", "protocol", "kvm-apf", "--set", "guest.apf.dummy_entries=false");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vexlab: unknown protocol 'kvm-apf'; did you mean kvm-pf? (expected one of sync, kvm-halt, kvm-pf, kvm-pf-int, ve)\n", result.Stderr);
    }
}

public sealed class ExplainCostsTests
{
    [Fact]
    public void ExplainCosts_EveryDefaultHasASource()
    {
        var result = CliRunner.Run("explain", "costs", "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var costs = doc.RootElement.GetProperty("costs");
        Assert.True(costs.GetArrayLength() >= 10);
        foreach (var c in costs.EnumerateArray())
        {
            Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("source").GetString()));
            Assert.True(c.GetProperty("ns").GetInt64() > 0);
        }
    }

    /// <summary>
    /// An option's value is named alike in every command's help: replay's --trace-format showed System.CommandLine's
    /// default <c>&lt;trace-format&gt;</c> where run's showed its values; plot's --title showed <c>&lt;title&gt;</c>.
    /// No option shows that default (its own name), and an option of several commands shows one name everywhere
    /// unless its values differ there (results query's and results export's --format).
    /// </summary>
    [Fact]
    public void Every_option_names_its_value_alike_in_every_help()
    {
        var root = VexlabApp.BuildRoot(new CliContext(TextWriter.Null, TextWriter.Null, errorIsTerminal: false, color: false));
        var seen = new Dictionary<string, List<(string Command, string Metavar)>>(StringComparer.Ordinal);
        foreach (var path in Leaves(root, []))
        {
            var help = CliRunner.Run([.. path, "--help"]);
            Assert.Equal(0, help.ExitCode);
            foreach (Match m in Regex.Matches(help.Stdout, @"(--[a-z0-9-]+)(?:, -[a-z-]+)* <([^>]+)>"))
            {
                var (option, metavar) = (m.Groups[1].Value, m.Groups[2].Value);
                Assert.False(metavar == option[2..], $"{string.Join(' ', path)} {option}: the default <{metavar}>, not a name for its value");
                if (!seen.TryGetValue(option, out var list))
                {
                    seen[option] = list = [];
                }

                list.Add((string.Join(' ', path), metavar));
            }
        }

        Assert.Equal(["perfetto|ftrace|trace-dat"], seen["--trace-format"].Select(s => s.Metavar).Distinct());
        Assert.Equal(2, seen["--trace-format"].Count);
    }

    private static IEnumerable<string[]> Leaves(Command command, string[] path)
    {
        if (command.Subcommands.Count == 0)
        {
            yield return path;
            yield break;
        }

        foreach (var sub in command.Subcommands)
        {
            foreach (var leaf in Leaves(sub, [.. path, sub.Name]))
            {
                yield return leaf;
            }
        }
    }
}
