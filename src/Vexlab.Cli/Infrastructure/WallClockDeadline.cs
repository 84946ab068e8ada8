namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A token cancelled once a wall-clock span has passed, for any span <c>--time-limit</c> takes (up to a year). A
/// <see cref="CancellationTokenSource"/>'s delay, as a <see cref="Timer"/>'s due time, is at most 2^32-2 ms (about
/// 49.7 days): a limit of 1194h threw ArgumentOutOfRangeException. A longer span is waited for in steps of at most
/// that, each step timed from the start, and the source is cancelled at the step that finds nothing left.
/// </summary>
public sealed class WallClockDeadline : IDisposable
{
    /// <summary>The longest delay one timer takes (<c>Timer.MaxSupportedTimeout</c>, 0xfffffffe ms).</summary>
    public static readonly TimeSpan LongestStep = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly CancellationTokenSource _source;
    private readonly TimeProvider _time;
    private readonly TimeSpan _span;
    private readonly long _started;
    private readonly ITimer? _step;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <param name="span">The limit; none is a token never cancelled.</param>
    /// <param name="time">The clock the span is measured on.</param>
    public WallClockDeadline(TimeSpan? span, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        if (span is not { } s || s <= LongestStep)
        {
            _source = span is { } fits ? new CancellationTokenSource(fits, time) : new CancellationTokenSource();
            return;
        }

        _source = new CancellationTokenSource();
        _span = s;
        _started = time.GetTimestamp();
        _step = time.CreateTimer(_ => Step(), null, LongestStep, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled once the span has passed; never without one.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>A deadline on the system's clock.</summary>
    public static WallClockDeadline After(TimeSpan? span) => new(span, TimeProvider.System);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _step?.Dispose();
            _source.Dispose();
        }
    }

    /// <summary>One step has passed: wait what is left, at most one step, or cancel when nothing is.</summary>
    private void Step()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var left = _span - _time.GetElapsedTime(_started);
            if (left <= TimeSpan.Zero)
            {
                _source.Cancel();
            }
            else
            {
                _step!.Change(left < LongestStep ? left : LongestStep, Timeout.InfiniteTimeSpan);
            }
        }
    }
}
