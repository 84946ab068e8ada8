using System.Text.RegularExpressions;
using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>The batch scripts of docs/cluster.md run as written: vexlab creates an output file, never its folder.</summary>
public sealed partial class ClusterRecipeTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Fact]
    public void Every_script_creates_the_folders_its_outputs_name()
    {
        var text = File.ReadAllText(Path.Combine(Root, "docs", "cluster.md")).ReplaceLineEndings("\n");
        var scripts = BashBlock().Matches(text).Select(m => m.Groups[1].Value).Where(b => b.Contains("#SBATCH", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            foreach (Match output in RelativeOutput().Matches(script))
            {
                var folder = output.Groups[1].Value;
                var made = script.IndexOf("mkdir -p " + folder, StringComparison.Ordinal);
                Assert.True(made >= 0 && made < output.Index, $"docs/cluster.md: a script writes into {folder}/ without creating it first (a missing folder is exit 2)");
            }
        }
    }

    [GeneratedRegex("```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();

    // --db or --json naming a file in a relative folder: "shards/latency-$I-of-$N.duckdb".
    [GeneratedRegex("--(?:db|json) \"?([A-Za-z0-9_.-]+)/")]
    private static partial Regex RelativeOutput();
}
