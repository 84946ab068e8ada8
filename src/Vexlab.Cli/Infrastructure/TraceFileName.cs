namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A trace file's name against its <c>--trace-format</c>: a name that says one format (.json for perfetto's Chrome
/// JSON, .dat for trace-cmd's trace.dat, .txt for ftrace's text) while the format is another would give a file its
/// tools cannot open (trace-cmd report on JSON, a browser on trace.dat), so it is refused, as results export refuses
/// an --out that its --format contradicts. Any other name is taken as it is.
/// </summary>
public static class TraceFileName
{
    public static void Check(string path, string format, string option)
    {
        ArgumentNullException.ThrowIfNull(path);
        var named = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".json" => "perfetto",
            ".dat" => "trace-dat",
            ".txt" => "ftrace",
            _ => null,
        };
        if (named is not null && named != format)
        {
            throw Model.Configuration.InputException.At(
                null, 0, 0, option,
                $"{Scenarios.ErrorText.Quote(path)} is named for --trace-format {named}, but the format is {format}: add --trace-format {named}, or name the file {Expected(format)}");
        }
    }

    private static string Expected(string format) => format switch
    {
        "trace-dat" => "*.dat",
        "ftrace" => "*.txt",
        _ => "*.json",
    };
}
