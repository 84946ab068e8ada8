using System.Collections.Concurrent;
using System.Globalization;
using Vexlab.Model.Configuration;

namespace Vexlab.Scenarios.Files;

/// <summary>
/// The one way every file output (JSON results, traces, plots, exports, replays) is written.
/// A regular file or a missing path gets a temp file in the target's own folder, fsynced and
/// renamed over it, so a kill mid-write leaves the previous file whole. A device, FIFO or socket,
/// or a path whose links pass through /dev or /proc (<c>--json /dev/stdout</c>), is written in
/// place and never replaced. <see cref="Check"/> finds a bad path before the work starts.
/// </summary>
public sealed class OutputFile : IDisposable
{
    private const int MaxLinkHops = 40;

    /// <summary>Temp files not yet renamed, removed if the process is stopped (SIGTERM, SIGINT).</summary>
    private static readonly ConcurrentDictionary<string, byte> s_pending = new(StringComparer.Ordinal);

    private readonly string _shown;
    private readonly string _what;
    private readonly string? _temp;
    private readonly string _target;
    private bool _committed;

    static OutputFile()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RemovePending();
    }

    private readonly FileStream _file;

    private OutputFile(string shown, string what, string target, string? temp, FileStream file)
    {
        _shown = shown;
        _what = what;
        _target = target;
        _temp = temp;
        _file = file;
        Stream = new OutputStream(file, $"{shown}: cannot write the {what}");
    }

    /// <summary>The stream to write the output to; closing it does not commit or abandon the output.</summary>
    public Stream Stream { get; }

    /// <summary>True when the output goes into a device or FIFO in place rather than through a temp file.</summary>
    public bool InPlace => _temp is null;

    /// <summary>
    /// Refuses, before any work, a path that cannot be written: an empty name, a folder, a
    /// missing or read-only folder. Writes and removes a probe file to prove the folder takes files.
    /// </summary>
    public static void Check(string path, string what)
    {
        var (shown, target, inPlace) = Resolve(path, what);
        if (inPlace)
        {
            return;
        }

        var probe = TempName(target);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
            }

            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(shown, what, target, e);
        }
    }

    /// <summary>Opens the output: a temp file beside the target, or the device itself.</summary>
    public static OutputFile Create(string path, string what)
    {
        var (shown, target, inPlace) = Resolve(path, what);
        try
        {
            if (inPlace)
            {
                var device = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
                return new OutputFile(shown, what, target, null, device);
            }

            var temp = TempName(target);
            s_pending.TryAdd(temp, 0);
            try
            {
                var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
                return new OutputFile(shown, what, target, temp, stream);
            }
            catch
            {
                s_pending.TryRemove(temp, out _);
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(shown, what, target, e);
        }
    }

    /// <summary>Writes <paramref name="write"/>'s bytes to <paramref name="path"/>, whole or not at all.</summary>
    public static void Write(string path, string what, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var output = Create(path, what);
        write(output.Stream);
        output.Commit();
    }

    /// <summary>Writes UTF-8 text (no byte-order mark), whole or not at all.</summary>
    public static void WriteAllText(string path, string what, string text) =>
        Write(path, what, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 64 * 1024, leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>
    /// For a writer that needs a file name (a database's COPY TO): <paramref name="write"/> writes a
    /// scratch file, which is then put in place like any output.
    /// </summary>
    public static void WriteThroughFile(string path, string what, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (shown, target, inPlace) = Resolve(path, what);
        var scratch = inPlace
            ? Path.Combine(Path.GetTempPath(), "vexlab-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Path.GetRandomFileName())
            : TempName(target);
        s_pending.TryAdd(scratch, 0);
        try
        {
            write(scratch);
            if (inPlace)
            {
                Write(path, what, stream =>
                {
                    using var source = new FileStream(scratch, FileMode.Open, FileAccess.Read);
                    source.CopyTo(stream);
                });
                return;
            }

            using (var sync = new FileStream(scratch, FileMode.Open, FileAccess.ReadWrite))
            {
                sync.Flush(flushToDisk: true);
            }

            File.Move(scratch, target, overwrite: true);
        }
        catch (Exception e) when (e is (IOException and not OutputFailedException) or UnauthorizedAccessException)
        {
            throw CannotWrite(shown, what, target, e);
        }
        finally
        {
            TryDelete(scratch);
            s_pending.TryRemove(scratch, out _);
        }
    }

    /// <summary>Flushes to disk and puts the file in place.</summary>
    public void Commit()
    {
        try
        {
            _file.Flush(flushToDisk: _temp is not null);
            _file.Dispose();
            if (_temp is not null)
            {
                File.Move(_temp, _target, overwrite: true);
                s_pending.TryRemove(_temp, out _);
            }

            _committed = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || IsFileTooLarge(e))
        {
            throw new OutputFailedException($"{_shown}: cannot write the {_what}: {WriteFailure(e)}", e);
        }
    }

    /// <summary>Closes the output; without <see cref="Commit"/> the temp file is removed and the old file stays.</summary>
    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        try
        {
            _file.Dispose();
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            // A full disk fails the last flush too; the temp file is removed below either way.
        }

        if (_temp is not null)
        {
            TryDelete(_temp);
            s_pending.TryRemove(_temp, out _);
        }
    }

    /// <summary>Where the bytes go, and whether in place; refuses empty names and folders.</summary>
    private static (string Shown, string Target, bool InPlace) Resolve(string path, string what)
    {
        if (path.Length == 0)
        {
            throw InputException.At(null, 0, 0, null, $"the {what} file name is empty");
        }

        var shown = ErrorText.Path(path);
        var current = Path.GetFullPath(path);
        for (var hop = 0; ; hop++)
        {
            // Anything reached through /dev or /proc (/dev/stdout -> /proc/self/fd/1 -> a file or a
            // pipe) belongs to someone else: written in place, never renamed over.
            if (FileKinds.IsSystem(current))
            {
                return FileKinds.Of(current) switch
                {
                    FileKind.Directory => throw InputException.At(shown, 0, 0, null, $"is a folder, not a file for the {what}"),
                    FileKind.Missing => throw InputException.At(shown, 0, 0, null, $"cannot write the {what}: no such device"),
                    _ => (shown, current, true),
                };
            }

            FileSystemInfo info = new FileInfo(current);
            if (info.LinkTarget is null || hop >= MaxLinkHops)
            {
                break;
            }

            var next = info.LinkTarget;
            current = Path.GetFullPath(next, Path.GetDirectoryName(current) ?? "/");
        }

        return FileKinds.Of(current) switch
        {
            FileKind.Directory => throw InputException.At(shown, 0, 0, null, $"is a folder, not a file for the {what}"),
            FileKind.Special => (shown, current, true),
            _ => (shown, current, false),
        };
    }

    /// <summary>
    /// .NET reports EFBIG (a file past RLIMIT_FSIZE or the file system's largest file, 4 GiB on FAT32) as an
    /// ArgumentOutOfRangeException on "value" from the write, not as an IOException: it is an output failure all the same.
    /// Only when the runtime's write threw it (<c>System.ConsolePal.Write</c> for standard output,
    /// <c>System.IO.RandomAccess.WriteAtOffset</c> for a file, or its errno translation in <c>Interop</c>): every property
    /// setter names its argument "value" too, and a bug that set one out of range was once said as a full standard
    /// output with exit 74, where it is an internal error.
    /// </summary>
    public static bool IsFileTooLarge(Exception e) =>
        e is ArgumentOutOfRangeException { ParamName: "value", TargetSite.DeclaringType: { } thrower }
        && (thrower.Assembly == typeof(object).Assembly || thrower.Assembly == typeof(Console).Assembly)
        && thrower.FullName is "System.ConsolePal" or "System.IO.RandomAccess" or "Interop";

    /// <summary>A write that failed: an I/O error, or EFBIG (<see cref="IsFileTooLarge"/>).</summary>
    public static bool IsWriteFailure(Exception e) => e is IOException || IsFileTooLarge(e);

    /// <summary>strerror(EFBIG), the words an <see cref="IsFileTooLarge"/> failure is reported in.</summary>
    private const string FileTooLarge = "File too large";

    /// <summary>
    /// Why a write failed, on one line, for a message that names the output itself: EFBIG in its strerror words,
    /// an I/O error's message without the temp file's path .NET appends.
    /// </summary>
    public static string WriteFailure(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return IsFileTooLarge(e) ? FileTooLarge : ErrorText.OneLine(WithoutPath(e.Message));
    }

    /// <summary>
    /// An I/O error's message without the <c> : 'PATH'</c> .NET appends: that path is the temp file, which the
    /// person never named; the message names the output instead.
    /// </summary>
    private static string WithoutPath(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var at = message.LastIndexOf(" : '", StringComparison.Ordinal);
        return at > 0 && message.EndsWith('\'') ? message[..at] : message;
    }

    /// <summary>Linux's NAME_MAX: the most bytes one component of a path may hold.</summary>
    private const int NameMax = 255;

    private static string TempName(string target)
    {
        var folder = Path.GetDirectoryName(target) ?? ".";
        var name = Path.GetFileName(target);
        var suffix = string.Create(CultureInfo.InvariantCulture, $".tmp-{Environment.ProcessId}-{Path.GetRandomFileName()}");

        // A target name near NAME_MAX is a file the user may write; its temp name must fit too, so the name's part of
        // it is cut (whole characters, counted in UTF-8 bytes) rather than the write refused as "path too long".
        var room = NameMax - 1 - System.Text.Encoding.UTF8.GetByteCount(suffix);
        var kept = name.Length;
        while (kept > 0 && System.Text.Encoding.UTF8.GetByteCount(name.AsSpan(0, kept)) > room)
        {
            kept--;
            if (kept > 0 && char.IsHighSurrogate(name[kept - 1]))
            {
                kept--;
            }
        }

        return Path.Combine(folder, "." + name[..kept] + suffix);
    }

    private static InputException CannotWrite(string shown, string what, string target, Exception e)
    {
        var folder = Path.GetDirectoryName(target) ?? ".";
        var reason = File.Exists(folder)
            ? ErrorText.Path(folder) + " is a file, not a folder"
            : e is DirectoryNotFoundException || !Directory.Exists(folder)
            ? "the folder " + ErrorText.Path(folder) + " does not exist"
            : ErrorText.OneLine(WithoutPath(e.Message));
        return InputException.At(shown, 0, 0, null, $"cannot write the {what}: {reason}");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the target was never replaced.
        }
    }

    private static void RemovePending()
    {
        foreach (var temp in s_pending.Keys)
        {
            TryDelete(temp);
        }
    }
}
