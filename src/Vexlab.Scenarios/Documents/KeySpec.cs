using Vexlab.Scenarios.Values;

namespace Vexlab.Scenarios.Documents;

/// <summary>One typed scenario key such as <c>guest.apf.dummy_entries</c>.</summary>
public sealed record KeySpec
{
    /// <summary>Dotted key; segments are lower-case letters, digits and '_'.</summary>
    public required string Key { get; init; }

    public required ValueKind Kind { get; init; }

    /// <summary>
    /// The value used when the key is not set: a typed value (<see cref="bool"/>, <see cref="long"/>,
    /// <see cref="int"/>, <see cref="Rate"/>, <see cref="double"/>, <see cref="string"/>) or, for
    /// non-string kinds, text such as <c>"4GiB"</c>. Null means the key has no default: it is absent
    /// from the resolved settings unless set (and, for list elements, may be required).
    /// </summary>
    public object? Default { get; init; }

    /// <summary>Unit shown in documentation, such as <c>bytes</c>.</summary>
    public string? Unit { get; init; }

    /// <summary>Allowed kebab-case names when <see cref="Kind"/> is <see cref="ValueKind.Enum"/>.</summary>
    public string[]? EnumValues { get; init; }

    public required string Description { get; init; }

    /// <summary>Where the behaviour comes from: a kernel commit or a mailing-list message id.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>Protocols that use the key; empty means all.</summary>
    public string[] Protocols { get; init; } = [];

    /// <summary>
    /// Inclusive lower bound, in the kind's base unit (integer, bytes, nanoseconds, events per
    /// second, or the ratio itself). Sizes and durations default to a lower bound of 0.
    /// </summary>
    public long? Min { get; init; }

    /// <summary>Inclusive upper bound, in the same unit as <see cref="Min"/>.</summary>
    public long? Max { get; init; }

    /// <summary>True when <paramref name="protocol"/> uses this key.</summary>
    public bool AppliesTo(string protocol) =>
        Protocols.Length == 0 || Array.Exists(Protocols, p => p == protocol);
}

/// <summary>A list of objects such as <c>tasks</c>: the keys each element may hold.</summary>
public sealed record ListSpec
{
    /// <summary>Dotted key of the list, such as <c>tasks</c> or <c>host.events</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Element keys, relative to the element (<c>pattern</c>, not <c>tasks.pattern</c>).</summary>
    public required IReadOnlyList<KeySpec> Elements { get; init; }

    /// <summary>Element keys every element must set; they have no default.</summary>
    public string[] Required { get; init; } = [];

    public required string Description { get; init; }

    public string Source { get; init; } = string.Empty;
}
