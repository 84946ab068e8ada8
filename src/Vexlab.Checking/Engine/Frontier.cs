using System.Globalization;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The states of one BFS level, in id order: a contiguous in-memory buffer up to a byte cap,
/// then a temporary spill file. Read back in blocks, in the same order.
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
    private byte[] _memory;
    private int _memoryStates;
    private FileStream? _spill;
    private long _spillStates;

    public Frontier(int stateSize, long memoryCap, string? spillDirectory)
    {
        _stateSize = stateSize;
        _memoryCap = Math.Max(0, Math.Min(memoryCap, Array.MaxLength)) / stateSize * stateSize;
        _spillDirectory = spillDirectory;
        _memory = new byte[(int)Math.Min(_memoryCap, 64 * 1024 / stateSize * stateSize)];
    }

    /// <summary>Id of the first state of this level.</summary>
    public int FirstId { get; set; }

    public long Count => _memoryStates + _spillStates;

    public long MemoryStates => _memoryStates;

    /// <summary>States the in-memory part holds at most; later ones spill.</summary>
    public long MemoryCapStates => _memoryCap / _stateSize;

    public long SpillStates => _spillStates;

    public long AllocatedBytes => _memory.LongLength;

    /// <summary>Bytes the spill file holds now.</summary>
    public long SpillBytes => _spillStates * _stateSize;

    public long SpilledBytes { get; private set; }

    public void Append(ReadOnlySpan<byte> state)
    {
        if (_spillStates == 0)
        {
            long used = (long)_memoryStates * _stateSize;
            if (used + _stateSize <= _memory.Length)
            {
                state.CopyTo(_memory.AsSpan((int)used));
                _memoryStates++;
                return;
            }

            if (used + _stateSize <= _memoryCap)
            {
                long size = Math.Min(_memoryCap, Math.Max((long)_memory.Length * 2, used + _stateSize));
                Array.Resize(ref _memory, (int)size);
                state.CopyTo(_memory.AsSpan((int)used));
                _memoryStates++;
                return;
            }
        }

        _spill ??= OpenSpill();
        _spill.Write(state);
        _spillStates++;
        SpilledBytes += _stateSize;
    }

    /// <summary>
    /// Returns up to <paramref name="maxStates"/> states starting at <paramref name="start"/>, from memory when
    /// possible, otherwise read into <paramref name="scratch"/>. Never crosses the memory/spill boundary.
    /// </summary>
    public ReadOnlyMemory<byte> Block(long start, int maxStates, ref byte[] scratch)
    {
        if (start < _memoryStates)
        {
            int count = (int)Math.Min(maxStates, _memoryStates - start);
            return _memory.AsMemory((int)(start * _stateSize), count * _stateSize);
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

    /// <summary>Empties the level, keeping its buffers.</summary>
    public void Clear()
    {
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
