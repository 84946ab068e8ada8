using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Values;

namespace Vexlab.Scenarios.Files;

/// <summary>
/// The bounds every input file is read under, so a hostile or mistaken input (a /dev/zero, a
/// 100,000-level nesting) ends in one error line and exit 2, not an out-of-memory abort or a stack
/// overflow. docs/limits.md says what each one is and how to raise it.
/// </summary>
public static class InputLimits
{
    /// <summary>The environment variable that raises <see cref="MaxBytes"/> (a size such as 256MiB).</summary>
    public const string MaxBytesVariable = "VEXLAB_MAX_INPUT_SIZE";

    /// <summary>The environment variable that raises <see cref="MaxDepth"/> (a whole number).</summary>
    public const string MaxDepthVariable = "VEXLAB_MAX_INPUT_DEPTH";

    /// <summary>The largest input file read by default: 16 MiB, well above any scenario, model, sweep or trace.</summary>
    public const long DefaultMaxBytes = 16L << 20;

    /// <summary>The deepest nesting of YAML or JSON by default; real files nest under 10 levels.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>
    /// The nesting no setting may exceed: the YAML reader recurses once per level, and 1,000 levels
    /// stay far below the 1 MiB stack of a worker thread.
    /// </summary>
    public const int HardMaxDepth = 1000;

    /// <summary>The largest input file read whole, from <see cref="MaxBytesVariable"/> or the default.</summary>
    public static long MaxBytes
    {
        get
        {
            var text = Environment.GetEnvironmentVariable(MaxBytesVariable);
            if (string.IsNullOrWhiteSpace(text))
            {
                return DefaultMaxBytes;
            }

            var parsed = ScalarParsers.ParseSize(text);
            if (!parsed.IsOk || parsed.Value <= 0 || parsed.Value > Array.MaxLength / 2)
            {
                throw InputException.At(
                    MaxBytesVariable, 0, 0, null,
                    $"expected a size from 1 to {Array.MaxLength / 2} bytes such as 256MiB, got {ErrorText.Quote(text)}");
            }

            return parsed.Value;
        }
    }

    /// <summary>The deepest nesting accepted, from <see cref="MaxDepthVariable"/> or the default.</summary>
    public static int MaxDepth
    {
        get
        {
            var text = Environment.GetEnvironmentVariable(MaxDepthVariable);
            if (string.IsNullOrWhiteSpace(text))
            {
                return DefaultMaxDepth;
            }

            if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var depth) || depth < 1 || depth > HardMaxDepth)
            {
                throw InputException.At(
                    MaxDepthVariable, 0, 0, null,
                    string.Create(CultureInfo.InvariantCulture, $"expected a whole number from 1 to {HardMaxDepth}, got {ErrorText.Quote(text)}"));
            }

            return depth;
        }
    }
}
