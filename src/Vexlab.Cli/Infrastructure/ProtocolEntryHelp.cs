using Vexlab.Model.Protocols;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The help text of every option or argument that takes one protocol: a name, or an entry that sets knobs for it, as
/// <c>compare --protocols</c>, a sweep's <c>protocols</c> and <c>check --matrix</c>'s rows write it
/// (<see cref="Scenarios.Documents.Overrides.ParseProtocol"/> reads them all).
/// </summary>
internal static class ProtocolEntryHelp
{
    /// <summary>
    /// "Protocol: sync, ..., ve; or an entry NAME[key=value,...] ..."; <paramref name="knobs"/> says what the knobs in
    /// brackets are to the command (check: as with --set).
    /// </summary>
    public static string Describe(string knobs) =>
        "Protocol: " + string.Join(", ", ProtocolCatalog.Names)
        + "; or an entry NAME[key=value,...] as compare --protocols writes one (e.g. 've[guest.ve.can_continue=always]'): " + knobs;
}
