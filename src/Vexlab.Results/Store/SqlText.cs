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

    /// <summary>
    /// Why <paramref name="condition"/> (a --where, pasted into <c>WHERE (...)</c>) is not one expression, or null when
    /// it may be one: a parenthesis it closes without opening it (<c>1=1) group by all; --</c> ended the WHERE and
    /// added a clause of its own), a <c>;</c>, a comment, which may hide the closing parenthesis, or what this reading
    /// cannot follow as DuckDB would (a backslash, which escapes a quote in an E'' string; <c>$</c>, which may open a
    /// dollar-quoted string). Quoted text and names ('...', "...") are skipped. DuckDB then parses what is left.
    /// </summary>
    public static string? NotOneExpression(string condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var depth = 0;
        for (var i = 0; i < condition.Length; i++)
        {
            var c = condition[i];
            if (c is '\'' or '"')
            {
                // A quote inside is written twice; an unclosed one leaves the rest quoted, and DuckDB refuses it.
                for (i++; i < condition.Length; i++)
                {
                    if (condition[i] == c)
                    {
                        if (i + 1 < condition.Length && condition[i + 1] == c)
                        {
                            i++;
                            continue;
                        }

                        break;
                    }

                    if (condition[i] == '\\')
                    {
                        return "it holds a backslash in quoted text";
                    }
                }
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')' && --depth < 0)
            {
                return "it closes a parenthesis it does not open";
            }
            else if (c == ';')
            {
                return "it holds ';'";
            }
            else if (string.CompareOrdinal(condition, i, "--", 0, 2) == 0 || string.CompareOrdinal(condition, i, "/*", 0, 2) == 0)
            {
                return "it holds a comment";
            }
            else if (c is '$' or '\\')
            {
                return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"it holds '{c}'");
            }
        }

        return depth > 0 ? "it opens a parenthesis it does not close" : null;
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
