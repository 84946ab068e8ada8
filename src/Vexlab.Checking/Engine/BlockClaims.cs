using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The fingerprints first seen in one block of a BFS level, each with the least (parent position, action index) that
/// produced it: workers offer concurrently (compare-and-swap on the key word, then a compare-and-swap minimum on the
/// order word), and whoever holds the least order owns the new state. That least order is the one a single thread
/// meets first, so the owner, and with it the state's id and parent, does not depend on the number of workers or
/// their timing (the search stays deterministic; LTSmin's shared table, Laarman et al. FMCAD 2010, keeps whichever
/// parent arrives first).
/// </summary>
internal sealed class BlockClaims<TKey, TScheme>
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    private ulong[] _keys = [];
    private ulong[] _high = [];
    private long[] _orders = [];
    private int _mask;

    public long Bytes => (_keys.LongLength * (sizeof(ulong) + sizeof(long))) + (_high.LongLength * sizeof(ulong));

    /// <summary>Makes room for <paramref name="keys"/> distinct keys at most (the table is then at most half full).</summary>
    public void Prepare(long keys)
    {
        long capacity = 1024;
        while (capacity < keys * 2)
        {
            capacity *= 2;
        }

        if (capacity > _keys.Length)
        {
            _keys = new ulong[capacity];
            _orders = new long[capacity];
            _high = Unsafe.SizeOf<TKey>() > sizeof(ulong) ? new ulong[capacity] : [];
            _mask = (int)(capacity - 1);
        }
    }

    /// <summary>
    /// Offers <paramref name="key"/> (a stored key) produced at <paramref name="order"/>; returns the slot when the
    /// offer is now the least one for the key (so the caller may own it), otherwise -1. <paramref name="claimed"/>:
    /// this call took an empty slot (the caller clears it with <see cref="Clear"/>).
    /// </summary>
    public int Offer(TKey key, long order, out bool claimed)
    {
        ulong low = TScheme.Slot(key);
        ulong high = TScheme.High(key);
        bool wide = _high.Length != 0;
        ref ulong keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        int i = (int)low & _mask;
        claimed = false;
        while (true)
        {
            ref ulong slot = ref Unsafe.Add(ref keys, i);
            ulong seen = Volatile.Read(ref slot);
            if (seen == 0)
            {
                seen = Interlocked.CompareExchange(ref slot, low, 0);
                if (seen == 0)
                {
                    if (wide)
                    {
                        _high[i] = high;
                    }

                    // Publishes the high word too: the order word is written last, one above the order.
                    Volatile.Write(ref _orders[i], order + 1);
                    claimed = true;
                    return i;
                }
            }

            if (seen == low)
            {
                long current = WaitPublished(i);
                if (!wide || _high[i] == high)
                {
                    return LowerTo(i, current, order + 1) ? i : -1;
                }
            }

            i = (i + 1) & _mask;
        }
    }

    /// <summary>Whether <paramref name="order"/> is the least offered at <paramref name="slot"/>; read after all offers.</summary>
    public bool IsLeast(int slot, long order) => _orders[slot] == order + 1;

    /// <summary>Empties a slot this block claimed.</summary>
    public void Clear(int slot)
    {
        _keys[slot] = 0;
        _orders[slot] = 0;
    }

    private long WaitPublished(int slot)
    {
        long current = Volatile.Read(ref _orders[slot]);
        var spin = default(SpinWait);
        while (current == 0)
        {
            spin.SpinOnce();
            current = Volatile.Read(ref _orders[slot]);
        }

        return current;
    }

    private bool LowerTo(int slot, long current, long order)
    {
        while (order < current)
        {
            long seen = Interlocked.CompareExchange(ref _orders[slot], order, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }
}
