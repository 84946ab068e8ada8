using BenchmarkDotNet.Attributes;
using Vexlab.Checking;
using Vexlab.Checking.Engine;

namespace Vexlab.Benchmarks;

/// <summary>
/// Frontier records of the built-in bench model, states of a deterministic random walk from the initial state: a level
/// written and read back as whole records (the copy a level cost before its records were encoded) against the encoding
/// as the difference from the initial state, the decoding, and the encoding of a successor from its parent's encoded
/// record and the words it changed (as the search writes a new state). One op = one record.
/// </summary>
[MemoryDiagnoser]
public class FrontierBenchmarks
{
    private const int Records = 4096;

    private byte[] _records = null!;
    private byte[] _copies = null!;
    private byte[] _encoded = null!;
    private byte[] _decoded = null!;
    private FrontierCodec _codec = null!;
    private int _recordSize;
    private int[] _parentAt = null!;
    private byte[] _successors = null!;
    private int[] _patchStart = null!;
    private int[] _patchWords = null!;
    private ulong[] _patchValues = null!;

    [GlobalSetup]
    public void Setup()
    {
        using MachineSystem system = ModelCheck.BuildSystem(new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]));
        int stateSize = system.StateSize;
        byte[] initial = new byte[stateSize];
        system.WriteInitialState(initial);
        _codec = new FrontierCodec(initial, sizeof(ulong));
        _recordSize = _codec.RecordSize;
        _records = new byte[Records * _recordSize];
        _copies = new byte[Records * _recordSize];
        _encoded = new byte[Records * _codec.MaxEncodedSize];
        _decoded = new byte[_recordSize];

        // A walk that restarts from the initial state now and then, so its states are spread over the levels.
        var random = new Random(1);
        byte[] state = (byte[])initial.Clone();
        byte[] next = new byte[stateSize];
        ulong[] actions = new ulong[system.MaxActions];
        int encodedBytes = 0;
        _parentAt = new int[Records];
        _patchStart = new int[Records + 1];
        var patchWords = new List<int>();
        var patchValues = new List<ulong>();
        for (int r = 0; r < Records; r++)
        {
            int n = system.ListActions(state, actions);
            if (n == 0 || random.Next(64) == 0)
            {
                initial.CopyTo(state, 0);
            }
            else
            {
                system.Apply(state, actions[random.Next(n)], next);
                next.CopyTo(state, 0);
            }

            Span<byte> record = _records.AsSpan(r * _recordSize, _recordSize);
            state.CopyTo(record);
            BitConverter.TryWriteBytes(record[stateSize..], Fingerprint64.Hash(state));

            // Each record is taken as a successor of the one before: its patch is the words in which they differ.
            _patchStart[r] = patchWords.Count;
            if (r > 0)
            {
                ReadOnlySpan<byte> parent = _records.AsSpan((r - 1) * _recordSize, stateSize);
                for (int w = 0; w < (stateSize + 7) / 8; w++)
                {
                    ulong before = WordMix.Word(parent, w);
                    ulong after = WordMix.Word(state, w);
                    if (before != after)
                    {
                        patchWords.Add(w);
                        patchValues.Add(after);
                    }
                }
            }

            _parentAt[r] = encodedBytes;
            encodedBytes += _codec.Encode(record, _encoded.AsSpan(encodedBytes));
        }

        _patchStart[Records] = patchWords.Count;
        _patchWords = [.. patchWords];
        _patchValues = [.. patchValues];
        _successors = new byte[Records * _codec.MaxEncodedSize];

        Console.WriteLine($"// {Records} records of {_recordSize} bytes, {encodedBytes / (double)Records:F0} bytes encoded on average");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public int CopyWholeRecords()
    {
        _records.AsSpan().CopyTo(_copies);
        return _copies[^1];
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public int Encode()
    {
        int at = 0;
        for (int r = 0; r < Records; r++)
        {
            at += _codec.Encode(_records.AsSpan(r * _recordSize, _recordSize), _encoded.AsSpan(at));
        }

        return at;
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public int DecodeWhole()
    {
        int at = 0;
        for (int r = 0; r < Records; r++)
        {
            at += _codec.Decode(_encoded.AsSpan(at), _decoded);
        }

        return at;
    }

    [Benchmark(OperationsPerInvoke = Records - 1)]
    public int EncodeSuccessor()
    {
        int at = 0;
        for (int r = 1; r < Records; r++)
        {
            int start = _patchStart[r];
            int length = _patchStart[r + 1] - start;
            at += _codec.EncodeSuccessorOf(_encoded.AsSpan(_parentAt[r - 1]), _patchWords.AsSpan(start, length), _patchValues.AsSpan(start, length),
                _records.AsSpan((r * _recordSize) + _codec.RecordSize - sizeof(ulong), sizeof(ulong)), _successors.AsSpan(at));
        }

        return at;
    }
}
