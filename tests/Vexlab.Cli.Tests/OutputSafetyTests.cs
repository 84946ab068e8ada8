using System.Diagnostics;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli.Tests;

/// <summary>
/// Every file output goes through one writer: a temp file renamed over a regular file or a
/// missing path, devices and FIFOs written in place and never replaced, bad paths refused before
/// the work, a failing stdout reported in one line.
/// </summary>
public sealed class OutputSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-out-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static string VexlabDll => Path.Combine(AppContext.BaseDirectory, "vexlab.dll");

    [Fact]
    public void A_regular_file_is_replaced_whole_and_no_temp_file_is_left()
    {
        File.WriteAllText(P("r.json"), "old");
        var result = CliRunner.Run("explain", "bugs", "--json", P("r.json"));
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("{", File.ReadAllText(P("r.json")), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void A_symlink_to_a_device_is_written_through_and_stays_a_symlink()
    {
        File.CreateSymbolicLink(P("null.json"), "/dev/null");
        var result = CliRunner.Run("explain", "bugs", "--json", P("null.json"));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("/dev/null", new FileInfo(P("null.json")).LinkTarget);
        Assert.Equal(FileKind.Special, FileKinds.Of("/dev/null"));
    }

    [Fact]
    public void A_symlink_to_dev_stdout_is_written_in_place()
    {
        File.CreateSymbolicLink(P("out.json"), "/dev/stdout");
        var run = Start(["explain", "bugs", "--json", P("out.json")]);
        var stdout = run.StandardOutput.ReadToEnd();
        run.WaitForExit();
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("\"schema_version\"", stdout, StringComparison.Ordinal);
        Assert.Equal("/dev/stdout", new FileInfo(P("out.json")).LinkTarget);
    }

    [Fact]
    public async Task A_fifo_is_written_in_place_and_stays_a_fifo()
    {
        using (var mkfifo = Process.Start("mkfifo", P("pipe")))
        {
            mkfifo.WaitForExit();
        }

        var reader = Task.Factory.StartNew(() => File.ReadAllText(P("pipe")), TaskCreationOptions.LongRunning);
        var result = CliRunner.Run("explain", "bugs", "--json", P("pipe"));
        Assert.Equal(0, result.ExitCode);
        var text = await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("\"schema_version\"", text, StringComparison.Ordinal);
        Assert.Equal(FileKind.Special, FileKinds.Of(P("pipe")));
    }

    [Theory]
    [InlineData("--json")]
    [InlineData("--trace")]
    public void A_missing_folder_is_refused_before_any_work(string option)
    {
        var target = P("missing/out.json");
        var result = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", option, target);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal($"vexlab: {target}: cannot write the {(option == "--json" ? "JSON result" : "trace")}: the folder {P("missing")} does not exist\n", result.Stderr);
    }

    [Fact]
    public void A_folder_as_output_and_an_empty_name_are_refused()
    {
        Assert.Equal($"vexlab: {_dir}: is a folder, not a file for the JSON result\n", CliRunner.Run("explain", "bugs", "--json", _dir).Stderr);
        var empty = CliRunner.Run("explain", "bugs", "--json", string.Empty);
        Assert.Equal(2, empty.ExitCode);
        Assert.Equal("vexlab: --json: the value is empty\n", empty.Stderr);
    }

    [Fact]
    public void Dev_full_as_a_trace_target_is_one_line_and_exit_74()
    {
        var result = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms", "--trace", "/dev/full");
        Assert.Equal(74, result.ExitCode);
        Assert.Matches("\nvexlab: /dev/full: cannot write the trace: No space left on device[^\n]*\n$", result.Stderr);
    }

    // check --trace writes its counterexample through the JSON result's writer, which named it "the JSON result".
    [Fact]
    public void Dev_full_as_a_check_trace_names_the_trace()
    {
        var result = CliRunner.Run("check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--trace", "/dev/full");
        Assert.Equal(74, result.ExitCode);
        Assert.Matches("\nvexlab: /dev/full: cannot write the trace: No space left on device[^\n]*\n$", result.Stderr);
    }

    [Fact]
    public void A_kill_mid_write_leaves_the_previous_file_whole()
    {
        // The previous file is a trace of a short run: any other content is refused as a file of another kind (exit 2)
        // before the run starts, and the kill then landed on a process that had ended.
        var trace = P("t.json");
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "1ms", "--trace", trace).ExitCode);
        var previous = File.ReadAllText(trace);
        using var run = Start(["run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "600s", "--trace", trace]);
        var deadline = Stopwatch.StartNew();
        var writing = false;
        try
        {
            // Wait until the trace is being written (its temp file grows), then kill.
            while (!writing && deadline.Elapsed < TimeSpan.FromSeconds(60) && !run.HasExited)
            {
                writing = Directory.GetFiles(_dir, ".t.json.tmp-*").Any(f => LengthOrZero(f) > 100_000);
                Thread.Sleep(50);
            }
        }
        finally
        {
            run.Kill();
            run.WaitForExit();
        }

        // Without this the kill could land before any write, and the test would pass without testing anything.
        Assert.True(writing, "the trace's temp file never passed 100 KB before the kill");
        Assert.Equal(previous, File.ReadAllText(trace));
    }

    [Theory]
    [InlineData("> /dev/full")]
    [InlineData(">&-")]
    public void A_full_or_closed_stdout_ends_in_one_line_and_exit_74(string redirect)
    {
        var info = new ProcessStartInfo("sh") { RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"exec dotnet \"{VexlabDll}\" explain rules {redirect}");
        using var run = Process.Start(info)!;
        var stderr = run.StandardError.ReadToEnd();
        run.WaitForExit();
        Assert.Equal(74, run.ExitCode);
        Assert.Matches("^vexlab: cannot write standard output: [^\n]+\n$", stderr);
    }

    /// <summary>
    /// A pipe whose reader has gone (<c>vexlab compare --json - | true</c>, the reader ended before vexlab wrote): .NET's
    /// console stream takes EPIPE as success, and the result was lost with exit 0 and nothing said.
    /// </summary>
    [Theory]
    [InlineData("explain rules")]
    [InlineData("compare --builtin postcopy --duration 1ms --json -")]
    public void A_pipe_whose_reader_left_ends_in_one_line_and_exit_74(string command)
    {
        using (var mkfifo = Process.Start("mkfifo", P("pipe")))
        {
            mkfifo.WaitForExit();
        }

        // Opened for reading and writing first, the FIFO takes a writer without waiting for a reader; with that descriptor
        // closed, descriptor 4 is a pipe with no reader left before vexlab starts, whatever the timing.
        var info = new ProcessStartInfo("sh") { RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"exec 3<>\"$0\" 4>\"$0\" 3<&- && exec dotnet \"{VexlabDll}\" {command} >&4 4>&-");
        info.ArgumentList.Add(P("pipe"));
        using var run = Process.Start(info)!;
        var stderr = run.StandardError.ReadToEnd();
        run.WaitForExit();
        Assert.True(run.ExitCode == 74, $"exit {run.ExitCode}: {stderr}");
        Assert.EndsWith("\nvexlab: cannot write standard output: Broken pipe\n", "\n" + stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("vexlab: cannot", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Standard output redirected to a file by a shell that writes there too shares its offset: a FileStream over
    /// descriptor 1 writes a regular file with pwrite(2) at an offset of its own, and the shell's next line would have
    /// been written over vexlab's output.
    /// </summary>
    [Fact]
    public void Standard_output_to_a_file_keeps_the_shells_lines_before_and_after_it()
    {
        var info = new ProcessStartInfo("sh") { RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"{{ echo first; dotnet \"{VexlabDll}\" explain bugs --json -; echo last; }} > \"$0\"");
        info.ArgumentList.Add(P("out.txt"));
        using var run = Process.Start(info)!;
        var stderr = run.StandardError.ReadToEnd();
        run.WaitForExit();
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {stderr}");
        var text = File.ReadAllText(P("out.txt"));
        Assert.StartsWith("first\n{", text, StringComparison.Ordinal);
        Assert.EndsWith("}\nlast\n", text, StringComparison.Ordinal);
        using var doc = System.Text.Json.JsonDocument.Parse(text["first\n".Length..^"last\n".Length]);
        Assert.Equal(1, doc.RootElement.GetProperty("schema_version").GetInt32());
    }

    /// <summary>
    /// Standard error is for people: a closed or full one loses the messages, the progress and the replay line, not the
    /// result. It ended run, check and validate with SIGABRT (exit 134) and wrote no result, stdout or --json.
    /// </summary>
    [Theory]
    [InlineData("2>&-", "run --builtin postcopy --protocol sync --duration 1ms --json -", 0)]
    [InlineData("2>/dev/full", "run --builtin postcopy --protocol sync --duration 1ms --json -", 0)]
    [InlineData("2>&-", "check --builtin nmi-host-fault --protocol ve --json -", 1)]
    [InlineData("2>&-", "check --builtin token-wrap --protocol kvm-pf --json -", 0)]
    public void A_closed_or_full_stderr_loses_no_result(string redirect, string command, int code)
    {
        var info = new ProcessStartInfo("sh") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"exec dotnet \"{VexlabDll}\" {command} {redirect}");
        using var run = Process.Start(info)!;
        var stdout = run.StandardOutput.ReadToEnd();
        run.WaitForExit();
        Assert.Equal(code, run.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("complete").GetBoolean());
        Assert.StartsWith("vexlab ", doc.RootElement.GetProperty("replay").GetString());
    }

    [Fact]
    public void A_closed_stderr_leaves_a_bad_input_its_exit_code()
    {
        var info = new ProcessStartInfo("sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"exec dotnet \"{VexlabDll}\" validate {P("missing.yaml")} 2>&-");
        using var run = Process.Start(info)!;
        run.WaitForExit();
        Assert.Equal(2, run.ExitCode);
    }

    [Fact]
    public void A_full_disk_under_a_timeline_is_one_line_and_exit_74()
    {
        // A symlink to /dev/full is written in place; DuckDB's COPY fails there as on a full disk. It was exit 2 with
        // the message said twice, as if the path were bad input.
        File.CreateSymbolicLink(P("full.csv"), "/dev/full");
        var result = CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "1ms", "--timeline", P("full.csv"));
        Assert.Equal(74, result.ExitCode);
        Assert.Matches($"\nvexlab: {System.Text.RegularExpressions.Regex.Escape(P("full.csv"))}: cannot write the timeline: No space left on device\n$", result.Stderr);
    }

    [Fact]
    public void A_full_disk_under_a_sweep_store_is_one_line_and_exit_74_and_keeps_the_runs_written()
    {
        // The file-size limit fails writes past it with EFBIG, as a full disk fails them with ENOSPC, without root.
        // A failed commit used to end in "internal error: Transaction has already been finished" (exit 70).
        var db = P("s.duckdb");
        var sweep = Path.Combine(RepositoryRoot.Path, "docs", "examples", "mini.yaml");

        // The store is made first, without the limit: a new store is put in place whole, checkpointed (about 1.5 MB
        // of blocks for DuckDB), so under 150 KiB the sweep would stop before it exists (exit 74, no file), and the
        // fill that this test is about comes as the runs' log grows, as a disk fills during a long sweep.
        Assert.Equal(0, CliRunner.Run("sweep", "run", sweep, "--db", db, "--jobs", "1", "--shard", "1/10").ExitCode);
        var (code, stderr) = RunWithFileSizeLimit(150, "sweep", "run", sweep, "--db", db, "--jobs", "1");
        Assert.Equal(74, code);
        Assert.DoesNotContain("internal error", stderr, StringComparison.Ordinal);
        Assert.EndsWith($"vexlab: {db}: cannot write the result store: File too large; the runs written before are in it\n", stderr, StringComparison.Ordinal);
        var count = CliRunner.Run("results", "query", db, "select count(*) as n from results", "--format", "csv");
        Assert.Equal(0, count.ExitCode);
        Assert.InRange(long.Parse(count.Stdout.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture), 1, 29);
    }

    [Fact]
    public void A_full_disk_under_a_merged_store_names_it_and_is_exit_74()
    {
        // Without the output named, the line read "cannot write a result store", which a merge of many shards leaves
        // to guess; and a failed write inside a shard's transaction was blamed on that shard as damaged (exit 2).
        File.WriteAllText(P("s.yaml"), "scenario: postcopy\nprotocols: [sync, ve, kvm-pf]\nseeds: 40\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", P("s.yaml"), "--db", P("s1.duckdb"), "--jobs", "1").ExitCode);
        var merged = P("m.duckdb");
        var (code, stderr) = RunWithFileSizeLimit(40, "sweep", "merge", merged, P("s1.duckdb"));
        Assert.Equal(74, code);
        Assert.Equal($"vexlab: {merged}: cannot write the merged store: File too large; the shards merged before are in it\n", stderr);
    }

    [Fact]
    public void A_full_disk_under_a_checkpoint_names_the_checkpoint_not_standard_output()
    {
        var folder = P("cp");
        var (code, stderr) = RunWithFileSizeLimit(10, "check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--max-states", "20000", "--checkpoint", folder);
        Assert.Equal(74, code);
        Assert.EndsWith($"vexlab: {Path.Combine(folder, "checkpoint.vxck")}: cannot write the checkpoint: File too large\n", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public void A_trace_past_the_file_size_limit_is_one_line_and_exit_74()
    {
        // .NET reports EFBIG (RLIMIT_FSIZE, or FAT32's 4 GiB) as an ArgumentOutOfRangeException, once an internal error.
        var trace = P("t.json");
        var (code, stderr) = RunWithFileSizeLimit(20, "run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "20ms", "--trace", trace);
        Assert.Equal(74, code);
        Assert.EndsWith($"vexlab: {trace}: cannot write the trace: File too large\n", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void An_output_under_a_regular_file_says_it_is_a_file()
    {
        File.WriteAllText(P("plain"), "x");
        var result = CliRunner.Run("explain", "bugs", "--json", Path.Combine(P("plain"), "r.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {Path.Combine(P("plain"), "r.json")}: cannot write the JSON result: {P("plain")} is a file, not a folder\n", result.Stderr);
    }

    [Theory]
    [InlineData('b', 250)]
    [InlineData('\u00e9', 125)]
    public void An_output_named_near_the_longest_file_name_is_written(char letter, int count)
    {
        // A 240-byte name was refused: "The path '.NAME.tmp-PID-RANDOM' is too long", the temp name past NAME_MAX.
        var json = P(new string(letter, count) + ".json");
        var result = CliRunner.Run("explain", "bugs", "--json", json);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("{", File.ReadAllText(json), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void A_check_folder_under_a_regular_file_says_it_is_a_file()
    {
        // They said "no such folder" and "(Could not find a part of the path ...)", for a folder the user can see is a file.
        File.WriteAllText(P("plain"), "x");
        var checkpoint = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf", "--checkpoint", Path.Combine(P("plain"), "cp"));
        Assert.Equal(2, checkpoint.ExitCode);
        Assert.Equal($"vexlab: --checkpoint: cannot create the folder \"{Path.Combine(P("plain"), "cp")}\": \"{P("plain")}\" is a file, not a folder\n", checkpoint.Stderr);
        var spill = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf", "--spill-dir", P("plain"));
        Assert.Equal(2, spill.ExitCode);
        Assert.Equal($"vexlab: --spill-dir: \"{P("plain")}\" is a file, not a folder\n", spill.Stderr);
    }

    [Fact]
    public void A_checkpoint_under_a_folder_that_does_not_exist_is_refused()
    {
        // --checkpoint /nonexistent/ck created /nonexistent (Directory.CreateDirectory makes every parent), where --json
        // and --trace refuse a file in a folder that does not exist. The checkpoint folder itself is still created.
        var missing = Path.Combine(P("missing"), "ck");
        var refused = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf", "--checkpoint", missing);
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal(string.Empty, refused.Stdout);
        Assert.Equal($"vexlab: --checkpoint: cannot create the folder \"{missing}\": the folder \"{P("missing")}\" does not exist\n", refused.Stderr);
        Assert.False(Directory.Exists(P("missing")));

        var created = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf", "--max-states", "100", "--checkpoint", P("ck") + "/");
        Assert.Equal(3, created.ExitCode);
        Assert.True(File.Exists(Path.Combine(P("ck"), "checkpoint.vxck")));
    }

    /// <summary>
    /// Runs vexlab with writes past <paramref name="blocks"/> 512-byte blocks failing (EFBIG, SIGXFSZ ignored).
    /// W^X off: the runtime's double-mapped code heap is a file the limit would refuse at start.
    /// </summary>
    private static (int Code, string Stderr) RunWithFileSizeLimit(int blocks, params string[] args)
    {
        var info = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"trap '' XFSZ; ulimit -f {blocks}; exec dotnet \"$0\" \"$@\"");
        info.ArgumentList.Add(VexlabDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var run = Process.Start(info)!;
        var stdout = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEnd();
        run.WaitForExit();
        _ = stdout.Result;
        return (run.ExitCode, stderr);
    }

    /// <summary>
    /// A listed file's length, or zero when it is gone by the time it is measured: the run checks at its start that it
    /// can write beside the target, with a temp file it removes at once, which a listing can catch.
    /// </summary>
    private static long LengthOrZero(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    private static Process Start(string[] args)
    {
        var info = StartedProcess.Info(VexlabDll, args);

        return Process.Start(info)!;
    }
}
