namespace Vexlab.Checking.Tests.Engine;

/// <summary>A clock that moves one millisecond on every reading: whatever is timed with it takes time, deterministically.</summary>
internal sealed class SteppingClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks += TimeSpan.TicksPerMillisecond;
}
