namespace Vexlab.Checking.Engine;

/// <summary>How the set of visited states is stored.</summary>
public enum StateCompression
{
    /// <summary>Whole fingerprints (64 or 128 bits), 8 or 16 bytes a table slot.</summary>
    None,

    /// <summary>
    /// Compact hashing: 60-bit fingerprints in 6 to 8 bytes a slot, the slot's position implying the bits it does not
    /// store (Cleary 1984). 64-bit fingerprints only.
    /// </summary>
    Compact,
}
