using System.CommandLine;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain ...</c>: the rules, keys, protocols and bugs the model encodes.</summary>
public static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var explain = new Command("explain", "Print the rules, protocols, keys and bugs the model encodes");
        explain.Subcommands.Add(ExplainRulesCommand.Create(context));
        explain.Subcommands.Add(ExplainDoubleFaultCommand.Create(context));
        explain.Subcommands.Add(ExplainProtocolCommand.Create(context));
        explain.Subcommands.Add(ExplainCostsCommand.Create(context));
        explain.Subcommands.Add(ExplainBackingsCommand.Create(context));
        explain.Subcommands.Add(ExplainPropertiesCommand.Create(context));
        explain.Subcommands.Add(ExplainKeysCommand.Create(context));
        explain.Subcommands.Add(ExplainBugsCommand.Create(context));
        return explain;
    }
}
