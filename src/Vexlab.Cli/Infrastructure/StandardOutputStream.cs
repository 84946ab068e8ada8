using System.Runtime.InteropServices;
using System.Text;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Standard output on Linux and macOS, written with write(2) and every failure thrown. .NET's console stream
/// (UnixConsoleStream) takes EPIPE as success, so a result written to a pipe whose reader had gone (<c>vexlab compare
/// --json | true</c>) was lost with exit 0 and nothing said; here it is an <see cref="IOException"/> ("Broken pipe"),
/// said as one line with exit 74 as a full or closed standard output is. .NET ignores SIGPIPE, so the error is what
/// arrives. Not a FileStream over descriptor 1: on a regular file that writes with pwrite(2) at an offset of its own,
/// and a shell writing to the same file after vexlab (<c>{ vexlab ...; echo x; } &gt; f</c>) would write over its
/// output; write(2) moves the offset the shell shares.
/// </summary>
internal sealed class StandardOutputStream : Stream
{
    private const int StandardOutput = 1;

    /// <summary>errno values, the same on Linux and macOS but for EAGAIN (asm-generic/errno-base.h, sys/errno.h).</summary>
    private const int Eintr = 4;

    /// <summary>POLLOUT, the same on Linux and macOS (asm-generic/poll.h, sys/poll.h).</summary>
    private const short Pollout = 4;

    private static readonly int s_eagain = OperatingSystem.IsMacOS() ? 35 : 11;

    /// <summary>A copy of descriptor 1 taken at start, or -1 when it was closed (<see cref="_closedErrno"/> says why).</summary>
    private readonly int _fd;

    private readonly int _closedErrno;

    private StandardOutputStream(int fd, int closedErrno)
    {
        _fd = fd;
        _closedErrno = closedErrno;
    }

    /// <summary>
    /// Makes <see cref="Console.Out"/> write through this stream on Linux and macOS, as .NET's own writer does (without a
    /// byte order mark, flushed at every write, synchronized) but in UTF-8 whatever the locale; elsewhere, or where libc
    /// cannot be called, it stays .NET's. Console's terminal detection (IsOutputRedirected, the window's width) asks
    /// the descriptor, not the writer, and is unchanged.
    /// </summary>
    public static void Install()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        StandardOutputStream stream;
        try
        {
            // A copy, as .NET's console takes one: with descriptor 1 closed at start (>&-), the next file vexlab opened
            // (a --json file, a trace) would be given that number, and standard output would be written into it.
            var fd = NativeMethods.dup(StandardOutput);
            stream = new StandardOutputStream(fd, fd < 0 ? Marshal.GetLastPInvokeError() : 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return;
        }

        // UTF-8 whatever the locale, without a byte order mark (one would open the output, ahead of a JSON document's
        // '{'). In a locale that is not UTF-8 every human line is ASCII already (CliContext), the same bytes in any
        // charset; what is not, CSV data, goes out as it is in UTF-8, as results export writes its files.
        var encoding = new UTF8Encoding(false);

        // 4096 characters, where .NET's writer takes 256: a large JSON document goes out in a sixteenth of the writes.
        Console.SetOut(new StreamWriter(stream, encoding, 4096, leaveOpen: true) { AutoFlush = true });
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void WriteByte(byte value) => Write(new ReadOnlySpan<byte>(in value));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_fd < 0)
        {
            throw Failure(_closedErrno);
        }

        while (!buffer.IsEmpty)
        {
            var written = NativeMethods.write(_fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
            if (written >= 0)
            {
                // A pipe or a terminal may take part of it: the rest goes in the next write.
                buffer = buffer[(int)written..];
                continue;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == Eintr)
            {
                continue;
            }

            if (errno == s_eagain)
            {
                // A descriptor another process made non-blocking (it shares the open file): wait until it takes more,
                // as .NET's console does, rather than fail a write that would succeed.
                var poll = new NativeMethods.PollFd { Fd = _fd, Events = Pollout };
                _ = NativeMethods.poll(ref poll, 1, -1);
                continue;
            }

            throw Failure(errno);
        }
    }

    /// <summary>The error's strerror(3) words alone ("Broken pipe"): the message that reports it names standard output.</summary>
    private static IOException Failure(int errno) => new(Marshal.GetPInvokeErrorMessage(errno), errno);

    private static class NativeMethods
    {
        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int dup(int fd);

        [DllImport("libc", EntryPoint = "write", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern nint write(int fd, ref byte buffer, nuint count);

        /// <summary>nfds_t is unsigned long on Linux and unsigned int on macOS; either takes a count of 1 in its register.</summary>
        [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int poll(ref PollFd fds, nuint count, int timeout);
    }
}
