using System.Globalization;
using System.Text.Json.Nodes;

namespace Vexlab.Cli.Commands;

/// <summary>
/// Members <see cref="First"/>, <see cref="First"/> + <see cref="Step"/>, ... up to <see cref="Last"/>: one entry of
/// <c>swarm.members_missing</c>, which <c>jq '[.swarm.members_missing[] | range(.first; .last + 1; .step)]'</c> expands.
/// </summary>
internal readonly record struct MemberRange(int First, int Last, int Step)
{
    public int Count => ((Last - First) / Step) + 1;

    public JsonObject ToJson() => new() { ["first"] = First, ["last"] = Last, ["step"] = Step };

    /// <summary>"12..999999", or "1..999997 step 4"; a lone member as itself.</summary>
    public override string ToString() =>
        Count == 1 ? Text(First)
        : Step == 1 ? Text(First) + ".." + Text(Last)
        : Text(First) + ".." + Text(Last) + " step " + Text(Step);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The members of a swarm a merge lacks, as a few progressions rather than one index each.</summary>
internal static class MemberRanges
{
    /// <summary>
    /// The members <c>m</c> with <c>!present[m]</c>, as maximal runs of step <paramref name="period"/>, by first member.
    /// The period is the shards' count: shard <c>I/N</c> holds the members <c>m % N == I - 1</c> and starts them in
    /// order (SwarmSearch.Run), so a shard not given and the members a stopped shard never started are one run each.
    /// A merge of half of 1,000 shards of a 1,000,000-member swarm is then 500 entries where runs of step 1 would be
    /// 500,000, and the list of every index it wrote before was 13.9 MB.
    /// </summary>
    public static IReadOnlyList<MemberRange> Missing(bool[] present, int period)
    {
        ArgumentNullException.ThrowIfNull(present);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        var ranges = new List<MemberRange>();
        for (var residue = 0; residue < Math.Min(period, present.Length); residue++)
        {
            int? first = null;
            var last = 0;
            for (var m = residue; m < present.Length; m += period)
            {
                if (!present[m])
                {
                    first ??= m;
                    last = m;
                }
                else if (first is { } f)
                {
                    ranges.Add(new MemberRange(f, last, period));
                    first = null;
                }
            }

            if (first is { } open)
            {
                ranges.Add(new MemberRange(open, last, period));
            }
        }

        // A lone member's step says nothing: 1, as a run of step 1 would give it.
        return [.. ranges.Select(r => r.Count == 1 ? r with { Step = 1 } : r).OrderBy(r => r.First)];
    }
}
