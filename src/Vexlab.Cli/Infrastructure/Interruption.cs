using System.Runtime.InteropServices;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM stop a long command cleanly: the work stops at its next check of
/// <see cref="Token"/>, the command reports what it has, marked incomplete, and exits
/// <see cref="ExitCode"/> (130 for SIGINT, 143 for SIGTERM: 128 + the signal, as a shell reports
/// a process the signal killed). A limit that stops the work (--time-limit) is not a signal: exit 3.
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _signalled = new();
    private readonly CancellationTokenSource _linked;
    private readonly PosixSignalRegistration[] _registrations;
    private int _signal;

    /// <param name="limit">Also stops the work (a wall-clock limit); not counted as a signal.</param>
    public Interruption(CancellationToken limit = default)
    {
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_signalled.Token, limit);
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    /// <summary>Cancelled by a signal or by the limit.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True once SIGINT or SIGTERM arrived.</summary>
    public bool Signalled => Volatile.Read(ref _signal) != 0;

    /// <summary>The exit code for the signal that arrived: 130 (SIGINT) or 143 (SIGTERM).</summary>
    public int ExitCode => Volatile.Read(ref _signal) == 15 ? ExitCodes.Terminated : ExitCodes.Interrupted;

    /// <summary>The signal's name for the line people read.</summary>
    public string SignalName => Volatile.Read(ref _signal) == 15 ? "SIGTERM" : "SIGINT";

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _linked.Dispose();
        _signalled.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        Interlocked.CompareExchange(ref _signal, context.Signal == PosixSignal.SIGTERM ? 15 : 2, 0);
        _signalled.Cancel();
    }
}
