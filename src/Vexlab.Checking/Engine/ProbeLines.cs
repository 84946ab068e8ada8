using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The cache lines a table lookup is about to probe, loaded ahead without waiting for them; the wide and the compact
/// table prefetch the same way.
/// </summary>
/// <remarks>
/// Between 7/9 and 7/8 load (where both tables stay) a linear probe for an absent key walks 11 to 33 slots on average
/// (Knuth, TAOCP Vol. 3, 6.4: (1 + 1/(1-a)^2)/2 probes), past its home's cache line: a profile put a tenth of the
/// serial check on the second line's miss. Prefetching it too took interleaved one-worker checks of the bench model
/// from 12.9 s to 12.1 s on average (four pairs); a third line gained nothing measurable.
/// </remarks>
internal static unsafe class ProbeLines
{
    /// <summary>
    /// Starts loading the line holding <paramref name="home"/> and the next (prefetch hints, which neither fault nor hold
    /// up the instructions after them). Where no hint exists the home is simply read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte* home)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(home);
            Sse.Prefetch0(home + 64);
        }
        else
        {
            _ = Volatile.Read(ref *home);
        }
    }
}
