using System.Text;

namespace Vexlab.DocsCheck;

/// <summary>
/// <c>| head -N</c> as a writer: passes the first <c>N</c> lines written to it on to the terminal's writer as they come,
/// and drops the rest, so what a command writes to standard error keeps its place among the lines head shows.
/// </summary>
public sealed class HeadWriter(TextWriter terminal, int lines) : TextWriter
{
    private int _left = lines;

    public override Encoding Encoding => terminal.Encoding;

    public override void Write(char value)
    {
        if (_left == 0)
        {
            return;
        }

        terminal.Write(value);
        if (value == '\n')
        {
            _left--;
        }
    }
}
