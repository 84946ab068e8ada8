using System.IO.Hashing;
using System.Text;

namespace Vexlab.Scenarios.Documents;

/// <summary>
/// The stable <c>scenario_hash</c>: XxHash128 of the UTF-8 canonical text of resolved settings, as 32
/// lower-case hex digits. Key order in the file and the spelling of values (<c>4096</c> or <c>4KiB</c>)
/// do not change it; any value does, and so does adding a key to the schema (its default is included).
/// </summary>
public static class CanonicalHash
{
    public static string Compute(ResolvedSettings settings) => Compute(settings.ToCanonicalText());

    public static string Compute(string canonicalText) =>
        Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(canonicalText)));
}
