namespace Vexlab.Results.Store;

/// <summary>What a query's text holds before DuckDB parses it.</summary>
internal static class SqlText
{
    /// <summary>
    /// True when <paramref name="sql"/> holds no statement: only blanks, <c>;</c> and comments (<c>-- ...</c> to the
    /// end of the line, <c>/* ... */</c>, which nest as in PostgreSQL's grammar that DuckDB's parser derives from).
    /// DuckDB answers such a text with an exception that carries no message of its own ("External component has
    /// thrown an exception."), so it is refused before DuckDB sees it. An unterminated <c>/*</c> comments out the rest.
    /// </summary>
    public static bool HoldsNoStatement(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var i = 0;
        while (i < sql.Length)
        {
            if (char.IsWhiteSpace(sql[i]) || sql[i] == ';')
            {
                i++;
            }
            else if (string.CompareOrdinal(sql, i, "--", 0, 2) == 0)
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (string.CompareOrdinal(sql, i, "/*", 0, 2) == 0)
            {
                i = AfterBlockComment(sql, i);
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static int AfterBlockComment(string sql, int start)
    {
        var depth = 0;
        var i = start;
        while (i < sql.Length)
        {
            if (string.CompareOrdinal(sql, i, "/*", 0, 2) == 0)
            {
                depth++;
                i += 2;
            }
            else if (string.CompareOrdinal(sql, i, "*/", 0, 2) == 0)
            {
                i += 2;
                if (--depth == 0)
                {
                    return i;
                }
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }
}
