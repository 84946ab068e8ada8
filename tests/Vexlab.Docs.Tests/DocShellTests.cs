using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>What the docs check's shell runs besides vexlab: head after a pipe, and programs it may lack.</summary>
public sealed class DocShellTests
{
    [Fact]
    public void Head_keeps_the_first_lines_and_the_pipeline_exits_0()
    {
        var directory = Directory.CreateTempSubdirectory("vexlab-docshell-").FullName;
        try
        {
            var shell = new DocShell(directory);
            shell.Run("printf 'a\\nb\\nc\\nd\\n' > four.txt");

            Assert.Equal(["a", "b"], shell.Run("cat four.txt | head -2"));
            Assert.Equal(["a", "b", "c", "d"], shell.Run("cat four.txt | head -9"));
            Assert.Equal("1", shell.Run("cat missing.txt; echo $?")[^1]);
            Assert.Equal("0", shell.Run("cat missing.txt | head -1; echo $?")[^1]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_redirect_or_a_pipe_takes_standard_output_and_standard_error_stays_in_the_shown_output()
    {
        var directory = Directory.CreateTempSubdirectory("vexlab-docshell-").FullName;
        try
        {
            var shell = new DocShell(directory);
            const string replay = "vexlab: seed 1; replay: vexlab run --builtin postcopy --protocol kvm-pf-int --seed 1 --duration 1ms";

            // run writes its replay line to standard error and its table to standard output.
            Assert.Equal([replay], shell.Run("vexlab run --builtin postcopy --protocol kvm-pf-int --duration 1ms > run.txt"));
            var file = File.ReadAllText(Path.Combine(directory, "run.txt"));
            Assert.DoesNotContain("replay:", file, StringComparison.Ordinal);
            Assert.Contains("vCPU in guest", file, StringComparison.Ordinal);

            var shown = shell.Run("vexlab run --builtin postcopy --protocol kvm-pf-int --duration 1ms | head -1");
            Assert.Equal(replay, shown[0]);
            Assert.Equal(2, shown.Count);

            Assert.Equal(["cat: missing.txt: No such file or directory"], shell.Run("cat missing.txt > copy.txt"));
            Assert.Equal("", File.ReadAllText(Path.Combine(directory, "copy.txt")));
            Assert.Equal(["cat: missing.txt: No such file or directory"], shell.Run("cat missing.txt | head -1"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_block_that_runs_a_program_not_installed_is_reported_skipped_and_left_as_pasted()
    {
        var directory = Directory.CreateTempSubdirectory("vexlab-docshell-").FullName;
        var path = Environment.GetEnvironmentVariable("PATH");
        try
        {
            var docs = Path.Combine(directory, "docs");
            Directory.CreateDirectory(docs);
            string[] block = ["```", "$ trace-cmd report -i pc.dat | head -3", "cpus=2", "```"];
            File.WriteAllLines(Path.Combine(directory, "README.md"), block);

            // An empty PATH: no trace-cmd, installed or not.
            Environment.SetEnvironmentVariable("PATH", "");
            var report = new DocsRun(directory) { Update = true }.Run(["README.md"]);

            Assert.Empty(report.Mismatches);
            Assert.Equal(0, report.Blocks);
            Assert.Equal("README.md:2: trace-cmd", Assert.Single(report.SkippedForTools));
            Assert.Equal(block, File.ReadAllLines(Path.Combine(directory, "README.md")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(false, "took 2.5 s")]
    [InlineData(true, "took 1.5 s")]
    public void A_measured_block_keeps_its_run_unless_remeasured(bool remeasure, string kept)
    {
        var directory = Directory.CreateTempSubdirectory("vexlab-docshell-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(directory, "docs"));
            File.WriteAllLines(Path.Combine(directory, "README.md"), ["<!-- docs-check: measured -->", "```", "$ echo took 1.5 s", "took 2.5 s", "```"]);

            var report = new DocsRun(directory) { Update = true, Remeasure = remeasure }.Run(["README.md"]);

            Assert.Empty(report.Mismatches);
            Assert.Equal(kept, File.ReadAllLines(Path.Combine(directory, "README.md"))[3]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
