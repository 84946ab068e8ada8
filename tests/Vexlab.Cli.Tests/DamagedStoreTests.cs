namespace Vexlab.Cli.Tests;

/// <summary>
/// A result store damaged on disk (cut short, a flipped bit) is bad input: resuming a sweep on it,
/// merging it or exporting it ends in one line and exit 2, never an internal error (exit 70).
/// </summary>
public sealed class DamagedStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vexlab-damaged-" + Guid.NewGuid().ToString("N"));

    public DamagedStoreTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(P("s.yaml"), "scenario: postcopy\nprotocols: [sync, ve, kvm-pf]\nseeds: 20\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("good.duckdb"), "--jobs", "1").ExitCode);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static void AssertOneLine(CliRunner.Result result, string what)
    {
        Assert.True(result.ExitCode is 0 or 2, $"{what}: exit {result.ExitCode}: {result.Stderr}");
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        if (result.ExitCode == 2)
        {
            Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        }
    }

    // A cut store was "not a sweep result store (no sweep table)" to merge and "query failed: IO Error: ..." to query,
    // where sweep run and results export said it was damaged.
    [Fact]
    public void Every_command_says_a_truncated_store_is_damaged()
    {
        var bytes = File.ReadAllBytes(P("good.duckdb"));
        File.WriteAllBytes(P("cut.duckdb"), bytes[..(bytes.Length / 3)]);
        var commands = new[]
        {
            new[] { "sweep", "merge", P("merged.duckdb"), P("cut.duckdb") },
            ["results", "query", P("cut.duckdb"), "select * from results"],
            ["results", "export", P("cut.duckdb"), "--format", "csv", "--out", P("x.csv")],
            ["plot", P("cut.duckdb"), "--kind", "stacked", "--out", P("x.svg")],
            ["report", P("cut.duckdb"), "--out", P("x.html")],
            ["sweep", "run", P("s.yaml"), "--db", P("cut.duckdb")],
        };
        foreach (var args in commands)
        {
            var result = CliRunner.RunFake(args);
            Assert.True(result.ExitCode == 2, $"{args[0]} {args[1]}: exit {result.ExitCode}: {result.Stderr}");
            Assert.StartsWith($"vexlab: {P("cut.duckdb")}: the result store is damaged: ", result.Stderr, StringComparison.Ordinal);
            AssertOneLine(result, args[0] + " " + args[1]);
        }

        Assert.False(File.Exists(P("merged.duckdb")));
    }

    [Fact]
    public void Resuming_on_a_truncated_store_is_one_line_and_exit_2()
    {
        var bytes = File.ReadAllBytes(P("good.duckdb"));
        File.WriteAllBytes(P("cut.duckdb"), bytes[..(bytes.Length / 3)]);
        var result = CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("cut.duckdb"));
        Assert.Equal(2, result.ExitCode);
        Assert.True(result.Stderr.StartsWith($"vexlab: {P("cut.duckdb")}: ", StringComparison.Ordinal), result.Stderr);
        AssertOneLine(result, "resume");
    }

    [Fact]
    public void A_store_with_one_flipped_bit_is_refused_as_damaged_by_merge_resume_and_export()
    {
        var bytes = File.ReadAllBytes(P("good.duckdb"));
        var damagedSeen = 0;
        var exportRefused = 0;

        // Every sixteenth 4 KiB block past the header: wherever the bit lands, never an internal error.
        for (var at = 8192 + 100; at < bytes.Length; at += 16 * 4096)
        {
            var flipped = (byte[])bytes.Clone();
            flipped[at] ^= 0x10;
            var shard = P("flip.duckdb");
            File.Delete(P("merged.duckdb"));
            File.WriteAllBytes(shard, flipped);
            var merge = CliRunner.Run("sweep", "merge", P("merged.duckdb"), shard);
            AssertOneLine(merge, "merge, bit at " + at);
            if (merge.ExitCode == 2 && merge.Stderr.Contains("damaged", StringComparison.Ordinal))
            {
                damagedSeen++;
                Assert.True(merge.Stderr.StartsWith($"vexlab: {shard}: ", StringComparison.Ordinal), merge.Stderr);
            }

            File.WriteAllBytes(shard, flipped);
            AssertOneLine(CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", shard), "resume, bit at " + at);
            File.WriteAllBytes(shard, flipped);
            var export = CliRunner.Run("results", "export", shard, "--format", "csv", "--out", P("x.csv"));
            AssertOneLine(export, "export, bit at " + at);
            if (export.ExitCode == 2)
            {
                // The damage is in the store: the error names it, never the --out file it could not write.
                exportRefused++;
                Assert.True(export.Stderr.StartsWith($"vexlab: {shard}: ", StringComparison.Ordinal), export.Stderr);
                Assert.DoesNotContain("x.csv", export.Stderr, StringComparison.Ordinal);
            }
        }

        Assert.True(damagedSeen > 0, "no flipped bit was found by the merge");
        Assert.True(exportRefused > 0, "no flipped bit was found by the export");
    }

    [Fact]
    public void Exporting_a_cut_store_names_the_store_not_the_out_file()
    {
        var bytes = File.ReadAllBytes(P("good.duckdb"));
        File.WriteAllBytes(P("cut.duckdb"), bytes[..(bytes.Length / 3)]);
        var result = CliRunner.Run("results", "export", P("cut.duckdb"), "--format", "csv", "--out", P("cut.csv"));
        Assert.Equal(2, result.ExitCode);
        Assert.True(result.Stderr.StartsWith($"vexlab: {P("cut.duckdb")}: ", StringComparison.Ordinal), result.Stderr);
        Assert.DoesNotContain("cut.csv", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("cut.csv")), "no export is left behind");
        AssertOneLine(result, "export");
    }

    [Fact]
    public void Exporting_into_a_missing_folder_names_the_out_file()
    {
        var result = CliRunner.Run("results", "export", P("good.duckdb"), "--format", "csv", "--out", P("missing/x.csv"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(P("missing/x.csv"), result.Stderr, StringComparison.Ordinal);
        AssertOneLine(result, "export");
    }

    // A file that is no database where a store is wanted, such as the store's own export: DuckDB scans a .csv or
    // .parquet path instead of opening it and said it "cannot launch an in-memory database in read-only mode".
    [Theory]
    [InlineData("x.csv", "results", "query", "{0}", "SELECT 1")]
    [InlineData("x.parquet", "results", "query", "{0}", "SELECT 1")]
    [InlineData("x.csv", "results", "export", "{0}", "--out", "{1}/y.csv")]
    [InlineData("x.parquet", "plot", "{0}", "--x", "seed", "--y", "seed", "--out", "{1}/p.png")]
    [InlineData("x.csv", "report", "{0}", "--out", "{1}/r.html")]
    [InlineData("x.csv", "sweep", "merge", "{1}/m.duckdb", "{0}")]
    [InlineData("x.csv", "sweep", "run", "{1}/s.yaml", "--db", "{0}")]
    [InlineData("x.yaml", "results", "query", "{0}", "SELECT 1")]
    public void A_file_that_is_no_database_is_not_a_result_store(string name, params string[] args)
    {
        if (name.EndsWith(".yaml", StringComparison.Ordinal))
        {
            File.WriteAllText(P(name), "not: a store\n");
        }
        else
        {
            Assert.Equal(0, CliRunner.Run("results", "export", P("good.duckdb"), "--out", P(name)).ExitCode);
        }

        var before = File.ReadAllBytes(P(name));
        var argv = args.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, a, P(name), _dir)).ToArray();
        var result = args[0] == "sweep" && args[1] == "run" ? CliRunner.RunFake(argv) : CliRunner.Run(argv);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {P(name)}: not a result store: a store is a DuckDB database, such as vexlab sweep run --db writes\n", result.Stderr);
        Assert.Equal(before, File.ReadAllBytes(P(name)));
    }

    // A folder given as a store read "no such result store"; an empty file reached DuckDB, which printed its own
    // message about opening an empty database read-only. Each is said as what it is, in one line, exit 2.
    [Theory]
    [InlineData("folder", "results", "query", "{0}", "SELECT 1")]
    [InlineData("folder", "results", "export", "{0}", "--out", "{1}/y.csv")]
    [InlineData("folder", "sweep", "merge", "{1}/m.duckdb", "{0}")]
    [InlineData("empty", "results", "query", "{0}", "SELECT 1")]
    [InlineData("empty", "results", "export", "{0}", "--out", "{1}/y.csv")]
    [InlineData("empty", "plot", "{0}", "--x", "seed", "--y", "seed", "--out", "{1}/p.png")]
    [InlineData("empty", "plot", "{0}", "--kind", "stacked", "--out", "{1}/p.png")]
    [InlineData("empty", "report", "{0}", "--out", "{1}/r.html")]
    [InlineData("empty", "sweep", "merge", "{1}/m.duckdb", "{0}")]
    public void A_folder_or_an_empty_file_is_said_to_be_no_result_store(string what, params string[] args)
    {
        var store = P(what == "folder" ? "adir" : "empty.duckdb");
        if (what == "folder")
        {
            Directory.CreateDirectory(store);
        }
        else
        {
            File.WriteAllBytes(store, []);
        }

        var argv = args.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, a, store, _dir)).ToArray();
        var result = CliRunner.Run(argv);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            what == "folder"
                ? $"vexlab: {store}: is a folder, not a result store\n"
                : $"vexlab: {store}: is an empty file, not a result store (a store is a DuckDB database, such as vexlab sweep run --db writes)\n",
            result.Stderr);
        Assert.False(File.Exists(P("m.duckdb")) || File.Exists(P("y.csv")) || File.Exists(P("p.png")) || File.Exists(P("r.html")), "no output is left behind");
    }
}
