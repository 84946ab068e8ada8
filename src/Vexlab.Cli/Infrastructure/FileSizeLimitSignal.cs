using System.Runtime.InteropServices;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A write past <c>ulimit -f</c> (RLIMIT_FSIZE) fails with EFBIG and raises SIGXFSZ, whose default action ends the
/// process (POSIX signal.h; Linux's generic_write_check_limits sends it): vexlab died with nothing said and left its
/// <c>.NAME.tmp-*</c> file. Handled and cancelled, the signal does nothing, and the failed write is an IOException,
/// said as one line with exit 74 like a full disk, its temp file removed.
/// </summary>
public static class FileSizeLimitSignal
{
    /// <summary>SIGXFSZ on Linux x86-64 and arm64 (asm-generic/signal.h) and macOS; .NET names no such PosixSignal.</summary>
    private const int SigXfsz = 25;

    /// <summary>
    /// The handler, never disposed: the signal reaches it on the runtime's signal thread after the write failed, as
    /// late as the process's exit, and one that finds no handler there takes the default action and ends the process
    /// (exit 153) after the line was said.
    /// </summary>
    private static PosixSignalRegistration? s_registration;

    /// <summary>Takes SIGXFSZ for the process's life; nothing where the number is not known to be 25.</summary>
    public static void Ignore()
    {
        var numbered = OperatingSystem.IsMacOS()
            || (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64);
        if (numbered)
        {
            s_registration ??= PosixSignalRegistration.Create((PosixSignal)SigXfsz, context => context.Cancel = true);
        }
    }
}
