namespace Vexlab.Simulation.Engine;

/// <summary>
/// A probability or fraction held as two integers, so that drawing against it uses no floating point.
/// <see cref="Numerator"/> is at most <see cref="Denominator"/>.
/// </summary>
public readonly record struct Ratio
{
    /// <summary>Denominator used by <see cref="FromDouble"/>: one part per billion.</summary>
    public const ulong PartsPerBillion = 1_000_000_000UL;

    public Ratio(ulong numerator, ulong denominator)
    {
        if (denominator == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(denominator), "denominator must be positive");
        }

        if (numerator > denominator)
        {
            throw new ArgumentOutOfRangeException(nameof(numerator), "a ratio cannot exceed 1");
        }

        Numerator = numerator;
        Denominator = denominator;
    }

    public ulong Numerator { get; }

    public ulong Denominator { get; }

    public static Ratio Zero => new(0, 1);

    public static Ratio One => new(1, 1);

    public static Ratio FromPercent(ulong percent) => new(percent, 100);

    public static Ratio FromPartsPerMillion(ulong ppm) => new(ppm, 1_000_000);

    /// <summary>Rounds a probability in [0, 1] to parts per billion (for configuration input only).</summary>
    public static Ratio FromDouble(double probability)
    {
        if (double.IsNaN(probability) || probability < 0.0 || probability > 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(probability), "probability must lie in [0, 1]");
        }

        return new Ratio((ulong)Math.Round(probability * PartsPerBillion, MidpointRounding.ToEven), PartsPerBillion);
    }

    /// <summary>The complement 1 - this.</summary>
    public Ratio Complement => new(Denominator - Numerator, Denominator);

    public double ToDouble() => (double)Numerator / Denominator;

    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Numerator}/{Denominator}");
}
