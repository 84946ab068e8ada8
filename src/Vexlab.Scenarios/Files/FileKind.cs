using System.Runtime.InteropServices;

namespace Vexlab.Scenarios.Files;

/// <summary>What a path names once its symbolic links are followed.</summary>
public enum FileKind
{
    /// <summary>Nothing there (or a symbolic link to nothing).</summary>
    Missing,

    /// <summary>A regular file: output replaces it by renaming a finished temp file over it.</summary>
    Regular,

    /// <summary>A folder: never an output.</summary>
    Directory,

    /// <summary>A character or block device, FIFO or socket: output is written into it in place.</summary>
    Special,
}

/// <summary>
/// Asks the kernel what a path is. .NET reports devices and FIFOs as plain files, so this calls
/// statx(2), whose struct layout is the same on every Linux architecture (include/uapi/linux/stat.h).
/// </summary>
public static class FileKinds
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x0001;
    private const int ModeOffset = 28;
    private const int StatxSize = 256;
    private const int TypeMask = 0xF000;
    private const int RegularType = 0x8000;
    private const int DirectoryType = 0x4000;
    private const int FifoType = 0x1000;
    private const int SocketType = 0xC000;
    private const uint StatxIno = 0x0100;
    private const int AtEmptyPath = 0x1000;
    private const int InodeOffset = 32;
    private const int DevMajorOffset = 136;
    private const int DevMinorOffset = 140;

    /// <summary>
    /// True for a full path under /dev or /proc (/dev/null, /dev/stdout, /proc/self/fd/1): devices and process files
    /// that belong to someone else, written in place any number of times and never replaced.
    /// </summary>
    public static bool IsSystem(string fullPath)
    {
        ArgumentNullException.ThrowIfNull(fullPath);
        return fullPath.StartsWith("/dev/", StringComparison.Ordinal) || fullPath.StartsWith("/proc/", StringComparison.Ordinal);
    }

    /// <summary>
    /// True when <paramref name="path"/> is this process's standard output: one of its names (/dev/stdout, /dev/fd/1,
    /// /proc/self/fd/1, /proc/thread-self/fd/1, /proc/PID/fd/1, however spelled: /dev/./stdout), or a pipe or socket that
    /// is the one standard output is (/proc/$$/fd/1 of the shell that started the command). A terminal or a regular
    /// file that standard output also goes to is not taken for it by identity: /dev/null and /dev/pts/N take any number
    /// of writers, and a regular file is replaced whole, never written into.
    /// </summary>
    public static bool IsStandardOutput(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            return false;
        }

        var full = Path.GetFullPath(path);
        if (full is "/dev/stdout" or "/dev/fd/1" or "/proc/self/fd/1" or "/proc/thread-self/fd/1"
            || full == "/proc/" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/fd/1")
        {
            return true;
        }

        return OperatingSystem.IsLinux() && Identity(AtFdCwd, full, 0) is { } named && Identity(1, string.Empty, AtEmptyPath) is { } stdout
            && named == stdout && named.Mode is FifoType or SocketType;
    }

    /// <summary>The file's type, inode and device (statx: stx_mode, stx_ino, stx_dev_major, stx_dev_minor), or null.</summary>
    private static (int Mode, ulong Inode, uint Major, uint Minor)? Identity(int dirfd, string path, int flags)
    {
        var buffer = new byte[StatxSize];
        try
        {
            if (NativeMethods.statx(dirfd, path, flags, StatxType | StatxIno, buffer) != 0)
            {
                return null;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }

        return (BitConverter.ToUInt16(buffer, ModeOffset) & TypeMask, BitConverter.ToUInt64(buffer, InodeOffset),
            BitConverter.ToUInt32(buffer, DevMajorOffset), BitConverter.ToUInt32(buffer, DevMinorOffset));
    }

    /// <summary>The kind of <paramref name="path"/>, following symbolic links.</summary>
    public static FileKind Of(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            var buffer = new byte[StatxSize];
            try
            {
                if (NativeMethods.statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
                {
                    return Marshal.GetLastPInvokeError() == 2 /* ENOENT */ || Marshal.GetLastPInvokeError() == 20 /* ENOTDIR */
                        ? FileKind.Missing
                        : Fallback(path);
                }

                var mode = BitConverter.ToUInt16(buffer, ModeOffset) & TypeMask;
                return mode switch
                {
                    RegularType => FileKind.Regular,
                    DirectoryType => FileKind.Directory,
                    _ => FileKind.Special,
                };
            }
            catch (EntryPointNotFoundException)
            {
                return Fallback(path);
            }
        }

        return Fallback(path);
    }

    private static FileKind Fallback(string path)
    {
        // Without statx: folders and missing paths are still told apart; anything else under
        // /dev is taken for a device so it is never replaced.
        if (Directory.Exists(path))
        {
            return FileKind.Directory;
        }

        if (!File.Exists(path))
        {
            return FileKind.Missing;
        }

        return IsSystem(Path.GetFullPath(path)) ? FileKind.Special : FileKind.Regular;
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
    }
}
