using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json.Nodes;

using Vexlab.Results.Sweeps;

namespace Vexlab.FakeSweep;

/// <summary>How the fake runner spends its time.</summary>
public enum FakeRunnerMode
{
    /// <summary>Returns at once.</summary>
    Fast,

    /// <summary>Sleeps <see cref="FakeRunner.SlowDelay"/> per run (for interruption tests).</summary>
    Slow,

    /// <summary>Burns a fixed amount of CPU per run (for measuring parallel speedup).</summary>
    Cpu,
}

/// <summary>
/// A deterministic stand-in for the simulator: every number is derived from the run's axis
/// values, seed and protocol entry, in the documented result shape. Tests inject it: through
/// <c>CliContext.SweepRunner</c> in process, or by running this project's executable.
/// </summary>
public static class FakeRunner
{
    public static readonly TimeSpan SlowDelay = TimeSpan.FromMilliseconds(250);

    private static readonly Dictionary<string, double> s_protocolFactor = new(StringComparer.Ordinal)
    {
        ["sync"] = 1.0,
        ["kvm-halt"] = 0.9,
        ["kvm-pf"] = 0.7,
        ["kvm-pf-int"] = 0.65,
        ["ve"] = 0.6,
    };

    /// <summary>A runner in <paramref name="mode"/>.</summary>
    public static RunPoint Create(FakeRunnerMode mode = FakeRunnerMode.Fast) => (run, ct) => Run(run, mode, ct);

    /// <summary>Parses <c>fast</c>, <c>slow</c> or <c>cpu</c>; null for anything else.</summary>
    public static FakeRunnerMode? ParseMode(string? text) => text switch
    {
        "fast" or "1" or "true" => FakeRunnerMode.Fast,
        "slow" => FakeRunnerMode.Slow,
        "cpu" => FakeRunnerMode.Cpu,
        _ => null,
    };

    public static JsonObject Run(SweepRun run, FakeRunnerMode mode, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        if (mode == FakeRunnerMode.Slow)
        {
            ct.WaitHandle.WaitOne(SlowDelay);
            ct.ThrowIfCancellationRequested();
        }
        else if (mode == FakeRunnerMode.Cpu)
        {
            Burn(run.RunKey);
        }

        var random = new Noise(run.RunKey);
        double Axis(string name, double fallback) =>
            run.Point.FirstOrDefault(p => p.Axis.Name == name)?.Value.Number ?? fallback;

        var latencyUs = Axis("latency", 100);
        var tasks = Math.Max(1, (int)Axis("tasks", 4));
        var overcommit = Axis("overcommit", 1.5);
        var factor = s_protocolFactor.GetValueOrDefault(run.Protocol.Protocol, 1.0) * (1 + (0.03 * run.Protocol.Overrides.Count));
        var faults = (long)(2000 * overcommit * (1 + (0.05 * random.Next())));
        var latencyNs = latencyUs * 1000;
        var p50 = (long)(latencyNs * factor * (1 + (0.1 * random.Next())));
        var p99 = (long)(p50 * (2.5 + random.Next()));
        var p999 = (long)(p99 * (1.5 + (0.5 * random.Next())));
        var max = p999 + (long)(latencyNs * random.Next());
        var total = 2_000_000_000L;
        var stallShare = Math.Min(0.8, latencyUs / (latencyUs + 500) * factor * overcommit / 2);
        var stalled = (long)(total * stallShare * (run.Protocol.Protocol == "sync" ? 1 : 0.4));
        var halted = (long)(total * stallShare * (run.Protocol.Protocol == "sync" ? 0 : 0.3));
        var idle = (long)(total * 0.05 * (1 + random.Next()) / tasks);
        var guest = total - stalled - halted - idle;
        var workDone = guest / 1000;

        var taskArray = new JsonArray();
        for (var t = 0; t < Math.Min(tasks, 3); t++)
        {
            var signals = new JsonObject();
            if (t == 0 && random.Next() < 0.1)
            {
                signals["SIGBUS"] = 1;
            }

            taskArray.Add(new JsonObject
            {
                ["name"] = "task" + t.ToString(CultureInfo.InvariantCulture),
                ["count"] = t == 0 ? tasks - Math.Min(tasks, 3) + 1 : 1,
                ["work_done"] = workDone / Math.Min(tasks, 3),
                ["finished_ns"] = total - (long)(random.Next() * 1e6),
                ["signals"] = signals,
            });
        }

        var exits = new JsonObject
        {
            ["EPT_VIOLATION"] = faults,
            ["EXTERNAL_INTERRUPT"] = (long)(faults * 0.1) + 3,
        };
        if (run.Protocol.Protocol == "kvm-halt" || run.Protocol.Protocol == "sync")
        {
            exits["HLT"] = faults / 2;
        }

        var runSignals = new JsonObject();
        if (latencyUs > 5000)
        {
            runSignals["SIGBUS"] = 1;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        return new JsonObject
        {
            ["scenario"] = run.Scenario.ToString(),
            ["protocol"] = run.Protocol.Protocol,
            ["variant"] = run.Protocol.Label,
            ["seed"] = run.Seed,
            ["replay"] = "vexlab run " + run.Scenario + " --protocol " + run.Protocol.Label + " --seed " + run.Seed.ToString(CultureInfo.InvariantCulture),
            ["simulated_ns"] = total,
            ["events"] = faults * 7,
            ["digest"] = run.RunKey[..16],
            ["work_done"] = workDone,
            // The outcome names a real run writes (SimulationResult.OutcomeName): a signal to a task leaves the guest running.
            ["guest"] = new JsonObject { ["outcome"] = "running", ["tasks"] = taskArray },
            ["signals"] = runSignals,
            ["fault_latency_ns"] = new JsonObject { ["count"] = faults, ["p50"] = p50, ["p99"] = p99, ["p999"] = p999, ["max"] = max },
            ["vcpu_ns"] = new JsonObject { ["guest"] = guest, ["host_stalled"] = stalled, ["host_halted"] = halted, ["idle"] = idle },
            ["exits"] = exits,
            ["injected"] = new JsonObject { ["page_not_present"] = run.Protocol.Protocol == "sync" ? 0 : faults / 3, ["page_ready"] = run.Protocol.Protocol == "sync" ? 0 : faults / 3 },
            ["timing"] = new JsonObject { ["wall_ns"] = (long)elapsed.TotalNanoseconds, ["events_per_s"] = faults * 7 / Math.Max(1e-9, elapsed.TotalSeconds) },
        };
    }

    private static void Burn(string key)
    {
        var buffer = Encoding.UTF8.GetBytes(key.PadRight(4096, 'x'));
        ulong acc = 0;
        for (var i = 0; i < 20_000; i++)
        {
            acc ^= XxHash64.HashToUInt64(buffer, (long)acc);
        }

        GC.KeepAlive(acc);
    }

    private sealed class Noise(string key)
    {
        private ulong _state = BinaryPrimitives.ReadUInt64BigEndian(Convert.FromHexString(key.AsSpan(0, 16))) | 1;

        /// <summary>A value in [0, 1) from an xorshift generator seeded by the run key.</summary>
        public double Next()
        {
            _state ^= _state << 13;
            _state ^= _state >> 7;
            _state ^= _state << 17;
            return (_state >> 11) * (1.0 / (1UL << 53));
        }
    }
}
