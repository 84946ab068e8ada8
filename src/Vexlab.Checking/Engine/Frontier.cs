namespace Vexlab.Checking.Engine;

/// <summary>
/// The states of one BFS level, in id order: a contiguous in-memory buffer up to a byte cap,
/// then a temporary spill file. Read back in blocks, in the same order.
/// </summary>
internal sealed class Frontier : IDisposable
{
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

    public long AllocatedBytes => _memory.LongLength;

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

    private FileStream OpenSpill()
    {
        string folder = _spillDirectory ?? Path.GetTempPath();
        string path = Path.Combine(folder, "vexlab-frontier-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + "-" + Path.GetRandomFileName());
        return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
    }
}
