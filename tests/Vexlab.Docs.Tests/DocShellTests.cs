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
