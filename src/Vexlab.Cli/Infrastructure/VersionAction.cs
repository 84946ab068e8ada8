using System.CommandLine;
using System.CommandLine.Invocation;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// <c>--version</c>: the tool's own version and commit. System.CommandLine's default prints the entry
/// assembly's, which is not the tool's when it runs inside another process (a test host printed 18.0.1).
/// </summary>
internal sealed class VersionAction(CliContext context) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        context.Output.WriteLine(ResultDocument.VexlabVersion);
        return ExitCodes.Done;
    }

    /// <summary>Puts this action on <paramref name="root"/>'s version option.</summary>
    public static void Install(RootCommand root, CliContext context)
    {
        foreach (var option in root.Options)
        {
            if (option is VersionOption version)
            {
                version.Action = new VersionAction(context);
            }
        }
    }
}
