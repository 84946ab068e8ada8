using System.Buffers.Binary;
using System.IO.Hashing;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The XXH3 digest a checkpoint file ends with, over every byte before it. The table, the parent links and the
/// liveness graph are read back as they are (only the frontier's records are checked one by one), so a byte changed in
/// them would resume to other counts or to an index out of range; with the digest it is a damaged checkpoint instead.
/// </summary>
internal static class FileDigest
{
    /// <summary>Bytes of the trailer: the XXH3 64-bit digest of everything before it, little-endian.</summary>
    public const int TrailerBytes = 8;

    /// <summary>Appends the digest of the whole of <paramref name="file"/> (open to read and write) at its end.</summary>
    public static void Append(Stream file)
    {
        ulong digest = Digest(file, file.Length);
        Span<byte> trailer = stackalloc byte[TrailerBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, digest);
        file.Position = file.Length;
        file.Write(trailer);
    }

    /// <summary>
    /// Whether <paramref name="file"/> ends with the digest of the rest; a file shorter than the trailer does not. The
    /// stream's position is left where it was.
    /// </summary>
    public static bool Verify(Stream file)
    {
        long position = file.Position;
        long body = file.Length - TrailerBytes;
        if (body < 0)
        {
            return false;
        }

        ulong digest = Digest(file, body);
        Span<byte> trailer = stackalloc byte[TrailerBytes];
        file.ReadExactly(trailer);
        file.Position = position;
        return BinaryPrimitives.ReadUInt64LittleEndian(trailer) == digest;
    }

    /// <summary>The digest of the first <paramref name="length"/> bytes; the stream is left just after them.</summary>
    private static ulong Digest(Stream file, long length)
    {
        var hash = new XxHash3();
        byte[] chunk = new byte[1 << 20];
        file.Position = 0;
        long left = length;
        while (left > 0)
        {
            int read = file.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
            if (read <= 0)
            {
                throw new EndOfStreamException();
            }

            hash.Append(chunk.AsSpan(0, read));
            left -= read;
        }

        return hash.GetCurrentHashAsUInt64();
    }
}
