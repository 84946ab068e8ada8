using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Vexlab.Model.Machine;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A replay's traces, read as a Perfetto or KernelShark user reads them, against the counterexample's own step list.
/// For every violation of the built-in models' verdict matrix (docs/checking.md, kept true by VerdictTablesTests), each
/// prefix of the counterexample is replayed, and what the Perfetto trace shows each vCPU doing when it ends (its last
/// state slice, and whether its last kvm_exit has had its kvm_entry) must be what the step list's
/// <c>vCPU0.run A-&gt;B</c> lines leave it in; the ftrace text's kvm_exit and kvm_entry lines are the Perfetto instants'.
/// The whole replay marks the property it breaks, in both formats.
/// </summary>
public sealed partial class ReplayTraceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-replay-trace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string, string> Violations() => new()
    {
        { "token-wrap", "ve", "fault-info-intact" },
        { "nmi-window", "kvm-pf", "fault-info-intact" },
        { "nmi-window", "kvm-pf", "no-deadlock" },
        { "nmi-window", "kvm-pf-int", "fault-info-intact" },
        { "nmi-host-fault", "ve", "fault-info-intact" },
        { "truncate", "kvm-halt", "unrecoverable-terminates" },
        { "truncate", "kvm-pf", "one-node-per-token" },
        { "truncate", "kvm-pf", "unrecoverable-terminates" },
        { "truncate", "kvm-pf-int", "unrecoverable-terminates" },
        { "pending-event", "ve", "fault-info-intact" },
        { "reenable", "kvm-pf", "one-node-per-token" },
        { "reenable", "ve", "fault-info-intact" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void AfterEachStep_TheTracesShowEachVcpuWhereTheStepListLeavesIt(string model, string protocol, string property)
    {
        var (node, steps) = Counterexample(model, protocol, property);
        var actions = node["actions"]!.AsArray();
        var problems = new List<string>();
        for (var k = 1; k <= actions.Count; k++)
        {
            // The first k steps alone: no claim, so nothing is confirmed or marked, only replayed.
            var prefix = node.DeepClone().AsObject();
            prefix.Remove("kind");
            prefix.Remove("loop_start");
            prefix.Remove("property");
            prefix["actions"] = new JsonArray([.. actions.Take(k).Select(a => a!.DeepClone())]);
            var file = Path.Combine(_dir, "prefix.json");
            File.WriteAllText(file, prefix.ToJsonString());
            var perfetto = Path.Combine(_dir, "prefix-trace.json");
            Assert.Equal(0, CliRunner.Run("replay", file, "--out", perfetto).ExitCode);
            var trace = Read(File.ReadAllText(perfetto));
            foreach (var (vcpu, run) in steps[k - 1].Run)
            {
                var shown = trace.States.Where(s => s.Vcpu == vcpu).MaxBy(s => s.Ts).Name;
                var inHost = trace.Modes.LastOrDefault(m => m.Vcpu == vcpu).Name?.StartsWith("kvm_exit", StringComparison.Ordinal) ?? false;
                var expected = run switch
                {
                    "InGuest" => ["guest", "idle"],
                    "InHost" => ["in host"],
                    "HostStalled" => ["stalled in host"],
                    "HostHalted" => ["halted in host"],
                    "GuestHalt" => new[] { "idle" },
                    _ => throw new InvalidOperationException("unknown run state " + run),
                };
                if (!expected.Contains(shown) || inHost != (run != "InGuest"))
                {
                    problems.Add($"step {k} ({steps[k - 1].Text}): the steps leave vCPU{vcpu} {run}; the trace shows '{shown}' and {(inHost ? "a kvm_exit without its kvm_entry" : "the vCPU entered")}");
                }
            }
        }

        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void TheReplayMarksWhatBreaks_InPerfettoAndInTraceDatText_AndItsExitsAgree(string model, string protocol, string property)
    {
        var (node, _) = Counterexample(model, protocol, property);
        var steps = node["actions"]!.AsArray().Count;
        var loopStart = node["kind"]!.GetValue<string>() == "lasso" ? node["loop_start"]!.GetValue<int>() : -1;
        var cx = Path.Combine(_dir, "cx.json");
        var perfetto = Path.Combine(_dir, "t.json");
        var ftrace = Path.Combine(_dir, "t.txt");
        Assert.Equal(0, CliRunner.Run("replay", cx, "--out", perfetto).ExitCode);
        Assert.Equal(0, CliRunner.Run("replay", cx, "--out", ftrace, "--trace-format", "ftrace").ExitCode);
        var trace = Read(File.ReadAllText(perfetto));
        var text = File.ReadAllText(ftrace);

        // What broke, at the end: the step's own violation, the dead end, or the lasso's loop.
        var marker = loopStart >= 0
            ? $"violated: {property} (loop end: steps {loopStart + 1}-{steps} repeat forever)"
            : property == "no-deadlock"
                ? $"violated: {property} (after step {steps} nothing can run: no valid end)"
                : $"violated: {property} (step {steps})";
        Assert.Contains(marker, trace.Globals);
        Assert.Contains($"print:                tracing_mark_write: {marker}\n", text, StringComparison.Ordinal);
        if (loopStart >= 0)
        {
            Assert.Contains($"loop start: steps {loopStart + 1}-{steps} repeat forever", trace.Globals);
            Assert.Contains($"tracing_mark_write: loop start: steps {loopStart + 1}-{steps} repeat forever\n", text, StringComparison.Ordinal);
        }

        // Every step has its instant in Perfetto, named as the step list names it, guest code the host does not see included.
        // In trace-cmd's text each step is a trace_marker write too, on its CPU, and a CPU's steps come in order.
        var stepAt = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var k = 1; k <= steps; k++)
        {
            Assert.Contains(trace.Instants, name => name.StartsWith($"step {k}: ", StringComparison.Ordinal));
            var at = text.IndexOf($"tracing_mark_write: step {k}: ", StringComparison.Ordinal);
            Assert.True(at >= 0, $"step {k} has no marker in the ftrace text");
            var cpu = text[..at].Split('\n')[^1];
            cpu = cpu[(cpu.IndexOf('[', StringComparison.Ordinal) + 1)..cpu.IndexOf(']', StringComparison.Ordinal)];
            Assert.True(!stepAt.TryGetValue(cpu, out var before) || before < at, $"step {k} comes before an earlier step on CPU {cpu}");
            stepAt[cpu] = at;
        }

        // The kvm_exit and kvm_entry lines of trace-cmd's text are the Perfetto trace's, at the same microsecond.
        var lines = ExitOrEntryLine().Matches(text).Select(m => (m.Groups[2].Value, long.Parse(m.Groups[1].Value.Replace(".", "", StringComparison.Ordinal), CultureInfo.InvariantCulture))).ToList();
        var instants = trace.Modes.Select(m => (m.Name.StartsWith("kvm_exit", StringComparison.Ordinal) ? "kvm_exit" : "kvm_entry", (m.Ts + 500) / 1000)).ToList();
        Assert.Equal(instants.Order(), lines.Order());

        // No vCPU is shown running guest code between a kvm_exit and its kvm_entry, nor in the host between a kvm_entry
        // and the next kvm_exit. An entry whose access exits at the same instant (a woken vCPU's retry that halts again)
        // runs no guest time to show: the "in host" of its wake and of the new exit meet there.
        foreach (var vcpu in trace.States.Select(s => s.Vcpu).Distinct())
        {
            var enteredAt = 0L;
            foreach (var (_, name, ts) in trace.Modes.Where(m => m.Vcpu == vcpu).Append((vcpu, "kvm_exit end", long.MaxValue)))
            {
                if (name.StartsWith("kvm_exit", StringComparison.Ordinal) && enteredAt >= 0 && ts > enteredAt)
                {
                    var from = enteredAt;
                    Assert.DoesNotContain(trace.States, s => s.Vcpu == vcpu && s.Name is not ("guest" or "idle") && s.Ts < ts && s.Ts + s.Dur > from);
                }

                enteredAt = name == "kvm_entry" ? (enteredAt < 0 ? ts : enteredAt) : -1;
            }

            var exitAt = -1L;
            foreach (var (_, name, ts) in trace.Modes.Where(m => m.Vcpu == vcpu).Append((vcpu, "kvm_entry", long.MaxValue)))
            {
                if (name == "kvm_entry" && exitAt >= 0 && ts > exitAt)
                {
                    var from = exitAt;
                    Assert.DoesNotContain(trace.States, s => s.Vcpu == vcpu && s.Name == "guest" && s.Ts < ts && s.Ts + s.Dur > from);
                }

                exitAt = name == "kvm_entry" ? -1 : exitAt < 0 ? ts : exitAt;
            }
        }
    }

    /// <summary>
    /// Three tasks on one vCPU, each touching its own host-absent page. Without kvm_can_do_async_pf's exception.pending
    /// test (B3, host.apf.require_no_pending_event=false), the exit of c's not-present fault dequeues a's and b's
    /// completions in one kvm_check_async_pf_completion: #PF on #PF makes #DF, a page-ready on the #DF requests the
    /// triple fault (kvm_multiple_exception, 5.7 arch/x86/kvm/x86.c).
    /// </summary>
    private const string ThreeFaults = """
        name: three-faults
        vcpus: 1
        pages: 3
        host_absent: [0, 1, 2]
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0"}
          - {name: b, mode: user, vcpu: 0, program: "touch 1"}
          - {name: c, mode: user, vcpu: 0, program: "touch 2"}
        invariants:
          - {name: two-asleep, expr: "sleeping <= 1"}
        """;

    /// <summary>
    /// The replay's end after a triple fault: vcpu_enter_guest serves KVM_REQ_TRIPLE_FAULT before it injects anything
    /// (KVM_EXIT_SHUTDOWN to the VMM), so the vCPU the model leaves in guest mode has not entered (ac036aa). The checker
    /// never prints this counterexample of no-protocol-double-fault, since the #DF one a step before is shorter
    /// (docs/kvm-facts.md): it is the checker's counterexample of the invariant two-asleep (a and b asleep, c running),
    /// then the host completes both pages, c faults, the exit's check dequeues both, and the entry ends the VM.
    /// </summary>
    [Fact]
    public void AReplayEndingInATripleFault_HasNoKvmEntryAndNoGuestTimeAfterTheShutdownExit()
    {
        var model = Path.Combine(_dir, "three-faults.yaml");
        File.WriteAllText(model, ThreeFaults);
        var cx = Path.Combine(_dir, "cx.json");
        var check = CliRunner.Run("check", model, "--protocol", "kvm-pf", "--set", "host.apf.require_no_pending_event=false", "--property", "two-asleep", "--workers", "1", "--trace", cx);
        Assert.Equal(1, check.ExitCode);
        Assert.EndsWith("SleepSchedule: b sleeps; switch to c", check.Stdout.Split('\n').Last(l => StepLine().IsMatch(l)), StringComparison.Ordinal);
        var node = JsonNode.Parse(File.ReadAllText(cx))!.AsObject();
        MachineAction[] tail =
        [
            new(ActionKind.Complete, 0, 0),
            new(ActionKind.Complete, 0, 1),
            new(ActionKind.Step, 0, 0),
            new(ActionKind.Dequeue, 0, 0),
            new(ActionKind.Enter, 0, 0),
        ];
        foreach (var action in tail)
        {
            node["actions"]!.AsArray().Add(action.Pack());
        }

        node["property"] = "no-protocol-double-fault";
        File.WriteAllText(cx, node.ToJsonString());

        var perfetto = Path.Combine(_dir, "t.json");
        var replay = CliRunner.Run("replay", cx, "--out", perfetto);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains("confirmed: the last step breaks no-protocol-double-fault", replay.Stdout, StringComparison.Ordinal);
        var trace = Read(File.ReadAllText(perfetto));
        Assert.Contains(trace.Instants, name => name.Contains("triple fault: KVM_EXIT_SHUTDOWN to the VMM", StringComparison.Ordinal));

        // c's fault exit is the vCPU's last mode change: no kvm_entry after it, and no guest slice from it on.
        var modes = trace.Modes.Where(m => m.Vcpu == 0).ToList();
        Assert.StartsWith("kvm_exit", modes[^1].Name, StringComparison.Ordinal);
        var shutdownExit = modes[^1].Ts;
        Assert.DoesNotContain(trace.States, s => s.Vcpu == 0 && s.Name == "guest" && s.Ts + s.Dur > shutdownExit);
        Assert.Equal("in host", trace.States.Where(s => s.Vcpu == 0).MaxBy(s => s.Ts).Name);
    }

    /// <summary>The counterexample (also written to cx.json) and, per step, its text and the run state of every vCPU after it.</summary>
    private (JsonObject Node, List<(string Text, Dictionary<int, string> Run)> Steps) Counterexample(string model, string protocol, string property)
    {
        var cx = Path.Combine(_dir, "cx.json");
        var check = CliRunner.Run("check", "--builtin", model, "--protocol", protocol, "--property", property, "--workers", "1", "--trace", cx);
        Assert.Equal(1, check.ExitCode);
        var steps = new List<(string, Dictionary<int, string>)>();
        var run = new Dictionary<int, string> { [0] = "InGuest" };
        foreach (var line in check.Stdout.Split('\n'))
        {
            var step = StepLine().Match(line);
            if (step.Success)
            {
                steps.Add((step.Groups[1].Value, new Dictionary<int, string>(run)));
                continue;
            }

            foreach (Match change in RunChange().Matches(line))
            {
                run[int.Parse(change.Groups[1].Value, CultureInfo.InvariantCulture)] = change.Groups[2].Value;
                steps[^1] = (steps[^1].Item1, new Dictionary<int, string>(run));
            }
        }

        var node = JsonNode.Parse(File.ReadAllText(cx))!.AsObject();
        Assert.Equal(node["actions"]!.AsArray().Count, steps.Count);
        return (node, steps);
    }

    private static (List<(int Vcpu, string Name, long Ts, long Dur)> States, List<(int Vcpu, string Name, long Ts)> Modes, List<string> Globals, List<string> Instants) Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var states = new List<(int, string, long, long)>();
        var modes = new List<(int, string, long)>();
        var globals = new List<string>();
        var instants = new List<string>();
        foreach (var e in doc.RootElement.GetProperty("traceEvents").EnumerateArray())
        {
            var ph = e.GetProperty("ph").GetString();
            var name = e.GetProperty("name").GetString()!;
            if (ph == "i")
            {
                instants.Add(name);
            }

            if (ph == "X" && e.GetProperty("cat").GetString() == "vcpu")
            {
                states.Add((e.GetProperty("tid").GetInt32(), name, Ns(e.GetProperty("ts")), Ns(e.GetProperty("dur"))));
            }
            else if (ph == "i" && e.GetProperty("s").GetString() == "g")
            {
                globals.Add(name);
            }
            else if (ph == "i" && e.GetProperty("pid").GetInt32() == 1 && (name.StartsWith("kvm_exit ", StringComparison.Ordinal) || name == "kvm_entry"))
            {
                modes.Add((e.GetProperty("tid").GetInt32(), name, Ns(e.GetProperty("ts"))));
            }
        }

        return (states, modes, globals, instants);

        static long Ns(JsonElement us) => (long)(us.GetDecimal() * 1000m);
    }

    [GeneratedRegex(@"^\s+\d+\. (.*)$")]
    private static partial Regex StepLine();

    [GeneratedRegex(@"vCPU(\d+)\.run \w+->(\w+)")]
    private static partial Regex RunChange();

    [GeneratedRegex(@"\s(\d+\.\d{6}): (kvm_exit|kvm_entry):")]
    private static partial Regex ExitOrEntryLine();
}
