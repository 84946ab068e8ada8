using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A replay line is one line that bash, pasted, turns back into the same arguments: a file name with a newline, a
/// quote or a terminal escape included.
/// </summary>
public sealed class ReplayLineQuotingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-replay-line-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("new\nline it's.yaml")]
    [InlineData("esc\u001b[31m.yaml")]
    [InlineData("plain name's.yaml")]
    public void A_scenario_file_name_round_trips_through_bash_on_one_line(string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, CliRunner.Run("scenarios", "show", "swap-overcommit").Stdout);
        var result = CliRunner.Run("run", path, "--protocol", "sync", "--duration", "1ms");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var replay = Assert.Single(lines);
        Assert.DoesNotContain('\u001b', replay);
        var command = replay[(replay.IndexOf("replay: ", StringComparison.Ordinal) + "replay: ".Length)..];
        var words = Words(command["vexlab ".Length..]);
        Assert.Equal(["run", path, "--protocol", "sync", "--seed", "1", "--duration", "1ms", "--scenario-hash"], words[..^1]);
        Assert.Matches("^[0-9a-f]{12}$", words[^1]);
    }

    [Fact]
    public void A_model_file_name_round_trips_through_bash_on_one_line()
    {
        var path = Path.Combine(_dir, "two\nfaults.yaml");
        File.Copy(Path.Combine(RepositoryRoot.Path, "docs", "examples", "two-faults.yaml"), path);
        var result = CliRunner.Run("check", path, "--protocol", "kvm-pf-int", "--property", "one-sleeper");
        Assert.Equal(1, result.ExitCode);
        const string prefix = "vexlab: one-sleeper: replay: vexlab ";
        var replay = Assert.Single(result.Stderr.Split('\n'), l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Equal(["check", path, "--protocol", "kvm-pf-int", "--property", "one-sleeper"], Words(replay[prefix.Length..]));
    }

    // An invariant's name went into the replay lines unquoted: pasted, "i;rm$HOME" ended the command at the ';' and ran
    // rm$HOME (tried as a new user would). The stderr line, the JSON's whole-check replay and the violation's all quote it.
    [Fact]
    public void An_invariant_name_round_trips_through_bash()
    {
        const string Name = "i;rm$HOME'x";
        var path = Path.Combine(_dir, "m.yaml");
        File.WriteAllText(path, "vcpus: 1\npages: 2\nhost_absent: [0]\ntasks:\n  - {name: a, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: \"" + Name + "\", expr: \"sleeping == 0\"}\n");
        var result = CliRunner.Run("check", path, "--protocol", "ve", "--property", Name, "--json");
        Assert.Equal(1, result.ExitCode);
        var doc = JsonNode.Parse(result.Stdout)!;
        string[] expected = ["check", path, "--protocol", "ve", "--property", Name];
        Assert.Equal(expected, Words(((string)doc["replay"]!)["vexlab ".Length..]));
        Assert.Equal(expected, Words(((string)doc["violations"]![0]!["replay"]!)["vexlab ".Length..]));
        var prefix = "vexlab: " + Name + ": replay: vexlab ";
        var line = Assert.Single(result.Stderr.Split('\n'), l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Equal(expected, Words(line[prefix.Length..]));
    }

    /// <summary>The words bash makes of <paramref name="line"/>, NUL-separated by printf.</summary>
    private static string[] Words(string line)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("printf '%s\\0' " + line);
        using var bash = Process.Start(info)!;
        var output = bash.StandardOutput.ReadToEnd();
        bash.WaitForExit();
        Assert.Equal(0, bash.ExitCode);
        return output.TrimEnd('\0').Split('\0');
    }
}
