using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>
/// What a Chrome Trace Event JSON file must satisfy for ui.perfetto.dev and trace_processor to import it without
/// dropping anything: the Trace Event Format's required fields per phase, microsecond timestamps (exact ns as three
/// decimals), non-negative X durations, X slices nested per thread, B/E pairs nested per thread with matching names,
/// JSON v2 flows (bind_id) that begin once, end at most once and only step between, and no named thread left empty.
/// Returns one message per violation and the fault spans it read.
/// </summary>
internal static partial class ChromeTraceValidator
{
    public sealed record FaultSpan(int Tid, long Id, long BeginNs, long EndNs, string Outcome, long LatencyNs, string Gfn);

    public sealed record Report(List<string> Problems, List<FaultSpan> Faults, int Flows, int FlowSteps, int Counters, HashSet<string> CounterNames, List<(string Name, long Ns)> GlobalInstants);

    public static Report Check(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        var problems = new List<string>();
        var faults = new List<FaultSpan>();
        var counterNames = new HashSet<string>(StringComparer.Ordinal);
        var globals = new List<(string, long)>();
        var counters = 0;
        var named = new HashSet<(int, int)>();
        var used = new HashSet<(int, int)>();
        var open = new Dictionary<(int, int), Stack<(string Name, long Ts, long Id, string Gfn)>>();
        var flowStart = new Dictionary<long, long>();
        var flowEnded = new HashSet<long>();
        var steps = 0;
        foreach (var e in doc.RootElement.GetProperty("traceEvents").EnumerateArray())
        {
            var text = e.GetRawText();
            if (!e.TryGetProperty("ph", out var phEl) || !e.TryGetProperty("name", out var nameEl) || !e.TryGetProperty("pid", out var pidEl))
            {
                problems.Add("missing ph, name or pid: " + text);
                continue;
            }

            var ph = phEl.GetString()!;
            var name = nameEl.GetString()!;
            var pid = pidEl.GetInt32();
            var tid = e.TryGetProperty("tid", out var tidEl) ? tidEl.GetInt32() : -1;
            if (ph == "M")
            {
                if (name == "thread_name")
                {
                    named.Add((pid, tid));
                }

                continue;
            }

            if (!e.TryGetProperty("ts", out var tsEl) || !Microseconds().IsMatch(tsEl.GetRawText()))
            {
                problems.Add("ts missing or not microseconds with three decimals: " + text);
                continue;
            }

            var ts = Ns(tsEl);
            if (ph is "X" or "B" or "E" || (ph == "i" && e.GetProperty("s").GetString() == "t"))
            {
                if (tid < 0)
                {
                    problems.Add("thread event without tid: " + text);
                    continue;
                }

                used.Add((pid, tid));
            }

            switch (ph)
            {
                case "X":
                    if (!e.TryGetProperty("dur", out var durEl) || !Microseconds().IsMatch(durEl.GetRawText()))
                    {
                        problems.Add("X without a non-negative microsecond dur: " + text);
                    }

                    break;
                case "B":
                {
                    if (!open.TryGetValue((pid, tid), out var stack))
                    {
                        open[(pid, tid)] = stack = new();
                    }

                    if (stack.Count > 0 && stack.Peek().Ts > ts)
                    {
                        problems.Add("B before its enclosing B: " + text);
                    }

                    var args = e.GetProperty("args");
                    stack.Push((name, ts, e.TryGetProperty("bind_id", out var b) ? b.GetInt64() : 0, args.TryGetProperty("gfn", out var g) ? g.GetString()! : ""));
                    break;
                }

                case "E":
                {
                    if (!open.TryGetValue((pid, tid), out var stack) || stack.Count == 0)
                    {
                        problems.Add("E without a B on its thread: " + text);
                        break;
                    }

                    var begin = stack.Pop();
                    if (begin.Name != name)
                    {
                        problems.Add($"E '{name}' closes B '{begin.Name}'");
                    }

                    if (ts < begin.Ts)
                    {
                        problems.Add($"E '{name}' at {ts} before its B at {begin.Ts}");
                    }

                    var args = e.GetProperty("args");
                    faults.Add(new FaultSpan(tid, begin.Id, begin.Ts, ts, args.GetProperty("outcome").GetString()!, args.GetProperty("latency_ns").GetInt64(), begin.Gfn));
                    break;
                }

                case "C":
                    counters++;
                    counterNames.Add(name);
                    if (e.GetProperty("args").GetProperty("value").GetInt64() < 0)
                    {
                        problems.Add("negative counter: " + text);
                    }

                    break;
                case "i":
                    if (e.GetProperty("s").GetString() == "g")
                    {
                        globals.Add((name, ts));
                    }

                    break;
                default:
                    problems.Add("unexpected phase: " + text);
                    break;
            }

            if (e.TryGetProperty("bind_id", out var bindEl))
            {
                var id = bindEl.GetInt64();
                var flowIn = e.TryGetProperty("flow_in", out var fi) && fi.GetBoolean();
                var flowOut = e.TryGetProperty("flow_out", out var fo) && fo.GetBoolean();
                if (flowOut && !flowIn)
                {
                    if (!flowStart.TryAdd(id, ts))
                    {
                        problems.Add("flow begun twice: " + text);
                    }
                }
                else if (!flowStart.TryGetValue(id, out var startTs) || flowEnded.Contains(id))
                {
                    problems.Add("flow step or end outside its flow: " + text);
                }
                else if (ts < startTs)
                {
                    problems.Add("flow step before its start: " + text);
                }
                else if (flowIn && flowOut)
                {
                    steps++;
                }
                else
                {
                    flowEnded.Add(id);
                }
            }
        }

        foreach (var (key, stack) in open)
        {
            if (stack.Count > 0)
            {
                problems.Add($"thread {key}: {stack.Count} B never closed");
            }
        }

        foreach (var key in named)
        {
            if (!used.Contains(key))
            {
                problems.Add($"thread {key} is named but empty");
            }
        }

        problems.AddRange(SliceNestingChecker.Check(System.Text.Encoding.UTF8.GetString(json)));
        return new Report(problems, faults, flowStart.Count, steps, counters, counterNames, globals);
    }

    public static long Ns(JsonElement microseconds) => (long)(decimal.Parse(microseconds.GetRawText(), CultureInfo.InvariantCulture) * 1000m);

    [GeneratedRegex(@"^\d+\.\d{3}$")]
    private static partial Regex Microseconds();
}
