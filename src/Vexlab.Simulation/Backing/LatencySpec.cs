using System.Globalization;
using System.Text;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Files;
using Vexlab.Scenarios.Values;

namespace Vexlab.Simulation.Backing;

/// <summary>
/// A backing store's service-time distribution as a scenario writes it (<c>backings[].latency</c>):
/// <list type="bullet">
/// <item><c>fixed 80us</c></item>
/// <item><c>uniform 50us 150us</c> or <c>uniform min=50us max=150us</c></item>
/// <item><c>lognormal median=80us p99=120us</c> or <c>lognormal mean=80us sigma=0.12</c>, either with <c>offset=5us</c></item>
/// <item><c>exponential mean=80us</c></item>
/// <item><c>empirical 60us:10 80us:85 2ms:5</c> (latency:weight pairs) or
/// <c>empirical file=lat.csv [unit=us] [column=1] [weight_column=2]</c> (a CSV of samples, or of values and counts)</item>
/// <item><c>mixture 99.99% lognormal mean=80us sigma=0.12 | 0.01% uniform 300us 2800us</c></item>
/// </list>
/// The built-in stores print in the same terms (<see cref="Format"/>).
/// </summary>
public static class LatencySpec
{
    /// <summary>z of the 99th percentile of the standard normal: p99 = median x exp(z x sigma).</summary>
    public const double Z99 = 2.3263478740408408;

    private const ulong Million = 1_000_000;

    public const string Expected =
        "expected fixed D | uniform MIN MAX | lognormal median=D p99=D | lognormal mean=D sigma=S | exponential mean=D | empirical D:W ... | empirical file=PATH [unit=us] | mixture W DIST | W DIST ...";

    /// <summary>
    /// Parses <paramref name="text"/>. Grammar errors throw <see cref="FormatException"/> with the
    /// problem (the caller names the key); a CSV's errors throw <see cref="InputException"/> naming
    /// the file, line and column. <paramref name="resolvePath"/> turns a CSV name into a path.
    /// </summary>
    public static IReadOnlyList<LatencyComponent> Parse(string text, Func<string, string>? resolvePath = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.StartsWith("mixture", StringComparison.Ordinal) && (trimmed.Length == 7 || char.IsWhiteSpace(trimmed[7])))
        {
            var parts = trimmed[7..].Split('|', StringSplitOptions.TrimEntries);
            var weights = new decimal[parts.Length];
            var shapes = new LatencyComponent[parts.Length];
            for (var i = 0; i < parts.Length; i++)
            {
                var space = parts[i].IndexOf(' ', StringComparison.Ordinal);
                if (space < 0)
                {
                    throw new FormatException($"mixture part {i + 1} '{parts[i]}': expected a weight (such as 90% or 0.9) and a distribution");
                }

                weights[i] = ParseWeight(parts[i][..space], $"mixture part {i + 1}");
                var inner = parts[i][(space + 1)..].Trim();
                if (inner.StartsWith("mixture", StringComparison.Ordinal))
                {
                    throw new FormatException($"mixture part {i + 1}: a mixture cannot nest another; list its parts here");
                }

                shapes[i] = ParseOne(inner, resolvePath);
            }

            var ppm = ToPpm(weights);
            var result = new LatencyComponent[parts.Length];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = shapes[i] with { WeightPpm = ppm[i] };
            }

            return result;
        }

        return [ParseOne(trimmed, resolvePath) with { WeightPpm = Million }];
    }

    /// <summary>The distribution in the terms <see cref="Parse"/> reads.</summary>
    public static string Format(IReadOnlyList<LatencyComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (components.Count == 1 && components[0].WeightPpm == Million)
        {
            return FormatOne(components[0]);
        }

        var sb = new StringBuilder("mixture ");
        for (var i = 0; i < components.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(" | ");
            }

            sb.Append((components[i].WeightPpm / 10_000m).ToString(CultureInfo.InvariantCulture)).Append("% ").Append(FormatOne(components[i]));
        }

        return sb.ToString();
    }

    /// <summary>
    /// Reads a CSV of latencies: each row a sample in column <paramref name="column"/> (a duration
    /// such as 80us, or a number in <paramref name="unitNs"/>), weighted by column
    /// <paramref name="weightColumn"/> when it is above 0 (a histogram's counts), else 1. Blank lines
    /// and lines starting with # are skipped; a first row that does not parse is a header.
    /// </summary>
    public static EmpiricalTable ReadCsv(string path, long unitNs, int column, int weightColumn)
    {
        var text = InputFile.ReadText(path, "latency CSV");
        var shown = ErrorText.Path(path);
        var values = new List<double>();
        var weights = new List<double>();
        var lines = text.Split('\n');
        var seenRow = false;
        for (var l = 0; l < lines.Length; l++)
        {
            var line = lines[l].TrimEnd('\r');
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var first = !seenRow;
            seenRow = true;
            var fields = SplitCsv(line);
            if (column > fields.Count || (weightColumn > 0 && weightColumn > fields.Count))
            {
                if (first)
                {
                    continue;
                }

                var missing = Math.Max(column, weightColumn);
                throw InputException.At(shown, l + 1, line.Length + 1, null,
                    string.Create(CultureInfo.InvariantCulture, $"expected at least {missing} columns, got {fields.Count}"));
            }

            var (start, field) = fields[column - 1];
            if (!TryLatency(field, unitNs, out var ns))
            {
                if (first)
                {
                    continue;
                }

                throw InputException.At(shown, l + 1, start + 1, null,
                    string.Create(CultureInfo.InvariantCulture, $"column {column}: expected a latency such as 80us, or a number in units of {unitNs} ns, below 2^63 ns; got {ErrorText.Quote(field)}"));
            }

            var weight = 1.0;
            if (weightColumn > 0)
            {
                var (ws, wf) = fields[weightColumn - 1];
                if (!double.TryParse(wf, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !(weight >= 0) || double.IsInfinity(weight))
                {
                    throw InputException.At(shown, l + 1, ws + 1, null,
                        string.Create(CultureInfo.InvariantCulture, $"column {weightColumn}: expected a weight (a count, 0 or more), got {ErrorText.Quote(wf)}"));
                }
            }

            values.Add(ns);
            weights.Add(weight);
        }

        if (values.Count == 0)
        {
            throw InputException.At(shown, 0, 0, null, "holds no latency rows");
        }

        var sum = 0.0;
        foreach (var w in weights)
        {
            sum += w;
        }

        if (!(sum > 0))
        {
            throw InputException.At(shown, 0, 0, null, "every row has weight 0");
        }

        return new EmpiricalTable(values, weights) { FileDigest = Vexlab.Scenarios.Documents.CanonicalHash.Compute(text) };
    }

    private static LatencyComponent ParseOne(string text, Func<string, string>? resolvePath)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
        {
            throw new FormatException(Expected);
        }

        var args = words[1..];
        switch (words[0])
        {
            case "fixed":
                return LatencyComponent.Constant(0, Duration(Single(args, "fixed"), "fixed"));
            case "uniform":
                {
                    var named = Named(args, "uniform", "min", "max");
                    var (low, high) = named.Count > 0
                        ? (Duration(Need(named, "min", "uniform"), "uniform min"), Duration(Need(named, "max", "uniform"), "uniform max"))
                        : args.Length == 2
                            ? (Duration(args[0], "uniform min"), Duration(args[1], "uniform max"))
                            : throw new FormatException("uniform: expected MIN MAX, such as uniform 50us 150us");
                    if (high < low)
                    {
                        throw new FormatException("uniform: max is below min");
                    }

                    return LatencyComponent.Uniform(0, low, high);
                }

            case "lognormal":
                {
                    var named = Named(args, "lognormal", "median", "p99", "mean", "sigma", "offset");
                    var offset = named.TryGetValue("offset", out var o) ? Duration(o, "lognormal offset") : 0;
                    if (named.ContainsKey("median") || named.ContainsKey("p99"))
                    {
                        var median = Duration(Need(named, "median", "lognormal"), "lognormal median");
                        var p99 = Duration(Need(named, "p99", "lognormal"), "lognormal p99");
                        if (median <= 0 || p99 <= median)
                        {
                            throw new FormatException("lognormal: needs 0 < median < p99");
                        }

                        // median = exp(mu); p99 = exp(mu + z99 sigma); mean = exp(mu + sigma^2 / 2).
                        var sigma = Math.Log(p99 / median) / Z99;
                        return LatencyComponent.LogNormal(0, median * Math.Exp(sigma * sigma / 2), sigma, offset);
                    }

                    var mean = Duration(Need(named, "mean", "lognormal"), "lognormal mean");
                    var s = Number(Need(named, "sigma", "lognormal"), "lognormal sigma");
                    if (mean <= 0 || s < 0)
                    {
                        throw new FormatException("lognormal: needs mean > 0 and sigma >= 0");
                    }

                    return LatencyComponent.LogNormal(0, mean, s, offset);
                }

            case "exponential":
                {
                    var named = Named(args, "exponential", "mean");
                    var mean = Duration(named.Count > 0 ? Need(named, "mean", "exponential") : Single(args, "exponential"), "exponential mean");
                    if (mean <= 0)
                    {
                        throw new FormatException("exponential: needs mean > 0");
                    }

                    return LatencyComponent.Exponential(0, mean);
                }

            case "empirical":
                return LatencyComponent.Empirical(0, Empirical(args, resolvePath));
            default:
                throw new FormatException($"unknown distribution '{words[0]}'; {Expected}");
        }
    }

    private static EmpiricalTable Empirical(string[] args, Func<string, string>? resolvePath)
    {
        if (args.Length > 0 && args[0].StartsWith("file=", StringComparison.Ordinal))
        {
            var named = Named(args, "empirical", "file", "unit", "column", "weight_column");
            var unit = named.TryGetValue("unit", out var u) ? (long)Duration("1" + u, "empirical unit") : 1;
            var column = named.TryGetValue("column", out var c) ? Column(c, "column") : 1;
            var weightColumn = named.TryGetValue("weight_column", out var w) ? Column(w, "weight_column") : 0;
            var file = named["file"];
            var path = resolvePath is null ? file : resolvePath(file);
            if (!File.Exists(path))
            {
                // A message of the spec, so that the scenario names its place (file:line: backings[N].latency), as
                // for every other fault of the spec; "nofile.csv: no such latency CSV" named neither the scenario
                // nor where a relative path was looked for. The CSV's own faults name their line in it (ReadCsv).
                var what = Directory.Exists(path) ? "is a folder, not a latency CSV" : "no such latency CSV";
                var where = path == file ? string.Empty : $" (looked for at {ErrorText.Path(path)}: a CSV path is relative to the scenario file)";
                throw new FormatException($"empirical: file={file}: {what}{where}");
            }

            return ReadCsv(path, unit, column, weightColumn);
        }

        var joined = string.Join(' ', args).Replace(',', ' ');
        var pairs = joined.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (pairs.Length == 0)
        {
            throw new FormatException("empirical: expected latency:weight pairs such as 60us:10 80us:85 2ms:5, or file=PATH");
        }

        var values = new double[pairs.Length];
        var weights = new double[pairs.Length];
        var sum = 0.0;
        for (var i = 0; i < pairs.Length; i++)
        {
            var colon = pairs[i].IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                // A lone word is most often a CSV written without file= ("empirical lat.csv"): offer that form.
                var file = pairs.Length == 1 ? $"; for a CSV, write empirical file={pairs[i]}" : string.Empty;
                throw new FormatException($"empirical: '{pairs[i]}' is not latency:weight; expected latency:weight pairs such as 60us:10 80us:85 2ms:5, or file=PATH{file}");
            }

            values[i] = Duration(pairs[i][..colon], "empirical latency");
            weights[i] = Number(pairs[i][(colon + 1)..], "empirical weight");
            if (weights[i] < 0)
            {
                throw new FormatException($"empirical: weight of '{pairs[i]}' is negative");
            }

            sum += weights[i];
        }

        return sum > 0 ? new EmpiricalTable(values, weights) : throw new FormatException("empirical: the weights sum to 0");
    }

    private static string FormatOne(in LatencyComponent c)
    {
        var offset = c.OffsetNs != 0 ? " offset=" + Ns(c.OffsetNs) : string.Empty;
        switch (c.Shape)
        {
            case LatencyShape.Constant:
                return "fixed " + Ns(c.Mean);
            case LatencyShape.Uniform:
                return "uniform " + Ns(c.Low) + " " + Ns(c.High);
            case LatencyShape.Exponential:
                return "exponential mean=" + Ns(c.Mean);
            case LatencyShape.Empirical:
                {
                    var sb = new StringBuilder("empirical");
                    var n = 0;
                    foreach (var (value, weight) in c.Table!.Entries())
                    {
                        if (++n > 8)
                        {
                            sb.Append(string.Create(CultureInfo.InvariantCulture, $" ... ({c.Table.Count} values)"));
                            break;
                        }

                        sb.Append(' ').Append(Ns(value)).Append(':').Append(weight.ToString("R", CultureInfo.InvariantCulture));
                    }

                    return sb.ToString();
                }

            default:
                return "lognormal mean=" + Ns(c.Mean) + " sigma=" + c.Sigma.ToString("R", CultureInfo.InvariantCulture) + offset;
        }
    }

    /// <summary>A duration in the largest unit that keeps it exact (integer ns), else in ns with a fraction.</summary>
    private static string Ns(double ns)
    {
        if (ns != Math.Round(ns) || Math.Abs(ns) > 9e15)
        {
            return ns.ToString("R", CultureInfo.InvariantCulture) + "ns";
        }

        var v = (long)ns;
        return v % 1_000_000 == 0 && v != 0 ? (v / 1_000_000).ToString(CultureInfo.InvariantCulture) + "ms"
            : v % 1_000 == 0 && v != 0 ? (v / 1_000).ToString(CultureInfo.InvariantCulture) + "us"
            : v.ToString(CultureInfo.InvariantCulture) + "ns";
    }

    private static double Duration(string text, string what)
    {
        double ns;
        if (text.EndsWith("ns", StringComparison.Ordinal)
            && double.TryParse(text[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var fractional)
            && double.IsFinite(fractional))
        {
            // Fractional nanoseconds: what Format writes for a scaled distribution.
            ns = fractional;
        }
        else
        {
            var r = ScalarParsers.ParseDuration(text);
            ns = r.Error is null ? r.Value : throw new FormatException($"{what}: {r.Error}");
        }

        // A latency (or an offset added to one) below 0 cannot be served: the sampler clamps every
        // draw to 1 ns, so such a store ran with a distribution other than the one written.
        return ns >= 0 ? ns : throw new FormatException($"{what}: must be 0 or more, got {text}");
    }

    private static double Number(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new FormatException($"{what}: expected a number, got '{text}'");

    private static int Column(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1
            ? v
            : throw new FormatException($"empirical {what}: expected a column number from 1, got '{text}'");

    private static decimal ParseWeight(string text, string what)
    {
        var percent = text.EndsWith('%');
        var number = percent ? text[..^1] : text;
        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var w))
        {
            throw new FormatException($"{what}: expected a weight such as 90% or 0.9, got '{text}'");
        }

        return percent ? w / 100 : w;
    }

    /// <summary>Weights as parts per million summing to exactly 1,000,000; the last takes the rounding.</summary>
    private static ulong[] ToPpm(decimal[] weights)
    {
        var sum = 0m;
        foreach (var w in weights)
        {
            sum += w;
        }

        if (sum <= 0)
        {
            throw new FormatException("mixture: the weights sum to 0");
        }

        var ppm = new ulong[weights.Length];
        ulong given = 0;
        for (var i = 0; i < weights.Length - 1; i++)
        {
            ppm[i] = (ulong)Math.Round(weights[i] / sum * Million, MidpointRounding.ToEven);
            given += ppm[i];
        }

        if (given > Million)
        {
            throw new FormatException("mixture: weights do not add up");
        }

        ppm[^1] = Million - given;
        return ppm;
    }

    private static string Single(string[] args, string what) =>
        args.Length == 1 ? args[0] : throw new FormatException($"{what}: expected one duration, such as {what} 80us");

    private static Dictionary<string, string> Named(string[] args, string what, params string[] allowed)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in args)
        {
            var eq = a.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                if (named.Count > 0)
                {
                    throw new FormatException($"{what}: '{a}' after named values; write name=value");
                }

                continue;
            }

            var name = a[..eq];
            if (Array.IndexOf(allowed, name) < 0)
            {
                throw new FormatException($"{what}: unknown parameter '{name}' (expected {string.Join(", ", allowed)})");
            }

            if (!named.TryAdd(name, a[(eq + 1)..]))
            {
                throw new FormatException($"{what}: '{name}' given twice");
            }
        }

        if (named.Count > 0 && named.Count != args.Length)
        {
            throw new FormatException($"{what}: mixes named and positional values");
        }

        return named;
    }

    private static string Need(Dictionary<string, string> named, string name, string what) =>
        named.TryGetValue(name, out var v) ? v : throw new FormatException($"{what}: needs {name}=");

    /// <summary>The longest latency a CSV row may give, in ns: long's range, as an inline latency's.</summary>
    private const double MaxLatencyNs = long.MaxValue;

    private static bool TryLatency(string field, long unitNs, out double ns)
    {
        if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            // Past long's range a latency wrapped when the sample was rounded to whole ns: a CSV of 1e20 made every
            // fault take 1 ns, where the same latency written inline is refused as out of range.
            ns = number * unitNs;
            return double.IsFinite(ns) && ns >= 0 && ns < MaxLatencyNs;
        }

        var r = ScalarParsers.ParseDuration(field);
        ns = r.Error is null ? r.Value : 0;
        return r.Error is null && ns >= 0;
    }

    /// <summary>Fields of a CSV line with the 0-based index where each starts (after spaces); no quoting.</summary>
    private static List<(int Start, string Field)> SplitCsv(string line)
    {
        var fields = new List<(int, string)>();
        var start = 0;
        while (true)
        {
            var comma = line.IndexOf(',', start);
            var end = comma < 0 ? line.Length : comma;
            var s = start;
            while (s < end && char.IsWhiteSpace(line[s]))
            {
                s++;
            }

            fields.Add((s, line[s..end].Trim()));
            if (comma < 0)
            {
                return fields;
            }

            start = comma + 1;
        }
    }
}
