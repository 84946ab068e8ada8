using Vexlab.Cli;

var code = VexlabApp.Run(args, Console.Out, Console.Error);
try
{
    Console.Out.Flush();
}
catch (IOException)
{
    // stdout full or closed after the last line: said by the exit code, never by a stack trace.
    code = code == ExitCodes.Done ? ExitCodes.OutputFailed : code;
}

return code;
