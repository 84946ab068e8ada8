namespace Vexlab.Checking.Swarm;

/// <summary>SplitMix64 (Steele, Lea, Flood, 2014): a small, fast generator whose every seed gives a good stream.</summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }
}
