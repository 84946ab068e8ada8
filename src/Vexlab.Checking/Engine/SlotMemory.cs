using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// Memory for one of a fingerprint table's slot arrays, grown in place. A table of tens of millions of states grows by
/// an eighth a few dozen times; a new array for each growth costs the old and the new one resident at once (twice the
/// table at the peak) and fresh memory for every size, which the kernel faults in and zeroes page by page: on a
/// virtual machine that hands freed memory back to its host, the most expensive part of a growth. So each array
/// reserves the address space of the largest table once (mmap with MAP_NORESERVE, nothing committed) and grows at its
/// end: <see cref="Extended"/> keeps the slots it has and adds zeroed ones, fresh from the kernel unless a larger
/// table (before a checkpoint was read) had written them. The table then rehashes in place. Over a run the kernel
/// zeroes the final table once.
/// </summary>
/// <remarks>
/// Where the reservation is refused (another OS, or a kernel with strict overcommit), and for arrays under
/// <see cref="HugePageArrays.MinBytes"/>, the region hands out ordinary pinned arrays, and growing one copies it into
/// a larger array.
/// </remarks>
internal sealed unsafe class SlotMemory<T> : IDisposable
    where T : unmanaged
{

    private static readonly bool s_native = OperatingSystem.IsLinux() && Environment.Is64BitProcess
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    private readonly long _reservedBytes;
    private byte* _base;

    // Bytes at the start of the region that may be non-zero (written since the region was reserved).
    private long _dirtyBytes;
    private T[]? _array;

    private const long HugePage = 2L << 20;

    /// <param name="maxLength">The most elements the region will ever hand out.</param>
    public SlotMemory(long maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        _reservedBytes = AlignUp(checked(maxLength * Unsafe.SizeOf<T>()), HugePage);
    }

    ~SlotMemory() => Unmap();

    /// <summary>The region hands out its own reserved memory (not ordinary arrays).</summary>
    public bool IsReserved => _base is not null;

    /// <summary>
    /// A zeroed array of <paramref name="length"/> elements at the start of the region; what the region handed out
    /// before is gone. Stays valid until the next <see cref="Zeroed"/>, <see cref="Extended"/> or <see cref="Dispose"/>.
    /// </summary>
    public T* Zeroed(long length)
    {
        long bytes = length * Unsafe.SizeOf<T>();
        if (Reserve(bytes))
        {
            Clear(0, Math.Min(bytes, _dirtyBytes));
            _dirtyBytes = Math.Max(_dirtyBytes, bytes);
            return (T*)_base;
        }

        _array = NewArray(length);
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
    }

    /// <summary>
    /// The array handed out last (<paramref name="oldLength"/> elements), its elements kept, grown to
    /// <paramref name="length"/> elements whose new ones are zero. Stays valid until the next call or <see cref="Dispose"/>.
    /// </summary>
    public T* Extended(long oldLength, long length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, oldLength);
        long oldBytes = oldLength * Unsafe.SizeOf<T>();
        long bytes = length * Unsafe.SizeOf<T>();
        if (_base is not null && bytes <= _reservedBytes)
        {
            // Past the old array the pages are the kernel's zero pages unless a larger table wrote them.
            Clear(oldBytes, Math.Min(bytes, _dirtyBytes));
            _dirtyBytes = Math.Max(_dirtyBytes, bytes);
            return (T*)_base;
        }

        T[]? old = _array;
        if (_base is null && Reserve(bytes))
        {
            // Grown past the size for huge pages: the ordinary array moves into the reserved region.
            ReadOnlySpan<T> kept = old is null ? [] : old.AsSpan(0, (int)oldLength);
            kept.CopyTo(new Span<T>(_base, (int)oldLength));
            _array = null;
            _dirtyBytes = bytes;
            return (T*)_base;
        }

        T[] grown = NewArray(length);
        old?.AsSpan(0, (int)oldLength).CopyTo(grown);
        _array = grown;
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(grown));
    }

    /// <summary>
    /// Has the kernel fault in elements [<paramref name="from"/>, <paramref name="to"/>) of the array handed out last,
    /// writable, keeping what they hold: the pages a growth's new slots take, zeroed by one thread while another moves
    /// keys into them (a write meeting a page not yet in waits for it; one already in is left as it is). Where the
    /// call is refused (an older kernel, an ordinary array) the writes fault the pages in as before. Returns the bytes
    /// the kernel faulted in (zero where it refused).
    /// </summary>
    public long Populate(long from, long to)
    {
        long start = AlignUp(from * Unsafe.SizeOf<T>(), Environment.SystemPageSize);
        long end = to * Unsafe.SizeOf<T>() / Environment.SystemPageSize * Environment.SystemPageSize;
        if (_base is not null && start < end && end <= _reservedBytes
            && VirtualMemory.MAdvise((nint)(_base + start), (nuint)(end - start), VirtualMemory.MadvPopulateWrite) == 0)
        {
            return end - start;
        }

        return 0;
    }

    /// <summary>Reserves the region for an array of <paramref name="bytes"/> if it is large enough to and can; true when the region serves it.</summary>
    private bool Reserve(long bytes)
    {
        // Only an array large enough for huge pages to matter reserves the region; small tables (most checks) stay
        // in ordinary arrays and reserve no address space.
        if (_base is null && s_native && bytes >= HugePageArrays.MinBytes && bytes <= _reservedBytes)
        {
            nint address = VirtualMemory.MMap(0, (nuint)_reservedBytes, VirtualMemory.ProtRead | VirtualMemory.ProtWrite, VirtualMemory.MapPrivate | VirtualMemory.MapAnonymous | VirtualMemory.MapNoReserve, -1, 0);
            if (address != -1 && address != 0)
            {
                _base = (byte*)address;
                _dirtyBytes = 0;
                _array = null;
                _ = VirtualMemory.MAdvise(address, (nuint)_reservedBytes, VirtualMemory.MadvHugePage);
            }
        }

        return _base is not null && bytes <= _reservedBytes;
    }

    /// <summary>Pinned (the table keeps a pointer); a large one is advised as huge pages too.</summary>
    private static T[] NewArray(long length)
        => length * Unsafe.SizeOf<T>() >= HugePageArrays.MinBytes && s_native ? HugePageArrays.Zeroed<T>(length) : GC.AllocateArray<T>(checked((int)length), pinned: true);

    /// <summary>Zeroes the region's bytes [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private void Clear(long from, long to)
    {
        for (long at = from; at < to; at += int.MaxValue)
        {
            new Span<byte>(_base + at, (int)Math.Min(int.MaxValue, to - at)).Clear();
        }
    }

    public void Dispose()
    {
        Unmap();
        GC.SuppressFinalize(this);
    }

    private void Unmap()
    {
        _array = null;
        if (_base is not null)
        {
            _ = VirtualMemory.MUnmap((nint)_base, (nuint)_reservedBytes);
            _base = null;
            _dirtyBytes = 0;
        }
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
