using System.Globalization;
using System.Text;
using Vexlab.Model.Configuration;
using Vexlab.Model.Protocols;

namespace Vexlab.Scenarios.Documents;

/// <summary>
/// One <c>key=value</c> override, such as <c>guest.apf.dummy_entries=false</c> or
/// <c>tasks[0].count=4</c>. The value is a YAML scalar (quotes removed).
/// </summary>
public sealed record Override
{
    /// <summary>The key as written: <c>guest.apf.dummy_entries</c> or <c>tasks[0].count</c>.</summary>
    public required string Key { get; init; }

    /// <summary>The value text, unquoted.</summary>
    public required string Value { get; init; }

    /// <summary>True for an empty, <c>~</c> or <c>null</c> unquoted value.</summary>
    public bool IsNull { get; init; }

    /// <summary>The option it came from, for messages: <c>--set</c> or <c>--protocols ve[...]</c>.</summary>
    public required string Origin { get; init; }

    /// <summary>
    /// Where the key was written when that is not <see cref="Origin"/>: a sweep axis gives its key on one line and its
    /// values on another, and an unknown key is the key's line's fault, not the value's. Null: <see cref="Origin"/>.
    /// </summary>
    public string? KeyOrigin { get; init; }

    /// <summary>The <c>key=value</c> text as given.</summary>
    public required string Text { get; init; }

    /// <summary>For an element key, the list (<c>tasks</c>); null for a scalar key.</summary>
    public string? ListKey { get; init; }

    /// <summary>For an element key, the element index.</summary>
    public int Index { get; init; }

    /// <summary>For an element key, the key inside the element (<c>count</c>).</summary>
    public string? ElementKey { get; init; }

    /// <summary>True when both set one scenario key: element keys by list, index and key, so tasks[00].count is tasks[0].count.</summary>
    public bool SetsSameKey(Override other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ListKey is not null || other.ListKey is not null
            ? ListKey == other.ListKey && Index == other.Index && ElementKey == other.ElementKey
            : Key == other.Key;
    }
}

/// <summary>A <c>compare --protocols</c> entry: a protocol and the knobs set for it.</summary>
/// <param name="Label">The entry as written (such as <c>ve[guest.ve.can_continue=user]</c>), unique in the list.</param>
/// <param name="Protocol">The protocol name (<c>ve</c>).</param>
/// <param name="Overrides">The knobs inside the brackets, in order.</param>
public sealed record ProtocolEntry(string Label, string Protocol, IReadOnlyList<Override> Overrides);

/// <summary>Parsers for <c>--set</c> and <c>--protocols</c> text.</summary>
public static class Overrides
{
    public const string SetOption = "--set";

    public const string ProtocolsOption = "--protocols";

    private static readonly char[] EntrySeparators = [','];

    /// <summary>
    /// Refuses the first of <paramref name="sets"/>, in order, whose key <paramref name="problems"/> names, at its
    /// origin with that key's problem: a key a command sets itself after the overrides (a run's seed, the entries'
    /// shared duration) would be changed silently, or change what the command says it ran.
    /// </summary>
    /// <exception cref="InputException">One of <paramref name="sets"/> sets such a key.</exception>
    public static void RefuseKeys(IEnumerable<Override> sets, params ReadOnlySpan<(string Key, string Problem)> problems)
    {
        ArgumentNullException.ThrowIfNull(sets);
        foreach (var set in sets)
        {
            foreach (var (key, problem) in problems)
            {
                if (string.Equals(set.Key, key, StringComparison.Ordinal))
                {
                    throw InputException.At(set.Origin, 0, 0, null, problem);
                }
            }
        }
    }

    private static readonly char[] KnobSeparators = [';', ','];

    /// <summary>Parses <c>key=value</c>; errors name <paramref name="origin"/> and the key.</summary>
    /// <exception cref="InputException">The text is not <c>key=value</c> or the key is malformed.</exception>
    public static Override ParseSet(string text, string origin = SetOption)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0)
        {
            throw InputException.At(
                origin, 0, 0, null, $"expected key=value such as guest.apf.dummy_entries=false, got {ErrorText.Quote(text)}");
        }

        var key = text[..eq].Trim();
        var raw = text[(eq + 1)..].Trim();
        string? listKey = null;
        string? elementKey = null;
        var index = 0;
        var open = key.IndexOf('[', StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = key.IndexOf(']', open);
            listKey = key[..open];
            var indexText = close > open ? key[(open + 1)..close] : string.Empty;
            var rest = close > open ? key[(close + 1)..] : string.Empty;
            if (!IsDottedName(listKey) || indexText.Length == 0 || !indexText.All(char.IsAsciiDigit)
                || !int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out index)
                || !rest.StartsWith('.') || !IsDottedName(rest[1..]))
            {
                throw InputException.At(
                    origin, 0, 0, key.Length == 0 ? null : key,
                    "a list element key looks like tasks[0].count (list, index, then the element key)");
            }

            elementKey = rest[1..];
        }
        else if (!IsDottedName(key))
        {
            throw InputException.At(
                origin, 0, 0, key.Length == 0 ? null : key,
                $"expected key=value with a dotted key such as guest.apf.dummy_entries=false, got {ErrorText.Quote(text)}");
        }

        var (value, isNull) = Unquote(raw, origin, key);
        return new Override
        {
            Key = key,
            Value = value,
            IsNull = isNull,
            Origin = origin,
            Text = key + "=" + raw,
            ListKey = listKey,
            Index = index,
            ElementKey = elementKey,
        };
    }

    /// <summary>Parses several <c>--set</c> values in order (later ones win when applied).</summary>
    public static IReadOnlyList<Override> ParseSets(IEnumerable<string> texts, string origin = SetOption) =>
        texts.Select(t => ParseSet(t, origin)).ToList();

    /// <summary>
    /// Parses the one protocol entry of an option or argument that takes one protocol (<c>run --protocol</c>,
    /// <c>check --protocol</c>, <c>bench --protocol</c>, <c>explain protocol NAME</c>): <c>ve</c> or
    /// <c>ve[guest.ve.can_continue=always]</c>, as <see cref="ParseProtocols"/> reads each entry and with its errors, so
    /// that an entry copied from <c>compare --protocols</c>, a sweep or a <c>check --matrix</c> row is taken as written.
    /// </summary>
    /// <param name="text">The entry.</param>
    /// <param name="origin">The option, for messages; null for a command's own argument, which has no name to give.</param>
    /// <param name="forSeveral">Where a list of entries goes instead, for the message that refuses one (<c>use compare for several</c>).</param>
    /// <exception cref="InputException">The entry is malformed, or the text holds several.</exception>
    public static ProtocolEntry ParseProtocol(string text, string? origin, string forSeveral)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = ParseProtocols(text, origin);
        if (entries.Count != 1)
        {
            throw InputException.At(origin, 0, 0, null, $"give one protocol ({forSeveral})");
        }

        return entries[0];
    }

    /// <summary>
    /// Parses <c>kvm-pf-int,ve,ve[guest.ve.can_continue=user-or-preemptible-kernel]</c>: entries are
    /// separated by commas outside brackets; inside brackets knobs are separated by <c>;</c> or <c>,</c>.
    /// </summary>
    /// <exception cref="InputException">An entry is malformed or listed twice.</exception>
    public static IReadOnlyList<ProtocolEntry> ParseProtocols(string text, string? origin = ProtocolsOption)
    {
        var entries = new List<ProtocolEntry>();
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in SplitTopLevel(text, EntrySeparators, origin))
        {
            var label = part.Trim();
            if (label.Length == 0)
            {
                throw InputException.At(
                    origin, 0, 0, null, $"empty protocol entry in {ErrorText.Quote(text)}; separate entries with one comma");
            }

            var open = label.IndexOf('[', StringComparison.Ordinal);
            var name = (open < 0 ? label : label[..open]).Trim();
            if (!IsKebab(name))
            {
                throw InputException.At(
                    origin, 0, 0, null, $"expected a protocol name such as kvm-pf-int, got {ErrorText.Quote(name)}");
            }

            ProtocolCatalog.Require(name, origin);

            var overrides = new List<Override>();
            if (open >= 0)
            {
                if (!label.EndsWith(']') || MatchingClose(label, open) != label.Length - 1)
                {
                    throw InputException.At(
                        origin, 0, 0, null,
                        $"expected {name}[key=value;...] with nothing after the closing bracket, got {ErrorText.Quote(label)}");
                }

                var inner = label[(open + 1)..^1];
                // "--protocols ve[...]" on the command line; "x.yaml:2:21: ve[...]" in a file; "ve[...]" alone for
                // a command's argument (explain protocol NAME).
                var knobOrigin = origin is null ? label : origin + (origin.StartsWith('-') ? " " : ": ") + label;
                foreach (var knob in SplitTopLevel(inner, KnobSeparators, origin))
                {
                    if (knob.Trim().Length == 0)
                    {
                        throw InputException.At(
                            origin, 0, 0, null, $"empty knob in {ErrorText.Quote(label)}; write {name}[key=value;key=value]");
                    }

                    var set = ParseSet(knob.Trim(), knobOrigin);

                    // A knob the entry's protocol does not read would run the plain protocol under a label that claims
                    // the knob was set: refused as --set refuses it, naming the entry (run, compare, check --matrix and
                    // a sweep's protocols all parse entries here).
                    KnobCatalog.RequireUsed(set.Key, [name], knobOrigin);
                    overrides.Add(set);
                }
            }

            if (!labels.Add(label))
            {
                throw InputException.At(origin, 0, 0, null, $"protocol entry {ErrorText.Quote(label)} is listed twice");
            }

            entries.Add(new ProtocolEntry(label, name, overrides));
        }

        return entries;
    }

    private static int MatchingClose(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] == '[')
            {
                depth++;
            }
            else if (text[i] == ']' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private static List<string> SplitTopLevel(string text, char[] separators, string? origin)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        var depth = 0;
        char? quote = null;
        foreach (var c in text)
        {
            if (quote is { } q)
            {
                quote = c == q ? null : quote;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '[')
            {
                depth++;
            }
            else if (c == ']')
            {
                if (--depth < 0)
                {
                    throw InputException.At(origin, 0, 0, null, $"unbalanced ']' in {ErrorText.Quote(text)}");
                }
            }
            else if (depth == 0 && Array.IndexOf(separators, c) >= 0)
            {
                parts.Add(current.ToString());
                current.Clear();
                continue;
            }

            current.Append(c);
        }

        if (depth != 0 || quote is not null)
        {
            throw InputException.At(
                origin, 0, 0, null, $"unbalanced {(quote is null ? "'['" : "quote")} in {ErrorText.Quote(text)}");
        }

        parts.Add(current.ToString());
        return parts;
    }

    private static (string Value, bool IsNull) Unquote(string raw, string origin, string key)
    {
        if (raw.Length >= 2 && raw[0] == '\'' && raw[^1] == '\'')
        {
            return (raw[1..^1].Replace("''", "'", StringComparison.Ordinal), false);
        }

        if (raw.Length >= 2 && raw[0] == '"' && raw[^1] == '"')
        {
            var builder = new StringBuilder();
            var body = raw[1..^1];
            for (var i = 0; i < body.Length; i++)
            {
                var c = body[i];
                if (c != '\\')
                {
                    builder.Append(c);
                    continue;
                }

                if (++i >= body.Length)
                {
                    throw InputException.At(origin, 0, 0, key, "a double-quoted value ends with a lone backslash");
                }

                builder.Append(body[i] switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    _ => body[i],
                });
            }

            return (builder.ToString(), false);
        }

        if (raw.Length > 0 && (raw[0] is '"' or '\'' || raw[^1] is '"' or '\''))
        {
            throw InputException.At(origin, 0, 0, key, $"unbalanced quote in value {ErrorText.Quote(raw)}");
        }

        return (raw, raw is "" or "~" or "null" or "Null" or "NULL");
    }

    private static bool IsDottedName(string key) =>
        key.Length > 0 && key.Split('.').All(segment =>
            segment.Length > 0 && segment.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'));

    private static bool IsKebab(string name) =>
        name.Length > 0 && name[0] != '-' && name[^1] != '-'
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
}
