using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// The fingerprints one worker met first in its slice of a block (open addressing, private to the worker while
/// it expands, read by the other workers afterwards). Workers take contiguous slices in block order, so among the
/// successors of a block with one fingerprint, the one a single thread meets first is the first one met by the
/// lowest worker that met it at all: a worker keeps a successor when its own set took it first and no lower
/// worker's set holds it (<see cref="SearchEngine{TKey, TScheme}"/>'s shared path). No compare-and-swap and no
/// block-wide table: each set holds about the block's new states over the workers, and stays in cache.
/// Beside each fingerprint the set keeps a value, the worker's candidate for it, so that a worker that meets its
/// slice's states out of order can still keep the one met first in block order (see <see cref="Claim"/>).
/// </summary>
internal sealed class FirstSeen<TKey, TScheme>
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    private TKey[] _keys = new TKey[1024];
    private int[] _values = new int[1024];
    private int[] _used = new int[512];
    private int _count;
    private int _mask = 1023;

    public long Bytes => (_keys.LongLength * (Unsafe.SizeOf<TKey>() + sizeof(int))) + (_used.LongLength * sizeof(int));

    public int Count => _count;

    /// <summary>Adds <paramref name="key"/> (a stored key, never empty); false when it was already there.</summary>
    public bool TryAdd(TKey key)
    {
        Claim(key, out bool added);
        return added;
    }

    /// <summary>
    /// The value kept beside <paramref name="key"/> (a stored key, never empty), adding the key with value 0 when it
    /// was not there (<paramref name="added"/>). The reference is valid until the next add.
    /// </summary>
    public ref int Claim(TKey key, out bool added)
    {
        if ((_count + 1) * 2 > _keys.Length)
        {
            Resize(_keys.Length * 2);
        }

        ref TKey keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        int i = (int)Mix(key) & _mask;
        while (true)
        {
            ref TKey slot = ref Unsafe.Add(ref keys, i);
            if (TScheme.IsEmpty(slot))
            {
                slot = key;
                _values[i] = 0;
                _used[_count++] = i;
                added = true;
                return ref _values[i];
            }

            if (TScheme.Equal(slot, key))
            {
                added = false;
                return ref _values[i];
            }

            i = (i + 1) & _mask;
        }
    }

    public bool Contains(TKey key)
    {
        ref TKey keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        int i = (int)Mix(key) & _mask;
        while (true)
        {
            TKey slot = Unsafe.Add(ref keys, i);
            if (TScheme.IsEmpty(slot))
            {
                return false;
            }

            if (TScheme.Equal(slot, key))
            {
                return true;
            }

            i = (i + 1) & _mask;
        }
    }

    /// <summary>Empties the set, clearing only the slots it used.</summary>
    public void Clear()
    {
        for (int u = 0; u < _count; u++)
        {
            _keys[_used[u]] = default;
        }

        _count = 0;
    }

    /// <summary>The slot: the fingerprint's low word is uniform already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(TKey key) => TScheme.Slot(key);

    private void Resize(int capacity)
    {
        TKey[] old = _keys;
        int[] oldValues = _values;
        int[] oldUsed = _used;
        int count = _count;
        _keys = new TKey[capacity];
        _values = new int[capacity];
        _used = new int[capacity / 2];
        _mask = capacity - 1;
        _count = 0;
        for (int u = 0; u < count; u++)
        {
            int at = oldUsed[u];
            Claim(old[at], out _) = oldValues[at];
        }
    }
}
