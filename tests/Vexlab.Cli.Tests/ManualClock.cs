namespace Vexlab.Cli.Tests;

/// <summary>
/// A clock moved by hand, whose timers fire when <see cref="Advance"/> passes their due time. As the system's timers, a
/// timer refuses a due time past 2^32-2 ms: code that waits longer has to wait in steps.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private static readonly TimeSpan s_longestDue = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
    private readonly List<ManualTimer> _timers = [];
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock by <paramref name="span"/>, firing each timer that falls due on the way at its time.</summary>
    public void Advance(TimeSpan span)
    {
        var end = _ticks + span.Ticks;
        while (_timers.Where(t => t.Due <= end).MinBy(t => t.Due) is { } next)
        {
            _ticks = Math.Max(_ticks, next.Due);
            next.Fire();
        }

        _ticks = end;
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long Due { get; private set; } = long.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(dueTime, s_longestDue);
            Assert.Equal(Timeout.InfiniteTimeSpan, period);
            Due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : clock._ticks + dueTime.Ticks;
            return true;
        }

        public void Fire()
        {
            Due = long.MaxValue;
            callback(state);
        }

        public void Dispose() => clock._timers.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
