using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A run's progress line names its span: <c>run --duration 10000h</c> said "0.0% of 36000000000 ms simulated". The
/// span is given in the largest unit that holds it exactly, with thousands separators.
/// </summary>
public sealed class DurationTextTests
{
    [Theory]
    [InlineData(36_000_000_000_000_000L, "10,000 h")]
    [InlineData(3_600_000_000_000L, "1 h")]
    [InlineData(36_001_000_000_000L, "36,001 s")]
    [InlineData(2_000_000_000L, "2 s")]
    [InlineData(1_500_000_000L, "1,500 ms")]
    [InlineData(20_000_000L, "20 ms")]
    [InlineData(250_000L, "250 us")]
    [InlineData(1_234_567L, "1,234,567 ns")]
    [InlineData(0L, "0 s")]
    public void A_span_is_its_largest_exact_unit_with_separators(long ns, string expected)
        => Assert.Equal(expected, DurationText.Of(ns));
}
