using System.CommandLine;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// Which options a person typed, as opposed to ones holding their default: the test behind every refusal of an
/// option that a command, in the mode it runs, would otherwise ignore.
/// </summary>
public static class GivenOptions
{
    /// <summary>True when <paramref name="option"/> was on the command line (not only its default).</summary>
    public static bool Given(this ParseResult parse, Option option)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return parse.GetResult(option) is { Implicit: false };
    }

    /// <summary>The first of <paramref name="options"/> that was on the command line, or null.</summary>
    public static Option? FirstGiven(this ParseResult parse, IEnumerable<Option> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.FirstOrDefault(parse.Given);
    }
}
