namespace Vexlab.Model.Configuration;

/// <summary>
/// A mistyped name against the names it could have meant (protocols, built-in models and scenarios, properties, keys):
/// the nearest one by edit distance, and the one-line refusal that offers it.
/// </summary>
public static class NearestName
{
    /// <summary>Levenshtein distance: the fewest single-character insertions, deletions and substitutions from a to b.</summary>
    public static int EditDistance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>
    /// The candidate nearest to <paramref name="target"/> (ties to the first in ordinal order) when it is within a
    /// third of the target's length (at least 2 edits); otherwise the one candidate whose last dotted segment is the
    /// target's (guest.apf.enabled for apf.enabled), or null.
    /// </summary>
    public static string? Of(string target, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(candidates);
        var threshold = Math.Max(2, target.Length / 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        var lastSegment = LastSegment(target);
        string? sameLeaf = null;
        var sameLeafCount = 0;
        foreach (var candidate in candidates.Order(StringComparer.Ordinal))
        {
            var distance = EditDistance(target, candidate);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }

            if (LastSegment(candidate) == lastSegment)
            {
                sameLeaf = candidate;
                sameLeafCount++;
            }
        }

        if (best is not null && bestDistance <= threshold)
        {
            return best;
        }

        return sameLeafCount == 1 ? sameLeaf : null;
    }

    /// <summary>
    /// The names to offer for <paramref name="target"/>: the names it begins, when it begins several but no more than
    /// <see cref="MaxBegun"/> (<c>kvm</c>: kvm-halt, kvm-pf and kvm-pf-int, where the nearest by edit distance is
    /// <c>ve</c>), a name under another begun one counting as that one (<c>guest.ap</c> begins <c>guest.apf</c> and
    /// the keys under it: guest.apf); else <see cref="Of"/>'s one name, or none.
    /// </summary>
    public static IReadOnlyList<string> Suggestions(string target, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(candidates);
        var list = candidates.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var begun = target.Length == 0 || list.Contains(target, StringComparer.Ordinal)
            ? []
            : list.Where(c => c.StartsWith(target, StringComparison.Ordinal)).ToList();
        begun = [.. begun.Where(c => !begun.Any(b => b.Length < c.Length && c.StartsWith(b, StringComparison.Ordinal) && c[b.Length] is '.' or '['))];
        if (begun.Count is > 0 and <= MaxBegun)
        {
            return begun;
        }

        return Of(target, list) is { } nearest ? [nearest] : [];
    }

    /// <summary>The most names a prefix is answered with (<see cref="Suggestions"/>); more would be the whole list again.</summary>
    public const int MaxBegun = 5;

    /// <summary>
    /// "unknown KIND 'NAME'; did you mean NEAREST? (expected one of A, B, C)", the question left out where no name is
    /// near. The names are listed in the order given.
    /// </summary>
    public static string Unknown(string kind, string name, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = names.ToList();
        return $"unknown {kind} '{name}'{Hint(name, list)} (expected one of {string.Join(", ", list)})";
    }

    /// <summary>
    /// "; did you mean PREFIXNEAREST?", or "; did you mean PREFIXA, PREFIXB or PREFIXC?", for the names
    /// <paramref name="name"/> suggests (see <see cref="Suggestions"/>), or nothing: the clause that follows
    /// "unknown ..." in a message.
    /// </summary>
    public static string Hint(string name, IEnumerable<string> candidates, string prefix = "") =>
        Suggestions(name, candidates) is { Count: > 0 } names ? $"; did you mean {Alternatives(names, prefix)}?" : string.Empty;

    /// <summary>" (did you mean NEAREST?)", or nothing: the aside that closes an "expected ...; got ..." message.</summary>
    public static string Aside(string name, IEnumerable<string> candidates) =>
        Suggestions(name, candidates) is { Count: > 0 } names ? $" (did you mean {Alternatives(names, string.Empty)}?)" : string.Empty;

    /// <summary>"A", "A or B", "A, B or C", each name after <paramref name="prefix"/>.</summary>
    private static string Alternatives(IReadOnlyList<string> names, string prefix) => names.Count == 1
        ? prefix + names[0]
        : string.Join(", ", names.Take(names.Count - 1).Select(n => prefix + n)) + " or " + prefix + names[^1];

    private static string LastSegment(string key)
    {
        var dot = key.LastIndexOf('.');
        return dot < 0 ? key : key[(dot + 1)..];
    }
}
