using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;

namespace Vexlab.Results.Sweeps;

/// <summary>One axis set to one value at a point.</summary>
public sealed record AxisSetting(SweepAxis Axis, AxisValue Value);

/// <summary>
/// One simulation run of a sweep: the base scenario, the overrides to apply in order (the sweep's
/// <c>set</c> and <c>--set</c>, then the point's axes), the protocol entry (with its knobs) and the seed.
/// </summary>
public sealed record SweepRun
{
    public required string SweepName { get; init; }

    public required ScenarioRef Scenario { get; init; }

    /// <summary>The sweep's overrides of the base scenario, in order.</summary>
    public required IReadOnlyList<Override> BaseOverrides { get; init; }

    /// <summary>The point: one value for each axis, in axis order.</summary>
    public required IReadOnlyList<AxisSetting> Point { get; init; }

    /// <summary>0-based index of the point in the cartesian product.</summary>
    public required long PointIndex { get; init; }

    public required ProtocolEntry Protocol { get; init; }

    /// <summary>
    /// The protocols of all the sweep's entries: a knob that none of them uses changes no run, so the
    /// runner refuses it as <c>vexlab compare</c> does, rather than store runs that ignored it.
    /// </summary>
    public IReadOnlyList<string> SweepProtocols { get; init; } = [];

    public required long Seed { get; init; }

    /// <summary>
    /// 32 hex digits identifying the run: hash of the base scenario after the sweep's overrides, the point, the
    /// seed and the protocol entry (<see cref="ComputeKey"/>).
    /// </summary>
    public required string RunKey { get; init; }

    /// <summary>Every override to apply to the base scenario: the sweep's, then the point's axes.</summary>
    public IReadOnlyList<Override> AllOverrides =>
        [.. BaseOverrides, .. Point.Select(p => Overrides.ParseSet(p.Axis.SetText(p.Value), p.Value.Origin ?? "axis " + p.Axis.Name) with { KeyOrigin = p.Axis.KeyOrigin })];

    /// <summary>The axis column values of this run, by axis name.</summary>
    public IEnumerable<KeyValuePair<string, object>> AxisColumns =>
        Point.Select(p => new KeyValuePair<string, object>(p.Axis.Name, p.Axis.ColumnValue(p.Value)));

    /// <summary>A short text for messages: <c>latency=10 seed=2 ve</c>.</summary>
    public string Describe() =>
        string.Join(' ', Point.Select(p => p.Axis.Name + "=" + p.Value.Text)
            .Append("seed=" + Seed.ToString(CultureInfo.InvariantCulture)).Append(Protocol.Label));

    /// <summary>
    /// The form of <see cref="ComputeKey"/>'s keys, recorded in each store (<c>run_key_version</c>): 1, the form a
    /// store without it holds, hashed the point, seed and protocol entry only, so a store of a sweep whose base
    /// changed (its duration, a <c>--set</c>) kept runs of the old base as if they were the new one's; 2 hashes the
    /// base as well. Keys of two forms name the same run differently, so stores of two forms are never mixed.
    /// </summary>
    public const int KeyVersion = 2;

    /// <summary>
    /// The run key: the base scenario after the sweep's overrides (<see cref="SweepDefinition.BaseIdentity"/>), the
    /// point, the seed and the protocol entry with its knobs, which together decide what the run computes. A store
    /// keeps a run only while the sweep still has its key, so a run is reused only when it is the same run.
    /// </summary>
    public static string ComputeKey(string baseIdentity, IEnumerable<AxisSetting> point, long seed, ProtocolEntry protocol)
    {
        ArgumentNullException.ThrowIfNull(baseIdentity);
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(protocol);
        var text = new StringBuilder(baseIdentity);
        foreach (var p in point)
        {
            text.Append("point ").Append(p.Axis.SetText(p.Value)).Append('\n');
        }

        text.Append("seed ").Append(seed.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("protocol ").Append(protocol.Label).Append('\n');
        return Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(text.ToString())));
    }
}

/// <summary><c>--shard I/N</c>: run I (1-based) of N, a deterministic share of the runs by run key.</summary>
public readonly record struct Shard(int Index, int Count)
{
    public static readonly Shard All = new(1, 1);

    public bool IsAll => Count == 1;

    /// <summary>True when the run with <paramref name="runKey"/> belongs to this shard.</summary>
    public bool Contains(string runKey)
    {
        if (Count == 1)
        {
            return true;
        }

        var bytes = Convert.FromHexString(runKey.AsSpan(0, 16));
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(bytes) % (ulong)Count) == Index - 1;
    }

    /// <summary>Parses <c>I/N</c>; null when it is not one.</summary>
    public static Shard? TryParse(string text)
    {
        try
        {
            return Parse(text);
        }
        catch (InputException)
        {
            return null;
        }
    }

    /// <summary>Parses <c>I/N</c> with 1 &lt;= I &lt;= N.</summary>
    public static Shard Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0
            || !int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count < 1 || index < 1 || index > count)
        {
            throw InputException.At(null, 0, 0, "--shard", $"expected I/N with I from 1 to N (such as 2/8), got \"{text}\"");
        }

        return new Shard(index, count);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}

/// <summary>Expands a sweep into its runs: the cartesian product of the axes, times seeds, times protocol entries.</summary>
public static class SweepPlan
{
    /// <summary>
    /// Every run of <paramref name="sweep"/>, point by point (the last axis varies fastest), then
    /// seed, then protocol entry. Lazy: a large sweep is not held in memory.
    /// </summary>
    public static IEnumerable<SweepRun> Runs(SweepDefinition sweep, Shard? shard = null)
    {
        var selected = shard ?? Shard.All;
        var axes = sweep.Axes;
        var indices = new int[axes.Count];
        var points = sweep.PointCount;
        var protocols = sweep.Protocols.Select(p => p.Protocol).Distinct(StringComparer.Ordinal).ToList();
        var baseIdentity = sweep.BaseIdentity;
        for (long pointIndex = 0; pointIndex < points; pointIndex++)
        {
            var point = new AxisSetting[axes.Count];
            for (var a = 0; a < axes.Count; a++)
            {
                point[a] = new AxisSetting(axes[a], axes[a].Values[indices[a]]);
            }

            foreach (var seed in sweep.Seeds)
            {
                foreach (var protocol in sweep.Protocols)
                {
                    var key = SweepRun.ComputeKey(baseIdentity, point, seed, protocol);
                    if (selected.Contains(key))
                    {
                        yield return new SweepRun
                        {
                            SweepName = sweep.Name,
                            Scenario = sweep.Scenario,
                            BaseOverrides = sweep.Sets,
                            Point = point,
                            PointIndex = pointIndex,
                            Protocol = protocol,
                            SweepProtocols = protocols,
                            Seed = seed,
                            RunKey = key,
                        };
                    }
                }
            }

            for (var a = axes.Count - 1; a >= 0; a--)
            {
                if (++indices[a] < axes[a].Values.Count)
                {
                    break;
                }

                indices[a] = 0;
            }
        }
    }
}
