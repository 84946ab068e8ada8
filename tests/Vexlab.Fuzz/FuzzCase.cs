using System.Text;

namespace Vexlab.Fuzz;

/// <summary>One fuzz input: a seed of a target with a few mutations applied in order.</summary>
public sealed record FuzzCase(FuzzTarget Target, string SeedName, byte[] Seed, Mutation[] Mutations)
{
    /// <summary>The input's bytes.</summary>
    public byte[] Bytes()
    {
        var bytes = Seed;
        foreach (var m in Mutations)
        {
            bytes = m.Apply(bytes);
        }

        return bytes;
    }

    /// <summary>The input as an option value: one argument, no NUL (execve cannot pass one).</summary>
    public static string AsValue(byte[] bytes) =>
        Encoding.UTF8.GetString(bytes).Replace("\0", string.Empty, StringComparison.Ordinal).TrimEnd('\n');

    public override string ToString() => $"{Target.Name}/{SeedName} {string.Join(' ', Mutations)}";
}
