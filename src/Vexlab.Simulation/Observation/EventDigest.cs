using System.Buffers.Binary;
using System.IO.Hashing;
using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Observation;

/// <summary>
/// XxHash3 over the timed model-event stream (time, kind, vCPU, task, aux, token, page): two runs
/// agree on it exactly when they produced the same events at the same simulated instants.
/// </summary>
public sealed class EventDigest
{
    private readonly XxHash3 _hash = new();
    private readonly byte[] _buffer = new byte[24];

    public void Append(long now, in ModelEvent e)
    {
        var b = _buffer.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(b, now);
        b[8] = (byte)e.Kind;
        b[9] = e.Vcpu;
        b[10] = e.Task;
        b[11] = e.Aux;
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], e.Token);
        BinaryPrimitives.WriteInt32LittleEndian(b[16..], e.Page);
        BinaryPrimitives.WriteInt32LittleEndian(b[20..], 0);
        _hash.Append(b);
    }

    /// <summary>16 hex digits.</summary>
    public string Value => _hash.GetCurrentHashAsUInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}
