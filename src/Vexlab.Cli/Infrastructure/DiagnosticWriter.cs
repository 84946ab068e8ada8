using System.Text;
using Vexlab.Scenarios.Files;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Standard error as vexlab writes it: messages, progress and replay lines for people, none of them the result. A write
/// that fails (stderr closed with <c>2&gt;&amp;-</c>, which .NET reports as access denied over EBADF; <c>2&gt;/dev/full</c>;
/// a file past <c>ulimit -f</c>) is dropped, and so is every later one, so the command goes on and its result still
/// reaches standard output or its <c>--json</c> file, with the exit code it would have had. Without this the first
/// failed write ended a run with SIGABRT (exit 134) and no result, or reported standard output as the stream that
/// failed.
/// </summary>
public sealed class DiagnosticWriter : TextWriter
{
    private readonly TextWriter _inner;

    // Set by the first failed write: nothing more is written.
    private bool _lost;

    public DiagnosticWriter(TextWriter inner)
        : base(System.Globalization.CultureInfo.InvariantCulture)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        CoreNewLine = inner.NewLine.ToCharArray();
    }

    public override Encoding Encoding => _inner.Encoding;

    public override void Write(char value) => Try(static (w, v) => w.Write(v), value);

    public override void Write(string? value) => Try(static (w, v) => w.Write(v), value);

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(ReadOnlySpan<char> buffer) => Write(new string(buffer));

    public override void WriteLine(string? value) => Try(static (w, v) => w.WriteLine(v), value);

    public override void Flush() => Try(static (w, _) => w.Flush(), 0);

    private void Try<T>(Action<TextWriter, T> write, T value)
    {
        if (_lost)
        {
            return;
        }

        try
        {
            write(_inner, value);
        }
        catch (Exception e) when (OutputFile.IsWriteFailure(e) || e is UnauthorizedAccessException { InnerException: IOException })
        {
            _lost = true;
        }
    }
}
