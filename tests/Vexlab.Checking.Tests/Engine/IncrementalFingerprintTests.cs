using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// Successors built in place: the fingerprint updated from the changed words equals the fingerprint of the whole
/// successor, the undo puts the parent back, and parent plus patch is the successor the copying Apply builds.
/// </summary>
public sealed class IncrementalFingerprintTests
{
    [Theory]
    [InlineData("bench", "kvm-pf-int")]
    [InlineData("truncate", "kvm-pf")]
    [InlineData("reenable", "ve")]
    [InlineData("nmi-window", "kvm-pf")]
    public void Updated_fingerprints_equal_whole_state_fingerprints(string model, string protocol)
    {
        using var system = ModelCheck.BuildSystem(new CheckRequest(model, protocol, [], []));
        int size = system.StateSize;
        var buffer64 = new SuccessorBuffer<ulong, Fingerprint64>(size, system.MaxActions);
        var buffer128 = new SuccessorBuffer<UInt128, Fingerprint128>(size, system.MaxActions);
        var actions = new ulong[system.MaxActions];
        var copied = new byte[size];
        var patched = new byte[size];
        var initial = new byte[size];
        system.WriteInitialState(initial);
        var frontier = new List<byte[]> { initial };
        var seen = new HashSet<ulong> { Fingerprint64.Hash(initial) };
        for (int i = 0; i < frontier.Count && i < 1_500; i++)
        {
            byte[] parent = frontier[i];
            ulong hash64 = Fingerprint64.Hash(parent);
            UInt128 hash128 = Fingerprint128.Hash(parent);
            int n = system.ListActions(parent, actions);
            buffer64.Load(parent);
            buffer128.Load(parent);
            for (int a = 0; a < n; a++)
            {
                ulong expectedBits = system.Apply(parent, actions[a], copied);
                Assert.Equal(expectedBits, system.ApplyInPlace(buffer64.Buffer, 0, actions[a]));
                system.ApplyInPlace(buffer128.Buffer, 0, actions[a]);
                Assert.Equal(copied, buffer64.State.ToArray());

                ulong key64 = buffer64.Finish(parent, hash64);
                UInt128 key128 = buffer128.Finish(parent, hash128);
                Assert.Equal(Fingerprint64.Hash(copied), key64);
                Assert.Equal(Fingerprint128.Hash(copied), key128);
                Assert.Equal(parent, buffer64.State.ToArray());
                Assert.Equal(parent, buffer128.State.ToArray());

                buffer64.Write(a, parent, patched);
                Assert.Equal(copied, patched);
                if (seen.Add(key64))
                {
                    frontier.Add((byte[])copied.Clone());
                }
            }
        }

        Assert.True(frontier.Count > 100, $"only {frontier.Count} states explored");
    }

    [Fact]
    public void A_rewritten_state_falls_back_to_the_whole_fingerprint()
    {
        // A transition that rewrites every word (as a canonicalizing system may): the fingerprint is still the state's.
        byte[] parent = new byte[67];
        for (int i = 0; i < parent.Length; i++)
        {
            parent[i] = (byte)(i * 7);
        }

        var buffer = new SuccessorBuffer<ulong, Fingerprint64>(parent.Length, 2);
        buffer.Load(parent);
        for (int i = 0; i < parent.Length; i++)
        {
            buffer.Buffer[i] = (byte)(255 - i);
        }

        byte[] successor = buffer.State.ToArray();
        Assert.Equal(Fingerprint64.Hash(successor), buffer.Finish(parent, Fingerprint64.Hash(parent)));
        Assert.Equal(parent, buffer.State.ToArray());
        var written = new byte[parent.Length];
        buffer.Write(0, parent, written);
        Assert.Equal(successor, written);
    }

    [Theory]
    // Sizes around the compare's 64-byte blocks, its eight-block bitmap words (512 bytes) and the partial last word.
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    [InlineData(67)]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(520)]
    [InlineData(799)]
    [InlineData(1031)]
    [InlineData(1100)]
    public void Any_changed_bytes_give_the_whole_fingerprint_an_ascending_patch_and_the_parent_back(int size)
    {
        // SuccessorBuffer.Finish over random successors of random parents: one to many changed bytes anywhere,
        // the last byte and the first included, several successors of one parent in a row.
        var random = new Random(size);
        byte[] parent = new byte[size];
        var buffer = new SuccessorBuffer<ulong, Fingerprint64>(size, 8);
        var buffer128 = new SuccessorBuffer<UInt128, Fingerprint128>(size, 8);
        for (int round = 0; round < 40; round++)
        {
            random.NextBytes(parent);
            ulong hash = Fingerprint64.Hash(parent);
            UInt128 hash128 = Fingerprint128.Hash(parent);
            buffer.Load(parent);
            buffer128.Load(parent);
            var successors = new List<byte[]>();
            for (int a = 0; a < 8; a++)
            {
                byte[] successor = (byte[])parent.Clone();
                int changes = a switch { 0 => 1, 1 => size, _ => 1 + random.Next(Math.Max(1, size / 8)) };
                for (int c = 0; c < changes; c++)
                {
                    int at = a == 0 ? (round % 2 == 0 ? size - 1 : 0) : a == 1 ? c : random.Next(size);
                    successor[at] ^= (byte)(1 + random.Next(255));
                }

                successor.CopyTo(buffer.Buffer, 0);
                successor.CopyTo(buffer128.Buffer, 0);
                Assert.Equal(Fingerprint64.Hash(successor), buffer.Finish(parent, hash));
                Assert.Equal(Fingerprint128.Hash(successor), buffer128.Finish(parent, hash128));
                Assert.Equal(parent, buffer.State.ToArray());
                Assert.Equal(parent, buffer128.State.ToArray());
                successors.Add(successor);
            }

            for (int a = 0; a < successors.Count; a++)
            {
                ReadOnlySpan<int> words = buffer.PatchWords(a);
                for (int k = 1; k < words.Length; k++)
                {
                    Assert.True(words[k - 1] < words[k], $"size {size}: patch words {words[k - 1]} then {words[k]}");
                }

                var written = new byte[size];
                buffer.Write(a, parent, written);
                Assert.Equal(successors[a], written);
            }
        }
    }

    [Fact]
    public void States_that_differ_in_one_word_never_share_a_fingerprint()
    {
        // Each word's term is a bijection of the word, so changing one word always changes the sum.
        byte[] state = new byte[24];
        var seen = new HashSet<ulong>();
        for (int word = 0; word < 3; word++)
        {
            for (int value = 0; value < 2_000; value++)
            {
                Array.Clear(state);
                BitConverter.TryWriteBytes(state.AsSpan(word * 8), (ulong)value * 0x0101);
                seen.Add(Fingerprint64.Hash(state));
            }
        }

        // Value 0 in each word is the same all-zero state.
        Assert.Equal((3 * 2_000) - 2, seen.Count);
    }

    [Fact]
    public void Small_values_in_any_two_words_never_share_a_fingerprint()
    {
        // A word's term mixes the word xored with its position's key once (WordMix.Term): two positions can trade values
        // and keep the sum only if the values also change by the xor of their keys, which small fields never do. Every
        // state whose words are zero but two of the first twelve, which hold values below 128 (1,048,576 states less the
        // ones counted twice: the same state reached through another pair when a value is zero), gets a fingerprint of
        // its own in both the 64-bit sum and the 128-bit fingerprint's upper half.
        const int words = 12;
        const int values = 128;
        byte[] state = new byte[words * 8];
        var low = new HashSet<ulong>();
        var high = new HashSet<ulong>();
        var states = new HashSet<(int, int, int, int)>();
        for (int i = 0; i < words; i++)
        {
            for (int j = i + 1; j < words; j++)
            {
                for (int a = 0; a < values; a++)
                {
                    for (int b = 0; b < values; b++)
                    {
                        Array.Clear(state);
                        state[i * 8] = (byte)a;
                        state[j * 8] = (byte)b;
                        low.Add(Fingerprint64.Hash(state));
                        high.Add((ulong)(Fingerprint128.Hash(state) >> 64));

                        // The state itself, named by its non-zero words (a zero value names no position).
                        states.Add(a == 0 && b == 0 ? (-1, 0, -1, 0) : a == 0 ? (j, b, -1, 0) : b == 0 ? (i, a, -1, 0) : (i, a, j, b));
                    }
                }
            }
        }

        Assert.Equal(states.Count, low.Count);
        Assert.Equal(states.Count, high.Count);
    }

    [Fact]
    public void A_first_seen_set_keeps_each_fingerprints_value_as_it_grows()
    {
        // The value beside a key is the worker's candidate for it; the set doubles many times over these keys.
        var set = new FirstSeen<ulong, Fingerprint64>();
        for (int i = 1; i <= 50_000; i++)
        {
            ref int value = ref set.Claim((ulong)i * 0x9E3779B97F4A7C15UL, out bool added);
            Assert.True(added);
            Assert.Equal(0, value);
            value = i;
        }

        for (int i = 1; i <= 50_000; i++)
        {
            Assert.Equal(i, set.Claim((ulong)i * 0x9E3779B97F4A7C15UL, out bool added));
            Assert.False(added);
        }

        Assert.Equal(50_000, set.Count);
        set.Clear();
        Assert.Equal(0, set.Count);
        Assert.Equal(0, set.Claim(0x9E3779B97F4A7C15UL, out bool again));
        Assert.True(again);
    }

    [Fact]
    public void First_seen_sets_pick_the_owner_a_single_thread_meets_first()
    {
        // Four workers' slices of one block, in block order, with fingerprints repeated within and across slices.
        const int Workers = 4;
        const int PerWorker = 20_000;
        var random = new Random(7);
        ulong[][] slices = [.. Enumerable.Range(0, Workers).Select(_ => Enumerable.Range(0, PerWorker).Select(_ => (ulong)random.Next(1, 30_000)).ToArray())];

        var sets = new FirstSeen<ulong, Fingerprint64>[Workers];
        var candidates = new List<int>[Workers];
        Parallel.For(0, Workers, w =>
        {
            sets[w] = new FirstSeen<ulong, Fingerprint64>();
            candidates[w] = [];
            for (int i = 0; i < PerWorker; i++)
            {
                if (sets[w].TryAdd(slices[w][i]))
                {
                    candidates[w].Add(i);
                }
            }
        });

        var owners = new List<(int Worker, int Index)>();
        for (int w = 0; w < Workers; w++)
        {
            foreach (int i in candidates[w])
            {
                bool earlier = false;
                for (int u = 0; u < w; u++)
                {
                    earlier |= sets[u].Contains(slices[w][i]);
                }

                if (!earlier)
                {
                    owners.Add((w, i));
                }
            }
        }

        // One thread over the whole block keeps each fingerprint's first occurrence.
        var single = new HashSet<ulong>();
        var expected = new List<(int Worker, int Index)>();
        for (int w = 0; w < Workers; w++)
        {
            for (int i = 0; i < PerWorker; i++)
            {
                if (single.Add(slices[w][i]))
                {
                    expected.Add((w, i));
                }
            }
        }

        Assert.Equal(expected, owners);
        Assert.Equal(candidates[0].Count, sets[0].Count);

        sets[0].Clear();
        Assert.Equal(0, sets[0].Count);
        Assert.False(sets[0].Contains(slices[0][0]));
        Assert.True(sets[0].TryAdd(slices[0][0]));
    }
}
