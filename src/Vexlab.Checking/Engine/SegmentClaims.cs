namespace Vexlab.Checking.Engine;

/// <summary>
/// Two workers' claims on one segment of a shared block: one takes chunks from the segment's front, the other from its
/// back, until they meet. Each worker's states still form one contiguous slice (the front worker's before the back
/// worker's, as the first-seen rule needs), but where the slices meet is decided by how fast each worker went, not
/// fixed beforehand.
/// </summary>
/// <remarks>
/// On this project's virtual machines a core's speed varies over tens of milliseconds: in bench checks with fixed
/// halves, the two workers' expand times in one block differed by a tenth at the median and by half in some blocks,
/// with equal work in both halves (their transitions correlated 0.25 with the difference) and equal totals over the
/// run, and blocks four times larger did not even out. Meeting where the workers get to leaves each at most one chunk
/// behind the other. Chunks are aligned to the level's index (every 64th record's place is known), so that a worker
/// finds each chunk's first record without walking the level.
/// </remarks>
internal sealed class SegmentClaims
{
    /// <summary>States a chunk: the level's index stride.</summary>
    public const int ChunkStates = Frontier.IndexStride;

    // Next chunk from the front (high 32 bits) and one past the last unclaimed chunk (low 32 bits).
    private long _ends;
    private int _from;
    private int _to;
    private long _grid;

    /// <summary>
    /// Makes states [<paramref name="from"/>, <paramref name="to"/>) of a block whose first state is the level's
    /// <paramref name="start"/>-th claimable, in chunks that end at the level's multiples of <see cref="ChunkStates"/>.
    /// </summary>
    public void Reset(long start, int from, int to)
    {
        _from = from;
        _to = to;
        _grid = (start + from) / ChunkStates * ChunkStates - start;
        long chunks = to > from ? (start + to - (start + from) / ChunkStates * ChunkStates + ChunkStates - 1) / ChunkStates : 0;
        Volatile.Write(ref _ends, chunks);
    }

    /// <summary>Claims the first unclaimed chunk; false once the back has been reached.</summary>
    public bool TakeFront(out int from, out int to) => Take(fromBack: false, out from, out to);

    /// <summary>Claims the last unclaimed chunk; false once the front has been reached.</summary>
    public bool TakeBack(out int from, out int to) => Take(fromBack: true, out from, out to);

    private bool Take(bool fromBack, out int from, out int to)
    {
        while (true)
        {
            long ends = Volatile.Read(ref _ends);
            int front = (int)(ends >> 32);
            int back = (int)(uint)ends;
            if (front >= back)
            {
                from = to = 0;
                return false;
            }

            long taken = fromBack ? ((long)front << 32) | (uint)(back - 1) : ((long)(front + 1) << 32) | (uint)back;
            if (Interlocked.CompareExchange(ref _ends, taken, ends) == ends)
            {
                Bounds(fromBack ? back - 1 : front, out from, out to);
                return true;
            }
        }
    }

    private void Bounds(int chunk, out int from, out int to)
    {
        from = (int)Math.Max(_from, _grid + ((long)chunk * ChunkStates));
        to = (int)Math.Min(_to, _grid + ((long)(chunk + 1) * ChunkStates));
    }
}
