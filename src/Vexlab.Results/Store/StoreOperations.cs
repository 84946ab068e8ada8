using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Vexlab.Model.Configuration;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Results.Store;

/// <summary>What a merge did.</summary>
/// <param name="SweepHash">The sweep the stores belong to.</param>
/// <param name="Shards">How many stores were merged.</param>
/// <param name="Added">Runs added to the output.</param>
/// <param name="Duplicates">Runs of the shards the output already held.</param>
/// <param name="Expected">The runs the whole sweep has, or null for stores written before vexlab recorded it.</param>
/// <param name="Present">The runs the output holds after the merge.</param>
/// <param name="Stores">One line per store merged: its shard and runs against the shard's runs.</param>
public sealed record MergeSummary(
    string SweepHash, int Shards, long Added, long Duplicates, long? Expected, long Present, IReadOnlyList<string> Stores)
{
    /// <summary>True when runs of the sweep are missing from the output (a shard missing or unfinished).</summary>
    public bool IsPartial => Expected is { } expected && Present < expected;
}

/// <summary>The columns and rows of a query.</summary>
public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)
{
    /// <summary>CSV: one header line, then one line per row; fields quoted only when needed.</summary>
    public string ToCsv()
    {
        var text = new StringBuilder();
        text.Append(string.Join(',', Columns.Select(CsvField))).Append('\n');
        foreach (var row in Rows)
        {
            text.Append(string.Join(',', row.Select(v => CsvField(FormatValue(v))))).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The rows as JSON objects, numbers as numbers.</summary>
    public JsonArray ToJsonRows()
    {
        var rows = new JsonArray();
        foreach (var row in Rows)
        {
            var obj = new JsonObject();
            for (var i = 0; i < Columns.Count; i++)
            {
                obj[Columns[i]] = ToJson(row[i]);
            }

            rows.Add(obj);
        }

        return rows;
    }

    /// <summary>A value as text: invariant, round-trip numbers, empty for null.</summary>
    public static string FormatValue(object? value) => value switch
    {
        null or DBNull => string.Empty,
        RenderedValue r => r.Text,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static JsonNode? ToJson(object? value) => value is RenderedValue r ? r.ToJson() : ScalarJson(value, FormatValue);

    /// <summary>Numbers and booleans as JSON numbers and booleans (non-finite doubles as text), anything else as <paramref name="text"/> writes it.</summary>
    internal static JsonNode? ScalarJson(object? value, Func<object, string> text) => value switch
    {
        null or DBNull => null,
        long l => l,
        int i => i,
        short s => s,
        sbyte b => b,
        byte b => b,
        ushort u => u,
        uint u => u,
        ulong u => u,
        double d when double.IsFinite(d) => d,
        float f when float.IsFinite(f) => f,
        decimal m => m,
        bool b => b,
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        _ => text(value),
    };

    private static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}

/// <summary>Merge, query and export on result stores.</summary>
public static class StoreOperations
{
    /// <summary>
    /// Adds the runs of <paramref name="shards"/> to <paramref name="output"/> (created if missing).
    /// Every shard, and the output if it has rows, must come from the same sweep (same hash, which
    /// covers the base scenario and its overrides) and hold run keys of the same form; a run
    /// already present is kept once. The runs the sweep has (recorded in each store by
    /// <c>sweep run</c>) are counted against the runs the merge would hold: when some are missing
    /// (a shard not given, or stopped before it finished) the merge is refused before the output
    /// is touched, unless <paramref name="allowPartial"/>. A shard named twice, or named as the output, is
    /// refused before any store is opened.
    /// </summary>
    public static MergeSummary Merge(string output, IReadOnlyList<string> shards, bool allowPartial = false)
    {
        try
        {
            return MergeInto(output, shards, allowPartial);
        }
        catch (DuckDBException e) when (SweepStore.IsWriteFailure(e))
        {
            // A full disk under the output, not a damaged shard: each shard goes in in one transaction, so the
            // output holds the shards merged before, and the same merge again adds the rest.
            throw new OutputFailedException($"{ErrorText.Path(output)}: cannot write the merged store: {SweepStore.WriteFailureReason(e)}; the shards merged before are in it", e);
        }
    }

    private static MergeSummary MergeInto(string output, IReadOnlyList<string> shards, bool allowPartial)
    {
        if (shards.Count == 0)
        {
            throw InputException.At(null, 0, 0, null, "sweep merge: name at least one shard file");
        }

        var full = Path.GetFullPath(output);
        long? expected = null;
        var present = new HashSet<string>(StringComparer.Ordinal);
        var shardsSeen = new HashSet<string>(StringComparer.Ordinal);
        var stores = new List<string>();
        string? hash = null;
        string? hashFrom = null;
        string? keyVersion = null;
        var metas = new List<(string Path, string Hash)>();

        // The names first, before any store is opened: a shard named twice (however spelled) would be
        // merged twice and counted as two stores, hiding that another shard is missing.
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            var shardFull = Path.GetFullPath(shard);
            if (shardFull == full)
            {
                throw InputException.At(shard, 0, 0, null, "is the output of the merge; name it once, as OUT");
            }

            if (!named.TryAdd(shardFull, shard))
            {
                var first = named[shardFull];
                throw InputException.At(shard, 0, 0, null, "is listed twice" + (first == shard ? string.Empty : " (also as " + first + ")") + "; name each shard once");
            }
        }

        (string Store, Shard Split)? splitFrom = null;
        foreach (var shard in shards)
        {
            using var connection = SweepStore.OpenReadOnly(shard);
            string? shardHash;
            try
            {
                shardHash = SweepStore.GetMeta(connection, "sweep_hash");
            }
            catch (DuckDBException e) when (e.Message.StartsWith("IO Error", StringComparison.Ordinal))
            {
                // A cut file or a failed block checksum: the store is damaged, not one of another kind.
                throw Damaged(shard, e);
            }
            catch (DuckDBException)
            {
                shardHash = null;
            }

            if (shardHash is null)
            {
                throw InputException.At(shard, 0, 0, null, "is not a sweep result store (no sweep table)");
            }

            if (hash is not null && shardHash != hash)
            {
                throw InputException.At(shard, 0, 0, null, $"comes from a different sweep than {hashFrom} (hash {shardHash[..12]}, not {hash[..12]}); shards of different sweeps cannot be merged");
            }

            var shardKeys = SweepStore.GetMeta(connection, SweepStore.RunKeyVersionKey);
            if (hashFrom is not null && shardKeys != keyVersion)
            {
                throw InputException.At(shard, 0, 0, null, $"{KeyForm(shardKeys)}, and {hashFrom} {KeyForm(keyVersion)}: one run would be merged under two keys; run the older shard again into a new file");
            }

            hash = shardHash;
            hashFrom ??= shard;
            keyVersion = shardKeys;
            metas.Add((shard, shardHash));
            expected ??= ParseCount(SweepStore.GetMeta(connection, SweepStore.RunsKey));
            HashSet<string> keys;
            try
            {
                keys = SweepStore.RunKeys(connection);
            }
            catch (DuckDBException e) when (e.Message.StartsWith("IO Error", StringComparison.Ordinal))
            {
                throw Damaged(shard, e);
            }

            present.UnionWith(keys);
            var shardText = SweepStore.GetMeta(connection, SweepStore.ShardKey);
            var shardRuns = ParseCount(SweepStore.GetMeta(connection, SweepStore.ShardRunsKey));
            if (shardText is not null)
            {
                // Shards of one split (--shard I/N) are disjoint and cover the sweep; shards of two splits overlap and
                // leave runs out, and their counts were added up as if they were one split's.
                if (Shard.TryParse(shardText) is { } split)
                {
                    if (splitFrom is { } other && other.Split.Count != split.Count)
                    {
                        throw InputException.At(
                            ErrorText.Path(shard), 0, 0, null,
                            string.Create(CultureInfo.InvariantCulture, $"is shard {split} and {ErrorText.Path(other.Store)} shard {other.Split}: shards of different splits (of {other.Split.Count} and of {split.Count}) overlap and leave runs out; merge the shards of one --shard I/N split"));
                    }

                    splitFrom ??= (shard, split);
                }

                shardsSeen.Add(shardText);
            }

            // A store that records no shard holds runs of several (a merged store): its count is all there is to say.
            stores.Add(shardText is null
                ? string.Create(CultureInfo.InvariantCulture, $"{ErrorText.Path(shard)}: a merged store, {keys.Count} runs")
                : string.Create(
                    CultureInfo.InvariantCulture,
                    $"{ErrorText.Path(shard)}: shard {shardText}, {keys.Count} of {(shardRuns is { } n ? n.ToString(CultureInfo.InvariantCulture) : "?")} runs{(shardRuns is { } m && keys.Count < m ? " (unfinished)" : string.Empty)}"));
        }

        if (File.Exists(output))
        {
            using var existing = SweepStore.OpenReadOnly(output);
            var outMeta = TryMeta(existing, "sweep_hash");
            if (outMeta is not null && outMeta != hash)
            {
                throw InputException.At(output, 0, 0, null, $"holds results of a different sweep (hash {outMeta[..12]}, shards have {hash![..12]}); merge into a new file");
            }

            var outKeys = TryMeta(existing, SweepStore.RunKeyVersionKey);
            if (outMeta is not null && outKeys != keyVersion)
            {
                throw InputException.At(output, 0, 0, null, $"{KeyForm(outKeys)}, and the shards {KeyForm(keyVersion)}: one run would be merged under two keys; merge into a new file");
            }

            if (outMeta is not null)
            {
                present.UnionWith(SweepStore.RunKeys(existing));
            }
        }

        if (expected is { } runs && present.Count < runs && !allowPartial)
        {
            throw new InputException(
                string.Create(CultureInfo.InvariantCulture, $"sweep merge: the stores hold {present.Count} of the sweep's {runs} runs ({runs - present.Count} missing{MissingShards(shardsSeen)}); merge every shard, finish the unfinished ones (run the same sweep run --shard command again), or pass --allow-partial to merge what is there. ")
                + string.Join("; ", stores));
        }

        Vexlab.Scenarios.Files.OutputFile.Check(output, "merged store");
        using var store = SweepStore.Open(output);
        var outHash = store.GetMeta("sweep_hash");

        // The output holds the runs of every store merged, so it is no one shard, even when it was one before:
        // merged into shard 1/2's store, shard 2/2 left it saying "shard 1/2, shard_runs 13" over 30 runs.
        store.ForgetShard();

        long added = 0;
        long duplicates = 0;
        var index = 0;
        foreach (var (path, _) in metas)
        {
            var alias = "shard" + index++.ToString(CultureInfo.InvariantCulture);
            store.Execute($"ATTACH {SweepStore.Literal(Path.GetFullPath(path))} AS {alias} (READ_ONLY)");
            try
            {
                try
                {
                    MergeOne(store, alias, ref outHash, hash!, ref added, ref duplicates);
                }
                catch (DuckDBException e) when (e.Message.StartsWith("IO Error", StringComparison.Ordinal) && !SweepStore.IsWriteFailure(e))
                {
                    throw Damaged(path, e);
                }
            }
            finally
            {
                store.Execute($"DETACH {alias}");
            }
        }

        return new MergeSummary(hash!, shards.Count, added, duplicates, expected, store.RunCount(), stores);
    }

    /// <summary>
    /// How a store's run keys were made, for a merge that refuses to mix two forms: keys of the older form left out
    /// the base scenario, so the same run has another key in each (<see cref="SweepRun.KeyVersion"/>).
    /// </summary>
    private static string KeyForm(string? runKeyVersion) => runKeyVersion is null
        ? "holds run keys of an older vexlab (no run_key_version), which did not cover the base scenario"
        : $"holds run keys of form {runKeyVersion}";

    /// <summary>A shard damaged on disk (a flipped bit fails its block checksum, a cut file): named, as bad input.</summary>
    private static InputException Damaged(string path, DuckDBException e) =>
        InputException.At(ErrorText.Path(path), 0, 0, null, "the result store is damaged: " + FirstLine(e.Message) + "; run its shard again into a new file");

    /// <summary>Adds one attached shard's runs to the output in one transaction.</summary>
    private static void MergeOne(SweepStore store, string alias, ref string? outHash, string hash, ref long added, ref long duplicates)
    {
        if (outHash is null)
        {
            // The sweep's definition, not which shard a store was: the output holds them all.
            store.Execute($"INSERT INTO {SweepStore.MetaTable} SELECT * FROM {alias}.{SweepStore.MetaTable} WHERE key NOT IN ({SweepStore.Literal(SweepStore.ShardKey)}, {SweepStore.Literal(SweepStore.ShardRunsKey)})");
            outHash = hash;
        }

        using var transaction = store.Connection.BeginTransaction();
        foreach (var table in new[] { SweepStore.ResultsTable, SweepStore.TasksTable })
        {
            AddMissingColumns(store, alias, table);
        }

        var before = Count(store.Connection, $"SELECT count(*) FROM {SweepStore.ResultsTable}");
        var incoming = Count(store.Connection, $"SELECT count(*) FROM {alias}.{SweepStore.ResultsTable}");
        var fresh = $"run_key NOT IN (SELECT run_key FROM {SweepStore.ResultsTable})";
        store.Execute($"INSERT INTO {SweepStore.TasksTable} BY NAME SELECT * FROM {alias}.{SweepStore.TasksTable} WHERE {fresh}");
        store.Execute($"INSERT INTO {SweepStore.ResultsTable} BY NAME SELECT * FROM {alias}.{SweepStore.ResultsTable} WHERE {fresh}");
        var after = Count(store.Connection, $"SELECT count(*) FROM {SweepStore.ResultsTable}");
        store.Reorder(SweepStore.ResultsTable);
        store.Reorder(SweepStore.TasksTable);
        transaction.Commit();
        added += after - before;
        duplicates += incoming - (after - before);
    }

    private static long? ParseCount(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string? TryMeta(DuckDBConnection connection, string key)
    {
        try
        {
            return SweepStore.GetMeta(connection, key);
        }
        catch (DuckDBException)
        {
            return null;
        }
    }

    /// <summary>", shards 2/4, 4/4 not given" when the stores name their shards and some of I/N are absent.</summary>
    private static string MissingShards(HashSet<string> seen)
    {
        var counts = seen.Select(s => Shard.TryParse(s)).OfType<Shard>().Select(s => s.Count).Distinct().ToList();
        if (counts.Count != 1 || counts[0] == 1)
        {
            return string.Empty;
        }

        var n = counts[0];
        var absent = Enumerable.Range(1, n).Select(i => new Shard(i, n).ToString()).Where(s => !seen.Contains(s)).ToList();
        return absent.Count == 0 ? string.Empty : ", shard" + (absent.Count > 1 ? "s " : " ") + string.Join(", ", absent) + " not given";
    }

    private static void AddMissingColumns(SweepStore store, string alias, string table)
    {
        var mine = SweepStore.ReadColumns(store.Connection, table);
        var theirs = SweepStore.ReadColumns(store.Connection, table, alias);
        foreach (var column in theirs.Values)
        {
            var existing = mine.Values.FirstOrDefault(c => string.Equals(c.Name, column.Name, StringComparison.OrdinalIgnoreCase));
            if (existing is null)
            {
                store.Execute($"ALTER TABLE {table} ADD COLUMN {SweepStore.Quote(column.Name)} {column.Type}");
            }
            else
            {
                var widened = SweepStore.Widen(existing.Type, column.Type);
                if (widened != existing.Type)
                {
                    store.Execute($"ALTER TABLE {table} ALTER COLUMN {SweepStore.Quote(existing.Name)} TYPE {widened}");
                }
            }
        }
    }

    private static long Count(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return System.Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Runs SQL on a store opened read-only. DuckDB's READ_ONLY mode still lets `COPY ... TO`,
    /// `EXPORT DATABASE` and `ATTACH` write other files, so external access is switched off and the
    /// configuration locked before the user's SQL runs: a query reads this store and writes nothing.
    /// </summary>
    public static QueryResult Query(string path, string sql)
    {
        using var connection = OpenSealed(path);
        return Query(connection, sql, path);
    }

    /// <summary>
    /// The columns <paramref name="sql"/> returns on the store (opened as <see cref="Query(string, string)"/> opens it),
    /// or DuckDB's first line of error for it; no row is read.
    /// </summary>
    internal static (IReadOnlyList<string> Columns, IReadOnlyList<Type> Types, string? Error) ColumnsOf(string path, string sql)
    {
        using var connection = OpenSealed(path);
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            var columns = Enumerable.Range(0, reader.FieldCount);
            return ([.. columns.Select(reader.GetName)], [.. columns.Select(reader.GetFieldType)], null);
        }
        catch (DuckDBException e)
        {
            return ([], [], FirstLine(e.Message));
        }
    }

    private static DuckDBConnection OpenSealed(string path)
    {
        var connection = SweepStore.OpenReadOnly(path);
        using (var seal = connection.CreateCommand())
        {
            seal.CommandText = "SET enable_external_access = false; SET lock_configuration = true;";
            seal.ExecuteNonQuery();
        }

        return connection;
    }

    /// <summary>
    /// Runs <paramref name="sql"/> once. Its columns are learned first without running it (<see cref="RenderedShape"/>:
    /// DuckDB binds a statement to name and type its columns, and plans a LIMIT 0 around it without reading a row),
    /// then it runs as it is, or, with a column DuckDB must write itself, as the subquery of a statement that does:
    /// a statement run twice would cost twice on a large store, and one with random() or a LIMIT without ORDER BY
    /// could give rows that are not those of either run.
    /// </summary>
    internal static QueryResult Query(DuckDBConnection connection, string sql, string path)
    {
        // DuckDB answers a text with no statement, comments only included, with an exception that carries no
        // message of its own.
        if (SqlText.HoldsNoStatement(sql))
        {
            throw InputException.At(path, 0, 0, null, "query failed: the SQL holds no statement");
        }

        try
        {
            if (RenderedShape(connection, sql) is { } shape)
            {
                return new QueryResult(shape.Columns, RenderedRows(connection, sql, shape.Rendered));
            }

            // Plain columns only, or a statement that is no subquery (PRAGMA, CALL): its other columns are written
            // from the reader's values by Fallback. An error of the statement is reported from here, as DuckDB words it.
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            List<string> columns = [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)];
            bool[] plain = [.. Enumerable.Range(0, reader.FieldCount).Select(i => IsPlain(reader, i))];
            var rows = ReadRows(reader, reader.FieldCount, (r, i) => plain[i] ? r.GetValue(i) : Fallback(r, i, path));
            RefuseSecondStatement(reader, path);
            return new QueryResult(columns, rows);
        }
        catch (DuckDBException e) when (e.Message.StartsWith("IO Error", StringComparison.Ordinal))
        {
            // External access is off, so an I/O error is the store's own file failing to read (a cut file, a block
            // checksum): said as sweep run and results export say it, not as a fault of the SQL.
            throw InputException.At(ErrorText.Path(path), 0, 0, null, "the result store is damaged: " + FirstLine(e.Message) + "; run the sweep again into a new --db");
        }
        catch (DuckDBException e)
        {
            throw InputException.At(path, 0, 0, null, "query failed: " + FirstLine(e.Message));
        }
    }

    // One table out (the JSON and CSV hold one): a second statement's rows would be dropped unseen.
    private static void RefuseSecondStatement(DuckDBDataReader reader, string path)
    {
        if (reader.NextResult())
        {
            throw InputException.At(path, 0, 0, null, "query failed: the SQL holds more than one statement; results query runs one");
        }
    }

    /// <summary>
    /// Whether the column's .NET value is written as DuckDB writes it (numbers, text, booleans, UUIDs); the others
    /// (lists, structs, maps, blobs, dates, times, intervals, ...) come out of DuckDB.NET as .NET objects whose
    /// text is a type name or depends on the culture, or not at all (an interval with months, an infinite date,
    /// a UNION, whose type DuckDB.NET 1.5 does not know: "Unrecognised type Union (28)").
    /// </summary>
    private static bool IsPlain(DuckDBDataReader reader, int column)
    {
        try
        {
            return IsPlain(reader.GetFieldType(column));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsPlain(Type type) =>
        type == typeof(long) || type == typeof(int) || type == typeof(short) || type == typeof(sbyte)
        || type == typeof(ulong) || type == typeof(uint) || type == typeof(ushort) || type == typeof(byte)
        || type == typeof(double) || type == typeof(float) || type == typeof(decimal) || type == typeof(BigInteger)
        || type == typeof(bool) || type == typeof(string) || type == typeof(Guid);

    /// <summary>
    /// The statement <paramref name="sql"/> as the subquery of one that reads it, its columns named by position
    /// (<c>#1</c>), as the user's names may repeat. A line break before the parenthesis, so that a trailing --
    /// comment does not swallow it.
    /// </summary>
    private static string Subquery(string sql, string select)
        => $"SELECT {select} FROM (\n{sql.TrimEnd(';', ' ', '\t', '\r', '\n')}\n) AS query";

    /// <summary>
    /// The columns of <paramref name="sql"/> when it is a subquery with some column DuckDB must write itself (see
    /// <see cref="IsPlain(DuckDBDataReader, int)"/>): their names and which are written; null when all are plain, or when it is no single
    /// statement a subquery can hold (PRAGMA, CALL, two statements, or an error that running it will report). Nothing
    /// of the statement runs: the types come from a LIMIT 0 around it, which DuckDB plans as an empty result, and the
    /// names from DESCRIBE, which only binds it. DESCRIBE reads the SQL as it is, so it also refuses text that only
    /// the parentheses around it make a statement; and its names are the statement's own, where the subquery's
    /// rename a repeated one (a, a_1).
    /// </summary>
    private static (List<string> Columns, bool[] Rendered)? RenderedShape(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        bool[] rendered;
        try
        {
            command.CommandText = Subquery(sql, "*") + " LIMIT 0";
            using var reader = command.ExecuteReader();
            rendered = [.. Enumerable.Range(0, reader.FieldCount).Select(i => !IsPlain(reader, i))];
        }
        catch (DuckDBException)
        {
            return null;
        }

        if (!rendered.Contains(true))
        {
            return null;
        }

        var columns = new List<string>();
        try
        {
            command.CommandText = "DESCRIBE\n" + sql;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }
        }
        catch (DuckDBException)
        {
            return null;
        }

        return columns.Count == rendered.Length ? (columns, rendered) : null;
    }

    /// <summary>
    /// The rows of a subquery with other than plain columns: DuckDB itself writes those as text (its cast to VARCHAR,
    /// the text its CLI prints) and as JSON (<c>to_json</c>), so that every type, however nested, reads as DuckDB
    /// writes it.
    /// </summary>
    private static List<object?[]> RenderedRows(DuckDBConnection connection, string sql, bool[] rendered)
    {
        var select = rendered.Select((r, i) => r ? $"CAST(#{i + 1} AS VARCHAR), to_json(#{i + 1})" : $"#{i + 1}");
        using var command = connection.CreateCommand();
        command.CommandText = Subquery(sql, string.Join(", ", select));
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[rendered.Length];
            for (int i = 0, field = 0; i < row.Length; i++, field++)
            {
                if (!rendered[i])
                {
                    row[i] = reader.IsDBNull(field) ? null : reader.GetValue(field);
                }
                else
                {
                    row[i] = reader.IsDBNull(field) ? null : new RenderedValue(reader.GetString(field), reader.GetString(field + 1));
                    field++;
                }
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Every row of <paramref name="reader"/>: each cell null for NULL, else what <paramref name="cell"/> reads.</summary>
    private static List<object?[]> ReadRows(DuckDBDataReader reader, int width, Func<DuckDBDataReader, int, object?> cell)
    {
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[width];
            for (var i = 0; i < width; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : cell(reader, i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// A value of a statement DuckDB cannot take as a subquery, written from its .NET value: nested values in
    /// DuckDB's brackets (and as JSON arrays and objects), dates and times in ISO form, blobs escaped. Close to
    /// DuckDB's own text, not equal to it in every case (strings in a list are not quoted), which needs the subquery.
    /// </summary>
    private static RenderedValue Fallback(DuckDBDataReader reader, int column, string path)
    {
        object value;
        try
        {
            value = reader.GetValue(column);
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or OverflowException)
        {
            throw InputException.At(path, 0, 0, null, $"query failed: column {reader.GetName(column)}: {FirstLine(e.Message)}; written as a SELECT (FROM the table function) the query reads every type");
        }

        return new RenderedValue(FallbackText(value, nested: false), FallbackJson(value)?.ToJsonString() ?? "null");
    }

    private static JsonNode? FallbackJson(object? value) => value switch
    {
        System.Collections.IDictionary map => new JsonObject(map.Cast<System.Collections.DictionaryEntry>()
            .Select(e => KeyValuePair.Create(FallbackText(e.Key, nested: false), FallbackJson(e.Value)))),
        System.Collections.IList list => new JsonArray([.. list.Cast<object?>().Select(FallbackJson)]),
        _ => QueryResult.ScalarJson(value, v => FallbackText(v, nested: false)),
    };

    private static string FallbackText(object? value, bool nested) => value switch
    {
        null or DBNull => nested ? "NULL" : string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString("HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'),
        Stream stream => Blob(stream),
        System.Collections.IDictionary map => "{" + string.Join(", ", map.Cast<System.Collections.DictionaryEntry>()
            .Select(e => FallbackText(e.Key, nested: true) + "=" + FallbackText(e.Value, nested: true))) + "}",
        System.Collections.IList list => "[" + string.Join(", ", list.Cast<object?>().Select(v => FallbackText(v, nested: true))) + "]",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    // DuckDB's text of a blob: printable ASCII as is, other bytes (and the backslash, quotes) as \xHH.
    private static string Blob(Stream stream)
    {
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        var text = new StringBuilder();
        foreach (var b in bytes.ToArray())
        {
            if (b is >= 32 and <= 126 and not (byte)'\\' and not (byte)'\'' and not (byte)'"')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{b:X2}");
            }
        }

        return text.ToString();
    }

    /// <summary>Writes a table of a store as Parquet or CSV (with a header line).</summary>
    public static void Export(string path, string table, string format, string output)
    {
        if (format is not ("parquet" or "csv"))
        {
            throw InputException.At(null, 0, 0, "--format", $"expected parquet or csv, got \"{format}\"");
        }

        using var connection = SweepStore.OpenReadOnly(path);
        if (SweepStore.ReadColumns(connection, table).Count == 0)
        {
            throw InputException.At(path, 0, 0, "--table", $"no table \"{table}\"; the store has results, tasks and sweep");
        }

        // A total order, so an export depends only on the rows: a run's tasks by index.
        var order = table switch
        {
            SweepStore.MetaTable => "key",
            SweepStore.TasksTable => "run_key, task",
            _ => "run_key",
        };
        CopyTo(connection, $"SELECT * FROM {SweepStore.Quote(table)} ORDER BY {order}", format, output, "export", path);
    }

    /// <summary>
    /// The store's file writer: the rows of <paramref name="select"/> as Parquet or CSV (with a header line) into
    /// <paramref name="output"/>, through a temp file renamed over it. A failure that does not name the file
    /// being written happened reading: it is blamed on <paramref name="source"/> (the store), when there is one.
    /// <paramref name="parquetMetadata"/>: key-value metadata for a Parquet file's footer (DuckDB's KV_METADATA); CSV has no place for it.
    /// </summary>
    internal static void CopyTo(DuckDBConnection connection, string select, string format, string output, string what, string? source = null,
        IReadOnlyList<(string Key, string Value)>? parquetMetadata = null)
    {
        var options = format == "parquet" ? "FORMAT parquet" : "FORMAT csv, HEADER true";
        if (format == "parquet" && parquetMetadata is { Count: > 0 })
        {
            options += ", KV_METADATA {" + string.Join(", ", parquetMetadata.Select(kv => SweepStore.Literal(kv.Key) + ": " + SweepStore.Literal(kv.Value))) + "}";
        }

        OutputFile.WriteThroughFile(output, what, scratch =>
        {
            try
            {
                SweepStore.Execute(connection, $"COPY ({select}) TO {SweepStore.Literal(scratch)} ({options})");
            }
            catch (DuckDBException e) when (source is not null && !e.Message.Contains(scratch, StringComparison.Ordinal))
            {
                // A checksum mismatch or a short read: DuckDB names the store (or nothing), not the file it writes.
                throw InputException.At(ErrorText.Path(source), 0, 0, null, "the result store is damaged: " + FirstLine(e.Message) + "; run the sweep again into a new --db");
            }
            catch (DuckDBException e)
            {
                // The path was checked before the work (OutputFile.Check): a write that fails now is the disk's
                // (ENOSPC, EIO), EX_IOERR like any output, not bad input.
                throw new OutputFailedException($"{ErrorText.Path(output)}: cannot write the {what}: " + (SweepStore.IsWriteFailure(e) ? SweepStore.WriteFailureReason(e) : FirstLine(e.Message)), e);
            }
        });
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline];
    }
}
