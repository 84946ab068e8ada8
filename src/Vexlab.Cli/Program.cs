using Vexlab.Cli;

return VexlabApp.Run(args, Console.Out, Console.Error);
