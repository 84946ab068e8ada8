using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>Limits that stop a search part-way, the spill's disk budget and clean-up, and checkpoints that resume.</summary>
public sealed class LimitsAndCheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vexlab-engine-test-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static CheckerOptions Options(int workers = 1) => new() { Workers = workers, MaxMemoryBytes = 1L << 30 };

    [Theory]
    [InlineData(1, 50)]
    [InlineData(1, 2_000)]
    [InlineData(2, 15_000)]
    [InlineData(2, 26_000)]
    public void A_search_resumed_from_a_checkpoint_ends_as_the_uninterrupted_one(int workers, long stopAt)
    {
        CheckResult reference = Checker.Run(new GridSystem(30, deadlocks: true), Options(1));
        Assert.True(reference.Complete);

        string checkpoint = Path.Combine(_folder, "cp");
        var first = Options(workers);
        first.MaxStates = stopAt;
        first.CheckpointDirectory = checkpoint;
        CheckResult stopped = Checker.Run(new GridSystem(30, deadlocks: true), first);
        Assert.Equal(StopReason.MaxStates, stopped.StopReason);
        Assert.Equal(checkpoint, stopped.Checkpoint);
        Assert.True(File.Exists(Path.Combine(checkpoint, "checkpoint.vxck")));

        var resume = Options(3 - workers);
        resume.ResumeDirectory = checkpoint;
        CheckResult resumed = Checker.Run(new GridSystem(30, deadlocks: true), resume);

        CheckerTests.AssertSameResult(reference, resumed);
        Assert.Null(resumed.Checkpoint);
    }

    [Fact]
    public void Every_periodic_checkpoint_resumes_to_the_same_result()
    {
        // Checkpoints after every block, as a process killed at any moment would leave them.
        CheckResult reference = Checker.Run(new GridSystem(20, deadlocks: true), Options());
        string checkpoint = Path.Combine(_folder, "cp");
        var snapshots = new List<string>();
        var options = Options();
        options.CheckpointDirectory = checkpoint;
        options.CheckpointInterval = TimeSpan.Zero;
        options.ProgressInterval = TimeSpan.Zero;
        options.Progress = new Observe(() =>
        {
            string file = Path.Combine(checkpoint, "checkpoint.vxck");
            if (File.Exists(file) && snapshots.Count < 64)
            {
                string copy = Path.Combine(_folder, "snap" + snapshots.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Directory.CreateDirectory(copy);
                File.Copy(file, Path.Combine(copy, "checkpoint.vxck"));
                snapshots.Add(copy);
            }
        });
        CheckerTests.AssertSameResult(reference, Checker.Run(new GridSystem(20, deadlocks: true), options));
        Assert.True(snapshots.Count > 10);
        foreach (string snapshot in snapshots.Where((_, i) => i % 5 == 0))
        {
            var resume = Options(2);
            resume.ResumeDirectory = snapshot;
            CheckerTests.AssertSameResult(reference, Checker.Run(new GridSystem(20, deadlocks: true), resume));
        }
    }

    [Fact]
    public void A_checkpoint_can_be_resumed_and_stopped_again()
    {
        CheckResult reference = Checker.Run(new GridSystem(25, deadlocks: true), Options());
        string checkpoint = Path.Combine(_folder, "cp");
        long states = 0;
        foreach (long limit in new long[] { 1_000, 6_000, 12_000 })
        {
            var options = Options();
            options.MaxStates = limit;
            options.CheckpointDirectory = checkpoint;
            options.ResumeDirectory = states == 0 ? null : checkpoint;
            CheckResult part = Checker.Run(new GridSystem(25, deadlocks: true), options);
            Assert.True(part.States > states);
            states = part.States;
        }

        var last = Options(2);
        last.ResumeDirectory = checkpoint;
        CheckerTests.AssertSameResult(reference, Checker.Run(new GridSystem(25, deadlocks: true), last));
        Assert.Empty(Directory.GetFiles(checkpoint, "*.tmp-*"));
    }

    [Theory]
    [InlineData(1_500L, null, "MaxStates 1,500 is below the")]
    [InlineData(null, 5, "MaxDepth 5 is below")]
    public void A_bound_the_checkpoint_has_passed_is_refused(long? maxStates, int? maxDepth, string problem)
    {
        // Resumed, the search would stop at once with the checkpoint's states and depth under a bound that, from the
        // initial state, stops earlier: a result its own replay line does not give.
        string checkpoint = Path.Combine(_folder, "cp");
        var first = Options();
        first.MaxStates = 3_000;
        first.CheckpointDirectory = checkpoint;
        CheckResult stopped = Checker.Run(new GridSystem(30, deadlocks: true), first);
        Assert.Equal(StopReason.MaxStates, stopped.StopReason);
        Assert.True(stopped.Depth > 5);

        var resume = Options();
        resume.ResumeDirectory = checkpoint;
        resume.MaxStates = maxStates ?? resume.MaxStates;
        resume.MaxDepth = maxDepth ?? resume.MaxDepth;
        CheckerLimitException e = Assert.Throws<CheckerLimitException>(() => Checker.Run(new GridSystem(30, deadlocks: true), resume));
        Assert.StartsWith(problem, e.Message, StringComparison.Ordinal);

        // A bound past what the checkpoint holds resumes, and ends as the check run from the start under it.
        resume.MaxStates = maxStates is null ? resume.MaxStates : 4_000;
        resume.MaxDepth = maxDepth is null ? resume.MaxDepth : stopped.Depth + 1;
        var fresh = Options();
        fresh.MaxStates = resume.MaxStates;
        fresh.MaxDepth = resume.MaxDepth;
        CheckerTests.AssertSameResult(Checker.Run(new GridSystem(30, deadlocks: true), fresh), Checker.Run(new GridSystem(30, deadlocks: true), resume));
    }

    [Fact]
    public void A_checkpoint_of_another_check_or_a_damaged_one_is_refused()
    {
        string checkpoint = Path.Combine(_folder, "cp");
        var options = Options();
        options.MaxStates = 500;
        options.CheckpointDirectory = checkpoint;
        options.CheckpointIdentity = "grid 30";
        Checker.Run(new GridSystem(30, deadlocks: true), options);

        var other = Options();
        other.ResumeDirectory = checkpoint;
        other.CheckpointIdentity = "grid 31";
        CheckpointException e = Assert.Throws<CheckpointException>(() => Checker.Run(new GridSystem(30, deadlocks: true), other));
        Assert.Contains("different check", e.Message, StringComparison.Ordinal);

        string file = Path.Combine(checkpoint, "checkpoint.vxck");
        using (var stream = new FileStream(file, FileMode.Open))
        {
            stream.SetLength(stream.Length / 2);
        }

        other.CheckpointIdentity = "grid 30";
        e = Assert.Throws<CheckpointException>(() => Checker.Run(new GridSystem(30, deadlocks: true), other));
        Assert.Contains("damaged", e.Message, StringComparison.Ordinal);

        other.ResumeDirectory = Path.Combine(_folder, "missing");
        Assert.Throws<CheckpointException>(() => Checker.Run(new GridSystem(30, deadlocks: true), other));
    }

    // A byte changed anywhere (header, counts, table, parent links, liveness graph, frontier, the digest itself) is a
    // damaged checkpoint: before the digest, a change in the table or the graph's edges resumed to other counts or to
    // an index out of range.
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.7)]
    [InlineData(0.9)]
    [InlineData(1.0)]
    public void A_checkpoint_with_any_byte_changed_is_refused(double where)
    {
        string checkpoint = Path.Combine(_folder, "cp");
        var options = Options();
        options.MaxStates = 500;
        options.CheckpointDirectory = checkpoint;
        options.CheckpointIdentity = "grid 30";
        Checker.Run(new GridSystem(30, deadlocks: true), options);

        string file = Path.Combine(checkpoint, "checkpoint.vxck");
        byte[] bytes = File.ReadAllBytes(file);
        // Past the magic and version words, which are told apart as "not a checkpoint" or "another version".
        int at = 8 + (int)((bytes.Length - 9) * where);
        bytes[at] ^= 0x5a;
        File.WriteAllBytes(file, bytes);

        var resume = Options();
        resume.ResumeDirectory = checkpoint;
        resume.CheckpointIdentity = "grid 30";
        CheckpointException e = Assert.Throws<CheckpointException>(() => Checker.Run(new GridSystem(30, deadlocks: true), resume));
        Assert.True(e.Message.Contains("damaged", StringComparison.Ordinal) || e.Message.Contains("different check", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void Cancellation_stops_with_a_partial_result_and_a_checkpoint()
    {
        using var cancel = new CancellationTokenSource();
        var options = Options();
        options.CheckpointDirectory = Path.Combine(_folder, "cp");
        options.CancellationToken = cancel.Token;
        options.ProgressInterval = TimeSpan.Zero;
        options.Progress = new CancelAfter(cancel, 3);
        CheckResult result = Checker.Run(new GridSystem(30, deadlocks: true), options);

        Assert.Equal(StopReason.Cancelled, result.StopReason);
        Assert.NotEqual(Verdict.Pass, result.Verdict);
        Assert.False(result.Complete);
        Assert.True(result.States < 27_000);
        Assert.NotNull(result.Checkpoint);
    }

    [Fact]
    public void TimeLimit_is_checked_between_small_blocks()
    {
        // A clock that advances 1 ms whenever it is read: the limit holds to within a block of the reads.
        var clock = new SteppingClock();
        var options = Options();
        options.TimeProvider = clock;
        options.TimeLimit = TimeSpan.FromMilliseconds(20);
        CheckResult result = Checker.Run(new GridSystem(60, liveness: false), options);

        Assert.Equal(StopReason.TimeLimit, result.StopReason);
        Assert.True(result.States < 60 * 60 * 60);
    }

    [Fact]
    public void The_spill_budget_stops_the_search_and_leaves_no_file()
    {
        var options = Options();
        options.FrontierMemoryBytes = 1024;
        options.MaxSpillBytes = 16 * 1024;
        options.SpillDirectory = _folder;
        CheckResult result = Checker.Run(new GridSystem(40, liveness: false), options);

        Assert.Equal(StopReason.MaxSpill, result.StopReason);
        Assert.NotEqual(Verdict.Pass, result.Verdict);
        Assert.True(result.FrontierSpilledBytes > 0);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void Spill_files_are_unlinked_while_open_and_stale_ones_are_removed()
    {
        // A spill file of a process that no longer runs (pids never reach 2^31 - 2).
        string stale = Path.Combine(_folder, "vexlab-frontier-2147483646-abc.def");
        File.WriteAllBytes(stale, new byte[100]);
        var options = Options();
        options.FrontierMemoryBytes = 64;
        options.SpillDirectory = _folder;
        var seen = new List<int>();
        options.ProgressInterval = TimeSpan.Zero;
        options.Progress = new Observe(() => seen.Add(Directory.GetFiles(_folder).Length));
        CheckResult result = Checker.Run(new GridSystem(20, deadlocks: true), options);

        Assert.True(result.FrontierSpilledBytes > 0);
        Assert.False(File.Exists(stale));
        Assert.All(seen.Skip(1), files => Assert.Equal(0, files));
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void MaxMemory_counts_the_table_growth_before_it_happens()
    {
        var options = Options();
        options.MaxMemoryBytes = 1 << 20;
        CheckResult result = Checker.Run(new GridSystem(100, liveness: false), options);

        Assert.Equal(StopReason.MaxMemory, result.StopReason);

        // The table (8 bytes a slot) never grew past what the bound allows.
        Assert.True(result.States * 8 < options.MaxMemoryBytes);
        Assert.True(result.States > 1_000);
    }

    private sealed class CancelAfter(CancellationTokenSource source, int samples) : IProgress<CheckProgress>
    {
        private int _seen;

        public void Report(CheckProgress value)
        {
            if (++_seen == samples)
            {
                source.Cancel();
            }
        }
    }

    private sealed class Observe(Action action) : IProgress<CheckProgress>
    {
        public void Report(CheckProgress value) => action();
    }
}
