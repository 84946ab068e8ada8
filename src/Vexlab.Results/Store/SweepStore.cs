using System.Data.Common;
using System.Globalization;
using DuckDB.NET.Data;
using Vexlab.Model.Configuration;
using Vexlab.Results.Sweeps;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;

namespace Vexlab.Results.Store;

/// <summary>
/// The result store: one embedded DuckDB file with the tables <c>sweep</c> (key/value metadata:
/// the sweep's hash, name, definition), <c>results</c> (one row per run) and <c>tasks</c> (one row
/// per task of each run). Each run is written in its own transaction, so a killed sweep keeps every
/// finished run. Columns are added as results bring new fields; numbers stay BIGINT or DOUBLE.
/// Not thread-safe: one writer at a time.
/// </summary>
public sealed class SweepStore : IDisposable
{
    public const string MetaTable = "sweep";
    public const string ResultsTable = "results";
    public const string TasksTable = "tasks";

    /// <summary>Metadata: the number of runs of the whole sweep (points x seeds x protocol entries).</summary>
    public const string RunsKey = "sweep_runs";

    /// <summary>Metadata: the shard (<c>I/N</c>) whose runs the store holds; absent when it holds runs of several.</summary>
    public const string ShardKey = "shard";

    /// <summary>Metadata: the number of runs of that shard.</summary>
    public const string ShardRunsKey = "shard_runs";

    /// <summary>
    /// Metadata: the form of the store's run keys (<see cref="SweepRun.KeyVersion"/>); absent in a store written
    /// before keys covered the base scenario.
    /// </summary>
    public const string RunKeyVersionKey = "run_key_version";

    private readonly DuckDBConnection _connection;
    private readonly Dictionary<string, Dictionary<string, Column>> _columns = new(StringComparer.Ordinal);

    /// <summary>True once a write added a column: the table is put back in its fixed order before commit.</summary>
    private bool _columnAdded;

    private SweepStore(string path, DuckDBConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    public string Path { get; }

    internal DuckDBConnection Connection => _connection;

    /// <summary>Opens (creating if needed) a store for writing.</summary>
    public static SweepStore Open(string path) => Open(path, path);

    /// <summary>
    /// Creates the store at <paramref name="path"/> when there is none, set up by <paramref name="prepare"/> (the sweep
    /// row, the axis columns), whole or not at all: it is built under a temporary name beside <paramref name="path"/>
    /// and renamed into place once complete. Built in place, a Ctrl-C or a kill while it was set up left a store with
    /// an empty sweep table and tables without the axis columns, which a later export wrote as if whole and a merge
    /// took for a file of another kind. Returns false, doing nothing, when <paramref name="path"/> exists.
    /// </summary>
    public static bool Create(string path, Action<SweepStore> prepare)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(prepare);
        if (File.Exists(path) || Directory.Exists(path))
        {
            return false;
        }

        OutputFile.WriteThroughFile(path, "result store", scratch =>
        {
            try
            {
                using var store = Open(scratch, path);
                prepare(store);

                // Into the database file: the renamed file is then the whole store, with no log beside it to replay.
                store.Execute("CHECKPOINT");
            }
            finally
            {
                // DuckDB's log beside the scratch file, if a failure left one; the scratch file is removed by the caller.
                try
                {
                    File.Delete(scratch + ".wal");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        });
        return true;
    }

    /// <summary>Opens <paramref name="file"/>, named <paramref name="shown"/> in messages (the store it is built to become).</summary>
    private static SweepStore Open(string file, string shown)
    {
        var store = new SweepStore(shown, Connect(file, readOnly: false));
        try
        {
            store.Execute($"CREATE TABLE IF NOT EXISTS {MetaTable} (key VARCHAR, value VARCHAR)");
            store.Execute($"CREATE TABLE IF NOT EXISTS {ResultsTable} (run_key VARCHAR, protocol VARCHAR, variant VARCHAR, seed BIGINT, scenario_hash VARCHAR, vexlab_version VARCHAR)");
            store.Execute($"CREATE TABLE IF NOT EXISTS {TasksTable} (run_key VARCHAR, protocol VARCHAR, variant VARCHAR, seed BIGINT, task BIGINT)");
            store.LoadColumns(ResultsTable);
            store.LoadColumns(TasksTable);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens an existing store read-only; a missing file, a folder or an empty file is bad input, said as what it is:
    /// a folder once read as "no such result store", and an empty file reached DuckDB, whose refusal to open an
    /// empty database read-only came out as its own multi-clause message.
    /// </summary>
    public static DuckDBConnection OpenReadOnly(string path)
    {
        if (NotAStore(path) is { } what)
        {
            throw InputException.At(path, 0, 0, null, what);
        }

        return Connect(path, readOnly: true);
    }

    /// <summary>Why <paramref name="path"/> cannot be a store to read (absent, a folder, empty), or null when it may be one.</summary>
    public static string? NotAStore(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            return "is a folder, not a result store";
        }

        if (!File.Exists(path))
        {
            return "no such result store";
        }

        try
        {
            // A store always holds DuckDB's header blocks; an empty file is what a failed or an unrelated write left.
            return new FileInfo(path).Length == 0 ? "is an empty file, not a result store (a store is a DuckDB database, such as vexlab sweep run --db writes)" : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static DuckDBConnection Connect(string path, bool readOnly)
    {
        // DuckDB takes a path ending in .csv or .parquet for a file to scan, not a database, and then fails to
        // "launch an in-memory database in read-only mode": a file that is not a database is said to be one first.
        if (ExistsWithoutDatabaseHeader(path))
        {
            throw InputException.At(path, 0, 0, null, "not a result store: a store is a DuckDB database, such as vexlab sweep run --db writes");
        }

        var builder = new DuckDBConnectionStringBuilder { DataSource = path };
        if (readOnly)
        {
            builder["ACCESS_MODE"] = "READ_ONLY";
        }

        var connection = new DuckDBConnection(builder.ConnectionString);
        try
        {
            connection.Open();
        }
        catch (DuckDBException e)
        {
            connection.Dispose();
            throw InputException.At(path, 0, 0, null, InUse(e.Message) ?? "cannot open the result store: " + e.Message.ReplaceLineEndings(" "));
        }

        return connection;
    }

    /// <summary>
    /// "the result store is in use by process N; ...", for DuckDB's refusal of a file another process holds open
    /// ("IO Error: Could not set lock on file ...: Conflicting lock is held in /usr/share/dotnet/dotnet (PID N).
    /// See also https://duckdb.org/..."), which named the other program by the runtime's path, not the store;
    /// null for any other error. DuckDB takes one process's writer or any number of readers (its concurrency
    /// page), so a query while a sweep writes, or a sweep while a query reads, is refused.
    /// </summary>
    public static string? InUse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.Contains("Could not set lock on file", StringComparison.Ordinal))
        {
            return null;
        }

        const string Pid = "(PID ";
        var at = message.IndexOf(Pid, StringComparison.Ordinal);
        var end = at < 0 ? -1 : message.IndexOf(')', at);
        var by = end > at + Pid.Length && int.TryParse(message.AsSpan(at + Pid.Length, end - at - Pid.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? "process " + pid.ToString(CultureInfo.InvariantCulture)
            : "another process";
        return $"the result store is in use by {by} (a store is one process's to write); try again when it has finished";
    }

    /// <summary>
    /// A non-empty file without DuckDB's magic, "DUCK" at byte 8 of its header (after the header's checksum); an
    /// empty or absent file is DuckDB's to make.
    /// </summary>
    private static bool ExistsWithoutDatabaseHeader(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length == 0)
            {
                return false;
            }

            Span<byte> header = stackalloc byte[12];
            return stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header[8..].SequenceEqual("DUCK"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Absent, a folder, or unreadable: DuckDB's own error says which.
            return false;
        }
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>A metadata value, or null.</summary>
    public string? GetMeta(string key) => GetMeta(_connection, key);

    internal static string? GetMeta(DuckDBConnection connection, string key, string schema = "")
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT value FROM {schema}{MetaTable} WHERE key = $key";
        command.Parameters.Add(new DuckDBParameter("key", key));
        return command.ExecuteScalar() as string;
    }

    public void SetMeta(string key, string value)
    {
        using var transaction = _connection.BeginTransaction();
        using (var delete = _connection.CreateCommand())
        {
            delete.CommandText = $"DELETE FROM {MetaTable} WHERE key = $key";
            delete.Parameters.Add(new DuckDBParameter("key", key));
            delete.ExecuteNonQuery();
        }

        using (var insert = _connection.CreateCommand())
        {
            insert.CommandText = $"INSERT INTO {MetaTable} VALUES ($key, $value)";
            insert.Parameters.Add(new DuckDBParameter("key", key));
            insert.Parameters.Add(new DuckDBParameter("value", value));
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>
    /// Records that the store is no one shard: it holds runs of several (a merge's output, or a shard run into a
    /// store of another), so its <see cref="ShardKey"/> and <see cref="ShardRunsKey"/> would say less than it holds.
    /// Only <see cref="RunsKey"/>, the sweep's count, is left to hold it against.
    /// </summary>
    public void ForgetShard()
    {
        using var delete = _connection.CreateCommand();
        delete.CommandText = $"DELETE FROM {MetaTable} WHERE key IN ($shard, $runs)";
        delete.Parameters.Add(new DuckDBParameter("shard", ShardKey));
        delete.Parameters.Add(new DuckDBParameter("runs", ShardRunsKey));
        delete.ExecuteNonQuery();
    }

    /// <summary>
    /// Ties the store to <paramref name="sweep"/>. A store holding runs of a different sweep (another
    /// hash) is refused unless <paramref name="force"/>; then the rows of runs the new sweep does not
    /// have are deleted and the new definition recorded. A run key covers the base scenario after the
    /// overrides as well as the point, seed and protocol entry, so a changed duration or <c>--set</c>
    /// leaves no run to keep, and a changed axis value only the points it changes. A store of another
    /// sweep that holds no run (that sweep stopped before its first run finished) has nothing to lose
    /// and is taken over. A store whose keys are of an older form (<see cref="RunKeyVersionKey"/>)
    /// cannot be matched run by run: it is refused, or with <paramref name="force"/> emptied.
    /// Returns the number of runs deleted.
    /// </summary>
    public long Bind(SweepDefinition sweep, bool force)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var hash = sweep.ComputeHash();
        var existing = GetMeta("sweep_hash");
        var held = RunCount();
        long removed = 0;
        if (held > 0 && !HasCurrentKeys(GetMeta(RunKeyVersionKey)))
        {
            if (!force)
            {
                throw InputException.At(
                    Path, 0, 0, null,
                    string.Create(CultureInfo.InvariantCulture, $"holds {held} runs written by an older vexlab, whose run keys did not cover the base scenario (the duration, the set overrides), so none can be told to be a run of this sweep: pass --force to remove them and run the sweep again, or use another --db"));
            }

            removed = DeleteRunsNotIn([]);
        }
        else if (existing is not null && existing != hash && held > 0)
        {
            var keep = SweepPlan.Runs(sweep).Select(r => r.RunKey).ToHashSet(StringComparer.Ordinal);
            if (!force)
            {
                var kept = string.Create(CultureInfo.InvariantCulture, $"{RunKeys().Count(keep.Contains)} of its {held} runs");

                // The same name is most often the same file edited; another name is another sweep, not a change.
                var name = GetMeta("sweep_name");
                throw InputException.At(
                    Path, 0, 0, null,
                    name == sweep.Name
                        ? $"holds results of sweep {name} as it was (hash {existing[..12]}); it has changed since (hash {hash[..12]}): pass --force to keep the runs that still match ({kept}) and run the rest, or use another --db"
                        : $"holds results of a different sweep, {name} (hash {existing[..12]}), not {sweep.Name} (hash {hash[..12]}): use another --db, or pass --force to keep the runs that {sweep.Name} has too ({kept}) and run the rest");
            }

            removed = DeleteRunsNotIn(keep);
        }

        SetMeta("sweep_hash", hash);
        SetMeta("sweep_name", sweep.Name);
        SetMeta("sweep_source", sweep.Source);
        SetMeta("sweep_definition", sweep.ToCanonicalText());
        SetMeta(RunKeyVersionKey, SweepRun.KeyVersion.ToString(CultureInfo.InvariantCulture));
        return removed;
    }

    /// <summary>True when a store's recorded <see cref="RunKeyVersionKey"/> is the form this vexlab computes.</summary>
    public static bool HasCurrentKeys(string? runKeyVersion) =>
        runKeyVersion == SweepRun.KeyVersion.ToString(CultureInfo.InvariantCulture);

    /// <summary>The number of runs in <c>results</c>.</summary>
    public long RunCount()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {ResultsTable}";
        return System.Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The run keys already in <c>results</c>.</summary>
    public HashSet<string> RunKeys() => RunKeys(_connection);

    internal static HashSet<string> RunKeys(DuckDBConnection connection)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT run_key FROM {ResultsTable}";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    /// <summary>
    /// Gives <c>results</c> and <c>tasks</c> a column for every axis of <paramref name="sweep"/>, typed to hold all of
    /// its values (every shard's), before any run is written: a shard that gets no run, or whose runs all fail, still
    /// has the axis columns, so its export and a query of them read as every other shard's. Columns only a run's JSON
    /// names still come with the first run that has them.
    /// </summary>
    public void DeclareAxisColumns(SweepDefinition sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        InTransaction(() =>
        {
            foreach (var axis in sweep.Axes)
            {
                foreach (var column in axis.ColumnValues())
                {
                    EnsureColumn(ResultsTable, axis.Name, column);
                    EnsureColumn(TasksTable, axis.Name, column);
                }
            }
        });
    }

    /// <summary>Writes one run (its result row and task rows) in one transaction.</summary>
    public void Write(RunRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        InTransaction(() =>
        {
            Insert(ResultsTable, row.Result);
            foreach (var task in row.Tasks)
            {
                Insert(TasksTable, task);
            }
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/> in one transaction, puts the tables back in their fixed column order if it added a
    /// column, and commits; on a failure rolls back (with the column types it changed) and says a refused write as one.
    /// </summary>
    private void InTransaction(Action body)
    {
        using var transaction = _connection.BeginTransaction();
        try
        {
            body();
            if (_columnAdded)
            {
                Reorder(ResultsTable);
                Reorder(TasksTable);
                _columnAdded = false;
            }

            transaction.Commit();
        }
        catch (Exception e)
        {
            _columnAdded = false;
            try
            {
                // Column types changed inside the transaction are rolled back: reload them.
                transaction.Rollback();
                _columns.Clear();
                LoadColumns(ResultsTable);
                LoadColumns(TasksTable);
            }
            catch (Exception cleanup) when (cleanup is InvalidOperationException or DuckDBException)
            {
                // A commit that failed (a full disk) has ended the transaction, and DuckDB may have closed the
                // database: the write's own error is the one to report, not "Transaction has already been finished".
            }

            if (e is DuckDBException duckdb && IsWriteFailure(duckdb))
            {
                throw new OutputFailedException($"{ErrorText.Path(Path)}: cannot write the result store: {WriteFailureReason(duckdb)}; the runs written before are in it", e);
            }

            throw;
        }
    }

    /// <summary>
    /// True for DuckDB's error on a write the file system refused (ENOSPC, EDQUOT, EFBIG), as against a store
    /// damaged on disk, which fails a read ("IO Error: ... checksum"): the first is the disk's, the second the input's.
    /// A failed commit says it as "TransactionContext Error: Failed to commit: Could not write file ...".
    /// </summary>
    public static bool IsWriteFailure(DuckDBException e) =>
        e is not null
        && (e.Message.Contains("Could not write", StringComparison.Ordinal)
            || e.Message.Contains("No space left on device", StringComparison.Ordinal)
            || e.Message.Contains("Disk quota exceeded", StringComparison.Ordinal)
            || e.Message.Contains("File too large", StringComparison.Ordinal));

    /// <summary>The operating system's words at the end of DuckDB's first line (<c>...: No space left on device</c>).</summary>
    public static string WriteFailureReason(DuckDBException e)
    {
        var line = e.Message.Split('\n')[0];
        var colon = line.LastIndexOf(": ", StringComparison.Ordinal);
        return colon < 0 ? line : line[(colon + 2)..];
    }

    /// <summary>
    /// Deletes the runs whose key is not in <paramref name="keep"/>, in one transaction. The keys go into a
    /// scratch table and each table is deleted from once: one DELETE per run and table took 26 s for the
    /// 10,000 runs a changed duration leaves stale, now that a changed base changes every key.
    /// </summary>
    private long DeleteRunsNotIn(HashSet<string> keep)
    {
        var stale = RunKeys().Where(k => !keep.Contains(k)).ToList();
        if (stale.Count == 0)
        {
            return 0;
        }

        const string Scratch = "stale_runs";
        using var transaction = _connection.BeginTransaction();
        Execute($"CREATE TEMP TABLE {Scratch} (run_key VARCHAR)");
        foreach (var chunk in stale.Chunk(1000))
        {
            Execute($"INSERT INTO {Scratch} VALUES {string.Join(", ", chunk.Select(k => "(" + Literal(k) + ")"))}");
        }

        foreach (var table in new[] { ResultsTable, TasksTable })
        {
            Execute($"DELETE FROM {table} WHERE run_key IN (SELECT run_key FROM {Scratch})");
        }

        Execute($"DROP TABLE {Scratch}");
        transaction.Commit();
        return stale.Count;
    }

    private void Insert(string table, IReadOnlyList<KeyValuePair<string, object>> values)
    {
        var names = new List<string>(values.Count);
        foreach (var (name, value) in values)
        {
            names.Add(EnsureColumn(table, name, value));
        }

        using var command = _connection.CreateCommand();
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", names.Select(Quote))}) VALUES ({string.Join(", ", names.Select(_ => "?"))})";
        for (var i = 0; i < values.Count; i++)
        {
            var column = _columns[table][names[i]];
            command.Parameters.Add(new DuckDBParameter(Convert(values[i].Value, column.Type)));
        }

        command.ExecuteNonQuery();
    }

    /// <summary>Adds or widens a column so it holds <paramref name="value"/>; returns the column's stored name.</summary>
    private string EnsureColumn(string table, string name, object value)
    {
        var columns = _columns[table];
        var wanted = TypeOf(value);
        if (!columns.TryGetValue(name, out var column))
        {
            var existing = columns.Values.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
            if (existing is null)
            {
                Execute($"ALTER TABLE {table} ADD COLUMN {Quote(name)} {wanted}");
                columns[name] = new Column(name, wanted);
                _columnAdded = true;
                return name;
            }

            column = existing;
        }

        if (value is DBNull)
        {
            // A NULL fits any column: it never widens one.
            return column.Name;
        }

        var widened = Widen(column.Type, wanted);
        if (widened != column.Type)
        {
            Execute($"ALTER TABLE {table} ALTER COLUMN {Quote(column.Name)} TYPE {widened}");
            columns[column.Name] = column with { Type = widened };
        }

        return column.Name;
    }

    /// <summary>
    /// The fixed column order of <paramref name="table"/>: the run's identity (<c>run_key</c>, the
    /// axis columns in axis order, <c>protocol</c>, <c>variant</c>, <c>seed</c>, then
    /// <c>scenario_hash</c> and <c>vexlab_version</c> for results, <c>task</c> for tasks), then
    /// every other column by name. Columns arrive with the runs that first bring them, in whatever
    /// order runs finish; this order depends only on which columns exist, so two identical sweeps
    /// (any --jobs, any shards merged in any order) have identical tables and exports.
    /// </summary>
    public static IReadOnlyList<string> FixedOrder(string table, IEnumerable<string> columns, IReadOnlyList<string> axes)
    {
        var present = new HashSet<string>(columns, StringComparer.Ordinal);
        string[] tail = table == TasksTable ? ["task"] : ["scenario_hash", "vexlab_version"];
        var head = new List<string> { "run_key" };
        head.AddRange(axes);
        head.AddRange(["protocol", "variant", "seed", .. tail]);
        head.RemoveAll(c => !present.Contains(c));
        var inHead = new HashSet<string>(head, StringComparer.Ordinal);
        return [.. head, .. present.Where(c => !inHead.Contains(c)).Order(StringComparer.Ordinal)];
    }

    /// <summary>Rebuilds <paramref name="table"/> in <see cref="FixedOrder"/> when its columns are not in it.</summary>
    internal void Reorder(string table)
    {
        var current = ColumnOrder(_connection, table);
        var wanted = FixedOrder(table, current, AxisNames(GetMeta("sweep_definition")));
        if (current.SequenceEqual(wanted, StringComparer.Ordinal))
        {
            return;
        }

        var scratch = Quote(table + "__ordered");
        Execute($"CREATE TABLE {scratch} AS SELECT {string.Join(", ", wanted.Select(Quote))} FROM {table}");
        Execute($"DROP TABLE {table}");
        Execute($"ALTER TABLE {scratch} RENAME TO {table}");
        LoadColumns(table);
    }

    /// <summary>The axis names of a sweep's canonical text (its <c>axis=NAME;...</c> lines).</summary>
    internal static IReadOnlyList<string> AxisNames(string? definition)
    {
        var names = new List<string>();
        foreach (var line in (definition ?? string.Empty).Split('\n'))
        {
            if (line.StartsWith("axis=", StringComparison.Ordinal))
            {
                var end = line.IndexOf(';', StringComparison.Ordinal);
                names.Add(end < 0 ? line[5..] : line[5..end]);
            }
        }

        return names;
    }

    internal static List<string> ColumnOrder(DuckDBConnection connection, string table)
    {
        var names = new List<string>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT column_name FROM information_schema.columns WHERE table_name = $t AND table_catalog = current_database() ORDER BY ordinal_position";
        command.Parameters.Add(new DuckDBParameter("t", table));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    internal static string Widen(string current, string incoming) => (current, incoming) switch
    {
        _ when current == incoming => current,
        ("DOUBLE", "BIGINT") => "DOUBLE",
        ("BIGINT", "DOUBLE") => "DOUBLE",
        _ => "VARCHAR",
    };

    internal static string TypeOf(object value) => value switch
    {
        long or int or DBNull => "BIGINT",
        double => "DOUBLE",
        bool => "BOOLEAN",
        _ => "VARCHAR",
    };

    private static object Convert(object value, string type) => (type, value) switch
    {
        ("DOUBLE", long l) => (double)l,
        ("VARCHAR", string s) => s,
        ("VARCHAR", double d) => d.ToString("R", CultureInfo.InvariantCulture),
        ("VARCHAR", bool b) => b ? "true" : "false",
        ("VARCHAR", IFormattable f) => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value,
    };

    private void LoadColumns(string table) => _columns[table] = ReadColumns(_connection, table);

    internal static Dictionary<string, Column> ReadColumns(DuckDBConnection connection, string table, string catalog = "")
    {
        var columns = new Dictionary<string, Column>(StringComparer.Ordinal);
        using var command = connection.CreateCommand();
        command.CommandText = catalog.Length == 0
            ? "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t AND table_catalog = current_database() ORDER BY ordinal_position"
            : "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t AND table_catalog = $c ORDER BY ordinal_position";
        command.Parameters.Add(new DuckDBParameter("t", table));
        if (catalog.Length > 0)
        {
            command.Parameters.Add(new DuckDBParameter("c", catalog));
        }

        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var name = reader.GetString(0);
            columns[name] = new Column(name, reader.GetString(1));
        }

        return columns;
    }

    internal void Execute(string sql) => Execute(_connection, sql);

    internal static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>A quoted SQL identifier.</summary>
    public static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A quoted SQL string literal.</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    internal sealed record Column(string Name, string Type);
}
