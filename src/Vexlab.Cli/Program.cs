using Vexlab.Cli;
using Vexlab.Cli.Infrastructure;

FileSizeLimitSignal.Ignore();
StandardOutputStream.Install();
var code = VexlabApp.Run(args, Console.Out, Console.Error);
try
{
    Console.Out.Flush();
}
catch (Exception e) when (Vexlab.Scenarios.Files.OutputFile.IsWriteFailure(e))
{
    // stdout full, closed, a pipe with no reader or past `ulimit -f` after the last line: said by the exit code, never by a stack trace.
    code = code == ExitCodes.Done ? ExitCodes.OutputFailed : code;
}

return code;
