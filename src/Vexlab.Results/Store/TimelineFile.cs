using DuckDB.NET.Data;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios;

namespace Vexlab.Results.Store;

/// <summary>
/// A run's time series (<c>run --timeline FILE</c>) written as CSV or Parquet, chosen by FILE's extension, through
/// the result store's writer (DuckDB's COPY, as <c>results export</c>): an in-memory table of BIGINT columns, one row
/// per interval, in interval order. A Parquet file's footer says whether the run was complete (key-value metadata
/// <c>complete</c> "true" or "false", and <c>simulated_ns</c>), as the run's JSON does; a CSV file has no place for it.
/// </summary>
public static class TimelineFile
{
    /// <summary>"csv" or "parquet" for <paramref name="path"/>'s extension; bad input otherwise.</summary>
    public static string FormatOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".csv" => "csv",
            ".parquet" => "parquet",
            _ => throw InputException.At(null, 0, 0, "--timeline", $"expected a .csv or .parquet file, got {ErrorText.Quote(path)}"),
        };
    }

    /// <param name="path">The file: .csv or .parquet.</param>
    /// <param name="columns">Column names.</param>
    /// <param name="rows">One row per interval.</param>
    /// <param name="complete">Whether the run reached its duration (false: a signal or a time limit stopped it).</param>
    /// <param name="simulatedNs">The simulated ns the run covers.</param>
    public static void Write(string path, IReadOnlyList<string> columns, IReadOnlyList<long[]> rows, bool complete = true, long simulatedNs = -1)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        var format = FormatOf(path);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        var definition = string.Join(", ", columns.Select(c => SweepStore.Quote(c) + " BIGINT"));
        SweepStore.Execute(connection, $"CREATE TABLE timeline (\"row\" BIGINT, {definition})");
        using (var appender = connection.CreateAppender("timeline"))
        {
            for (var i = 0; i < rows.Count; i++)
            {
                var row = appender.CreateRow().AppendValue((long?)i);
                foreach (var value in rows[i])
                {
                    row = row.AppendValue((long?)value);
                }

                row.EndRow();
            }
        }

        var select = "SELECT " + string.Join(", ", columns.Select(SweepStore.Quote)) + " FROM timeline ORDER BY \"row\"";
        List<(string, string)> metadata = [("complete", complete ? "true" : "false")];
        if (simulatedNs >= 0)
        {
            metadata.Add(("simulated_ns", simulatedNs.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        StoreOperations.CopyTo(connection, select, format, path, "timeline", parquetMetadata: metadata);
    }
}
