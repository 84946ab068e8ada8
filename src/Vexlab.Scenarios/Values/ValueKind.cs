namespace Vexlab.Scenarios.Values;

/// <summary>The type of a scenario value; decides how its text is parsed and formatted.</summary>
public enum ValueKind
{
    /// <summary><c>true</c> or <c>false</c>; typed value <see cref="bool"/>.</summary>
    Bool,

    /// <summary>A whole number such as <c>4096</c> or <c>1_000_000</c>; typed value <see cref="long"/>.</summary>
    Integer,

    /// <summary>A size such as <c>4GiB</c> or <c>4096</c>; typed value <see cref="long"/> bytes.</summary>
    Size,

    /// <summary>A duration such as <c>250us</c>; typed value <see cref="long"/> nanoseconds.</summary>
    Duration,

    /// <summary>A rate such as <c>1000/s</c>; typed value <see cref="Values.Rate"/>.</summary>
    Rate,

    /// <summary>A ratio such as <c>0.5</c> or <c>50%</c>; typed value <see cref="double"/>.</summary>
    Ratio,

    /// <summary>One of a fixed set of kebab-case names; typed value <see cref="string"/>.</summary>
    Enum,

    /// <summary>Free text; typed value <see cref="string"/>.</summary>
    String,
}
