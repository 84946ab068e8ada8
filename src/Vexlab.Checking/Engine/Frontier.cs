using System.Buffers.Binary;
using System.Globalization;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The states of one BFS level, in id order, encoded by a <see cref="FrontierCodec"/> (about a third of a full
/// record): in-memory chunks up to a byte cap, then a temporary spill file. Read back in blocks of full records, in
/// the same order. The chunks come from a pool both levels share, so a level's memory is reused by the next one
/// instead of being allocated (and faulted in by the kernel) again level after level.
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

    /// <summary>Every this many in-memory states the level notes where the state's record lies (see <see cref="PositionOf"/>).</summary>
    internal const int IndexStride = 64;

    /// <summary>Bytes of spill file read at once.</summary>
    public const int SpillReadBytes = 1 << 20;

    private readonly FrontierCodec _codec;
    private readonly int _recordSize;
    private readonly long _memoryCap;
    private readonly string? _spillDirectory;
    private readonly FrontierPool _pool;
    private readonly List<byte[]> _chunks = [];
    private readonly List<int> _chunkUsed = [];
    private readonly List<long> _chunkFirstState = [];

    /// <summary>Chunk (high 32 bits) and offset of every <see cref="IndexStride"/>-th in-memory state's record.</summary>
    private readonly List<long> _index = [];
    private readonly byte[] _encodeScratch;
    private long _memoryStates;
    private long _memoryBytes;
    private FileStream? _spill;
    private long _spillStates;
    private long _spillBytes;
    private Cursor _cursor;
    private bool _appendInPlace;
    private readonly List<Piece> _pieces = [];

    public Frontier(FrontierCodec codec, long memoryCap, string? spillDirectory, FrontierPool pool)
    {
        _codec = codec;
        _recordSize = codec.RecordSize;
        _memoryCap = Math.Max(0, memoryCap);
        _spillDirectory = spillDirectory;
        _pool = pool;
        _encodeScratch = new byte[codec.MaxEncodedSize];
        _cursor = new Cursor(this);
    }

    /// <summary>Id of the first state of this level.</summary>
    public int FirstId { get; set; }

    public long Count => _memoryStates + _spillStates;

    public long MemoryStates => _memoryStates;

    /// <summary>Encoded bytes of the in-memory states.</summary>
    public long MemoryBytes => _memoryBytes;

    /// <summary>Encoded bytes the in-memory part may still take before the level spills (0 once it spills).</summary>
    public long MemoryRoomBytes => _spillStates != 0 ? 0 : Math.Max(0, _memoryCap - _memoryBytes);

    public long SpillStates => _spillStates;

    public long AllocatedBytes => (_chunks.Count * (long)_pool.ChunkBytes) + (_index.Capacity * (long)sizeof(long));

    /// <summary>Bytes the spill file holds now.</summary>
    public long SpillBytes => _spillBytes;

    public long SpilledBytes { get; private set; }

    /// <summary>Encoded bytes of every record this level object ever took (levels alternate between two objects).</summary>
    public long AppendedBytes { get; private set; }

    /// <summary>Bytes the reader holds besides the chunks (its spill read buffer).</summary>
    public long ReaderBytes => _cursor.BufferBytes;

    /// <summary>Appends a full record (state, then fingerprint).</summary>
    public void Append(ReadOnlySpan<byte> record) => EndAppend(_codec.Encode(record, BeginAppend()));

    /// <summary>
    /// Room for one encoded record (<see cref="FrontierCodec.MaxEncodedSize"/> bytes): where it stays when the last
    /// chunk and the cap leave room for the longest encoding, otherwise a scratch record; <see cref="EndAppend"/> keeps it.
    /// </summary>
    public Span<byte> BeginAppend()
    {
        int longest = _codec.MaxEncodedSize;
        _appendInPlace = _spillStates == 0 && _chunks.Count > 0 && _pool.ChunkBytes - _chunkUsed[^1] >= longest && _memoryCap - _memoryBytes >= longest;
        return _appendInPlace ? _chunks[^1].AsSpan(_chunkUsed[^1], longest) : _encodeScratch;
    }

    /// <summary>Keeps the record of <paramref name="length"/> bytes encoded into <see cref="BeginAppend"/>'s room.</summary>
    public void EndAppend(int length)
    {
        ReadOnlySpan<int> lengths = [length];
        if (!_appendInPlace)
        {
            AppendEncoded(_encodeScratch.AsSpan(0, length), lengths);
            return;
        }

        // The room was the last chunk's end, within the cap: where Place puts the record, so nothing is copied.
        _appendInPlace = false;
        _pieces.Clear();
        Place(lengths, _pieces, out _);
    }

    /// <summary>Appends records already encoded by this level's codec, back to back, of the given <paramref name="lengths"/>.</summary>
    public void AppendEncoded(ReadOnlySpan<byte> encoded, ReadOnlySpan<int> lengths)
    {
        _pieces.Clear();
        int placed = Place(lengths, _pieces, out int placedBytes);
        CopyPlaced(encoded, _pieces);
        if (placed < lengths.Length)
        {
            Spill(encoded[placedBytes..], lengths[placed..]);
        }
    }

    /// <summary>Where a run of encoded records goes in memory: from byte <see cref="Start"/> of the records, <see cref="Bytes"/> bytes to <see cref="Offset"/> of chunk <see cref="Chunk"/>.</summary>
    public readonly record struct Piece(int Chunk, int Offset, int Start, int Bytes);

    /// <summary>
    /// Takes room in memory for records of the given <paramref name="lengths"/>, in order, as far as the cap allows,
    /// and lists in <paramref name="pieces"/> where their bytes go (<see cref="CopyPlaced"/> puts them there, on any
    /// thread); returns how many were placed, and their bytes in <paramref name="placedBytes"/>. The rest, if any,
    /// go to <see cref="Spill"/> after every placed record of the level.
    /// </summary>
    public int Place(ReadOnlySpan<int> lengths, List<Piece> pieces, out int placedBytes)
    {
        _cursor.Invalidate();
        int placed = 0;
        placedBytes = 0;
        while (placed < lengths.Length && _spillStates == 0)
        {
            // Whole records into the last chunk while the cap allows; a record never straddles two chunks.
            int fit = 0;
            int bytes = 0;
            int room = _chunks.Count == 0 ? 0 : _pool.ChunkBytes - _chunkUsed[^1];
            long capRoom = _memoryCap - _memoryBytes;
            int last = _chunks.Count - 1;
            int offset = last < 0 ? 0 : _chunkUsed[last];
            while (placed + fit < lengths.Length)
            {
                int length = lengths[placed + fit];
                if (bytes + length > capRoom)
                {
                    capRoom = -1;
                    break;
                }

                if (bytes + length > room)
                {
                    break;
                }

                if ((_memoryStates + fit) % IndexStride == 0)
                {
                    _index.Add(((long)last << 32) | (uint)(offset + bytes));
                }

                bytes += length;
                fit++;
            }

            if (fit > 0)
            {
                pieces.Add(new Piece(last, offset, placedBytes, bytes));
                _chunkUsed[last] += bytes;
                _memoryStates += fit;
                _memoryBytes += bytes;
                AppendedBytes += bytes;
                placed += fit;
                placedBytes += bytes;
                continue;
            }

            if (capRoom < 0)
            {
                break;
            }

            _chunks.Add(_pool.Rent());
            _chunkUsed.Add(0);
            _chunkFirstState.Add(_memoryStates);
        }

        return placed;
    }

    /// <summary>Copies the records <see cref="Place"/> placed (<paramref name="encoded"/> starts with them) to their places.</summary>
    public void CopyPlaced(ReadOnlySpan<byte> encoded, List<Piece> pieces)
    {
        foreach (Piece piece in pieces)
        {
            encoded.Slice(piece.Start, piece.Bytes).CopyTo(_chunks[piece.Chunk].AsSpan(piece.Offset, piece.Bytes));
        }
    }

    /// <summary>Writes records past the memory cap to the spill file, still encoded; every later record of the level follows them there.</summary>
    public void Spill(ReadOnlySpan<byte> encoded, ReadOnlySpan<int> lengths)
    {
        int bytes = 0;
        foreach (int length in lengths)
        {
            bytes += length;
        }

        _cursor.Invalidate();
        _spill ??= OpenSpill();
        _spill.Write(encoded[..bytes]);
        _spillStates += lengths.Length;
        _spillBytes += bytes;
        SpilledBytes += bytes;
        AppendedBytes += bytes;
    }

    /// <summary>
    /// Returns up to <paramref name="maxStates"/> full records starting at state <paramref name="start"/>, decoded
    /// into <paramref name="scratch"/> (grown as needed). Reading on from where the last block ended costs no search.
    /// </summary>
    public ReadOnlyMemory<byte> Block(long start, int maxStates, ref byte[] scratch)
    {
        int n = (int)Math.Min(maxStates, Count - start);
        if (n <= 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        int bytes = n * _recordSize;
        if (scratch.Length < bytes)
        {
            scratch = new byte[bytes];
        }

        _cursor.Seek(start);
        for (int i = 0; i < n; i++)
        {
            _cursor.Next(scratch.AsSpan(i * _recordSize, _recordSize));
        }

        return scratch.AsMemory(0, bytes);
    }

    /// <summary>
    /// Up to <paramref name="maxStates"/> encoded records from state <paramref name="start"/> on, back to back at the
    /// start of one span (of one chunk, or of the spill read buffer), valid until the level is next read or changed;
    /// <paramref name="count"/>: how many (at least one while states remain). The reader decodes them and then says
    /// how far it got with <see cref="Advance"/>, so that the records are walked once, not twice.
    /// </summary>
    public ReadOnlySpan<byte> EncodedBlock(long start, int maxStates, out int count)
    {
        if (start >= Count || maxStates <= 0)
        {
            count = 0;
            return [];
        }

        _cursor.Seek(start);
        return _cursor.PeekEncoded(maxStates, out count);
    }

    /// <summary>Moves the reader past <paramref name="states"/> records of <paramref name="bytes"/> encoded bytes from <see cref="EncodedBlock"/>.</summary>
    public void Advance(int states, int bytes) => _cursor.Advance(states, bytes);

    /// <summary>Encoded bytes of the in-memory states before state <paramref name="index"/> (those a reader has passed).</summary>
    public long MemoryBytesBefore(long index)
    {
        if (index >= _memoryStates)
        {
            return _memoryBytes;
        }

        long position = PositionOf(index);
        int chunk = (int)(position >> 32);
        long before = (uint)position;
        for (int c = 0; c < chunk; c++)
        {
            before += _chunkUsed[c];
        }

        return before;
    }

    /// <summary>
    /// Writes the records from state <paramref name="start"/> on to <paramref name="output"/> (a stream that can seek), in
    /// order, encoded as the level holds them (a checkpoint of the bench model's frontier takes about an eighth of the
    /// full records): their length in bytes, then the records.
    /// </summary>
    public void WriteTo(Stream output, long start)
    {
        long lengthAt = output.Position;
        Span<byte> length = stackalloc byte[sizeof(long)];
        output.Write(length);
        // The level's own bytes, a run of whole records at a time (a chunk's, or what the spill read buffer holds):
        // nothing is decoded or encoded again.
        var cursor = new Cursor(this);
        cursor.Seek(start);
        for (long i = start; i < Count;)
        {
            ReadOnlySpan<byte> bytes = cursor.PeekEncoded(int.MaxValue, out int records);
            int run = 0;
            for (int r = 0; r < records; r++)
            {
                run += _codec.EncodedLength(bytes[run..]);
            }

            output.Write(bytes[..run]);
            cursor.Advance(records, run);
            i += records;
        }

        long end = output.Position;
        BinaryPrimitives.WriteInt64LittleEndian(length, end - lengthAt - sizeof(long));
        output.Position = lengthAt;
        output.Write(length);
        output.Position = end;
    }

    /// <summary>
    /// Appends <paramref name="count"/> records that <see cref="WriteTo"/> wrote to <paramref name="input"/>; each record
    /// is checked (<see cref="FrontierCodec.CheckedLength"/>) before the level takes it, since the search reads records
    /// by their masks. <see cref="InvalidDataException"/> if they are not <paramref name="count"/> well-formed records.
    /// </summary>
    public void ReadFrom(Stream input, long count)
    {
        Span<byte> header = stackalloc byte[sizeof(long)];
        input.ReadExactly(header);
        long left = BinaryPrimitives.ReadInt64LittleEndian(header);
        if (left < 0)
        {
            throw new InvalidDataException("frontier length");
        }

        byte[] buffer = new byte[Math.Max(SpillReadBytes, 2 * _codec.MaxEncodedSize)];
        var lengths = new List<int>();
        int filled = 0;
        long taken = 0;
        while (taken < count)
        {
            int more = (int)Math.Min(buffer.Length - filled, left);
            input.ReadExactly(buffer.AsSpan(filled, more));
            filled += more;
            left -= more;
            lengths.Clear();
            int at = 0;
            while (taken + lengths.Count < count)
            {
                int length = _codec.CheckedLength(buffer.AsSpan(at, filled - at));
                if (length == 0)
                {
                    break;
                }

                lengths.Add(length);
                at += length;
            }

            if (lengths.Count == 0)
            {
                throw new InvalidDataException("frontier cut short");
            }

            AppendEncoded(buffer.AsSpan(0, at), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(lengths));
            taken += lengths.Count;
            buffer.AsSpan(at, filled - at).CopyTo(buffer);
            filled -= at;
        }

        if (filled != 0 || left != 0)
        {
            throw new InvalidDataException("frontier longer than its records");
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
        _chunkUsed.Clear();
        _chunkFirstState.Clear();
        _index.Clear();
        _memoryStates = 0;
        _memoryBytes = 0;
        _spillStates = 0;
        _spillBytes = 0;
        _cursor.Invalidate();
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

    /// <summary>
    /// Where in-memory state <paramref name="state"/>'s encoded record lies (chunk in the high 32 bits, offset in the
    /// low), from the index and not the reader's position, so that several threads may each start reading their part
    /// of a level at once (while nothing is appended to it). The next record lies at the position plus the record's
    /// length, after <see cref="Normalize"/>.
    /// </summary>
    public long PositionOf(long state)
    {
        if (state < 0 || state >= _memoryStates)
        {
            throw new ArgumentOutOfRangeException(nameof(state), "The state is not in memory.");
        }

        long mark = _index[(int)(state / IndexStride)];
        int chunk = (int)(mark >> 32);
        int offset = (int)(uint)mark;
        for (long s = state / IndexStride * IndexStride; s < state; s++)
        {
            if (offset == _chunkUsed[chunk])
            {
                chunk++;
                offset = 0;
            }

            offset += _codec.EncodedLength(_chunks[chunk].AsSpan(offset));
        }

        return Normalize(((long)chunk << 32) | (uint)offset);
    }

    /// <summary>A position at a chunk's end is the start of the next chunk, where the next record lies.</summary>
    public long Normalize(long position)
    {
        int chunk = (int)(position >> 32);
        return (int)(uint)position == _chunkUsed[chunk] ? (long)(chunk + 1) << 32 : position;
    }

    /// <summary>The encoded record at <paramref name="position"/> (see <see cref="PositionOf"/>) and the bytes after it in its chunk.</summary>
    public ReadOnlySpan<byte> EncodedAt(long position) => _chunks[(int)(position >> 32)].AsSpan((int)(uint)position);

    /// <summary>
    /// A position in the level: a chunk and offset in memory, or an offset in the spill file with the bytes read
    /// ahead from it. Moving forward decodes only lengths; moving back starts again from the level's index (in
    /// memory) or the spill file's start.
    /// </summary>
    private sealed class Cursor(Frontier level)
    {
        private long _state = -1;
        private int _chunk;
        private int _offset;
        private long _spillOffset;
        private byte[] _buffer = [];
        private int _bufferStart;
        private int _bufferEnd;

        public long BufferBytes => _buffer.Length;

        /// <summary>Forgets the position (the level changed).</summary>
        public void Invalidate() => _state = -1;

        public void Seek(long index)
        {
            if (_state == index)
            {
                return;
            }

            if (_state < 0 || index < _state)
            {
                Reset(index);
            }

            while (_state < index)
            {
                Skip();
            }
        }

        /// <summary>Decodes the state at the position into <paramref name="record"/> and moves past it.</summary>
        public void Next(Span<byte> record) => Advance(1, level._codec.Decode(Here(), record));

        /// <summary>Encoded records from the position on, whole ones at the span's start, as many as lie in it up to <paramref name="maxStates"/>.</summary>
        public ReadOnlySpan<byte> PeekEncoded(int maxStates, out int count)
        {
            ReadOnlySpan<byte> bytes = Here();
            if (_state < level._memoryStates)
            {
                // A chunk holds whole records only: no need to walk them.
                long chunkEnd = _chunk + 1 < level._chunks.Count ? level._chunkFirstState[_chunk + 1] : level._memoryStates;
                count = (int)Math.Min(maxStates, chunkEnd - _state);
                return bytes;
            }

            FrontierCodec codec = level._codec;
            long available = level.Count - _state;
            int taken = 0;
            int length = 0;
            while (taken < maxStates && taken < available)
            {
                ReadOnlySpan<byte> rest = bytes[length..];
                if (rest.Length < codec.HeaderSize)
                {
                    break;
                }

                int next = codec.EncodedLength(rest);
                if (next > rest.Length)
                {
                    break;
                }

                length += next;
                taken++;
            }

            count = taken;
            return bytes;
        }

        public void Advance(int states, int bytes)
        {
            if (_state < level._memoryStates)
            {
                _offset += bytes;
            }
            else
            {
                _bufferStart += bytes;
                _spillOffset += bytes;
            }

            _state += states;
        }

        private void Skip() => Advance(1, level._codec.EncodedLength(Here()));

        /// <summary>The encoded bytes from the position on: the rest of its chunk, or at least one whole spilled record.</summary>
        private ReadOnlySpan<byte> Here()
        {
            if (_state >= level._memoryStates)
            {
                return SpillRecord();
            }

            // At a chunk's end the next state is at the start of the next chunk.
            while (_chunk + 1 < level._chunks.Count && level._chunkFirstState[_chunk + 1] <= _state)
            {
                _chunk++;
                _offset = 0;
            }

            return level._chunks[_chunk].AsSpan(_offset, level._chunkUsed[_chunk] - _offset);
        }

        private void Reset(long index)
        {
            _bufferStart = 0;
            _bufferEnd = 0;
            _spillOffset = 0;
            if (index < level._memoryStates)
            {
                long position = level.PositionOf(index);
                _chunk = (int)(position >> 32);
                _offset = (int)(uint)position;
                _state = index;
            }
            else
            {
                _chunk = level._chunks.Count;
                _offset = 0;
                _state = level._memoryStates;
            }
        }

        /// <summary>The spill bytes from the position on, at least one whole record of them.</summary>
        private ReadOnlySpan<byte> SpillRecord()
        {
            int longest = level._codec.MaxEncodedSize;
            if (_bufferEnd - _bufferStart < longest)
            {
                if (_buffer.Length == 0)
                {
                    _buffer = new byte[Math.Max(SpillReadBytes, 2 * longest)];
                }

                int kept = _bufferEnd - _bufferStart;
                _buffer.AsSpan(_bufferStart, kept).CopyTo(_buffer);
                level._spill!.Flush();
                long fileOffset = _spillOffset + kept;
                int want = (int)Math.Min(_buffer.Length - kept, level._spillBytes - fileOffset);
                int read = 0;
                while (read < want)
                {
                    int got = RandomAccess.Read(level._spill.SafeFileHandle, _buffer.AsSpan(kept + read, want - read), fileOffset + read);
                    if (got <= 0)
                    {
                        throw new IOException("The frontier spill file ended early.");
                    }

                    read += got;
                }

                _bufferStart = 0;
                _bufferEnd = kept + read;
            }

            return _buffer.AsSpan(_bufferStart, _bufferEnd - _bufferStart);
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

    /// <param name="longestRecord">Bytes of the longest encoded record (a chunk holds at least one).</param>
    /// <param name="memoryCap">Bytes one level may hold in memory (a chunk is no larger, and at most 16 MiB).</param>
    /// <remarks>16 MiB chunks: seven of a chunk's eight 2 MiB pages at least are huge pages (<see cref="HugePageArrays"/>).</remarks>
    public FrontierPool(int longestRecord, long memoryCap)
    {
        ChunkBytes = (int)Math.Max(longestRecord, Math.Min(16L << 20, memoryCap));
    }

    public int ChunkBytes { get; }

    /// <summary>Bytes of chunks waiting in the pool.</summary>
    public long IdleBytes => _free.Count * (long)ChunkBytes;

    public byte[] Rent() => _free.TryPop(out byte[]? chunk) ? chunk : HugePageArrays.Uninitialized<byte>(ChunkBytes);

    public void Return(byte[] chunk) => _free.Push(chunk);

    /// <summary>Hands idle chunks back to the runtime (after the frontier shrank for good, or to make room).</summary>
    public void Trim() => _free.Clear();
}
