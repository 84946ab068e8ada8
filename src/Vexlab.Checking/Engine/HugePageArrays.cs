using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The search's large arrays (fingerprint table, frontier chunks), backed by transparent huge pages where Linux
/// offers them. A fresh array is otherwise faulted in 4 KiB at a time on first touch, and on a virtual machine under
/// memory pressure each fault costs microseconds: profiles of the bench model spent a third of the check in the
/// kernel's page-fault path (clear_page_erms, the hypervisor's interrupt return) while the table grew and the
/// frontier filled. With <c>madvise(MADV_HUGEPAGE)</c> one fault maps 2 MiB (Documentation/admin-guide/mm/transhuge.rst:
/// with <c>enabled=madvise</c>, the distribution default, only advised ranges get huge pages).
/// </summary>
/// <remarks>
/// Arrays come from the pinned object heap, so the advised range never moves; only the 2 MiB-aligned interior is
/// advised. Elsewhere (another OS, or the advice refused) these are ordinary arrays.
/// </remarks>
internal static class HugePageArrays
{
    /// <summary>Arrays smaller than this stay ordinary: the advice covers whole 2 MiB pages only.</summary>
    public const long MinBytes = 8L << 20;

    private const long HugePage = 2L << 20;

    private static readonly bool s_supported = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>A zeroed array of <paramref name="length"/> elements.</summary>
    public static T[] Zeroed<T>(long length)
        where T : unmanaged
    {
        if (!Advisable<T>(length))
        {
            return new T[length];
        }

        // The runtime zeroes only memory it reuses (already mapped); fresh memory is the kernel's zero pages, untouched
        // until the advice is given, and then faulted in 2 MiB at a time.
        T[] array = GC.AllocateArray<T>(checked((int)length), pinned: true);
        Advise(array);
        return array;
    }

    /// <summary>An array of <paramref name="length"/> elements whose contents are undefined (the caller writes before reading).</summary>
    public static T[] Uninitialized<T>(long length)
        where T : unmanaged
    {
        if (!Advisable<T>(length))
        {
            return new T[length];
        }

        T[] array = GC.AllocateUninitializedArray<T>(checked((int)length), pinned: true);
        Advise(array);
        return array;
    }

    private static bool Advisable<T>(long length)
        where T : unmanaged
        => s_supported && length <= Array.MaxLength && length * Unsafe.SizeOf<T>() >= MinBytes;

    private static void Advise<T>(T[] array)
        where T : unmanaged
    {
        long start = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        long end = start + (array.LongLength * Unsafe.SizeOf<T>());
        long alignedStart = (start + HugePage - 1) & ~(HugePage - 1);
        long alignedEnd = end & ~(HugePage - 1);
        if (alignedEnd > alignedStart)
        {
            // Advice only: a refusal (no THP in this kernel) leaves ordinary pages, so the result is not checked.
            _ = VirtualMemory.MAdvise((nint)alignedStart, (nuint)(alignedEnd - alignedStart), VirtualMemory.MadvHugePage);
        }
    }
}
