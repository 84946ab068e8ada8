using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// The checker's limits as a user meets them: memory and spill bounds on a model too big for them, signals,
/// SIGKILL at several points and resuming from the checkpoint left behind.
/// </summary>
public sealed class CheckLimitsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vexlab-check-limits-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string P(string name) => Path.Combine(_folder, name);

    /// <summary>8 vCPUs, 64 host-absent pages, a user task per vCPU touching 8 of them: far beyond 256 MiB (docs/checking.md's example).</summary>
    private static readonly string LargeModel = Path.Combine(RepositoryRoot.Path, "docs", "examples", "large.yaml");

    [Fact]
    public void Large_model_under_memory_256M_and_a_400M_spill_budget_stops_with_exit_3_within_the_bounds_and_resumes()
    {
        var model = LargeModel;
        var temp = Directory.CreateDirectory(P("tmp")).FullName;
        var spill = Directory.CreateDirectory(P("spill")).FullName;
        string[] args =
        [
            "check", model, "--protocol", "kvm-pf-int", "--workers", "2", "--memory", "256M", "--max-spill", "400M",
            "--spill-dir", spill, "--checkpoint", P("cp"), "--json", "-",
        ];
        var (code, stdout, stderr) = RunProcess(args, temp, killAfter: null);

        Assert.True(code == 3, stderr);
        var doc = JsonNode.Parse(stdout)!;
        Assert.False((bool)doc["complete"]!);
        Assert.Contains((string)doc["stop_reason"]!, new[] { "max-memory", "max-spill" });
        Assert.Equal(P("cp"), (string?)doc["checkpoint"]);
        Assert.True(File.Exists(Path.Combine(P("cp"), "checkpoint.vxck")));
        long rss = (long)doc["timing"]!["peak_rss_bytes"]!;

        // The bound plus the runtime's own share (code, JIT, GC bookkeeping): measured at about 40 MiB.
        Assert.InRange(rss, 1, (256L << 20) + (96L << 20));
        Assert.Empty(Directory.GetFileSystemEntries(spill));
        Assert.Empty(Directory.GetFileSystemEntries(temp));
        Assert.Contains("--resume " + P("cp"), stderr, StringComparison.Ordinal);

        long states = (long)doc["states"]!;
        var resumed = CliRunner.Run(
            "check", model, "--protocol", "kvm-pf-int", "--workers", "1", "--max-memory", "256M", "--max-spill", "2G",
            "--spill-dir", spill, "--resume", P("cp"), "--max-states", (states + 2_000).ToString(CultureInfo.InvariantCulture), "--json", "-");
        Assert.True(resumed.ExitCode == 3, resumed.Stderr);
        var after = JsonNode.Parse(resumed.Stdout)!;
        Assert.Equal("max-states", (string?)after["stop_reason"]);
        Assert.InRange((long)after["states"]!, states + 2_000, states + 2_200);
        Assert.Empty(Directory.GetFileSystemEntries(spill));
    }

    /// <summary>
    /// A stop at --max-depth keeps its work like any other limit: the level at the bound is the frontier, and a resume
    /// with a larger bound ends as the check with that bound from the start. It wrote no checkpoint, and the resume
    /// said "no checkpoint there".
    /// </summary>
    [Fact]
    public void A_stop_at_max_depth_writes_a_checkpoint_that_a_deeper_bound_resumes()
    {
        string[] check = ["check", "--builtin", "truncate", "--protocol", "kvm-pf-int", "--json", "-"];
        var stopped = CliRunner.Run([.. check, "--max-depth", "20", "--checkpoint", P("cp")]);
        Assert.True(stopped.ExitCode == 3, stopped.Stderr);
        Assert.Equal("max-depth", (string?)JsonNode.Parse(stopped.Stdout)!["stop_reason"]);
        Assert.Contains($"checkpoint in {P("cp")}: run the same command with --resume {P("cp")} and a larger --max-depth to continue", stopped.Stderr, StringComparison.Ordinal);

        var resumed = CliRunner.Run([.. check, "--max-depth", "40", "--resume", P("cp")]);
        var fresh = CliRunner.Run([.. check, "--max-depth", "40"]);
        Assert.Equal(fresh.ExitCode, resumed.ExitCode);
        Assert.Equal(WithoutTiming(fresh.Stdout), WithoutTiming(resumed.Stdout));

        // Without --checkpoint the advice to keep the work is there, as for every other limit; it was left out.
        var bounded = CliRunner.Run([.. check, "--max-depth", "20"]);
        Assert.Contains("vexlab: stopped at --max-depth; add --checkpoint DIR to keep the work for --resume\n", bounded.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Sigkill_at_several_points_then_resume_gives_the_uninterrupted_json()
    {
        string[] check = ["check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--workers", "1", "--max-states", "400000", "--json", "-"];
        var reference = CliRunner.Run(check);
        Assert.True(reference.ExitCode == 3, reference.Stderr);
        var expected = WithoutTiming(reference.Stdout);

        var temp = Directory.CreateDirectory(P("tmp")).FullName;
        var killed = 0;
        foreach (var extraMs in new[] { 0, 700, 1500 })
        {
            var cp = P("cp" + extraMs.ToString(CultureInfo.InvariantCulture));
            var (code, _, stderr) = RunProcess([.. check, "--checkpoint", cp, "--checkpoint-every", "0.5s"], temp, killAfter: (cp, extraMs));
            Assert.True(code == 137 || code == -1 || code == 3, "exit " + code.ToString(CultureInfo.InvariantCulture) + ": " + stderr);
            killed += code == 3 ? 0 : 1;
            var resumed = CliRunner.Run([.. check, "--resume", cp]);
            Assert.True(resumed.ExitCode == 3, resumed.Stderr);
            Assert.Equal(expected, WithoutTiming(resumed.Stdout));
            Assert.Empty(Directory.GetFiles(cp, "*.tmp-*"));
        }

        // A late kill may find the check done (exit 3); if every one did, no resume was from a killed run.
        Assert.True(killed > 0, "the check ended before every kill");

        // A killed runtime leaves its diagnostics socket (dotnet-diagnostic-*); none of vexlab's own files may stay.
        Assert.Empty(Directory.GetFileSystemEntries(temp, "vexlab-*"));
    }

    [Theory]
    [InlineData("TERM", 143, false)]
    [InlineData("INT", 130, false)]
    [InlineData("TERM", 143, true)]
    [InlineData("INT", 130, true)]
    public async Task A_signal_prints_the_partial_result_with_exit_128_plus_signal_and_removes_the_spill(string signal, int exit, bool swarm)
    {
        var temp = Directory.CreateDirectory(P("tmp")).FullName;

        // A swarm's members stored up to 10^8 states each: the signal, not a bound, ends it. large.yaml runs far longer
        // than the first progress line (bench, at 4.8 M states, ends before it).
        var large = Path.Combine(RepositoryRoot.Path, "docs", "examples", "large.yaml");
        string[] args = swarm
            ? ["check", large, "--protocol", "kvm-pf-int", "--swarm", "--members", "4", "--max-depth", "100000", "--max-states", "100000000", "--json", "-"]
            : ["check", large, "--protocol", "kvm-pf-int", "--max-memory", "1G", "--json", "-"];
        var info = StartInfo(args, temp);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();

        // The first progress line (10 s in) says the check runs with its handlers installed, and has spilled; the
        // replay line comes before it.
        var stderr = await StartedProcess.FirstErrorLine(process, l => l.StartsWith(swarm ? "swarm: " : "check: ", StringComparison.Ordinal), TimeSpan.FromMinutes(3));
        StartedProcess.Signal(process, signal);

        Assert.True(process.WaitForExit(60_000));
        var error = stderr();
        Assert.True(process.ExitCode == exit, error);
        Assert.Contains("stopped by SIG" + signal, error, StringComparison.Ordinal);
        var doc = JsonNode.Parse(await stdout)!;
        Assert.False((bool)doc["complete"]!);
        if (swarm)
        {
            // Its replay line came first, then its progress; the result holds the members' work so far.
            Assert.StartsWith("vexlab: seed 1; replay: vexlab check ", error, StringComparison.Ordinal);
            Assert.StartsWith("swarm: ", error.Split('\n')[1], StringComparison.Ordinal);
            Assert.Equal("incomplete", (string?)doc["verdict"]);
            Assert.Equal(signal == "INT" ? "interrupted" : "terminated", (string?)doc["stop_reason"]);
            return;
        }

        Assert.Equal(signal == "INT" ? "interrupted" : "terminated", (string?)doc["stop_reason"]);
        Assert.Contains("add --checkpoint DIR to keep the work for --resume", error, StringComparison.Ordinal);
        Assert.True((long)doc["states"]! > 1);
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Theory]
    [InlineData("--time-limit", "NaN")]
    [InlineData("--time-limit", "1e308s")]
    [InlineData("--max-memory", "NaN")]
    [InlineData("--max-memory", "1e300G")]
    [InlineData("--max-spill", "-1G")]
    [InlineData("--checkpoint-every", "0s")]
    [InlineData("--resume", "/nonexistent/checkpoint")]
    [InlineData("--spill-dir", "/nonexistent/spill")]
    public void Bad_limit_values_are_one_line_and_exit_2(string flag, string value)
    {
        var result = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf", flag, value);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: " + flag + ": ", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    private static string WithoutTiming(string json)
    {
        var doc = JsonNode.Parse(json)!.AsObject();
        doc.Remove("timing");
        return doc.ToJsonString();
    }

    private static ProcessStartInfo StartInfo(string[] args, string temp)
    {
        var info = StartedProcess.Info(args);

        info.Environment["TMPDIR"] = temp;
        return info;
    }

    /// <summary>Runs vexlab; with <paramref name="killAfter"/>, SIGKILLs it that many ms after the checkpoint first appears.</summary>
    private static (int Code, string Stdout, string Stderr) RunProcess(string[] args, string temp, (string Folder, int Ms)? killAfter)
    {
        using var process = Process.Start(StartInfo(args, temp))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (killAfter is { } kill)
        {
            var file = Path.Combine(kill.Folder, "checkpoint.vxck");
            var watch = Stopwatch.StartNew();
            while (!File.Exists(file) && !process.HasExited && watch.Elapsed < TimeSpan.FromMinutes(2))
            {
                Thread.Sleep(20);
            }

            Thread.Sleep(kill.Ms);
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        Assert.True(process.WaitForExit(300_000));
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
