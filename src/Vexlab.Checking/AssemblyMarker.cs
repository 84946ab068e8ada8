namespace Vexlab.Checking;
internal static class AssemblyMarker { }
