using System.Globalization;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The states of one BFS level, in id order: in-memory chunks up to a byte cap, then a temporary spill file.
/// Read back in blocks, in the same order. The chunks come from a pool both levels share, so a level's memory is
/// reused by the next one instead of being allocated (and faulted in by the kernel) again level after level.
/// </summary>
/// <remarks>
/// The spill file is unlinked as soon as it is open (on Unix), so no exit path, SIGKILL included,
/// leaves it behind; where that is impossible it is deleted on close. Files of the same name pattern
/// left by a process that no longer runs are removed when a new spill opens.
/// </remarks>
internal sealed class Frontier : IDisposable
{
    /// <summary>Prefix of spill file names: then the owning process id, a dash and a random name.</summary>
    public const string SpillPrefix = "vexlab-frontier-";

    private readonly int _stateSize;
    private readonly long _memoryCap;
    private readonly string? _spillDirectory;
    private readonly FrontierPool _pool;
    private readonly List<byte[]> _chunks = [];
    private long _memoryStates;
    private FileStream? _spill;
    private long _spillStates;

    public Frontier(int stateSize, long memoryCap, string? spillDirectory, FrontierPool pool)
    {
        _stateSize = stateSize;
        _memoryCap = Math.Max(0, memoryCap) / stateSize * stateSize;
        _spillDirectory = spillDirectory;
        _pool = pool;
    }

    /// <summary>Id of the first state of this level.</summary>
    public int FirstId { get; set; }

    public long Count => _memoryStates + _spillStates;

    public long MemoryStates => _memoryStates;

    /// <summary>States the in-memory part holds at most; later ones spill.</summary>
    public long MemoryCapStates => _memoryCap / _stateSize;

    public long SpillStates => _spillStates;

    public long AllocatedBytes => _chunks.Count * (long)_pool.ChunkBytes;

    /// <summary>Bytes the spill file holds now.</summary>
    public long SpillBytes => _spillStates * _stateSize;

    public long SpilledBytes { get; private set; }

    public void Append(ReadOnlySpan<byte> state)
    {
        if (TryReserve(1, out long index))
        {
            state.CopyTo(Record(index));
            return;
        }

        _spill ??= OpenSpill();
        _spill.Write(state);
        _spillStates++;
        SpilledBytes += _stateSize;
    }

    /// <summary>
    /// Appends <paramref name="count"/> states the caller then writes itself through <see cref="Record"/> (from
    /// <paramref name="first"/> on), when they all fit in memory; false when the level spills. Several threads
    /// may write their states at once.
    /// </summary>
    public bool TryReserve(long count, out long first)
    {
        first = _memoryStates;
        long end = _memoryStates + count;
        if (_spillStates != 0 || end * _stateSize > _memoryCap)
        {
            return false;
        }

        int perChunk = _pool.ChunkStates;
        while ((long)_chunks.Count * perChunk < end)
        {
            _chunks.Add(_pool.Rent());
        }

        _memoryStates = end;
        return true;
    }

    /// <summary>The bytes of in-memory state <paramref name="index"/>.</summary>
    public Span<byte> Record(long index)
    {
        int perChunk = _pool.ChunkStates;
        return _chunks[(int)(index / perChunk)].AsSpan((int)(index % perChunk) * _stateSize, _stateSize);
    }

    /// <summary>
    /// Returns up to <paramref name="maxStates"/> states starting at <paramref name="start"/>, from memory when
    /// possible, otherwise read into <paramref name="scratch"/>. Never crosses a chunk or the memory/spill boundary.
    /// </summary>
    public ReadOnlyMemory<byte> Block(long start, int maxStates, ref byte[] scratch)
    {
        if (start < _memoryStates)
        {
            int perChunk = _pool.ChunkStates;
            int within = (int)(start % perChunk);
            int count = (int)Math.Min(Math.Min(maxStates, _memoryStates - start), perChunk - within);
            return _chunks[(int)(start / perChunk)].AsMemory(within * _stateSize, count * _stateSize);
        }

        long spillIndex = start - _memoryStates;
        int n = (int)Math.Min(maxStates, _spillStates - spillIndex);
        int bytes = n * _stateSize;
        if (scratch.Length < bytes)
        {
            scratch = new byte[bytes];
        }

        _spill!.Flush();
        _spill.Position = spillIndex * _stateSize;
        _spill.ReadExactly(scratch, 0, bytes);
        if (spillIndex + n == _spillStates)
        {
            _spill.Position = _spill.Length;
        }

        return scratch.AsMemory(0, bytes);
    }

    /// <summary>Writes the states from <paramref name="start"/> on to <paramref name="output"/>, in order.</summary>
    public void WriteTo(Stream output, long start)
    {
        byte[] scratch = [];
        int blockStates = Math.Max(1, (1 << 20) / _stateSize);
        for (long i = start; i < Count;)
        {
            ReadOnlyMemory<byte> block = Block(i, blockStates, ref scratch);
            output.Write(block.Span);
            i += block.Length / _stateSize;
        }
    }

    /// <summary>Appends <paramref name="count"/> states read from <paramref name="input"/>.</summary>
    public void ReadFrom(Stream input, long count)
    {
        byte[] state = new byte[_stateSize];
        for (long i = 0; i < count; i++)
        {
            input.ReadExactly(state);
            Append(state);
        }
    }

    /// <summary>Empties the level; its chunks go back to the pool for the next level.</summary>
    public void Clear()
    {
        foreach (byte[] chunk in _chunks)
        {
            _pool.Return(chunk);
        }

        _chunks.Clear();
        _memoryStates = 0;
        _spillStates = 0;
        if (_spill is not null)
        {
            _spill.SetLength(0);
            _spill.Position = 0;
        }
    }

    public void Dispose()
    {
        _spill?.Dispose();
        _spill = null;
    }

    /// <summary>Removes spill files of processes that no longer run from <paramref name="folder"/>; returns how many.</summary>
    public static int RemoveStaleSpills(string folder)
    {
        int removed = 0;
        string[] files;
        try
        {
            files = Directory.GetFiles(folder, SpillPrefix + "*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        foreach (string file in files)
        {
            string rest = Path.GetFileName(file)[SpillPrefix.Length..];
            int dash = rest.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(rest.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || pid == Environment.ProcessId || ProcessRuns(pid))
            {
                continue;
            }

            try
            {
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's file, or one removed meanwhile: not ours to report.
            }
        }

        return removed;
    }

    private static bool ProcessRuns(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private FileStream OpenSpill()
    {
        string folder = _spillDirectory ?? Path.GetTempPath();
        RemoveStaleSpills(folder);
        string path = Path.Combine(folder, SpillPrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
            + "-" + Path.GetRandomFileName());
        if (OperatingSystem.IsWindows())
        {
            return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
        }

        // An open, unlinked file lives until its descriptor closes, however the process ends.
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        File.Delete(path);

        return stream;
    }
}

/// <summary>Chunks of frontier memory, shared by the two levels the search holds.</summary>
internal sealed class FrontierPool
{
    private readonly Stack<byte[]> _free = new();

    /// <param name="stateSize">Bytes of one frontier record.</param>
    /// <param name="memoryCap">Bytes one level may hold in memory (a chunk is no larger, and at most 16 MiB).</param>
    /// <remarks>16 MiB chunks: seven of a chunk's eight 2 MiB pages at least are huge pages (<see cref="HugePageArrays"/>).</remarks>
    public FrontierPool(int stateSize, long memoryCap)
    {
        ChunkStates = (int)Math.Max(1, Math.Min(16L << 20, Math.Max(stateSize, memoryCap)) / stateSize);
        ChunkBytes = ChunkStates * stateSize;
    }

    public int ChunkStates { get; }

    public int ChunkBytes { get; }

    /// <summary>Bytes of chunks waiting in the pool.</summary>
    public long IdleBytes => _free.Count * (long)ChunkBytes;

    public byte[] Rent() => _free.TryPop(out byte[]? chunk) ? chunk : HugePageArrays.Uninitialized<byte>(ChunkBytes);

    public void Return(byte[] chunk) => _free.Push(chunk);

    /// <summary>Hands idle chunks back to the runtime (after the frontier shrank for good, or to make room).</summary>
    public void Trim() => _free.Clear();
}
