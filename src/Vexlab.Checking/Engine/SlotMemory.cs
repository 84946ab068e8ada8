using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// Memory for one of a fingerprint table's slot arrays, kept across growths. A table of tens of millions of states grows
/// by an eighth a few dozen times, and each growth needs a new, larger, zeroed array; fresh memory is faulted in and
/// zeroed by the kernel page by page, which on a virtual machine costs more than the rehash itself (a profile of the
/// bench check spent a quarter of its time in the page-fault path). A table keeps two of these and rehashes from one
/// into the other: each reserves the address space of the largest table once (mmap with MAP_NORESERVE, nothing
/// committed), so a growth into it re-zeroes, in user space, the pages a growth before last had already faulted in,
/// and only the part beyond them is fresh. Fresh memory over a run is then about twice the final table instead of
/// the sum of all its sizes (nine times it with eighth-steps).
/// </summary>
/// <remarks>
/// While a region is not the live table its pages are handed back with <c>MADV_FREE</c>: they stay mapped, and are
/// reused as they are, unless the kernel needs the memory first, in which case it drops them without writing
/// anything out and a later use faults them in again. Where the reservation is refused (another OS, or a kernel with
/// strict overcommit) the region hands out ordinary pinned arrays, as before.
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

    /// <summary>Bytes kept mapped while the region is idle (freed lazily: the kernel may take them back at no cost).</summary>
    public long IdleBytes { get; private set; }

    /// <summary>
    /// A zeroed array of <paramref name="length"/> elements at the start of the region; what the region handed out
    /// before is gone. Stays valid until the next <see cref="Zeroed"/> or <see cref="Dispose"/>.
    /// </summary>
    public T* Zeroed(long length)
    {
        long bytes = length * Unsafe.SizeOf<T>();
        IdleBytes = 0;

        // Only an array large enough for huge pages to matter reserves the region; small tables (most checks) stay
        // in ordinary arrays and reserve no address space.
        if (_base is null && s_native && bytes >= HugePageArrays.MinBytes && bytes <= _reservedBytes)
        {
            nint address = VirtualMemory.MMap(0, (nuint)_reservedBytes, VirtualMemory.ProtRead | VirtualMemory.ProtWrite, VirtualMemory.MapPrivate | VirtualMemory.MapAnonymous | VirtualMemory.MapNoReserve, -1, 0);
            if (address != -1 && address != 0)
            {
                _base = (byte*)address;
                _dirtyBytes = 0;
                _ = VirtualMemory.MAdvise(address, (nuint)_reservedBytes, VirtualMemory.MadvHugePage);
            }
        }

        if (_base is null || bytes > _reservedBytes)
        {
            _array = null;
            // Pinned (the table keeps a pointer); a large one is advised as huge pages too.
            _array = bytes >= HugePageArrays.MinBytes && s_native ? HugePageArrays.Zeroed<T>(length) : GC.AllocateArray<T>(checked((int)length), pinned: true);
            return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        }

        // Memory written before is cleared here; past it the pages are still the kernel's zero pages.
        new Span<byte>(_base, (int)Math.Min(int.MaxValue, Math.Min(bytes, _dirtyBytes))).Clear();
        for (long cleared = int.MaxValue; cleared < Math.Min(bytes, _dirtyBytes); cleared += int.MaxValue)
        {
            new Span<byte>(_base + cleared, (int)Math.Min(int.MaxValue, Math.Min(bytes, _dirtyBytes) - cleared)).Clear();
        }

        _dirtyBytes = Math.Max(_dirtyBytes, bytes);
        return (T*)_base;
    }

    /// <summary>The array handed out is no longer needed: its memory is lazily freed until the next <see cref="Zeroed"/>.</summary>
    public void Idle()
    {
        _array = null;
        if (_base is not null && _dirtyBytes > 0)
        {
            _ = VirtualMemory.MAdvise((nint)_base, (nuint)AlignUp(_dirtyBytes, Environment.SystemPageSize), VirtualMemory.MadvFree);
            IdleBytes = _dirtyBytes;
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
            IdleBytes = 0;
        }
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
