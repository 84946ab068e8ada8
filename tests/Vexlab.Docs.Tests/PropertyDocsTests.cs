using Vexlab.DocsCheck;
using Vexlab.Model.Properties;

namespace Vexlab.Docs.Tests;

/// <summary>The "Properties" sections of docs/checking.md and docs/model.md name every property the checker judges.</summary>
public sealed class PropertyDocsTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Theory]
    [InlineData("checking.md")]
    [InlineData("model.md")]
    public void The_properties_section_names_every_property(string file)
    {
        var text = File.ReadAllText(Path.Combine(Root, "docs", file)).ReplaceLineEndings("\n");
        var start = text.IndexOf("\n## Properties\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/{file} has no '## Properties' section");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = end < 0 ? text[start..] : text[start..end];
        var missing = PropertyNames.Safety.Concat(PropertyNames.Liveness).Where(p => !section.Contains("`" + p + "`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"docs/{file}, Properties, does not name {string.Join(", ", missing)}");
    }
}
