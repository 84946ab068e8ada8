using System.Text;

namespace Vexlab.Fuzz;

/// <summary>One fuzz input: a seed of a target with a few mutations applied in order.</summary>
public sealed record FuzzCase(FuzzTarget Target, string SeedName, byte[] Seed, Mutation[] Mutations)
{
    /// <summary>
    /// The longest input kept: one byte past the largest file vexlab reads whole, so that the refusal of a larger
    /// one is still tried. Repeated lines grow an input geometrically (two repeats of a 20 KB line made 816 MB),
    /// and past the limit more bytes only cost the fuzzer time.
    /// </summary>
    public const int MaxInputBytes = (int)Vexlab.Scenarios.Files.InputLimits.DefaultMaxBytes + 1;

    /// <summary>The longest option value a person can pass: Linux's MAX_ARG_STRLEN (32 pages) less the NUL.</summary>
    public const int MaxArgumentBytes = (32 * 4096) - 1;

    /// <summary>The input's bytes.</summary>
    public byte[] Bytes()
    {
        var bytes = Seed;
        foreach (var m in Mutations)
        {
            bytes = m.Apply(bytes);
            if (bytes.Length > MaxInputBytes)
            {
                bytes = bytes[..MaxInputBytes];
            }
        }

        return bytes;
    }

    /// <summary>The input as an option value: one argument, no NUL and no longer than execve passes one.</summary>
    public static string AsValue(byte[] bytes) =>
        Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, MaxArgumentBytes))).Replace("\0", string.Empty, StringComparison.Ordinal).TrimEnd('\n');

    public override string ToString() => $"{Target.Name}/{SeedName} {string.Join(' ', Mutations)}";
}
