namespace Vexlab.Scenarios.Files;

/// <summary>
/// The stream an <see cref="OutputFile"/> hands out: its I/O errors say which output failed
/// (<see cref="OutputFailedException"/>) instead of surfacing as an anonymous IOException.
/// </summary>
internal sealed class OutputStream(FileStream inner, string name) : Stream
{
    public FileStream Inner => inner;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Guard(() => inner.Write(buffer, offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            throw Failed(e);
        }
    }

    public override void WriteByte(byte value) => Guard(() => inner.WriteByte(value));

    public override void Flush() => Guard(inner.Flush);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        // The OutputFile owns the file stream: it flushes, syncs and closes it on Commit or Dispose.
        base.Dispose(disposing);
    }

    private void Guard(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            throw Failed(e);
        }
    }

    // An I/O error, or EFBIG, which .NET reports as an ArgumentOutOfRangeException (OutputFile.IsFileTooLarge).
    private static bool IsWriteFailure(Exception e) => (e is IOException and not OutputFailedException) || OutputFile.IsFileTooLarge(e);

    private OutputFailedException Failed(Exception e) => new($"{name}: {OutputFile.WriteFailure(e)}", e);
}
