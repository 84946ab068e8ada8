namespace Vexlab.Simulation;
internal static class AssemblyMarker { }
