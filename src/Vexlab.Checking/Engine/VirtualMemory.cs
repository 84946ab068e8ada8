using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>The Linux virtual-memory calls the search's large arrays use (mmap(2), munmap(2), madvise(2)).</summary>
internal static class VirtualMemory
{
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapPrivate = 0x02;
    public const int MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000;
    public const int MadvFree = 8;
    public const int MadvHugePage = 14;

    /// <summary>Faults the range in, writable, without changing its contents (Linux 5.14 and later).</summary>
    public const int MadvPopulateWrite = 23;

    [DllImport("libc", EntryPoint = "mmap")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern nint MMap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int MUnmap(nint address, nuint length);

    [DllImport("libc", EntryPoint = "madvise")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int MAdvise(nint address, nuint length, int advice);
}
