using Vexlab.Model.Configuration;
using Vexlab.Scenarios;

namespace Vexlab.Results.Store;

/// <summary>What a command names in a store's results table (plot's --x, --y and --by, and --where), checked before its query is built.</summary>
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

        var nearest = NearestName.Of(column, columns) is { } near ? $" (did you mean {near}?)" : string.Empty;
        throw InputException.At(null, 0, 0, option,
            $"no column {ErrorText.Quote(column)} in {path}'s {SweepStore.ResultsTable}{nearest}; vexlab results query {path} \"DESCRIBE {SweepStore.ResultsTable}\" lists them");
    }

    /// <summary>
    /// The columns of the store's results table, refusing a --where <paramref name="where"/> that is not an SQL
    /// condition on them with DuckDB's reason, where the error would otherwise point into the query built around it.
    /// </summary>
    public static IReadOnlyList<string> Of(string path, string? where = null)
    {
        var filter = where is null ? string.Empty : $" WHERE ({where})";
        var (columns, error) = StoreOperations.ColumnsOf(path, $"SELECT * FROM {SweepStore.ResultsTable}{filter} LIMIT 0");
        if (error is null)
        {
            return columns;
        }

        throw where is null
            ? InputException.At(path, 0, 0, null, "query failed: " + error)
            : InputException.At(null, 0, 0, "--where", $"{ErrorText.Quote(where)} is not a condition on {path}'s {SweepStore.ResultsTable}: {error}");
    }
}
