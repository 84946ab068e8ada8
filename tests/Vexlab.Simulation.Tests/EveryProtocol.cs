using Vexlab.Model.Protocols;

namespace Vexlab.Simulation.Tests;

/// <summary>
/// The protocols a law must hold under, as a theory's data: the catalogue's, so that a protocol added there is
/// checked by every law that takes this list.
/// </summary>
public static class EveryProtocol
{
    public static TheoryData<string> Names => new(ProtocolCatalog.Names);
}
