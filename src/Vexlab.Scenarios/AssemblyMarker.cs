namespace Vexlab.Scenarios;
internal static class AssemblyMarker { }
