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

        throw InputException.At(null, 0, 0, option,
            $"no column {ErrorText.Quote(column)} in {path}'s {SweepStore.ResultsTable}{NearestName.Aside(column, columns)}; vexlab results query {path} \"DESCRIBE {SweepStore.ResultsTable}\" lists them");
    }

    /// <summary>
    /// Refuses <paramref name="column"/> as <see cref="Require"/> does, and also when it holds no numbers (a text
    /// column such as protocol), which a line plot's axes need: DuckDB would fail converting its first value.
    /// </summary>
    public static void RequireNumeric(string path, StoreColumns columns, string column, string option)
    {
        Require(path, columns.Names, column, option);
        var type = columns.Types[columns.Names.ToList().IndexOf(column)];
        if (!IsNumeric(type))
        {
            var numeric = columns.Names.Where((_, i) => IsNumeric(columns.Types[i])).ToList();
            throw InputException.At(null, 0, 0, option,
                $"column {ErrorText.Quote(column)} of {path}'s {SweepStore.ResultsTable} holds {(type == typeof(string) ? "text" : type.Name)}, not numbers{NearestName.Aside(column, numeric)}; {option} takes a numeric column");
        }
    }

    private static bool IsNumeric(Type type) =>
        type == typeof(long) || type == typeof(int) || type == typeof(short) || type == typeof(sbyte)
        || type == typeof(ulong) || type == typeof(uint) || type == typeof(ushort) || type == typeof(byte)
        || type == typeof(double) || type == typeof(float) || type == typeof(decimal)
        || type == typeof(System.Numerics.BigInteger) || type == typeof(Int128) || type == typeof(UInt128);

    /// <summary>
    /// The columns of the store's results table, refusing a --where <paramref name="where"/> that is not an SQL
    /// condition on them with DuckDB's reason, where the error would otherwise point into the query built around it.
    /// </summary>
    public static StoreColumns Of(string path, string? where = null)
    {
        // The condition is pasted into the SQL: one that ends the WHERE ("1=1) group by all; --") changed the query.
        if (where is not null && SqlText.NotOneExpression(where) is { } why)
        {
            throw InputException.At(null, 0, 0, "--where", $"{ErrorText.Quote(where)} is not one condition: {why}; write one SQL expression on the columns of {path}'s {SweepStore.ResultsTable}");
        }

        var filter = where is null ? string.Empty : $" WHERE ({where})";
        var (columns, types, error) = StoreOperations.ColumnsOf(path, $"SELECT * FROM {SweepStore.ResultsTable}{filter} LIMIT 0");
        if (error is null)
        {
            return new StoreColumns(columns, types);
        }

        // External access is off: an I/O error is the store's file failing to read, as results query says it.
        if (error.StartsWith("IO Error", StringComparison.Ordinal))
        {
            throw InputException.At(ErrorText.Path(path), 0, 0, null, "the result store is damaged: " + error + "; run the sweep again into a new --db");
        }

        throw where is null
            ? InputException.At(path, 0, 0, null, "query failed: " + error)
            : InputException.At(null, 0, 0, "--where", $"{ErrorText.Quote(where)} is not a condition on {path}'s {SweepStore.ResultsTable}: {error}");
    }
}

/// <summary>The names of a store's result columns, and the .NET type DuckDB reads each as.</summary>
public sealed record StoreColumns(IReadOnlyList<string> Names, IReadOnlyList<Type> Types);
