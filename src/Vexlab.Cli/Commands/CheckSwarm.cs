using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Checking;
using Vexlab.Checking.Engine;
using Vexlab.Checking.Swarm;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;

namespace Vexlab.Cli.Commands;

/// <summary>
/// <c>vexlab check --swarm</c> (bounded random-order depth-first searches, a share of them with
/// <c>--shard I/N</c>) and <c>vexlab check --swarm-merge</c> (join the shards' JSON results).
/// </summary>
internal static partial class CheckSwarm
{
    /// <summary>
    /// Fields every shard of one swarm must agree on. A model file's text (<c>model_file_hash</c>), not its path: shards
    /// started from other working folders name one file differently, and a file edited between shards keeps its path
    /// (such a merge joined two models' members, and printed a replay line the current file does not reproduce). The
    /// version, whose code defines the built-in models and the rules: members of two versions are two swarms.
    /// </summary>
    private static readonly string[] s_identity = ["vexlab_version", "model", "model_file_hash", "protocol", "overrides", "departures", "properties", "liveness_not_checked"];

    /// <summary>What a merge copies from its first shard, in a shard's order: the identity, and the model file's name.</summary>
    private static readonly string[] s_mergedIdentity = ["model", "model_file", "model_file_hash", "protocol", "overrides", "departures", "properties", "liveness_not_checked"];

    private static readonly string[] s_swarmIdentity = ["seed", "members", "max_states_per_member", "max_depth"];

    public static int Run(CliContext context, JsonTarget target, CheckRequest request, SwarmOptions options, string? traceFile, TimeSpan? timeLimit = null)
    {
        using var system = ModelCheck.BuildSystem(request);
        options = options with { CheckDeadlock = system.CheckDeadlock };

        var replay = ModelCheck.ReplayCheck(request, ResultFlags(options));
        SwarmResult result;
        int? signalExit = null;
        string? stopReason;
        using (var limit = WallClockDeadline.After(timeLimit))
        using (var interrupt = new Interruption(limit.Token))
        {
            // The whole swarm's (or shard's) seed and replay line first, as run's, once Ctrl-C is handled: a swarm
            // stopped early has said how to rerun it.
            ReplayLine.Write(context.Error, null, ReplayLine.Seed(options.Seed), replay);

            // As a check without --swarm: a live line on a terminal, else one every 10 s.
            var line = new ProgressLine(context);
            result = SwarmSearch.Run(system, options with
            {
                CancellationToken = interrupt.Token,
                TimeLimit = timeLimit,
                Progress = p => line.Report(elapsed => string.Create(CultureInfo.InvariantCulture,
                    $"swarm: {p.MembersDone:N0}/{p.Members:N0} members done, {p.States:N0} states stored, {p.Transitions:N0} transitions, {p.Transitions / Math.Max(elapsed.TotalSeconds, 1e-3):N0} transitions/s, {elapsed.TotalSeconds:N0} s")),
            });
            line.Finish();
            stopReason = StopReasons.Of(result.Cancelled, interrupt);
            if (result.Cancelled)
            {
                // As a check without --swarm: a signal is 128 plus its number, a limit 3.
                signalExit = interrupt.Signalled ? interrupt.ExitCode : null;
                // Members whose turn came after the stop did no work: not listed, only counted (a merge names them missing).
                var notStarted = result.NotStarted > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"; {result.NotStarted:N0} of its {result.NotStarted + result.Members.Count:N0} members did not start")
                    : string.Empty;
                var cut = result.Members.Where(m => m.Stopped).Select(m => Text(m.Index)).ToList();
                var cutShort = cut.Count == 0 ? string.Empty : $"; cut short: member{(cut.Count > 1 ? "s" : string.Empty)} {string.Join(", ", cut)}";
                context.Error.WriteLine(interrupt.Signalled
                    ? $"vexlab: check: stopped by {interrupt.SignalName}; the result below covers the members' work so far{notStarted}{cutShort}"
                    : $"vexlab: check: stopped at --time-limit; the result below covers the members' work so far{notStarted}{cutShort}");

                // The replay line carries no --time-limit, as a check's does not (CheckCommand.ResultFlags): the members
                // a wall-clock limit lets start, and where it cuts them, follow the machine's speed and load, so the
                // same limit reruns other members. A member that ended reruns alike from its seed.
                context.Error.WriteLine("vexlab: check: where a stop falls depends on the machine, so the replay line reruns every member to its end; a member that ended (\"stopped\": false) reruns alike alone with --swarm-member K");
            }
        }

        var machine = system.CreateMachine();
        var violations = new JsonArray();
        DescribedViolation? first = null;
        foreach (var v in result.Violations)
        {
            var flags = new List<string> { "--swarm", "--seed", Text(options.Seed), "--members", Text(options.Members), "--swarm-member", Text(v.Member) };
            AddBounds(flags, options);
            var violation = new Violation(v.Property, ViolationKind.Safety, v.Actions, v.ActionIndices, -1);
            CounterexampleCheck.Require(system, violation);
            var described = new DescribedViolation(
                violation,
                TraceDescriber.Describe(machine, v.Actions),
                ModelCheck.ReplayCommand(request, v.Property, flags));
            first ??= described;
            var node = CheckCommand.ViolationNode(described);
            node["member"] = v.Member;
            node["member_seed"] = v.MemberSeed.ToString(CultureInfo.InvariantCulture);
            node["depth_bound"] = v.DepthBound;
            node["actions"] = new JsonArray([.. v.Actions.Select(a => (JsonNode)(uint)a)]);
            node["action_indices"] = new JsonArray([.. v.ActionIndices.Select(i => (JsonNode)i)]);
            violations.Add(node);
        }

        var doc = ResultDocument.Create();
        doc["model"] = request.Model;
        if (request.File is { } modelFile)
        {
            doc["model_file"] = modelFile.Path;
            doc["model_file_hash"] = modelFile.TextHash;
        }

        doc["protocol"] = request.Protocol;
        doc["overrides"] = new JsonArray([.. request.Overrides.Select(kv => (JsonNode)(kv.Key + "=" + kv.Value))]);
        doc["departures"] = CheckCommand.DeparturesNode(system.Config.Protocol.Knobs.Overrides);
        doc["properties"] = new JsonArray([.. system.SafetyProperties.Concat(system.CheckDeadlock ? [Checker.DeadlockProperty] : []).Select(p => (JsonNode)p)]);
        doc["liveness_not_checked"] = new JsonArray([.. system.LivenessProperties.Select(p => (JsonNode)p)]);
        doc["replay"] = replay;

        // The seed as a number beside the replay line, as every result has it (swarm.seed keeps the string that
        // shards written before it carry, which the merge compares).
        doc["seed"] = options.Seed;
        doc["swarm"] = new JsonObject
        {
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["members"] = options.Members,
            ["max_states_per_member"] = options.MaxStatesPerMember,
            ["max_depth"] = options.MaxDepth,
            ["shard"] = options.OnlyMember is null ? Text(options.ShardIndex) + "/" + Text(options.ShardCount) : null,
            ["only_member"] = options.OnlyMember,
        };
        if (result.NotStarted > 0)
        {
            // A count, not a list: the members started are the first of the shard's in order (SwarmSearch.Run), so
            // those not started are its members above the last one listed.
            doc["swarm"]!["members_not_started"] = result.NotStarted;
        }

        Fill(doc, result, violations, stopReason);
        WriteHuman(context.HumanWriter(target), doc, result);
        WriteReplayLines(context.Error, doc);
        ResultDocument.Write(context, target, doc);
        if (traceFile is not null && first is not null)
        {
            CheckCommand.WriteTrace(context, traceFile, request, system.Config, first, options.Seed);
        }
        else if (traceFile is not null)
        {
            context.Error.WriteLine($"vexlab: no counterexample, so no trace written to {traceFile}");
        }

        return signalExit ?? Exit(result);
    }

    /// <summary>
    /// Joins the shards' results. A set with members missing is refused (exit 2, naming them) unless
    /// <paramref name="allowPartial"/>, as <c>sweep merge</c> refuses a set of stores with runs missing. A partial merge's
    /// verdict is what its shards show: a violation they found (exit 1), a pass where one of their members explored every
    /// reachable state (a proof, exit 0), else incomplete (exit 3); <c>complete</c> follows the verdict, and
    /// <c>swarm.members_missing</c> names what is not there. A shard stopped by a signal or its time limit (its
    /// <c>stop_reason</c>) leaves the merge incomplete as it left the shard: <c>complete</c> false, the first such
    /// shard's <c>stop_reason</c>, exit 3 (1 with a violation); a member that explored every reachable state still
    /// makes it a pass, exit 0, with that <c>stop_reason</c>.
    /// </summary>
    public static int Merge(CliContext context, JsonTarget target, IReadOnlyList<string> files, bool allowPartial = false, string? mergeReplay = null)
    {
        JsonObject? reference = null;
        var parts = new List<SwarmResult>();
        var nodes = new Dictionary<(int Member, string Property), JsonObject>();
        var shards = new JsonArray();
        var memberFiles = new Dictionary<int, string>();
        var stopped = new List<(string File, string Reason)>();
        ulong seed = 0;
        foreach (var file in files)
        {
            var doc = Load(file);
            var swarm = doc["swarm"] as JsonObject ?? throw new InputException($"{file}: not a swarm result (no \"swarm\" object; written by check --swarm --json)");
            if (reference is null)
            {
                // The merge writes its own version (ResultDocument): a version that did not run the shards would label
                // their members as its own, where members of two versions are two swarms.
                if (doc["vexlab_version"]?.GetValue<string>() is { } version && version != ResultDocument.VexlabVersion)
                {
                    throw new InputException($"{file}: written by vexlab {version}, and this is vexlab {ResultDocument.VexlabVersion}: the built-in models and rules of two versions may differ, so their members are two swarms; merge with the vexlab that ran the shards");
                }

                reference = doc;
                seed = SwarmSeed(file, swarm);

                // The others' swarm.members must equal it (s_swarmIdentity); the first's is the count the merge expects.
                if (swarm["members"] is not JsonValue members || !members.TryGetValue<int>(out var count) || count < 1)
                {
                    throw new InputException($"{file}: swarm.members is {swarm["members"]?.ToJsonString(s_readable) ?? "absent"}, expected the swarm's member count, a whole number from 1: not a complete swarm result");
                }
            }
            else
            {
                foreach (var key in s_identity)
                {
                    Same(file, key, reference[key], doc[key]);
                }

                foreach (var key in s_swarmIdentity)
                {
                    Same(file, "swarm." + key, reference["swarm"]![key], swarm[key]);
                }
            }

            shards.Add((JsonNode?)swarm["shard"]?.GetValue<string>() ?? "member " + swarm["only_member"]);
            var part = Read(file, doc, nodes);
            if (part.Cancelled)
            {
                stopped.Add((file, doc["stop_reason"]!.GetValue<string>()));
            }

            foreach (var member in part.Members)
            {
                // A member counted twice would count its states twice and hide a missing shard.
                if (!memberFiles.TryAdd(member.Index, file))
                {
                    throw new InputException($"swarm merge: member {member.Index} is in both {memberFiles[member.Index]} and {file} (the same shard given twice?)");
                }
            }

            parts.Add(part);
        }

        var merged = SwarmSearch.Merge(parts);
        var total = reference!["swarm"]!["members"]!.GetValue<int>();
        // Members a stopped shard did not start are absent from it, and missing here as a shard not given is.
        var present = new bool[total];
        foreach (var member in merged.Members)
        {
            if (member.Index < 0 || member.Index >= total)
            {
                throw new InputException($"{memberFiles[member.Index]}: member {member.Index} is not one of swarm.members {total}: not a complete swarm result");
            }

            present[member.Index] = true;
        }

        var missing = MemberRanges.Missing(present, Period(shards));
        var missingCount = missing.Sum(r => r.Count);
        var missingText = string.Create(CultureInfo.InvariantCulture, $"{missingCount:N0} of {total:N0} members missing (shards not given or unfinished): {MissingText(present, missing, missingCount)}");
        if (missingCount > 0 && !allowPartial)
        {
            // Before any output: a merge of some shards is not the swarm's result, and read as one it said pass.
            throw new InputException($"swarm merge: {missingText}; merge every shard, rerun the unfinished ones (the same check --swarm --shard command), or pass --allow-partial to merge what is there");
        }

        var outDoc = ResultDocument.Create();

        // The shards' identity as a shard writes it, with the first shard's name for the model file (others may name
        // it from other folders); the merge's own version stands first (ResultDocument), which the shards' equal (above).
        foreach (var key in s_mergedIdentity)
        {
            if (reference![key] is { } value)
            {
                outDoc[key] = value.DeepClone();
            }
        }

        // The merge of every shard is the whole swarm's result: its replay is a shard's without the shard. A partial
        // merge's is not (the whole swarm reruns the members missing here, and may find another counterexample first):
        // its line is the merge itself, of the same files.
        var partial = missingCount > 0;
        if (partial && mergeReplay is not null)
        {
            outDoc["replay"] = mergeReplay;
        }
        else if (reference!["replay"] is JsonValue shardReplay)
        {
            outDoc["replay"] = WholeSwarm().Replace(shardReplay.GetValue<string>(), string.Empty);
        }

        outDoc["seed"] = seed;
        outDoc["swarm"] = new JsonObject
        {
            ["seed"] = reference["swarm"]!["seed"]!.DeepClone(),
            ["members"] = total,
            ["max_states_per_member"] = reference["swarm"]!["max_states_per_member"]!.DeepClone(),
            ["max_depth"] = reference["swarm"]!["max_depth"]?.DeepClone(),
            ["merged"] = shards,
            ["members_missing"] = new JsonArray([.. missing.Select(r => (JsonNode)r.ToJson())]),
            ["members_missing_count"] = missingCount,
        };
        var violations = new JsonArray([.. merged.Violations.Select(v => (JsonNode)nodes[(v.Member, v.Property)].DeepClone())]);
        Fill(outDoc, merged, violations, stopped.Count == 0 ? null : stopped[0].Reason);
        if (partial)
        {
            context.Error.WriteLine($"vexlab: swarm merge: partial: {missingText} (--allow-partial)");
        }

        // Every stopped shard, not the first alone: each is one to rerun.
        if (stopped.Count == 1)
        {
            context.Error.WriteLine($"vexlab: swarm merge: {stopped[0].File} was stopped ({stopped[0].Reason}); the result covers its members' work so far");
        }
        else if (stopped.Count > 1)
        {
            var list = string.Join(", ", stopped.Select(s => $"{s.File} ({s.Reason})"));
            context.Error.WriteLine($"vexlab: swarm merge: {stopped.Count} shards were stopped: {list}; the result covers their members' work so far");
        }

        // The whole swarm's seed and replay line, as a swarm run gives its own before its report.
        if (outDoc["replay"] is JsonValue wholeReplay)
        {
            ReplayLine.Write(context.Error, null, ReplayLine.Seed(seed), wholeReplay.GetValue<string>());
        }

        WriteHuman(context.HumanWriter(target), outDoc, merged);
        WriteReplayLines(context.Error, outDoc);
        ResultDocument.Write(context, target, outDoc);
        return Exit(merged);
    }

    /// <summary>
    /// The step of the runs <c>swarm.members_missing</c> lists: the shards' count where every sharded file names the
    /// same N (a shard's members are those <c>m % N == I - 1</c>), else 1.
    /// </summary>
    private static int Period(JsonArray shards)
    {
        var counts = shards.Select(s => Results.Sweeps.Shard.TryParse(s!.GetValue<string>())?.Count).OfType<int>().Distinct().ToList();
        return counts.Count == 1 ? counts[0] : 1;
    }

    /// <summary>
    /// The members missing as a message names them: each of them up to ten ("2, 3, 6, 7"), else the first ten
    /// runs of <c>swarm.members_missing</c> ("1..999997 step 4, 2..999998 step 4").
    /// </summary>
    private static string MissingText(bool[] present, IReadOnlyList<MemberRange> missing, int count) => count <= 10
        ? string.Join(", ", Enumerable.Range(0, present.Length).Where(m => !present[m]).Select(m => m.ToString(CultureInfo.InvariantCulture)))
        : string.Join(", ", missing.Take(10)) + (missing.Count > 10 ? ", ..." : string.Empty);

    /// <summary>
    /// 1 for a violation found, stopped early or not (as a check without --swarm stopped at a limit after finding one:
    /// a script that reads 3 as "no violation" would miss it); 0 for a pass, stopped early or not: a member that
    /// explored every reachable state proves it, as it does for a partial merge, and the members the time limit cut
    /// short could have found nothing more (token-wrap's swarm of 20,000 members under a 1 s limit said "verdict: pass",
    /// "every reachable one", and exited 3); 3 for a swarm incomplete, stopped or not.
    /// </summary>
    private static int Exit(SwarmResult result) => SwarmSearch.VerdictOf(result) switch
    {
        Verdict.Violation => ExitCodes.Found,
        Verdict.Pass => ExitCodes.Done,
        _ => ExitCodes.Limit,
    };

    /// <summary>
    /// The result's fields. <c>stop_reason</c> is <paramref name="stopReason"/>: why the swarm stopped before its
    /// members' ends, in run's and check's words (<see cref="StopReasons"/>; a merge gives its first stopped shard's),
    /// null when every member ran to its end.
    /// </summary>
    private static void Fill(JsonObject doc, SwarmResult result, JsonArray violations, string? stopReason)
    {
        var verdict = SwarmSearch.VerdictOf(result);
        doc["verdict"] = CheckCommand.VerdictName(verdict);
        // A pass is a member's exhaustive search, whatever stopped the others; a violation found before a stop is
        // incomplete, as a check's found before its limit.
        doc["complete"] = verdict == Verdict.Pass || (verdict == Verdict.Violation && !result.Cancelled);
        doc["stop_reason"] = stopReason;
        doc["members"] = new JsonArray([.. result.Members.Select(m => (JsonNode)new JsonObject
        {
            ["member"] = m.Index,
            ["seed"] = m.Seed.ToString(CultureInfo.InvariantCulture),
            ["depth_bound"] = m.DepthBound,
            ["states"] = m.States,
            ["transitions"] = m.Transitions,
            ["exhausted"] = m.Exhausted,
            ["stopped"] = m.Stopped,
        })]);
        var (distinct, exact) = DistinctStates(result);
        doc["coverage"] = new JsonObject
        {
            ["distinct_states_estimate"] = distinct,
            ["exact"] = exact,
            ["states_visited"] = Visited(result),
            ["sketch"] = new JsonObject
            {
                ["kind"] = "hyperloglog",
                ["precision"] = result.Coverage.Precision,
                ["registers"] = Convert.ToBase64String(result.Coverage.Registers),
            },
        };
        doc["violations"] = violations;
        var seconds = Math.Max(1e-9, result.Elapsed.TotalSeconds);
        doc["timing"] = new JsonObject
        {
            ["elapsed_s"] = Math.Round(result.Elapsed.TotalSeconds, 3),
            ["states_per_sec"] = Math.Round(Visited(result) / seconds),
        };
    }

    /// <summary>
    /// The distinct states the members saw. A member that exhausted the space (a depth-first search that met neither
    /// its depth nor its state bound) stored every reachable state, so its count is the answer, exactly. Otherwise the
    /// HyperLogLog estimate, between the largest member's count (each member's states are distinct, and were all seen)
    /// and the states they stored together (every distinct state was stored by some member): the sketch's error (about
    /// 0.8%) runs either way, above the sum on a swarm whose members saw few states in common (4,027 estimated of 4,000
    /// stored on bench under kvm-pf-int, 4 members of 1,000 states, seed 5) and below a member's own count on one
    /// whose members each saw the whole space (4,869 of token-wrap's 4,896 under ve, 4 members).
    /// </summary>
    internal static (double States, bool Exact) DistinctStates(SwarmResult result)
    {
        if (result.Members.Where(m => m.Exhausted).Select(m => m.States).DefaultIfEmpty(-1).Max() is var all and >= 0)
        {
            return (all, true);
        }

        var largest = result.Members.Select(m => m.States).DefaultIfEmpty(0).Max();
        return (Math.Max(largest, Math.Min(Math.Round(result.Coverage.Estimate()), Visited(result))), false);
    }

    /// <summary>
    /// The states the members visited together. Each shard's members are at most its bound, but the shards of a merge
    /// may still add up past 2^63 with a bound edited to one: refused as input.
    /// </summary>
    private static long Visited(SwarmResult result)
    {
        try
        {
            return result.Members.Sum(m => m.States);
        }
        catch (OverflowException)
        {
            throw new InputException("the members' states add up past 2^63: not swarm results this vexlab wrote");
        }
    }

    private static void WriteHuman(TextWriter w, JsonObject doc, SwarmResult result)
    {
        var inv = CultureInfo.InvariantCulture;
        var notStarted = result.NotStarted > 0 ? string.Create(inv, $", {result.NotStarted:N0} not started (stopped before their turn)") : string.Empty;
        w.WriteLine(string.Create(inv, $"swarm of model {doc["model"]} under {doc["protocol"]}: {result.Members.Count:N0} members, {result.Members.Count(m => m.Exhausted):N0} exhausted{notStarted}"));
        foreach (var d in (doc["departures"] as JsonArray) ?? [])
        {
            w.WriteLine(CheckCommand.DepartureLine(new((string)d!["knob"]!, (string)d["value"]!, (string)d["why"]!)));
        }

        w.WriteLine(string.Create(inv, $"verdict: {doc["verdict"]}"));
        if (doc["liveness_not_checked"] is JsonArray { Count: > 0 } notChecked)
        {
            w.WriteLine($"not checked: {string.Join(", ", notChecked.Select(n => n!.GetValue<string>()))} (liveness: a swarm decides safety properties and no-deadlock only)");
        }

        var (distinct, exact) = DistinctStates(result);
        w.WriteLine(exact
            ? string.Create(inv, $"coverage: {distinct:N0} distinct states, every reachable one (a member exhausted the space; {Visited(result):N0} visited over all members)")
            : string.Create(inv, $"coverage: about {distinct:N0} distinct states ({Visited(result):N0} visited over all members)"));
        foreach (var v in doc["violations"]!.AsArray())
        {
            w.WriteLine();
            w.WriteLine(string.Create(inv, $"VIOLATION {v!["property"]} (safety, {v["trace"]!.AsArray().Count:N0} steps, member {v["member"]})"));
        }
    }

    /// <summary>
    /// One replay line per counterexample, on stderr as run's and compare's (standard output holds the report or the
    /// JSON document alone): the property and member it reruns, and the swarm's seed, which the command carries.
    /// </summary>
    private static void WriteReplayLines(TextWriter error, JsonObject doc)
    {
        var seed = ReplayLine.Seed(doc["seed"]!.GetValue<ulong>());
        foreach (var v in doc["violations"]!.AsArray())
        {
            ReplayLine.Write(error, string.Create(CultureInfo.InvariantCulture, $"{v!["property"]} (member {v["member"]})"), seed, v["replay"]!.GetValue<string>());
        }
    }

    /// <summary>
    /// The first shard's <c>swarm.seed</c>, which every other shard's equals (<see cref="s_swarmIdentity"/>): a seed
    /// <c>check --swarm --seed</c> takes, 0 to <see cref="SeedOption.Largest"/> (0c01e08). A shard written when the
    /// option took seeds up to 2^64 - 1 may hold one above; merged, its replay line would name a seed check now
    /// refuses. The members' own seeds (<c>members[].seed</c>, <c>member_seed</c>) are SplitMix64 of this seed and
    /// the member index, full 64-bit values (<see cref="SwarmOptions.MemberSeed"/>), and are read as such.
    /// </summary>
    private static ulong SwarmSeed(string file, JsonObject swarm)
    {
        var node = swarm["seed"];
        var text = node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
        if (text is null || SeedOption.Problem(text) is not null)
        {
            var shown = text is null ? node?.ToJsonString(s_readable) ?? "absent" : Scenarios.ErrorText.Quote(text);
            throw new InputException(string.Create(CultureInfo.InvariantCulture, $"{file}: swarm.seed is {shown}, expected a seed, a whole number from 0 to {SeedOption.Largest} (the range of check --swarm --seed): not a swarm this vexlab can rerun"));
        }

        return ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static SwarmResult Read(string file, JsonObject doc, Dictionary<(int, string), JsonObject> nodes)
    {
        try
        {
            var members = doc["members"]!.AsArray().Select(m => new SwarmMember(
                m!["member"]!.GetValue<int>(),
                ulong.Parse(m["seed"]!.GetValue<string>(), CultureInfo.InvariantCulture),
                m["depth_bound"]!.GetValue<int>(),
                m["states"]!.GetValue<long>(),
                m["transitions"]!.GetValue<long>(),
                m["exhausted"]!.GetValue<bool>(),
                m["stopped"]?.GetValue<bool>() ?? false)).ToList();

            // A member stops at swarm.max_states_per_member; a count outside 0 to it is an edited file, and one near
            // 2^63 overflowed the merge's sums (exit 70).
            var bound = doc["swarm"]!["max_states_per_member"]!.GetValue<long>();
            foreach (var m in members)
            {
                if (m.States < 0 || m.States > bound || m.Transitions < 0)
                {
                    throw new InputException(string.Create(CultureInfo.InvariantCulture,
                        $"{file}: member {m.Index} has states {m.States} and transitions {m.Transitions}; expected states from 0 to swarm.max_states_per_member ({bound}) and transitions from 0: not a swarm result this vexlab wrote"));
                }
            }

            var violations = new List<SwarmViolation>();
            foreach (var v in doc["violations"]!.AsArray())
            {
                var node = v!.AsObject();
                var violation = new SwarmViolation(
                    node["property"]!.GetValue<string>(),
                    node["member"]!.GetValue<int>(),
                    ulong.Parse(node["member_seed"]!.GetValue<string>(), CultureInfo.InvariantCulture),
                    node["depth_bound"]!.GetValue<int>(),
                    [.. node["actions"]!.AsArray().Select(a => (ulong)a!.GetValue<uint>())],
                    [.. node["action_indices"]!.AsArray().Select(a => a!.GetValue<int>())]);
                violations.Add(violation);
                nodes[(violation.Member, violation.Property)] = node;
            }

            var sketch = doc["coverage"]!["sketch"]!;
            var coverage = HyperLogLog.FromRegisters(sketch["precision"]!.GetValue<int>(), Convert.FromBase64String(sketch["registers"]!.GetValue<string>()));
            // An edited elapsed_s past TimeSpan's range (about 29,000 years) overflows: refused below as not a complete result.
            var elapsed = TimeSpan.FromSeconds(doc["timing"]?["elapsed_s"]?.GetValue<double>() ?? 0);

            // A shard stopped by a signal or its time limit holds its members' work so far, not their results: the
            // merge is stopped too. Shards written before stop_reason cannot say so.
            var stopped = doc["stop_reason"]?.GetValue<string>() is not null;
            return new SwarmResult(members, violations, coverage, stopped, elapsed);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentException or JsonException or OverflowException)
        {
            throw new InputException($"{file}: not a complete swarm result ({e.Message})");
        }
    }

    private static JsonObject Load(string file)
    {
        if (!File.Exists(file))
        {
            throw InputException.At(file, 0, 0, null, Directory.Exists(file) ? "is a folder, not a swarm shard's JSON" : "no such file");
        }

        // Read as every input is, under the size and depth bounds: /dev/zero was read until memory ran out (exit 134).
        return Scenarios.Files.InputJson.Read(file, "swarm shard's JSON") as JsonObject ?? throw new InputException($"{file}: expected a JSON object");
    }

    /// <summary>JSON as a person reads it in a message: a version's '+' as itself, not \u002B.</summary>
    private static readonly JsonSerializerOptions s_readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void Same(string file, string key, JsonNode? expected, JsonNode? actual)
    {
        if (!JsonNode.DeepEquals(expected, actual))
        {
            throw new InputException($"{file}: {key} is {actual?.ToJsonString(s_readable) ?? "absent"}, the first file's is {expected?.ToJsonString(s_readable) ?? "absent"}: not a shard of the same swarm");
        }
    }

    /// <summary>The flags of a swarm run that change its result: seed, members, the shard or member run, and the bounds.</summary>
    private static List<string> ResultFlags(SwarmOptions options)
    {
        var flags = new List<string> { "--swarm", "--seed", Text(options.Seed), "--members", Text(options.Members) };
        if (options.OnlyMember is { } member)
        {
            flags.AddRange(["--swarm-member", Text(member)]);
        }
        else if (options.ShardCount > 1)
        {
            flags.AddRange(["--shard", Text(options.ShardIndex) + "/" + Text(options.ShardCount)]);
        }

        AddBounds(flags, options);
        return flags;
    }

    [System.Text.RegularExpressions.GeneratedRegex(" --(shard [0-9]+/[0-9]+|swarm-member [0-9]+)")]
    private static partial System.Text.RegularExpressions.Regex WholeSwarm();

    private static void AddBounds(List<string> flags, SwarmOptions options)
    {
        if (options.MaxStatesPerMember != new SwarmOptions().MaxStatesPerMember)
        {
            flags.Add("--max-states");
            flags.Add(Text(options.MaxStatesPerMember));
        }

        if (options.MaxDepth is { } depth)
        {
            flags.Add("--max-depth");
            flags.Add(Text(depth));
        }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
