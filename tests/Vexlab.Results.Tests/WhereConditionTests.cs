using Vexlab.Results.Plotting;
using Vexlab.Results.Store;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>
/// A --where is one condition: pasted into WHERE (...), "1=1) group by all; --" closed the parenthesis and changed the
/// query, and plot drew what it made of it (exit 0).
/// </summary>
public sealed class WhereConditionTests
{
    [Theory]
    [InlineData("1=1) group by all; --", "it closes a parenthesis it does not open")]
    [InlineData("latency = 100; select 1", "it holds ';'")]
    [InlineData("latency = 100 -- ) or (1=1", "it holds a comment")]
    [InlineData("latency = 100 /* x */", "it holds a comment")]
    [InlineData("variant = E'\\') or (''=''", "it holds a backslash in quoted text")]
    [InlineData("variant = $$x$$", "it holds '$'")]
    [InlineData("(latency = 100", "it opens a parenthesis it does not close")]
    public void A_condition_that_is_not_one_expression_is_refused(string where, string why)
    {
        Assert.Equal(why, SqlText.NotOneExpression(where));
        using var dir = new TempDir();
        var db = PlotStore.Create(dir);
        foreach (var kind in new[] { PlotKind.Lines, PlotKind.Stacked })
        {
            var request = kind == PlotKind.Lines ? new PlotRequest { X = "latency", Y = "work_done", Where = where } : new PlotRequest { Kind = kind, Where = where };
            var message = Fails(() => ResultPlots.Render(db, request, dir.File("p.svg")));
            Assert.StartsWith("--where: ", message, StringComparison.Ordinal);
            Assert.Contains($"is not one condition: {why}", message, StringComparison.Ordinal);
            Assert.False(File.Exists(dir.File("p.svg")));
        }
    }

    [Theory]
    [InlineData("latency = 100")]
    [InlineData("(variant = 'sync' AND tasks = 1) OR (variant <> 'sync' AND tasks = 4)")]
    [InlineData("variant in ('a)b', 've') or variant = 'it''s'")]
    [InlineData("\"latency\" >= 10")]
    public void One_expression_is_taken(string where) => Assert.Null(SqlText.NotOneExpression(where));
}
