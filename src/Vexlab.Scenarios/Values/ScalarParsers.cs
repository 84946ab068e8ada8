using System.Globalization;
using System.Numerics;
using Vexlab.Model.Configuration;

namespace Vexlab.Scenarios.Values;

/// <summary>
/// Parsers for scenario scalars. Each returns a typed value or a one-line error that says what was
/// expected. All parsing is culture-invariant and exact (decimal arithmetic, no double rounding).
/// </summary>
public static class ScalarParsers
{
    public const string SizeExpected =
        "expected a size such as 4GiB, 512MiB, 1.5GiB or 4096 (units B, KiB, MiB, GiB, TiB, PiB, KB, MB, GB, TB, PB)";

    public const string DurationExpected =
        "expected a duration such as 250us, 1.5ms, 60s, 5m or 10ns (units ns, us or µs, ms, s, m, h)";

    public const string RateExpected = "expected a rate such as 1000/s, 5/ms, 1/250us or 0";

    public const string RatioExpected = "expected a ratio such as 0.5 or 50%";

    public const string IntegerExpected = "expected a whole number such as 4096 or 1_000_000";

    public const string BoolExpected = "expected true or false";

    internal static readonly (string Unit, long Factor)[] SizeUnits =
    [
        ("B", 1L),
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40), ("PiB", 1L << 50),
        ("KB", 1_000L), ("MB", 1_000_000L), ("GB", 1_000_000_000L), ("TB", 1_000_000_000_000L),
        ("PB", 1_000_000_000_000_000L),
    ];

    internal static readonly (string Unit, long Factor)[] DurationUnits =
    [
        ("ns", 1L), ("us", 1_000L), ("\u00b5s", 1_000L), ("\u03bcs", 1_000L), ("ms", 1_000_000L),
        ("s", 1_000_000_000L), ("m", 60_000_000_000L), ("min", 60_000_000_000L), ("h", 3_600_000_000_000L),
    ];

    public static ParseResult<bool> ParseBool(string text)
    {
        var trimmed = text.Trim();
        return trimmed switch
        {
            "true" => ParseResult.Ok(true),
            "false" => ParseResult.Ok(false),
            _ => ParseResult.Fail<bool>($"{BoolExpected}, got {ErrorText.Quote(text)}"),
        };
    }

    public static ParseResult<long> ParseInteger(string text)
    {
        var trimmed = text.Trim();
        var body = trimmed;
        var negative = false;
        if (body.Length > 0 && (body[0] == '-' || body[0] == '+'))
        {
            negative = body[0] == '-';
            body = body[1..];
        }

        var hex = body.StartsWith("0x", StringComparison.Ordinal) || body.StartsWith("0X", StringComparison.Ordinal);
        var digits = hex ? body[2..] : body;
        if (!ValidDigits(digits, hex))
        {
            return ParseResult.Fail<long>($"{IntegerExpected}, got {ErrorText.Quote(text)}");
        }

        var clean = digits.Replace("_", string.Empty, StringComparison.Ordinal);
        BigInteger magnitude;
        if (hex)
        {
            magnitude = BigInteger.Parse("0" + clean, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }
        else
        {
            magnitude = BigInteger.Parse(clean, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        var value = negative ? -magnitude : magnitude;
        if (value > long.MaxValue || value < long.MinValue)
        {
            return ParseResult.Fail<long>($"whole number {ErrorText.Quote(text)} is out of range");
        }

        return ParseResult.Ok((long)value);
    }

    public static ParseResult<long> ParseSize(string text)
    {
        if (!SplitNumber(text, out var number, out var unit))
        {
            return ParseResult.Fail<long>($"{SizeExpected}, got {ErrorText.Quote(text)}");
        }

        long factor;
        if (unit.Length == 0)
        {
            factor = 1;
        }
        else if (!TryFactor(SizeUnits, unit, out factor))
        {
            return ParseResult.Fail<long>($"{SizeExpected}, got {ErrorText.Quote(text)}");
        }

        return Scale(number, factor, text, "bytes", out var bytes) is { } error
            ? ParseResult.Fail<long>(error)
            : ParseResult.Ok(bytes);
    }

    public static ParseResult<long> ParseDuration(string text)
    {
        if (!SplitNumber(text, out var number, out var unit))
        {
            return ParseResult.Fail<long>($"{DurationExpected}, got {ErrorText.Quote(text)}");
        }

        long factor;
        if (unit.Length == 0)
        {
            if (number != 0)
            {
                return ParseResult.Fail<long>(
                    $"a duration needs a unit (ns, us, ms, s, m, h), such as 250us; got {ErrorText.Quote(text)}");
            }

            factor = 1;
        }
        else if (!TryFactor(DurationUnits, unit, out factor))
        {
            return ParseResult.Fail<long>($"{DurationExpected}, got {ErrorText.Quote(text)}");
        }

        return Scale(number, factor, text, "nanoseconds", out var nanoseconds) is { } error
            ? ParseResult.Fail<long>(error)
            : ParseResult.Ok(nanoseconds);
    }

    public static ParseResult<Rate> ParseRate(string text)
    {
        var trimmed = text.Trim();
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return SplitNumber(trimmed, out var zero, out var zeroUnit) && zeroUnit.Length == 0 && zero == 0
                ? ParseResult.Ok(Rate.Zero)
                : ParseResult.Fail<Rate>($"{RateExpected}, got {ErrorText.Quote(text)}");
        }

        if (!SplitNumber(trimmed[..slash], out var count, out var countUnit) || countUnit.Length != 0)
        {
            return ParseResult.Fail<Rate>($"{RateExpected}, got {ErrorText.Quote(text)}");
        }

        if (count < 0)
        {
            return ParseResult.Fail<Rate>($"a rate cannot be negative, got {ErrorText.Quote(text)}");
        }

        var per = trimmed[(slash + 1)..].Trim();
        long periodNs;
        if (TryFactor(DurationUnits, per, out var unitNs))
        {
            periodNs = unitNs;
        }
        else
        {
            var duration = ParseDuration(per);
            if (!duration.IsOk || duration.Value <= 0)
            {
                return ParseResult.Fail<Rate>(
                    $"{RateExpected} (after the / a unit or a positive duration), got {ErrorText.Quote(text)}");
            }

            periodNs = duration.Value;
        }

        var scale = count.Scale;
        var mantissa = new BigInteger(count * Pow10(scale));
        var period = new BigInteger(periodNs) * BigInteger.Pow(10, scale);
        return Rate.TryCreate(mantissa, period, out var rate)
            ? ParseResult.Ok(rate)
            : ParseResult.Fail<Rate>($"rate {ErrorText.Quote(text)} is out of range");
    }

    public static ParseResult<double> ParseRatio(string text)
    {
        var trimmed = text.Trim();
        var percent = trimmed.EndsWith('%');
        var body = (percent ? trimmed[..^1] : trimmed).Trim();
        if (body.Length == 0 || body.Contains("__", StringComparison.Ordinal) || !body.All(IsRatioChar))
        {
            return ParseResult.Fail<double>($"{RatioExpected}, got {ErrorText.Quote(text)}");
        }

        body = body.Replace("_", string.Empty, StringComparison.Ordinal);
        const NumberStyles style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
        double value;
        if (percent && decimal.TryParse(body, style, CultureInfo.InvariantCulture, out var exact))
        {
            // Divide exactly in decimal, then let the double parser round once.
            value = double.Parse((exact / 100m).ToString(CultureInfo.InvariantCulture), style, CultureInfo.InvariantCulture);
        }
        else if (double.TryParse(body, style, CultureInfo.InvariantCulture, out value))
        {
            value = percent ? value / 100 : value;
        }
        else
        {
            return ParseResult.Fail<double>($"{RatioExpected}, got {ErrorText.Quote(text)}");
        }

        return double.IsFinite(value)
            ? ParseResult.Ok(value)
            : ParseResult.Fail<double>($"ratio {ErrorText.Quote(text)} is out of range");
    }

    public static ParseResult<string> ParseEnum(string text, IReadOnlyList<string> allowed)
    {
        var trimmed = text.Trim();
        foreach (var value in allowed)
        {
            if (value == trimmed)
            {
                return ParseResult.Ok(value);
            }
        }

        return ParseResult.Fail<string>($"expected one of {string.Join(", ", allowed)}; got {ErrorText.Quote(text)}{NearestName.Aside(trimmed, allowed)}");
    }

    /// <summary>Parses <paramref name="text"/> as <paramref name="kind"/>; the value is boxed.</summary>
    public static ParseResult<object> Parse(ValueKind kind, string text, IReadOnlyList<string>? enumValues = null)
    {
        return kind switch
        {
            ValueKind.Bool => Box(ParseBool(text)),
            ValueKind.Integer => Box(ParseInteger(text)),
            ValueKind.Size => Box(ParseSize(text)),
            ValueKind.Duration => Box(ParseDuration(text)),
            ValueKind.Rate => Box(ParseRate(text)),
            ValueKind.Ratio => Box(ParseRatio(text)),
            ValueKind.Enum => Box(ParseEnum(text, enumValues ?? [])),
            ValueKind.String => ParseResult.Ok<object>(text),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static ParseResult<object> Box<T>(ParseResult<T> result)
        where T : notnull
        => result.IsOk ? ParseResult.Ok<object>(result.Value) : ParseResult.Fail<object>(result.Error!);

    private static bool IsRatioChar(char c) => char.IsAsciiDigit(c) || c is '.' or '-' or '+' or 'e' or 'E' or '_';

    private static bool TryFactor((string Unit, long Factor)[] units, string unit, out long factor)
    {
        foreach (var (name, value) in units)
        {
            if (name == unit)
            {
                factor = value;
                return true;
            }
        }

        factor = 0;
        return false;
    }

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < exponent; i++)
        {
            result *= 10m;
        }

        return result;
    }

    /// <summary>number * factor as an exact whole long, or an error.</summary>
    private static string? Scale(decimal number, long factor, string text, string what, out long result)
    {
        result = 0;
        if (Math.Abs(number) > decimal.MaxValue / factor)
        {
            return $"{ErrorText.Quote(text)} is out of range";
        }

        var scaled = number * factor;
        if (scaled != decimal.Truncate(scaled))
        {
            return $"{ErrorText.Quote(text)} is not a whole number of {what}";
        }

        if (scaled > long.MaxValue || scaled < long.MinValue)
        {
            return $"{ErrorText.Quote(text)} is out of range";
        }

        result = (long)scaled;
        return null;
    }

    /// <summary>Splits "1.5GiB" into 1.5 and "GiB"; digits may be grouped with '_'.</summary>
    private static bool SplitNumber(string text, out decimal number, out string unit)
    {
        number = 0;
        unit = string.Empty;
        var trimmed = text.Trim();
        var end = 0;
        if (end < trimmed.Length && (trimmed[end] == '-' || trimmed[end] == '+'))
        {
            end++;
        }

        var start = end;
        while (end < trimmed.Length && (char.IsAsciiDigit(trimmed[end]) || trimmed[end] is '_' or '.'))
        {
            end++;
        }

        var body = trimmed[start..end];
        var dot = body.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? body : body[..dot];
        var fraction = dot < 0 ? null : body[(dot + 1)..];
        if (!ValidDigits(whole, false) || (fraction is not null && !ValidDigits(fraction, false)))
        {
            return false;
        }

        var clean = trimmed[..start] + body.Replace("_", string.Empty, StringComparison.Ordinal);
        if (!decimal.TryParse(
                clean,
                NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture,
                out number))
        {
            return false;
        }

        unit = trimmed[end..].TrimStart(' ');
        return true;
    }

    /// <summary>Non-empty digits, with single '_' only between digits.</summary>
    private static bool ValidDigits(string digits, bool hex)
    {
        if (digits.Length == 0 || digits[0] == '_' || digits[^1] == '_'
            || digits.Contains("__", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (c != '_' && !(hex ? char.IsAsciiHexDigit(c) : char.IsAsciiDigit(c)))
            {
                return false;
            }
        }

        return true;
    }
}
