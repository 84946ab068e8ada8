namespace Vexlab.Checking.Engine;

/// <summary>Entry point of the exhaustive search.</summary>
public static class Checker
{
    /// <summary>Name of the built-in deadlock property.</summary>
    public const string DeadlockProperty = "no-deadlock";

    /// <summary>
    /// Explores every reachable state of <paramref name="system"/> breadth-first, checks its safety properties,
    /// deadlocks and (when requested) its liveness properties under weak fairness.
    /// </summary>
    /// <exception cref="CheckerLimitException">A limit cannot hold even the initial state.</exception>
    public static CheckResult Run(ITransitionSystem system, CheckerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        options ??= new CheckerOptions();
        Validate(system, options);
        if (options.Fingerprint128)
        {
            using var engine128 = new SearchEngine<UInt128, Fingerprint128>(system, options);
            return engine128.Run();
        }

        using var engine = new SearchEngine<ulong, Fingerprint64>(system, options);
        return engine.Run();
    }

    /// <summary>
    /// Re-executes action indices (positions in each state's <see cref="ITransitionSystem.ListActions"/> output)
    /// from the initial state and returns the actions taken.
    /// </summary>
    public static ulong[] ReplayIndices(ITransitionSystem system, ReadOnlySpan<int> actionIndices)
    {
        ArgumentNullException.ThrowIfNull(system);
        var result = new ulong[actionIndices.Length];
        var state = new byte[system.StateSize];
        var next = new byte[system.StateSize];
        var actions = new ulong[Math.Max(1, system.MaxActions)];
        system.WriteInitialState(state);
        for (int i = 0; i < actionIndices.Length; i++)
        {
            int n = system.ListActions(state, actions);
            if ((uint)actionIndices[i] >= (uint)n)
            {
                throw new InvalidOperationException(
                    $"Replay diverged at step {i.ToString(System.Globalization.CultureInfo.InvariantCulture)}: the model is not deterministic.");
            }

            result[i] = actions[actionIndices[i]];
            system.Apply(state, result[i], next);
            (state, next) = (next, state);
        }

        return result;
    }

    /// <summary>The standard birthday estimate n^2 / 2^(b+1) of a collision among n b-bit fingerprints.</summary>
    public static double CollisionProbability(long states, int fingerprintBits)
    {
        double n = states;
        return Math.Min(1.0, n * n / Math.Pow(2, fingerprintBits + 1));
    }

    private static void Validate(ITransitionSystem system, CheckerOptions options)
    {
        if (system.StateSize <= 0)
        {
            throw new ArgumentException("StateSize must be positive.", nameof(system));
        }

        if (system.MaxActions < 0 || system.MaxActions > ushort.MaxValue)
        {
            throw new ArgumentException("MaxActions must be between 0 and 65535.", nameof(system));
        }

        if (system.FairnessClasses < 0 || system.FairnessClasses > 64)
        {
            throw new ArgumentException("FairnessClasses must be between 0 and 64.", nameof(system));
        }

        if (options.Workers < 1)
        {
            throw new CheckerLimitException("Workers must be at least 1.", nameof(options));
        }

        if (options.Compression == StateCompression.Compact && options.Fingerprint128)
        {
            throw new CheckerLimitException("Compression Compact stores 60-bit fingerprints; it does not go with Fingerprint128.", nameof(options));
        }

        if (options.MaxStates < 1)
        {
            throw new CheckerLimitException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"MaxStates must be at least 1 to allow the initial state, got {options.MaxStates}."), nameof(options));
        }

        if (options.MaxDepth < 0)
        {
            throw new CheckerLimitException("MaxDepth must not be negative.", nameof(options));
        }

        if (options.TimeLimit is { } limit && limit <= TimeSpan.Zero)
        {
            throw new CheckerLimitException("TimeLimit must be positive.", nameof(options));
        }

        long minimum = MinimumMemoryBytes(system, options);
        if (options.MaxMemoryBytes < minimum)
        {
            throw new CheckerLimitException(
                $"MaxMemoryBytes must be at least {minimum.ToString(System.Globalization.CultureInfo.InvariantCulture)} bytes for this model.",
                nameof(options));
        }
    }

    internal const int InitialTableLog2 = 10;

    private const int PagedListPageElements = 1 << 14;

    internal static long MinimumMemoryBytes(ITransitionSystem system, CheckerOptions options)
    {
        int keyBytes = options.Fingerprint128 ? 16 : 8;
        bool graph = options.CheckLiveness && system.LivenessProperties.Count > 0;
        long table = (1L << InitialTableLog2) * (keyBytes + (graph ? 4 : 0));
        if (options.Compression == StateCompression.Compact)
        {
            table = CompactFingerprintSet.BytesFor(1L << InitialTableLog2, graph);
        }

        // The first pages of the parent links' samples (a parent and a bit position, ParentLinks) and of the
        // action-index list come with the first state.
        long lists = PagedListPageElements * (sizeof(int) + sizeof(long) + (system.MaxActions <= 256 ? 1 : 2));
        return table + lists + system.StateSize;
    }
}
