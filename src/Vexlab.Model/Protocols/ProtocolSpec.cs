using Vexlab.Model.Guest;

namespace Vexlab.Model.Protocols;

/// <summary>Indexes of the handler programs every protocol provides; task programs follow them.</summary>
public static class HandlerProgram
{
    public const int PageFault = 0;
    public const int Ve = 1;
    public const int Nmi = 2;
    public const int Callback = 3;
    public const int Timer = 4;
    public const int Reschedule = 5;
    public const int Idle = 6;
    public const int Count = 7;
}

/// <summary>
/// A protocol: the guest's handler programs plus the host's delivery policy. Built by
/// <see cref="ProtocolCatalog"/> from a name and knobs; everything else reads only this.
/// </summary>
public sealed record ProtocolSpec(
    string Name,
    string Label,
    KnobSet Knobs,
    HostPolicy Host,
    GuestPolicy Guest,
    IReadOnlyList<GuestProgram> Handlers);
