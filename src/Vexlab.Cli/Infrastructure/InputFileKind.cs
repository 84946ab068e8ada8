namespace Vexlab.Cli.Infrastructure;

/// <summary>The kinds of input file: a simulator scenario, a checker model file, a sweep file.</summary>
internal enum InputFileKind
{
    Scenario,
    Model,
    Sweep,
}
