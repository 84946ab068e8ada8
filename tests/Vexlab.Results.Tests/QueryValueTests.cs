using DuckDB.NET.Data;
using Vexlab.Results.Store;
using static Vexlab.Results.Tests.Support;

namespace Vexlab.Results.Tests;

/// <summary>A store made once for the query tests, which only read it.</summary>
public sealed class QueryStore : IDisposable
{
    private readonly TempDir _dir = new();

    public QueryStore()
    {
        Db = _dir.File("q.duckdb");
        Run(Small(), Db);
    }

    public string Db { get; }

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// <c>results query</c> writes every DuckDB type as DuckDB does: lists, structs, maps, blobs, dates, times and
/// intervals as its CLI prints them (in the table and CSV), as JSON arrays, objects and strings in JSON, never as
/// a .NET type name or culture-dependent text; the types that were already right stay as they were.
/// </summary>
public sealed class QueryValueTests(QueryStore store) : IClassFixture<QueryStore>
{
    /// <summary>An expression, then its text (table), its CSV field and its JSON.</summary>
    public static TheoryData<string, string, string, string> Values => new()
    {
        // Types already right: unchanged.
        { "2", "2", "2", "2" },
        { "0.5::double", "0.5", "0.5", "0.5" },
        { "'a,b'", "a,b", "\"a,b\"", "\"a,b\"" },
        { "true", "true", "true", "true" },
        { "NULL", "", "", "null" },
        { "uuid '00000000-0000-0000-0000-000000000001'", "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000001", "\"00000000-0000-0000-0000-000000000001\"" },

        // Lists, nested values.
        { "[1.0::double, 2.5]", "[1.0, 2.5]", "\"[1.0, 2.5]\"", "[1.0,2.5]" },
        { "[1, 2]::int[2]", "[1, 2]", "\"[1, 2]\"", "[1,2]" },
        { "['a', 'b c', 'd,e', NULL]", "[a, b c, 'd,e', NULL]", "\"[a, b c, 'd,e', NULL]\"", "[\"a\",\"b c\",\"d,e\",null]" },
        { "[1.0::double, 'nan'::double, 'inf'::double]", "[1.0, nan, inf]", "\"[1.0, nan, inf]\"", "[1.0,\"NaN\",\"Infinity\"]" },
        { "[[1, 2], [3]]", "[[1, 2], [3]]", "\"[[1, 2], [3]]\"", "[[1,2],[3]]" },
        { "NULL::int[]", "", "", "null" },
        { "{'a': 1, 'b': 'x'}", "{'a': 1, 'b': x}", "\"{'a': 1, 'b': x}\"", "{\"a\":1,\"b\":\"x\"}" },
        { "{'NaN': [{'c': NULL}]}", "{'NaN': [{'c': NULL}]}", "{'NaN': [{'c': NULL}]}", "{\"NaN\":[{\"c\":null}]}" },
        { "row(1, 'a')", "(1, a)", "\"(1, a)\"", "{\"\":1,\"\":\"a\"}" },
        { "map([1, 2], ['a', 'b'])", "{1=a, 2=b}", "\"{1=a, 2=b}\"", "{\"1\":\"a\",\"2\":\"b\"}" },

        // Blobs, as DuckDB escapes them.
        { "'abc'::blob", "abc", "abc", "\"abc\"" },
        { "'\\xAA\\x00a'::blob", "\\xAA\\x00a", "\\xAA\\x00a", "\"\\\\xAA\\\\x00a\"" },

        // Dates, times, timestamps and intervals: ISO, invariant, any range DuckDB has.
        { "date '2020-01-01'", "2020-01-01", "2020-01-01", "\"2020-01-01\"" },
        { "date 'infinity'", "infinity", "infinity", "\"infinity\"" },
        { "timestamp '2020-01-01 12:00:00'", "2020-01-01 12:00:00", "2020-01-01 12:00:00", "\"2020-01-01 12:00:00\"" },
        { "timestamp '2020-01-01 12:00:00.25'", "2020-01-01 12:00:00.25", "2020-01-01 12:00:00.25", "\"2020-01-01 12:00:00.25\"" },
        { "time '12:00:01.5'", "12:00:01.5", "12:00:01.5", "\"12:00:01.5\"" },
        { "interval 1 day", "1 day", "1 day", "\"1 day\"" },
        { "interval 14 month + interval 90 minute", "1 year 2 months 01:30:00", "1 year 2 months 01:30:00", "\"1 year 2 months 01:30:00\"" },
        { "[date '2020-01-01', NULL]", "[2020-01-01, NULL]", "\"[2020-01-01, NULL]\"", "[\"2020-01-01\",null]" },

        // A UNION, whose type DuckDB.NET cannot read (it was an internal error, exit 70).
        { "union_value(k := 1)", "1", "1", "{\"k\":1}" },
        { "[union_value(k := 'a')]", "[a]", "[a]", "[{\"k\":\"a\"}]" },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Query_WritesValue_AsDuckDBDoes_InTableCsvAndJson(string expression, string text, string csv, string json)
    {
        var result = StoreOperations.Query(store.Db, $"SELECT {expression} AS v");
        Assert.Equal(["v"], result.Columns);
        Assert.Equal(text, QueryResult.FormatValue(result.Rows[0][0]));
        Assert.Equal("v\n" + csv + "\n", result.ToCsv());
        Assert.Equal(json, result.ToJsonRows()[0]!["v"]?.ToJsonString() ?? "null");
    }

    [Fact]
    public void Query_ListOfAStoreColumn_IsDuckDBsList()
    {
        var result = StoreOperations.Query(store.Db, "SELECT variant, list(DISTINCT latency ORDER BY latency) AS l FROM results GROUP BY variant ORDER BY variant");
        Assert.Equal("sync", result.Rows[0][0]);
        Assert.Equal("[1, 10, 100, 1000]", QueryResult.FormatValue(result.Rows[0][1]));
        Assert.StartsWith("variant,l\nsync,\"[1, 10, 100, 1000]\"\n", result.ToCsv(), StringComparison.Ordinal);
        Assert.Equal("[1,10,100,1000]", result.ToJsonRows()[0]!["l"]!.ToJsonString());
    }

    // The text comes from the query taken as a subquery: names that repeat, plain columns beside the others,
    // a trailing semicolon or comment all keep their meaning.
    [Theory]
    [InlineData("SELECT 1 AS x, [2] AS x, 'a' AS y")]
    [InlineData("SELECT 1 AS x, [2] AS x, 'a' AS y;")]
    [InlineData("SELECT 1 AS x, [2] AS x, 'a' AS y; ;\n")]
    [InlineData("SELECT 1 AS x, [2] AS x, 'a' AS y -- a note")]
    [InlineData("FROM (VALUES (1, [2], 'a')) t(x, \"x \", y) SELECT x, \"x \" AS x, y")]
    public void Query_WithOtherTypes_KeepsColumnsAndStatement(string sql)
    {
        var result = StoreOperations.Query(store.Db, sql);
        Assert.Equal(["x", "x", "y"], result.Columns);
        Assert.Equal("x,x,y\n1,[2],a\n", result.ToCsv());
    }

    // The statement runs once, whatever its columns: a sequence's nextval counts the runs. Its columns are learned
    // without running it, and a statement with a list column runs only as the subquery that writes the list (it
    // used to run as it is, for its columns, and then again as that subquery, which gave [2]).
    [Theory]
    [InlineData("SELECT nextval('runs') AS n", "1")]
    [InlineData("SELECT [nextval('runs')] AS l", "[1]")]
    [InlineData("SELECT [n] AS l FROM (SELECT nextval('runs') AS n)", "[1]")]
    [InlineData("WITH t AS MATERIALIZED (SELECT nextval('runs') AS n) SELECT list(n) AS l FROM t", "[1]")]
    public void Query_RunsTheStatementOnce(string sql, string value)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        SweepStore.Execute(connection, "CREATE SEQUENCE runs");
        var result = StoreOperations.Query(connection, sql, "memory");
        Assert.Equal(value, QueryResult.FormatValue(result.Rows[0][0]));
        Assert.Equal(1L, StoreOperations.Query(connection, "SELECT currval('runs')", "memory").Rows[0][0]);
    }

    // SQL that is no statement, but that the parentheses of the subquery make one, is refused as DuckDB refuses it.
    [Fact]
    public void Query_TextThatOnlyTheSubqueryMakesAStatement_IsRefused()
    {
        var message = Fails(() => StoreOperations.Query(store.Db, "SELECT [1] AS l) AS q, (SELECT 2"));
        Assert.StartsWith(store.Db + ": query failed: Parser Error: syntax error at or near \")\"", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_WithOtherTypes_StillRunsOneStatement()
    {
        var message = Fails(() => StoreOperations.Query(store.Db, "SELECT [1]; SELECT 2"));
        Assert.Equal(store.Db + ": query failed: the SQL holds more than one statement; results query runs one", message);
    }

    // A statement DuckDB cannot take as a subquery (CALL, PRAGMA) is written from DuckDB.NET's values; one of those
    // it cannot read (an interval with months) is refused with the way round it.
    [Fact]
    public void Query_CallStatement_WritesNestedValues()
    {
        var result = StoreOperations.Query(store.Db, "CALL unnest([[1, 2], NULL])");
        Assert.Equal("[1, 2]", QueryResult.FormatValue(result.Rows[0][0]));
        Assert.Equal("[1,2]", result.ToJsonRows()[0]!["unnest"]!.ToJsonString());
        Assert.Null(result.Rows[1][0]);
        var dates = StoreOperations.Query(store.Db, "CALL range(timestamp '2020-01-01', timestamp '2020-01-03', interval 1 day)");
        Assert.Equal("range\n2020-01-01 00:00:00\n2020-01-02 00:00:00\n", dates.ToCsv());
        Assert.Contains("written as a SELECT", Fails(() => StoreOperations.Query(store.Db, "CALL unnest([interval 1 month])")), StringComparison.Ordinal);
        Assert.Contains("written as a SELECT", Fails(() => StoreOperations.Query(store.Db, "CALL unnest([union_value(k := 1)])")), StringComparison.Ordinal);
        Assert.Equal("1 month", QueryResult.FormatValue(StoreOperations.Query(store.Db, "FROM unnest([interval 1 month])").Rows[0][0]));
    }
}
