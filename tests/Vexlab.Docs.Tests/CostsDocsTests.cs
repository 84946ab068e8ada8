using System.Text.RegularExpressions;
using Vexlab.DocsCheck;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Costs;

namespace Vexlab.Docs.Tests;

/// <summary>
/// docs/costs.md's "Where each comes from" tables and the code's defaults name each other: every cost default and
/// built-in backing store cites a row (<c>costs.md Row: ...</c>) that the doc has, for the same key or store, and
/// every row of the doc belongs to a default the code has. The pasted <c>explain costs</c> output checks the
/// numbers; this checks that a default's basis is the row the doc gives for it.
/// </summary>
public sealed partial class CostsDocsTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    /// <summary>A cost row: <c>| `Row` (`cost.key`)...</c>, or one named by its key alone: <c>| `cost.key` |</c>.</summary>
    [GeneratedRegex(@"^\| `(?<row>[A-Za-z0-9_.]+)`(?: \(`(?<key>cost\.[a-z0-9_]+)`\))?")]
    private static partial Regex CostRow();

    /// <summary>A backing row: <c>| `Row` | `store` | basis |</c>.</summary>
    [GeneratedRegex(@"^\| `(?<row>[A-Za-z0-9]+)` \| `(?<store>[a-z0-9-]+)` \|")]
    private static partial Regex BackingRow();

    [GeneratedRegex(@"^costs\.md (?<row>[A-Za-z0-9]+):")]
    private static partial Regex CitedRow();

    private static string[] Lines() => File.ReadAllLines(Path.Combine(Root, "docs", "costs.md"));

    /// <summary>Row name to key, from the cost table (the one before "## Backing stores").</summary>
    private static Dictionary<string, string> CostRows()
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Lines().TakeWhile(l => !l.StartsWith("## Backing stores", StringComparison.Ordinal)))
        {
            var m = CostRow().Match(line);
            if (m.Success && BackingRow().Match(line) is { Success: false })
            {
                var row = m.Groups["row"].Value;
                rows[row] = m.Groups["key"].Success ? m.Groups["key"].Value : row;
            }
        }

        return rows;
    }

    private static Dictionary<string, string> BackingRows() =>
        Lines().Select(l => BackingRow().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["row"].Value, m => m.Groups["store"].Value, StringComparer.Ordinal);

    [Fact]
    public void Every_cost_default_cites_its_own_row_of_the_doc()
    {
        var rows = CostRows();
        foreach (var d in CostModel.Defaults)
        {
            var cited = CitedRow().Match(d.Source);
            var row = cited.Success ? cited.Groups["row"].Value : d.Key;
            Assert.True(rows.TryGetValue(row, out var key), $"{d.Key} cites '{row}', which docs/costs.md has no row for");
            Assert.Equal(d.Key, key);
        }
    }

    [Fact]
    public void Every_cost_row_of_the_doc_is_a_default()
    {
        var keys = CostModel.Defaults.Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        var rows = CostRows();
        Assert.Equal(CostModel.Defaults.Length, rows.Count);
        Assert.All(rows, r => Assert.Contains(r.Value, keys));
    }

    [Fact]
    public void Every_builtin_store_cites_its_own_row_of_the_doc()
    {
        // The fixed store is a constant latency for sweeps, not a measurement: it cites no row.
        var rows = BackingRows();
        var cited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in BackingStore.KindNames.Where(n => n != "fixed"))
        {
            Assert.True(BackingStore.TryParseKind(name, out var kind));
            var m = CitedRow().Match(BackingStore.Create(kind).Source);
            Assert.True(m.Success, $"{name}'s source cites no docs/costs.md row");
            var row = m.Groups["row"].Value;
            Assert.True(rows.TryGetValue(row, out var store), $"{name} cites '{row}', which docs/costs.md has no row for");
            Assert.Equal(name, store);
            cited.Add(row);
        }

        Assert.Equal(rows.Keys.Order(StringComparer.Ordinal), cited.Order(StringComparer.Ordinal));
    }
}
