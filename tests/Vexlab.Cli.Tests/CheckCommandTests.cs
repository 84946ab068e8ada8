using System.Text.Json;
using System.Text.Json.Nodes;
using Vexlab.Checking.Engine;
using Vexlab.Cli.Commands;

namespace Vexlab.Cli.Tests;

public sealed class CheckCommandTests
{
    [Fact]
    public void Violation_ExitsOneWithJsonTraceAndReplay()
    {
        var r = CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact", "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("nmi-window", root.GetProperty("model").GetString());
        Assert.Equal("kvm-pf", root.GetProperty("protocol").GetString());
        Assert.Equal("violation", root.GetProperty("verdict").GetString());
        foreach (var field in new[] { "knobs", "bounds", "states", "transitions", "depth", "bytes_per_state", "frontier_peak_bytes", "collision_probability", "timing" })
        {
            Assert.True(root.TryGetProperty(field, out _), field);
        }

        var v = root.GetProperty("violations")[0];
        Assert.Equal("fault-info-intact", v.GetProperty("property").GetString());
        Assert.Equal("safety", v.GetProperty("kind").GetString());
        Assert.True(v.GetProperty("trace").GetArrayLength() > 0);
        Assert.Equal("vexlab check --builtin nmi-window --protocol kvm-pf --property fault-info-intact", v.GetProperty("replay").GetString());
    }

    // The whole result names the command that reproduces it; run as written, it gives the same document outside
    // `timing`, limits and the options that change the result included (--time-limit is left out: where it stops
    // depends on the machine).
    [Theory]
    [InlineData(new[] { "--builtin", "irq-off", "--protocol", "sync" }, "vexlab check --builtin irq-off --protocol sync")]
    [InlineData(new[] { "--builtin", "irq-off", "--protocol", "sync", "--property", "no-deadlock", "--property", "no-deadlock" }, "vexlab check --builtin irq-off --protocol sync --property no-deadlock")]
    [InlineData(new[] { "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--set", "guest.apf.dummy_entries=false", "--property", "no-deadlock", "--property", "no-lost-wakeup" },
        "vexlab check --builtin wake-race --protocol kvm-pf-int --set guest.apf.dummy_entries=false --property no-deadlock --property no-lost-wakeup")]
    [InlineData(new[] { "--builtin", "truncate", "--protocol", "ve", "--max-states", "700", "--time-limit", "1h", "--fingerprint-bits", "128", "--workers", "2" },
        "vexlab check --builtin truncate --protocol ve --max-states 700 --fingerprint-bits 128")]
    [InlineData(new[] { "--builtin", "wake-race", "--protocol", "ve", "--max-depth", "9", "--compress", "compact", "--symmetry" },
        "vexlab check --builtin wake-race --protocol ve --symmetry --max-depth 9 --compress compact")]
    public void The_result_carries_a_replay_that_reproduces_it(string[] args, string replay)
    {
        var first = CliRunner.Run(["check", .. args, "--json"]);
        Assert.True(first.ExitCode is 0 or 1 or 3, first.Stderr);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(first.Stdout)!.AsObject();
        Assert.Equal(replay, (string?)doc["replay"]);

        var again = CliRunner.Run([.. replay.Split(' ')[1..], "--json"]);
        Assert.Equal(first.ExitCode, again.ExitCode);
        var second = System.Text.Json.Nodes.JsonNode.Parse(again.Stdout)!.AsObject();
        doc.Remove("timing");
        second.Remove("timing");
        Assert.Equal(doc.ToJsonString(), second.ToJsonString());
    }

    // Each cell of the matrix names the single check that gives it, its protocol entry's knobs as --set.
    [Fact]
    public void Each_matrix_cell_carries_the_check_that_reproduces_it()
    {
        var matrix = CliRunner.Run("check", "--matrix", "--protocols", "kvm-pf,ve[guest.ve.can_continue=user-or-preemptible-kernel]", "--property", "no-deadlock", "--property", "one-node-per-token", "--max-states", "3000", "--json");
        Assert.True(matrix.ExitCode is 0 or 1 or 3, matrix.Stderr);
        var cells = System.Text.Json.Nodes.JsonNode.Parse(matrix.Stdout)!["matrix"]!.AsArray();
        var ve = cells.First(c => c!["protocol"]!.GetValue<string>().StartsWith("ve[", StringComparison.Ordinal))!;
        Assert.Equal(
            $"vexlab check --builtin {ve["model"]} --protocol ve --set guest.ve.can_continue=user-or-preemptible-kernel --max-states 3000 --property no-deadlock --property one-node-per-token",
            ve["replay"]!.GetValue<string>());
        foreach (var cell in cells)
        {
            var single = CliRunner.Run([.. cell!["replay"]!.GetValue<string>().Split(' ')[1..], "--json"]);
            var doc = System.Text.Json.Nodes.JsonNode.Parse(single.Stdout)!;
            Assert.Equal(cell["verdict"]!.GetValue<string>(), doc["verdict"]!.GetValue<string>());
            Assert.Equal(cell["states"]!.GetValue<long>(), doc["states"]!.GetValue<long>());
            Assert.Equal(cell["violated"]!.ToJsonString(), new System.Text.Json.Nodes.JsonArray([.. doc["violations"]!.AsArray().Select(v => (System.Text.Json.Nodes.JsonNode)v!["property"]!.GetValue<string>())]).ToJsonString());
        }
    }

    [Fact]
    public void Pass_ExitsZero()
    {
        var r = CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "sync");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("verdict: pass", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Limit_ExitsThree()
    {
        var r = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--max-states", "100");
        Assert.Equal(3, r.ExitCode);
    }

    // Stopped at the initial state, the check took no transition; the coverage line said nothing after its colon.
    [Fact]
    public void A_check_stopped_at_the_initial_state_says_no_transition_was_taken()
    {
        var r = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "ve", "--max-depth", "0");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("\ncoverage: no transition taken\n", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every state explored but liveness undecided within --max-memory (its graph or its fair-cycle search did not
    /// fit): exit 3 like any limit, and the advice is more memory, not a checkpoint (none is written for a search
    /// that ended).
    /// </summary>
    [Theory]
    [InlineData(Verdict.Incomplete, 3)]
    [InlineData(Verdict.Violation, 1)]
    public void Liveness_beyond_the_memory_bound_exits_three_unless_a_violation_was_found(Verdict verdict, int exit)
    {
        var result = SmallResult(verdict, StopReason.Exhausted) with
        {
            LivenessIncomplete = true,
            Notes = ["liveness incomplete: the fair-cycle search does not fit in MaxMemoryBytes"],
        };

        Assert.Equal(exit, CheckCommand.ExitCode(result));
        var advice = new StringWriter();
        CheckCommand.WriteStopAdvice(advice, result);
        Assert.Equal("vexlab: liveness undecided within --max-memory (see the notes); run again with a larger --max-memory" + Environment.NewLine, advice.ToString());
    }

    /// <summary>
    /// After Ctrl-C the advice said "run the same command with --resume CP (and a larger limit)" though no limit was
    /// hit, and stop_reason was "Cancelled" for SIGINT and SIGTERM alike. The advice now names the cause (the limit to
    /// raise, or the signal) and stop_reason says which signal, in the kebab-case of the JSON's other values (verdict's
    /// "incomplete", compression's "none"), as run's and compare's stop_reason.
    /// </summary>
    [Theory]
    [InlineData(StopReason.Cancelled, "SIGINT", "interrupted", "vexlab: stopped by SIGINT; checkpoint in cp: run the same command with --resume cp to continue")]
    [InlineData(StopReason.Cancelled, "SIGTERM", "terminated", "vexlab: stopped by SIGTERM; checkpoint in cp: run the same command with --resume cp to continue")]
    [InlineData(StopReason.MaxStates, null, "max-states", "vexlab: stopped at --max-states; checkpoint in cp: run the same command with --resume cp and a larger --max-states to continue")]
    [InlineData(StopReason.TimeLimit, null, "time-limit", "vexlab: stopped at --time-limit; checkpoint in cp: run the same command with --resume cp and a longer --time-limit (or none) to continue")]
    public void The_stop_advice_and_reason_name_the_cause(StopReason reason, string? signal, string name, string advice)
    {
        var result = SmallResult(Verdict.Incomplete, reason) with { Checkpoint = "cp" };
        var written = new StringWriter();
        CheckCommand.WriteStopAdvice(written, result, signal);
        Assert.Equal(advice + Environment.NewLine, written.ToString());
        Assert.Equal(name, CheckCommand.StopReasonName(reason, signal));
    }

    /// <summary>
    /// Without --checkpoint every limit says how to keep the work; a stop at --max-depth said nothing, though its
    /// checkpoint resumes as the others' do.
    /// </summary>
    [Theory]
    [InlineData(StopReason.MaxStates, "--max-states")]
    [InlineData(StopReason.MaxMemory, "--max-memory")]
    [InlineData(StopReason.MaxSpill, "--max-spill")]
    [InlineData(StopReason.MaxDepth, "--max-depth")]
    [InlineData(StopReason.TimeLimit, "--time-limit")]
    public void Every_limit_without_a_checkpoint_advises_one(StopReason reason, string flag)
    {
        var written = new StringWriter();
        CheckCommand.WriteStopAdvice(written, SmallResult(Verdict.Incomplete, reason));
        Assert.Equal($"vexlab: stopped at {flag}; add --checkpoint DIR to keep the work for --resume" + Environment.NewLine, written.ToString());
    }

    [Fact]
    public void A_check_stopped_at_max_depth_advises_a_checkpoint_on_stderr()
    {
        var r = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf", "--max-depth", "5");
        Assert.Equal(3, r.ExitCode);
        Assert.EndsWith("vexlab: stopped at --max-depth; add --checkpoint DIR to keep the work for --resume\n", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Every stop reason has a name of its own, in kebab-case, that the check schema lists.</summary>
    [Fact]
    public void Every_stop_reason_is_named_in_kebab_case()
    {
        var names = Enum.GetValues<StopReason>().Select(r => CheckCommand.StopReasonName(r, null))
            .Concat([CheckCommand.StopReasonName(StopReason.Cancelled, "SIGINT"), CheckCommand.StopReasonName(StopReason.Cancelled, "SIGTERM")])
            .ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, n => Assert.Matches("^[a-z]+(-[a-z]+)*$", n));
    }

    /// <summary>
    /// Every result carries its seed beside its replay line: the check's JSON had no seed at all, the swarm's only the
    /// string swarm.seed, and the matrix's no complete. The exhaustive search has no seed (null); the swarm's is a
    /// number at the top; the matrix says complete, as a check does, and each cell too.
    /// </summary>
    [Fact]
    public void Check_results_carry_their_seed_and_the_matrix_its_completeness()
    {
        var check = JsonNode.Parse(CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact", "--json").Stdout)!.AsObject();
        Assert.True(check.ContainsKey("seed"));
        Assert.Null(check["seed"]);

        var swarm = JsonNode.Parse(CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--swarm", "--members", "2", "--seed", "9", "--max-states", "100", "--json").Stdout)!;
        Assert.Equal(9UL, swarm["seed"]!.GetValue<ulong>());

        var matrix = CliRunner.Run("check", "--matrix", "--protocols", "sync", "--max-states", "20", "--json");
        Assert.Equal(3, matrix.ExitCode);
        var doc = JsonNode.Parse(matrix.Stdout)!;
        Assert.False(doc["complete"]!.GetValue<bool>());
        Assert.All(doc["matrix"]!.AsArray(), cell => Assert.Equal(cell!["verdict"]!.GetValue<string>() != "incomplete", cell["complete"]!.GetValue<bool>()));
    }

    /// <summary>
    /// A matrix exits as a single check does: 1 where a cell found a violation, even if other cells stopped at the
    /// limit (the limit used to win, and a script reading 3 as "no violation" missed nmi-window's fault-info-intact);
    /// 3 where cells stopped and none found one.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", "100", 1)]
    [InlineData("sync", "100", 3)]
    public void A_matrix_with_a_violation_in_any_cell_exits_1_whatever_cells_a_limit_stopped(string protocol, string maxStates, int exit)
    {
        var matrix = CliRunner.Run("check", "--matrix", "--protocols", protocol, "--property", "fault-info-intact", "--max-states", maxStates, "--json");
        Assert.Equal(exit, matrix.ExitCode);
        var cells = JsonNode.Parse(matrix.Stdout)!["matrix"]!.AsArray();
        Assert.Contains(cells, c => !c!["complete"]!.GetValue<bool>() && c["verdict"]!.GetValue<string>() == "incomplete");
        Assert.Equal(exit == 1, cells.Any(c => c!["verdict"]!.GetValue<string>() == "violation"));
    }

    [Fact]
    public void FingerprintBits128_FindsTheSameStatesWithASmallerCollisionProbability()
    {
        string[] check = ["check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact", "--json"];
        var narrow = CliRunner.Run(check);
        var wide = CliRunner.Run([.. check, "--fingerprint-bits", "128"]);
        Assert.Equal(1, wide.ExitCode);
        using var a = JsonDocument.Parse(narrow.Stdout);
        using var b = JsonDocument.Parse(wide.Stdout);
        Assert.Equal(a.RootElement.GetProperty("states").GetInt64(), b.RootElement.GetProperty("states").GetInt64());
        Assert.Equal(
            a.RootElement.GetProperty("violations")[0].GetProperty("trace").GetRawText(),
            b.RootElement.GetProperty("violations")[0].GetProperty("trace").GetRawText());
        Assert.True(b.RootElement.GetProperty("collision_probability").GetDouble() < a.RootElement.GetProperty("collision_probability").GetDouble());
    }

    [Fact]
    public void CompressCompact_FindsTheSameStatesAndTraceInFewerBytesAndSaysHowManyBitsItKept()
    {
        string[] check = ["check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact", "--json"];
        var wide = CliRunner.Run(check);
        var compact = CliRunner.Run([.. check, "--compress", "compact"]);
        Assert.Equal(1, compact.ExitCode);
        using var a = JsonDocument.Parse(wide.Stdout);
        using var b = JsonDocument.Parse(compact.Stdout);
        Assert.Equal("none", a.RootElement.GetProperty("compression").GetString());
        Assert.Equal("compact", b.RootElement.GetProperty("compression").GetString());
        Assert.Equal(60, b.RootElement.GetProperty("fingerprint_bits").GetInt32());
        Assert.Equal(a.RootElement.GetProperty("states").GetInt64(), b.RootElement.GetProperty("states").GetInt64());
        Assert.Equal(
            a.RootElement.GetProperty("violations")[0].GetProperty("trace").GetRawText(),
            b.RootElement.GetProperty("violations")[0].GetProperty("trace").GetRawText());
        Assert.True(b.RootElement.GetProperty("collision_probability").GetDouble() > a.RootElement.GetProperty("collision_probability").GetDouble());
    }

    [Fact]
    public void Resume_TakesTheProperties_InAnyOrder()
    {
        // The system numbers the selected properties in its own order: a checkpoint of a and b is one of b and a.
        var folder = Directory.CreateTempSubdirectory("vexlab-order-cli-").FullName;
        try
        {
            var cp = Path.Combine(folder, "cp");
            string[] check = ["check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--json"];
            var stopped = CliRunner.Run([.. check, "--property", "no-deadlock", "--property", "one-node-per-token", "--max-states", "1000", "--checkpoint", cp]);
            Assert.True(stopped.ExitCode == 3, stopped.Stderr);
            var resumed = CliRunner.Run([.. check, "--property", "one-node-per-token", "--property", "no-deadlock", "--max-states", "2000", "--resume", cp]);
            Assert.True(resumed.ExitCode is 0 or 1 or 3, resumed.Stderr);
            var fresh = CliRunner.Run([.. check, "--property", "one-node-per-token", "--property", "no-deadlock", "--max-states", "2000"]);
            Assert.Equal(fresh.ExitCode, resumed.ExitCode);
            using var a = JsonDocument.Parse(fresh.Stdout);
            using var b = JsonDocument.Parse(resumed.Stdout);
            Assert.Equal(a.RootElement.GetProperty("states").GetInt64(), b.RootElement.GetProperty("states").GetInt64());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void CompressCompact_UnderAMemoryBound_StopsWithExit3AndACheckpointThatResumes()
    {
        var folder = Directory.CreateTempSubdirectory("vexlab-compact-cli-").FullName;
        try
        {
            var cp = Path.Combine(folder, "cp");
            string[] check = ["check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--property", "no-deadlock", "--compress", "compact", "--json"];
            var stopped = CliRunner.Run([.. check, "--memory", "12M", "--checkpoint", cp]);
            Assert.True(stopped.ExitCode == 3, stopped.Stderr);
            using var doc = JsonDocument.Parse(stopped.Stdout);
            Assert.Equal("max-memory", doc.RootElement.GetProperty("stop_reason").GetString());
            Assert.True(File.Exists(Path.Combine(cp, "checkpoint.vxck")));
            long states = doc.RootElement.GetProperty("states").GetInt64();

            var resumed = CliRunner.Run([.. check, "--resume", cp, "--max-states", (states + 1_000).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.True(resumed.ExitCode == 3, resumed.Stderr);
            using var after = JsonDocument.Parse(resumed.Stdout);
            Assert.Equal("max-states", after.RootElement.GetProperty("stop_reason").GetString());

            // Without --compress the checkpoint is refused: it holds compact slots.
            var refused = CliRunner.Run("check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--property", "no-deadlock", "--resume", cp);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("compression", refused.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--compress", "tree")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--compress", "compact", "--fingerprint-bits", "128")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--fingerprint-bits", "32")]
    [InlineData("check", "--builtin", "nope", "--protocol", "sync")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "nope")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--property", "nope")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--max-memory", "10")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--set", "no.such.knob=1")]
    [InlineData("models", "show", "nope")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--max-states", "2147483647")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--max-memory", "4097PiB")]
    public void BadInput_ExitsTwoWithOneLine(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// The bounds the errors state are the bounds: --max-states past 2^31 - 2 was capped in silence by the engine while
    /// the replay line echoed it, and --max-memory's error offered 4EiB, a unit it does not take, at a bound it refused.
    /// </summary>
    [Fact]
    public void Limits_are_taken_up_to_the_bound_their_error_names()
    {
        var states = CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "sync", "--max-states", "2147483647");
        Assert.Equal("vexlab: --max-states: at most 2147483646 (2^31 - 2, the most states a check numbers), got 2147483647\n", states.Stderr);
        Assert.Equal(0, CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "sync", "--max-states", "2147483646").ExitCode);

        var memory = CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "sync", "--max-memory", "4097PiB");
        Assert.Contains("expected a size from 1 byte to 4096PiB (2^62 bytes)", memory.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "sync", "--max-memory", "4096PiB").ExitCode);
    }

    [Fact]
    public void TraceFile_HoldsPackedActions()
    {
        var file = Path.Combine(Path.GetTempPath(), $"vexlab-trace-{Environment.ProcessId}.json");
        try
        {
            var r = CliRunner.Run("check", "--builtin", "entry-window", "--protocol", "ve", "--set", "guest.ve.register_never_convertible=false", "--property", "no-ve-in-entry-window", "--trace", file);
            Assert.Equal(1, r.ExitCode);
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Equal("entry-window", doc.RootElement.GetProperty("model").GetString());
            Assert.True(doc.RootElement.GetProperty("actions").GetArrayLength() > 0);

            // Its seed beside its replay line: the exhaustive search has none.
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("seed").ValueKind);
            Assert.StartsWith("vexlab check --builtin entry-window", doc.RootElement.GetProperty("replay").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A swarm's counterexample file carries the swarm's seed, the number its replay line names.</summary>
    [Fact]
    public void A_swarm_counterexample_file_carries_the_swarm_seed()
    {
        var file = Path.Combine(Path.GetTempPath(), $"vexlab-swarm-trace-{Environment.ProcessId}.json");
        try
        {
            var r = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--seed", "7", "--members", "2", "--max-states", "50000", "--trace", file);
            Assert.Equal(1, r.ExitCode);
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Equal(7UL, doc.RootElement.GetProperty("seed").GetUInt64());
            Assert.Contains("--seed 7", doc.RootElement.GetProperty("replay").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ModelsList_NamesEveryModel()
    {
        var r = CliRunner.Run("models", "list");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("wake-race", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("bench", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>models show</c> describes pages and tasks in a model file's words (docs/checking.md, "Model files"): it
    /// printed "host AbsentIo, guest PTE present, DAX", "(User, vCPU0)" and "KTouch 4 1; WorkDone; Exit".
    /// </summary>
    [Theory]
    [InlineData("truncate", "  pages 0..2: host_absent, dax", "  task u (user, vCPU0): touch 0", "  task kfix (kernel, vCPU0): ktouch 1", "  task knofix (kernel, vCPU0): ktouch 2 nofixup")]
    [InlineData("entry-window", "  pages 0..1: host_absent", "  task u (user, vCPU0): syscall; ktouch 0; sysret")]
    [InlineData("trace-window", "  pages 0..0: host_absent", "  pages 1..1: resident, guest_absent")]
    [InlineData("cpu-offline", "  task offline (kernel, vCPU1): cli; apf-disable; sti", "  task b (user, vCPU0): touch 1")]
    public void ModelsShow_speaks_the_model_file_words(string model, params string[] lines)
    {
        var r = CliRunner.Run("models", "show", model);
        Assert.Equal(0, r.ExitCode);
        var printed = r.Stdout.Split('\n');
        foreach (var line in lines)
        {
            Assert.Contains(line, printed);
        }

        Assert.DoesNotContain("AbsentIo", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("(User", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("WorkDone", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// The JSON holds what the text says, line for line: the workload and pages too (it had only the name, knobs and
    /// bounds, though the README says show gives a model's tasks and pages).
    /// </summary>
    [Theory]
    [InlineData("truncate")]
    [InlineData("entry-window")]
    [InlineData("trace-window")]
    [InlineData("wake-race")]
    public void ModelsShow_json_holds_the_texts_pages_and_tasks(string model)
    {
        var text = CliRunner.Run("models", "show", model).Stdout.Split('\n');
        var json = CliRunner.Run("models", "show", model, "--json", "-");
        Assert.Equal(0, json.ExitCode);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(json.Stdout)!;
        Assert.Contains($"  vCPUs {doc["vcpus"]}, pages {doc["pages"]}, entry page {doc["entry_page"]}, NMI touch page {doc["nmi_touch_page"]}", text);
        var groups = doc["page_groups"]!.AsArray();
        var tasks = doc["tasks"]!.AsArray();
        Assert.NotEmpty(tasks);
        foreach (var g in groups)
        {
            Assert.Contains($"  pages {g!["first"]}..{g["last"]}: {g["state"]}", text);
        }

        foreach (var t in tasks)
        {
            Assert.Contains($"  task {t!["name"]} ({t["mode"]}, vCPU{t["vcpu"]}): {t["program"]}", text);
        }

        Assert.Equal(groups.Count + tasks.Count, text.Count(l => l.StartsWith("  pages ", StringComparison.Ordinal) || l.StartsWith("  task ", StringComparison.Ordinal)));
    }

    private const string ModelYaml = """
        vcpus: 1
        pages: 1
        host_absent: [0]
        tasks:
          - {name: u, mode: user, vcpu: 0, program: "touch 0"}
        invariants:
          - {name: nobody-sleeps, expr: "sleeping <= 0"}
        """;

    private static string WriteModel(string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"vexlab-model-{Environment.ProcessId}-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, yaml);
        return file;
    }

    [Fact]
    public void ModelFile_ViolatedInvariant_ExitsOne()
    {
        var file = WriteModel(ModelYaml);
        try
        {
            var r = CliRunner.Run("check", file, "--protocol", "kvm-pf-int");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("VIOLATION nobody-sleeps", r.Stdout, StringComparison.Ordinal);
            var p = CliRunner.Run("check", file, "--protocol", "sync", "--property", "nobody-sleeps");
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"sleeping ~ 1\"}\n", ":6:31:")]
    [InlineData("vcpus: 1\npages: 1\nwhat: 1\ntasks: []\n", ":3:1:")]
    // A lone value is refused as no expression, not as an unknown field '3'.
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: 3\n", ":7:11: invariants[0].expr: expected an invariant expression such as 'sleeping <= 1'")]
    [InlineData("vcpus: 1\npages: 1\nbounds: {host_exits: 300}\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", ":3:22:")]
    public void ModelFile_BadInput_ExitsTwoWithOneLine(string yaml, string where)
    {
        var file = WriteModel(yaml);
        try
        {
            var r = CliRunner.Run("check", file, "--protocol", "sync");
            Assert.Equal(2, r.ExitCode);
            var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(file + where, line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ModelFile_AndBuiltin_AreExclusive()
    {
        var file = WriteModel(ModelYaml);
        try
        {
            Assert.Equal(2, CliRunner.Run("check", file, "--builtin", "irq-off", "--protocol", "sync").ExitCode);
            Assert.Equal(2, CliRunner.Run("check", "--protocol", "sync").ExitCode);
            Assert.Equal(2, CliRunner.Run("check", file, "--matrix").ExitCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    // A verdict under a value no x86 host runs with says so under the model line, in the JSON and under the matrix
    // (wake-race's page-ready on any vCPU, truncate's and token-wrap's 2-bit ids); a model at KVM's values says nothing.
    [Fact]
    public void A_value_no_x86_host_runs_with_is_named_beside_the_verdict()
    {
        var human = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--property", "no-deadlock");
        var lines = human.Stdout.Split('\n');
        Assert.StartsWith("model truncate under kvm-pf [host.apf.token_id_bits=2]", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("not KVM on x86: host.apf.token_id_bits=2: token ids wrap after 4 faults", lines[1], StringComparison.Ordinal);

        var json = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--property", "no-deadlock", "--json");
        var departure = Assert.Single(System.Text.Json.Nodes.JsonNode.Parse(json.Stdout)!["departures"]!.AsArray())!;
        Assert.Equal("host.apf.ready_target", (string?)departure["knob"]);
        Assert.Equal("any", (string?)departure["value"]);

        var plain = CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "kvm-pf", "--json");
        Assert.Empty(System.Text.Json.Nodes.JsonNode.Parse(plain.Stdout)!["departures"]!.AsArray());
        Assert.DoesNotContain("not KVM on x86", CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "kvm-pf").Stdout, StringComparison.Ordinal);

        var matrix = CliRunner.Run("check", "--matrix", "--protocols", "kvm-pf", "--property", "no-deadlock", "--markdown");
        Assert.Contains("\n\n- not KVM on x86: host.apf.ready_target=any (wake-race", matrix.Stdout, StringComparison.Ordinal);
        Assert.Contains("- not KVM on x86: host.apf.token_id_bits=2 (token-wrap, truncate", matrix.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A ten-state result with nothing found, to test what the command says of it.</summary>
    private static CheckResult SmallResult(Verdict verdict, StopReason reason) => new()
    {
        Verdict = verdict,
        StopReason = reason,
        States = 10,
        Transitions = 20,
        Depth = 3,
        BytesPerState = 16,
        FrontierPeakBytes = 0,
        FrontierSpilledBytes = 0,
        FingerprintBits = 64,
        CollisionProbability = 0,
        Coverage = [],
        Violations = [],
        LivenessIncomplete = false,
        Notes = [],
        Elapsed = TimeSpan.Zero,
    };
}
