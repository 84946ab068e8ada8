using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The compact fingerprint table (Cleary's compact hashing): every key is found again across growth, slot-width
/// changes, overflow and checkpoints, and a search storing states compactly ends as the wide one does.
/// </summary>
public sealed class CompactStorageTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vexlab-compact-test-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Fingerprints from SplitMix64's sequence: distinct in their top 60 bits for the counts used here.</summary>
    private static ulong[] Fingerprints(int count, ulong seed)
    {
        var keys = new ulong[count];
        ulong x = seed;
        for (int i = 0; i < count; i++)
        {
            x += 0x9E3779B97F4A7C15;
            ulong z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            keys[i] = z ^ (z >> 31);
        }

        return keys;
    }

    [Fact]
    public void Every_key_keeps_its_id_while_the_table_grows_and_its_slots_narrow()
    {
        // From 1,024 slots of 8 bytes to 7-byte slots past 2^14: each growth recovers every key from its home and
        // stored bits and places it again. (The search test below takes a table past 2^22, to 6-byte slots.)
        var table = new FingerprintTable<ulong, Fingerprint64>(10, trackIds: true, compact: true);
        ulong[] keys = Fingerprints(200_000, 1);
        var widths = new HashSet<int>();
        for (int i = 0; i < keys.Length; i++)
        {
            if (table.NeedsGrowth)
            {
                table.Grow();
                widths.Add(CompactFingerprintSet.SlotBytesFor(table.Capacity));
            }

            if (table.AddOrGet(keys[i], i) != i)
            {
                Assert.Fail($"key {i} taken for another");
            }
        }

        Assert.Equal(new[] { 7, 8 }, widths.Order().ToArray());
        Assert.Equal(keys.Length, table.Count);
        Assert.Equal(0, table.OverflowCount);
        for (int i = 0; i < keys.Length; i++)
        {
            if (table.Find(keys[i]) != i || table.AddOrGet(keys[i], -5) != i)
            {
                Assert.Fail($"key {i} lost");
            }
        }

        foreach (ulong absent in Fingerprints(10_000, 99))
        {
            Assert.Equal(-2, table.Find(absent));
        }

        Assert.Equal(keys.Length, table.Count);

        // 7-byte slots at 77% to 88% load: under 9.1 bytes a key.
        Assert.InRange((double)(table.Bytes - (table.Capacity * sizeof(int))) / table.Count, 7, 9.1);
    }

    [Fact]
    public void Keys_past_the_longest_recordable_probe_overflow_and_are_still_found()
    {
        // 5,000 keys with one home: the first fill the slots from it (distances 0 to MaxDisplacement), the rest
        // overflow.
        const int dropped = 64 - CompactFingerprintSet.KeyBits;
        var table = new FingerprintTable<ulong, Fingerprint64>(13, trackIds: true, compact: true);
        ulong[] keys = new ulong[5_000];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = (0x5555_0000_0000_0000UL + ((ulong)i << dropped)) | 0x5;
            Assert.Equal(i, table.AddOrGet(keys[i], i));
        }

        Assert.Equal(5_000 - (CompactFingerprintSet.MaxDisplacement + 1), table.OverflowCount);
        Assert.Equal(keys.Length, table.Count);
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(i, table.Find(keys[i]));
        }

        // The low bits past KeyBits are not kept: a fingerprint differing only there is the same key.
        Assert.Equal(17, table.Find(keys[17] ^ ((1UL << dropped) - 1)));
        Assert.Equal(-2, table.Find(0x5555_0000_0000_0000UL + (5_000UL << dropped)));

        table.Grow();
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(i, table.Find(keys[i]));
        }

        Assert.Equal(keys.Length, table.Count);
    }

    [Fact]
    public void Concurrent_inserts_of_absent_keys_all_land()
    {
        var table = new FingerprintTable<ulong, Fingerprint64>(16, trackIds: false, compact: true);
        ulong[] keys = Fingerprints(50_000, 3);
        Parallel.For(0, 4, w =>
        {
            for (int i = w; i < keys.Length; i += 4)
            {
                table.InsertAbsent(keys[i]);
            }
        });
        table.Added(keys.Length);

        Assert.Equal(keys.Length, table.Count);
        foreach (ulong key in keys)
        {
            Assert.Equal(-1, table.Find(key));
        }
    }

    [Fact]
    public void A_compact_table_round_trips_through_a_checkpoint_with_its_overflow()
    {
        var table = new FingerprintTable<ulong, Fingerprint64>(13, trackIds: true, compact: true);
        for (int i = 0; i < 4_500; i++)
        {
            table.AddOrGet(0x7000_0000_0000_0000UL + ((ulong)i << 6), i);
        }

        using var stream = new MemoryStream();
        using (var output = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            table.WriteTo(output);
        }

        stream.Position = 0;
        var copy = new FingerprintTable<ulong, Fingerprint64>(10, trackIds: true, compact: true);
        using (var input = new BinaryReader(stream))
        {
            copy.ReadFrom(input);
        }

        Assert.Equal(table.Count, copy.Count);
        Assert.Equal(table.Capacity, copy.Capacity);
        Assert.Equal(table.OverflowCount, copy.OverflowCount);
        Assert.True(copy.OverflowCount > 0);
        for (int i = 0; i < 4_500; i++)
        {
            Assert.Equal(i, copy.Find(0x7000_0000_0000_0000UL + ((ulong)i << 6)));
        }
    }

    [Fact]
    public void A_large_compact_search_stores_at_most_10_bytes_a_state_parent_links_included()
    {
        // 3,375,000 states: the table passes 2^22 slots, where a slot is 6 bytes, as on the bench model (14 M states).
        CheckResult result = Checker.Run(
            new GridSystem(150, liveness: false),
            new CheckerOptions { Workers = 1, MaxMemoryBytes = 1L << 30, Compression = StateCompression.Compact });
        Assert.Equal(150 * 150 * 150, result.States);
        Assert.Equal(StateCompression.Compact, result.Compression);
        Assert.Equal(CompactFingerprintSet.KeyBits, result.FingerprintBits);
        Assert.Equal(Checker.CollisionProbability(result.States, 60), result.CollisionProbability);
        Assert.InRange(result.BytesPerState, 7, 10);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_compact_search_ends_as_the_wide_one_with_any_number_of_workers(bool liveness)
    {
        // With liveness the table keeps ids for the graph's edges.
        CheckResult reference = Checker.Run(new GridSystem(40, liveness, deadlocks: true), new CheckerOptions { Workers = 1, MaxMemoryBytes = 1L << 30 });
        foreach (int workers in new[] { 1, 2, 4 })
        {
            CheckResult compact = Checker.Run(
                new GridSystem(40, liveness, deadlocks: true),
                new CheckerOptions { Workers = workers, MaxMemoryBytes = 1L << 30, Compression = StateCompression.Compact });
            CheckerTests.AssertSameResult(reference, compact);
            Assert.Equal(reference.LivenessIncomplete, compact.LivenessIncomplete);
            Assert.True(compact.BytesPerState < reference.BytesPerState);
        }
    }

    [Theory]
    [MemberData(nameof(WorkerDeterminismTests.ModelsAndProtocols), MemberType = typeof(WorkerDeterminismTests))]
    public void Every_built_in_model_and_protocol_checks_alike_compact_with_1_2_and_4_workers(string model, string protocol)
    {
        // The same state bound as the workers test: a run stopped by it is as deterministic as a full one.
        CheckResult Run(int workers, StateCompression compression) => ModelCheck.Run(
            CheckRequest.Of(model, protocol),
            new CheckerOptions { Workers = workers, MaxStates = 60_000, MaxMemoryBytes = 1L << 30, Compression = compression }).Result;

        CheckResult reference = Run(1, StateCompression.None);
        foreach (int workers in new[] { 1, 2, 4 })
        {
            CheckResult compact = Run(workers, StateCompression.Compact);
            CheckerTests.AssertSameResult(reference, compact);
            Assert.Equal(reference.LivenessIncomplete, compact.LivenessIncomplete);
        }
    }

    [Theory]
    [InlineData(1, 2_000)]
    [InlineData(2, 26_000)]
    public void A_compact_search_resumes_from_its_checkpoint_to_the_same_result(int workers, long stopAt)
    {
        CheckerOptions Options(int w) => new() { Workers = w, MaxMemoryBytes = 1L << 30, Compression = StateCompression.Compact };
        CheckResult reference = Checker.Run(new GridSystem(30, deadlocks: true), Options(1));

        string checkpoint = Path.Combine(_folder, "cp");
        CheckerOptions first = Options(workers);
        first.MaxStates = stopAt;
        first.CheckpointDirectory = checkpoint;
        CheckResult stopped = Checker.Run(new GridSystem(30, deadlocks: true), first);
        Assert.Equal(StopReason.MaxStates, stopped.StopReason);

        CheckerOptions resume = Options(3 - workers);
        resume.ResumeDirectory = checkpoint;
        CheckResult resumed = Checker.Run(new GridSystem(30, deadlocks: true), resume);
        CheckerTests.AssertSameResult(reference, resumed);

        // A compact checkpoint is not continued by a wide search (nor the other way round).
        var wide = new CheckerOptions { Workers = 1, MaxMemoryBytes = 1L << 30, ResumeDirectory = checkpoint };
        Checker.Run(new GridSystem(30, deadlocks: true), first);
        CheckpointException refused = Assert.Throws<CheckpointException>(() => Checker.Run(new GridSystem(30, deadlocks: true), wide));
        Assert.Contains("compression", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxMemory_bounds_a_compact_search_and_leaves_a_checkpoint()
    {
        string checkpoint = Path.Combine(_folder, "cp");
        var options = new CheckerOptions
        {
            Workers = 1,
            MaxMemoryBytes = 1 << 20,
            Compression = StateCompression.Compact,
            CheckpointDirectory = checkpoint,
        };
        CheckResult result = Checker.Run(new GridSystem(100, liveness: false), options);

        Assert.Equal(StopReason.MaxMemory, result.StopReason);
        Assert.Equal(checkpoint, result.Checkpoint);

        Assert.True(result.States * result.BytesPerState < options.MaxMemoryBytes);
        Assert.True(result.States > 1_000);

        // The checkpoint continues under a larger bound to the whole space.
        var resume = new CheckerOptions { Workers = 1, MaxMemoryBytes = 1L << 30, Compression = StateCompression.Compact, ResumeDirectory = checkpoint };
        Assert.Equal(100 * 100 * 100, Checker.Run(new GridSystem(100, liveness: false), resume).States);
    }

    [Fact]
    public void Compact_storage_does_not_go_with_128_bit_fingerprints()
    {
        var options = new CheckerOptions { Compression = StateCompression.Compact, Fingerprint128 = true, MaxMemoryBytes = 1L << 30 };
        CheckerLimitException e = Assert.Throws<CheckerLimitException>(() => Checker.Run(new GridSystem(5), options));
        Assert.Contains("Fingerprint128", e.Message, StringComparison.Ordinal);
    }
}
