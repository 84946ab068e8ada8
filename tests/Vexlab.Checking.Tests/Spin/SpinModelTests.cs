using System.Diagnostics;
using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;

namespace Vexlab.Checking.Tests.Spin;

/// <summary>
/// docs/spin/kvm-pf-int.pml, the Promela model of the SPIN comparison (docs/checking.md), on its small
/// configuration (-DRACE, docs/spin/race.yaml): SPIN's verifier and Vexlab reach the same verdicts, with
/// dummy entries (both pass) and without them (guest.apf.dummy_entries=false: both find the deadlock of
/// the lost page-ready). Needs spin and gcc (Debian packages; ./test.sh installs them).
/// </summary>
public sealed class SpinModelTests
{
    [SpinTheory]
    [InlineData(false, "pass")]
    [InlineData(true, "violation")]
    public void The_promela_model_and_vexlab_agree_on_the_race_configuration(bool noDummy, string verdict)
    {
        var root = RepoRoot();
        var work = Directory.CreateTempSubdirectory("vexlab-spin-").FullName;
        try
        {
            File.Copy(Path.Combine(root, "docs", "spin", "kvm-pf-int.pml"), Path.Combine(work, "kvm-pf-int.pml"));
            var defines = noDummy ? new[] { "-DRACE", "-DNO_DUMMY" } : ["-DRACE"];
            Run(work, "spin", [.. defines, "-a", "kvm-pf-int.pml"]);

            // -O0: the small configuration runs in milliseconds, compiling it optimized would take seconds.
            Run(work, "gcc", ["-O0", "-w", "-DSAFETY", "-DNOREDUCE", "-o", "pan", "pan.c"]);
            var pan = Run(work, Path.Combine(work, "pan"), ["-m100000", "-w18"], allowFailure: true);
            var errors = pan.Split('\n').Single(l => l.Contains("errors:", StringComparison.Ordinal));
            var spinVerdict = errors.TrimEnd().EndsWith("errors: 0", StringComparison.Ordinal) ? "pass" : "violation";
            if (noDummy)
            {
                // The deadlock monitor's assertion: a task that never exits.
                Assert.Contains("assertion violated (tst[v]==4)", pan, StringComparison.Ordinal);
            }

            var file = ModelFile.Load(Path.Combine(root, "docs", "spin", "race.yaml"));
            var overrides = noDummy ? [new KeyValuePair<string, string>("guest.apf.dummy_entries", "false")] : Array.Empty<KeyValuePair<string, string>>();
            var result = ModelCheck.Run(CheckRequest.ForFile(file, "kvm-pf-int", overrides, [Checker.DeadlockProperty]), new CheckerOptions()).Result;

            Assert.Equal(verdict, spinVerdict);
            Assert.Equal(verdict, result.Verdict == Verdict.Pass ? "pass" : "violation");
            Assert.True(result.Complete);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [SpinFact]
    public void The_bench_configuration_compiles()
    {
        var work = Directory.CreateTempSubdirectory("vexlab-spin-").FullName;
        try
        {
            File.Copy(Path.Combine(RepoRoot(), "docs", "spin", "kvm-pf-int.pml"), Path.Combine(work, "kvm-pf-int.pml"));
            foreach (var nv in new[] { "-DNV=2", "-DNV=3" })
            {
                Run(work, "spin", [nv, "-a", "kvm-pf-int.pml"]);
                Assert.True(File.Exists(Path.Combine(work, "pan.c")));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vexlab.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    internal static bool Installed(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    private static string Run(string directory, string program, string[] arguments, bool allowFailure = false)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && !allowFailure)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {p.ExitCode}: {stdout}{stderr.Result}");
        }

        return stdout + stderr.Result;
    }
}

/// <summary>A fact that needs spin and gcc; skipped, saying so, where they are not installed.</summary>
internal sealed class SpinFactAttribute : FactAttribute
{
    public SpinFactAttribute()
    {
        if (!SpinModelTests.Installed("spin") || !SpinModelTests.Installed("gcc"))
        {
            Skip = "spin or gcc is not installed: ./test.sh installs them (apt-get install spin gcc)";
        }
    }
}

/// <summary>A theory that needs spin and gcc; skipped, saying so, where they are not installed.</summary>
internal sealed class SpinTheoryAttribute : TheoryAttribute
{
    public SpinTheoryAttribute()
    {
        if (!SpinModelTests.Installed("spin") || !SpinModelTests.Installed("gcc"))
        {
            Skip = "spin or gcc is not installed: ./test.sh installs them (apt-get install spin gcc)";
        }
    }
}
