using Vexlab.Cli;
using Vexlab.Cli.Infrastructure;
using Vexlab.FakeSweep;

// vexlab with the fake sweep runner injected, for tests that must run the tool in a process of its
// own (to kill it mid-sweep): dotnet Vexlab.FakeSweep.dll fast|slow|cpu ARGS...
if (args.Length == 0 || FakeRunner.ParseMode(args[0]) is not { } mode)
{
    await Console.Error.WriteLineAsync("usage: Vexlab.FakeSweep fast|slow|cpu VEXLAB-ARGS...").ConfigureAwait(false);
    return 2;
}

var context = new CliContext(Console.Out, Console.Error, errorIsTerminal: false, color: false)
{
    SweepRunner = () => FakeRunner.Create(mode),
};
return VexlabApp.Run(args[1..], context);
