using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>Keeps every record in arrival order.</summary>
internal sealed class RecordingSink : ITraceSink
{
    public List<TraceRecord> Records { get; } = [];

    public long EndNs { get; private set; } = -1;

    public void Write(in TraceRecord record) => Records.Add(record);

    public void Complete(long endTimeNs) => EndNs = endTimeNs;
}
