using System.Diagnostics;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Progress of a long command on standard error: on a terminal one line redrawn in place (from
/// two seconds in, so quick commands stay quiet); otherwise, as in a log or CI, one line every
/// <see cref="CliContext.ProgressInterval"/> (10 s), never redrawn.
/// </summary>
public sealed class ProgressLine
{
    private static readonly TimeSpan s_terminalDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_redraw = TimeSpan.FromMilliseconds(200);
    private readonly CliContext _context;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private TimeSpan _last;
    private bool _drawn;

    public ProgressLine(CliContext context)
    {
        _context = context;
    }

    /// <summary>Called as often as the work likes; <paramref name="line"/> is built only when a line is due.</summary>
    public void Report(Func<TimeSpan, string> line)
    {
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (_context.ErrorIsTerminal)
            {
                if (now < s_terminalDelay || now - _last < s_redraw)
                {
                    return;
                }

                _last = now;
                _drawn = true;
                _context.Error.Write("\r" + _context.FitToTerminal(line(now)) + "\u001b[K");
            }
            else if (now - _last >= _context.ProgressInterval)
            {
                _last = now;
                _context.Error.WriteLine(line(now));
            }
        }
    }

    /// <summary>Clears a drawn line, so that what follows starts at the margin.</summary>
    public void Finish()
    {
        lock (_gate)
        {
            if (_drawn)
            {
                _context.Error.Write("\r\u001b[K");
                _drawn = false;
            }
        }
    }
}
