using Vexlab.Model.Configuration;
using Vexlab.Scenarios;

namespace Vexlab.Results.Store;

/// <summary>The columns a command names (plot's --x, --y and --by), checked against a store's results table.</summary>
public static class ResultColumns
{
    /// <summary>
    /// Refuses <paramref name="column"/> (given with <paramref name="option"/>) when the store at
    /// <paramref name="path"/> has no such column in its results, naming the nearest one and how to list them all,
    /// where DuckDB alone would say that a column of the generated query was not found in its FROM clause.
    /// </summary>
    public static void Require(string path, IReadOnlyList<string> columns, string column, string option)
    {
        if (columns.Contains(column, StringComparer.Ordinal))
        {
            return;
        }

        var nearest = ErrorText.Nearest(column, columns) is { } near ? $" (did you mean {near}?)" : string.Empty;
        throw InputException.At(null, 0, 0, option,
            $"no column {ErrorText.Quote(column)} in {path}'s {SweepStore.ResultsTable}{nearest}; vexlab results query {path} \"DESCRIBE {SweepStore.ResultsTable}\" lists them");
    }

    /// <summary>The columns of the store's results table.</summary>
    public static IReadOnlyList<string> Of(string path) =>
        StoreOperations.Query(path, $"SELECT * FROM {SweepStore.ResultsTable} LIMIT 0").Columns;
}
