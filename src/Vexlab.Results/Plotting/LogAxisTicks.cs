using System.Globalization;
using ScottPlot;

namespace Vexlab.Results.Plotting;

/// <summary>
/// Ticks for an axis whose coordinates are log10 of the data, labelled with the data's values: at powers of ten
/// where the range holds two or more, else at 1, 2 and 5 times them, else at 1 to 9 times them, else at even steps
/// of the values. Powers of ten alone left an axis within one decade (p99s of 240 to 400 us) with no label at all,
/// and one that crossed a single power of ten with one.
/// </summary>
public sealed class LogAxisTicks : ITickGenerator
{
    /// <summary>The fewest labelled ticks an axis gets, so that its scale can be read.</summary>
    public const int FewestLabels = 2;

    private static readonly double[][] Mantissas = [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]];

    private static readonly double[] RoundSteps = [1, 2, 5, 10];

    /// <inheritdoc/>
    public Tick[] Ticks { get; set; } = [];

    /// <inheritdoc/>
    public int MaxTickCount { get; set; } = 10_000;

    /// <inheritdoc/>
    public void Regenerate(CoordinateRange range, Edge edge, PixelLength size, Paint paint, LabelStyle labelStyle) =>
        Ticks = [.. For(range.Min, range.Max).Take(MaxTickCount)];

    /// <summary>The ticks between <paramref name="min"/> and <paramref name="max"/>, both log10 of values.</summary>
    public static IReadOnlyList<Tick> For(double min, double max)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || max <= min)
        {
            return [];
        }

        var ticks = new List<Tick>();
        foreach (var mantissas in Mantissas)
        {
            ticks.Clear();
            for (var decade = (int)Math.Floor(min); decade <= (int)Math.Ceiling(max); decade++)
            {
                for (var m = 1; m <= 9; m++)
                {
                    var at = decade + Math.Log10(m);
                    if (at >= min && at <= max)
                    {
                        ticks.Add(mantissas.Contains(m) ? Tick.Major(at, Label(m * Math.Pow(10, decade))) : Tick.Minor(at));
                    }
                }
            }

            if (ticks.Count(t => t.IsMajor) >= FewestLabels)
            {
                return ticks;
            }
        }

        return EvenSteps(Math.Pow(10, min), Math.Pow(10, max));
    }

    /// <summary>Labelled ticks at a round step of the values, for a range narrower than its 1-to-9 ticks.</summary>
    private static List<Tick> EvenSteps(double low, double high)
    {
        var rough = (high - low) / 4;
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = RoundSteps.Select(f => f * power).First(s => s >= rough);
        var ticks = new List<Tick>();
        for (var k = Math.Ceiling(low / step); k * step <= high; k++)
        {
            ticks.Add(Tick.Major(Math.Log10(k * step), Label(k * step)));
        }

        return ticks;
    }

    private static string Label(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
