using System.Runtime.CompilerServices;
using System.Text;
using System.IO.Hashing;

namespace Vexlab.Simulation.Engine;

/// <summary>
/// Deterministic pseudo-random stream: xoshiro256** (Blackman and Vigna) seeded through splitmix64.
/// The core API is integer only, so the same seed gives the same sequence on every platform.
/// It is a mutable struct: pass it by <c>ref</c>, and give every component its own stream through
/// <see cref="Fork(ulong)"/> so that adding draws in one component never shifts another.
/// </summary>
public struct SimRandom
{
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private readonly ulong _seed;

    public SimRandom(ulong seed)
    {
        _seed = seed;
        var sm = seed;
        _s0 = SplitMix64(ref sm);
        _s1 = SplitMix64(ref sm);
        _s2 = SplitMix64(ref sm);
        _s3 = SplitMix64(ref sm);
        if ((_s0 | _s1 | _s2 | _s3) == 0)
        {
            // xoshiro's only invalid state; splitmix64 never yields it in practice.
            _s0 = GoldenGamma;
        }
    }

    /// <summary>The seed this stream was created from (forks derive from it, not from the current state).</summary>
    public readonly ulong Seed => _seed;

    /// <summary>One step of splitmix64 (Steele, Lea, Flood), advancing <paramref name="state"/>.</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        state += GoldenGamma;
        return Mix64(state);
    }

    /// <summary>The splitmix64 finalizer: a bijective 64-bit mix.</summary>
    public static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Stable 64-bit id of a stream name (XxHash64 of its UTF-8 bytes).</summary>
    public static ulong StreamId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(name));
    }

    /// <summary>
    /// An independent stream for a component: seed' = mix(seed ^ mix(streamId + gamma)). It depends only
    /// on this stream's seed and <paramref name="streamId"/>, never on how many values were drawn.
    /// </summary>
    public readonly SimRandom Fork(ulong streamId) => new(Mix64(_seed ^ Mix64(streamId + GoldenGamma)));

    /// <summary>Fork keyed by a name, e.g. <c>"backing"</c> or <c>"vcpu/3"</c>.</summary>
    public readonly SimRandom Fork(string streamName) => Fork(StreamId(streamName));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>), unbiased (Lemire's multiply-and-reject).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextBelow(ulong bound)
    {
        if (bound == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bound), "bound must be positive");
        }

        var hi = Math.BigMul(NextUInt64(), bound, out var lo);
        if (lo < bound)
        {
            var threshold = (0UL - bound) % bound;
            while (lo < threshold)
            {
                hi = Math.BigMul(NextUInt64(), bound, out lo);
            }
        }

        return hi;
    }

    /// <summary>Uniform in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    public long NextInRange(long minInclusive, long maxExclusive)
    {
        if (maxExclusive <= minInclusive)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), "empty range");
        }

        var span = unchecked((ulong)(maxExclusive - minInclusive));
        return unchecked(minInclusive + (long)NextBelow(span));
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool NextBool(Ratio p) =>
        p.Numerator != 0 && (p.Numerator == p.Denominator || NextBelow(p.Denominator) < p.Numerator);

    /// <summary>
    /// Uniform double in [0, 1) with 53 random bits. For sampling latency distributions only;
    /// protocol choices use the integer API.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextUnitDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform double in (0, 1], safe as a logarithm argument.</summary>
    public double NextOpenUnitDouble() => ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));

    /// <summary>
    /// Standard normal deviate by Marsaglia's polar method (uses only Log and Sqrt). Draws a fresh
    /// pair each call and discards the second value, so the stream position never depends on hidden state.
    /// </summary>
    public double NextStandardNormal()
    {
        while (true)
        {
            var u = (2.0 * NextUnitDouble()) - 1.0;
            var v = (2.0 * NextUnitDouble()) - 1.0;
            var s = (u * u) + (v * v);
            if (s > 0.0 && s < 1.0)
            {
                return u * Math.Sqrt(-2.0 * Math.Log(s) / s);
            }
        }
    }
}
