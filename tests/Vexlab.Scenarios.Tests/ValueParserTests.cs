using Vexlab.Scenarios.Values;

namespace Vexlab.Scenarios.Tests;

public class ValueParserTests
{
    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData(" true ", true)]
    public void Bool_good(string text, bool expected) => Assert.Equal(expected, Ok(ScalarParsers.ParseBool(text)));

    [Theory]
    [InlineData("yes")]
    [InlineData("True")]
    [InlineData("1")]
    [InlineData("")]
    public void Bool_bad(string text) => AssertError(ScalarParsers.ParseBool(text), "expected true or false");

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("4096", 4096L)]
    [InlineData("1_000_000", 1_000_000L)]
    [InlineData("-42", -42L)]
    [InlineData("+7", 7L)]
    [InlineData("0x1000", 4096L)]
    [InlineData("0xffff_ffff", 0xffff_ffffL)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Integer_good(string text, long expected) => Assert.Equal(expected, Ok(ScalarParsers.ParseInteger(text)));

    [Theory]
    [InlineData("1.5", "expected a whole number")]
    [InlineData("_1", "expected a whole number")]
    [InlineData("1__0", "expected a whole number")]
    [InlineData("1_", "expected a whole number")]
    [InlineData("4k", "expected a whole number")]
    [InlineData("", "expected a whole number")]
    [InlineData("0x", "expected a whole number")]
    [InlineData("9223372036854775808", "out of range")]
    public void Integer_bad(string text, string error) => AssertError(ScalarParsers.ParseInteger(text), error);

    [Theory]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("4KiB", 4096L)]
    [InlineData("4096", 4096L)]
    [InlineData("4096B", 4096L)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("1GB", 1_000_000_000L)]
    [InlineData("2 TiB", 2L << 40)]
    [InlineData("1_024KiB", 1L << 20)]
    [InlineData("0", 0L)]
    [InlineData("-4KiB", -4096L)]
    [InlineData("0.5KB", 500L)]
    public void Size_good(string text, long expected) => Assert.Equal(expected, Ok(ScalarParsers.ParseSize(text)));

    [Theory]
    [InlineData("4gb", "expected a size")]
    [InlineData("4G", "expected a size")]
    [InlineData("GiB", "expected a size")]
    [InlineData("lots", "expected a size")]
    [InlineData("1.2.3GiB", "expected a size")]
    [InlineData("1.5", "not a whole number of bytes")]
    [InlineData("0.1KiB", "not a whole number of bytes")]
    [InlineData("9000PiB", "out of range")]
    public void Size_bad(string text, string error) => AssertError(ScalarParsers.ParseSize(text), error);

    [Theory]
    [InlineData("250us", 250_000L)]
    [InlineData("250µs", 250_000L)]
    [InlineData("250μs", 250_000L)]
    [InlineData("1.5ms", 1_500_000L)]
    [InlineData("60s", 60_000_000_000L)]
    [InlineData("5m", 300_000_000_000L)]
    [InlineData("5min", 300_000_000_000L)]
    [InlineData("10ns", 10L)]
    [InlineData("2h", 7_200_000_000_000L)]
    [InlineData("0", 0L)]
    [InlineData("0.000001ms", 1L)]
    public void Duration_good(string text, long expected) => Assert.Equal(expected, Ok(ScalarParsers.ParseDuration(text)));

    [Theory]
    [InlineData("250", "needs a unit")]
    [InlineData("250 sec", "expected a duration")]
    [InlineData("5ps", "expected a duration")]
    [InlineData("1.5ns", "not a whole number of nanoseconds")]
    [InlineData("ms", "expected a duration")]
    [InlineData("99999999h", "out of range")]
    public void Duration_bad(string text, string error) => AssertError(ScalarParsers.ParseDuration(text), error);

    [Theory]
    [InlineData("1000/s", 1L, 1_000_000L)]
    [InlineData("5/ms", 1L, 200_000L)]
    [InlineData("0", 0L, 1L)]
    [InlineData("0/s", 0L, 1L)]
    [InlineData("1/250us", 1L, 250_000L)]
    [InlineData("0.5/s", 1L, 2_000_000_000L)]
    [InlineData("3/m", 1L, 20_000_000_000L)]
    [InlineData("1_000/ s", 1L, 1_000_000L)]
    public void Rate_good(string text, long events, long period)
    {
        var rate = Ok(ScalarParsers.ParseRate(text));
        Assert.Equal(events, rate.Events);
        Assert.Equal(period, rate.PeriodNanoseconds);
    }

    [Fact]
    public void Rate_equal_spellings_are_equal()
    {
        Assert.Equal(Ok(ScalarParsers.ParseRate("1000/s")), Ok(ScalarParsers.ParseRate("1/ms")));
        Assert.Equal(1000.0, Ok(ScalarParsers.ParseRate("1/1000us")).EventsPerSecond);
        Assert.Equal(Rate.FromEventsPerSecond(5000), Ok(ScalarParsers.ParseRate("5/ms")));
    }

    [Theory]
    [InlineData("1000", "expected a rate")]
    [InlineData("1000/", "expected a rate")]
    [InlineData("1000/fortnight", "expected a rate")]
    [InlineData("-5/s", "cannot be negative")]
    [InlineData("5/0s", "expected a rate")]
    [InlineData("fast", "expected a rate")]
    public void Rate_bad(string text, string error) => AssertError(ScalarParsers.ParseRate(text), error);

    [Theory]
    [InlineData("0.5", 0.5)]
    [InlineData("50%", 0.5)]
    [InlineData("33%", 0.33)]
    [InlineData("0.1%", 0.001)]
    [InlineData("1e-3", 0.001)]
    [InlineData("1", 1.0)]
    [InlineData("-0.25", -0.25)]
    [InlineData("12.5 %", 0.125)]
    public void Ratio_good(string text, double expected) => Assert.Equal(expected, Ok(ScalarParsers.ParseRatio(text)));

    [Theory]
    [InlineData("half")]
    [InlineData("%")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0,5")]
    [InlineData("")]
    public void Ratio_bad(string text) => AssertError(ScalarParsers.ParseRatio(text), "expected a ratio");

    [Fact]
    public void Enum_good_and_bad()
    {
        string[] allowed = ["user", "user-or-preemptible-kernel", "never"];
        Assert.Equal("never", Ok(ScalarParsers.ParseEnum("never", allowed)));
        var bad = ScalarParsers.ParseEnum("usr", allowed);
        Assert.False(bad.IsOk);
        Assert.Equal(
            "expected one of user, user-or-preemptible-kernel, never; got \"usr\" (did you mean user?)", bad.Error);
        AssertError(ScalarParsers.ParseEnum("Never", allowed), "expected one of user, user-or-preemptible-kernel, never");
    }

    [Theory]
    [InlineData(8L << 30, "8GiB")]
    [InlineData(4096L, "4KiB")]
    [InlineData(3L << 29, "1536MiB")]
    [InlineData(1_000_000_000L, "1GB")]
    [InlineData(4097L, "4097B")]
    [InlineData(0L, "0B")]
    [InlineData(-4096L, "-4KiB")]
    public void Size_format(long bytes, string expected) => Assert.Equal(expected, ValueFormat.FormatSize(bytes));

    [Theory]
    [InlineData(250_000L, "250us")]
    [InlineData(1_500_000L, "1500us")]
    [InlineData(60_000_000_000L, "1m")]
    [InlineData(90_000_000_000L, "90s")]
    [InlineData(7_200_000_000_000L, "2h")]
    [InlineData(10L, "10ns")]
    [InlineData(0L, "0s")]
    public void Duration_format(long ns, string expected) => Assert.Equal(expected, ValueFormat.FormatDuration(ns));

    [Theory]
    [InlineData("1000/s", "1000/s")]
    [InlineData("5/ms", "5000/s")]
    [InlineData("0", "0")]
    [InlineData("1/m", "1/m")]
    [InlineData("0.5/s", "30/m")]
    [InlineData("3/7ns", "3/7ns")]
    [InlineData("1/250us", "4000/s")]
    public void Rate_format(string text, string expected) =>
        Assert.Equal(expected, ValueFormat.FormatRate(Ok(ScalarParsers.ParseRate(text))));

    [Theory]
    [InlineData(0.1)]
    [InlineData(1.0 / 3)]
    [InlineData(0.33)]
    [InlineData(1e-300)]
    [InlineData(123456.789)]
    [InlineData(-0.5)]
    public void Ratio_round_trip(double value) =>
        Assert.Equal(value, Ok(ScalarParsers.ParseRatio(ValueFormat.FormatRatio(value))));

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(4095L)]
    [InlineData(1L << 30)]
    [InlineData(1_000_000L)]
    [InlineData(123_456_789_012L)]
    [InlineData(long.MaxValue)]
    [InlineData(-5L)]
    public void Size_duration_integer_round_trip(long value)
    {
        Assert.Equal(value, Ok(ScalarParsers.ParseSize(ValueFormat.FormatSize(value))));
        Assert.Equal(value, Ok(ScalarParsers.ParseDuration(ValueFormat.FormatDuration(value))));
        Assert.Equal(value, Ok(ScalarParsers.ParseInteger(ValueFormat.FormatInteger(value))));
    }

    [Theory]
    [InlineData(1L, 1L)]
    [InlineData(3L, 7L)]
    [InlineData(1L, 60_000_000_000L)]
    [InlineData(7L, 3_600_000_000_000L)]
    [InlineData(1_000_000L, 1L)]
    [InlineData(0L, 5L)]
    public void Rate_round_trip(long events, long period)
    {
        var rate = Rate.Of(events, period);
        Assert.Equal(rate, Ok(ScalarParsers.ParseRate(ValueFormat.FormatRate(rate))));
    }

    [Fact]
    public void Errors_are_one_line_and_quote_the_input()
    {
        var result = ScalarParsers.ParseSize("4\nGiB");
        Assert.False(result.IsOk);
        Assert.DoesNotContain('\n', result.Error!);
        Assert.Contains("\"4\\nGiB\"", result.Error!, StringComparison.Ordinal);
    }

    [Fact]
    public void Generic_parse_boxes_by_kind()
    {
        Assert.Equal(4096L, ScalarParsers.Parse(ValueKind.Size, "4KiB").Value);
        Assert.Equal("x y", ScalarParsers.Parse(ValueKind.String, "x y").Value);
        Assert.Equal("b", ScalarParsers.Parse(ValueKind.Enum, "b", ["a", "b"]).Value);
        Assert.False(ScalarParsers.Parse(ValueKind.Bool, "maybe").IsOk);
    }

    private static T Ok<T>(ParseResult<T> result)
    {
        Assert.True(result.IsOk, result.Error);
        return result.Value;
    }

    private static void AssertError<T>(ParseResult<T> result, string expected)
    {
        Assert.False(result.IsOk, $"parsed as {result.Value}");
        Assert.Contains(expected, result.Error!, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', result.Error!);
    }
}
