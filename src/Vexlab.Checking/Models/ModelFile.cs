using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Files;

namespace Vexlab.Checking.Models;

/// <summary>Comparison of a user invariant.</summary>
public enum InvariantOp
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>A state field a user invariant reads.</summary>
public enum InvariantField
{
    Sleeping,
    Exited,
    Killed,
    SleepNodes,
    Dummies,
    InFlight,
    LeakedDummies,
    VcpuIf,
    VcpuNmiBlocked,
    VcpuVeBusy,
    VcpuApfTokenFull,
    VcpuHaltedInHost,
    VcpuStalledInHost,
}

/// <summary>
/// A user invariant: a condition (comparisons <c>FIELD OP VALUE</c> joined by <c>and</c>, <c>or</c>,
/// <c>not</c>, <c>=&gt;</c> and parentheses), checked on every state a transition reaches.
/// </summary>
public sealed record UserInvariant(string Name, string Expression, InvariantCondition Condition)
{
    /// <summary>Where the expression was written (null for one built in code): errors about it point there.</summary>
    public DocumentNode? Source { get; init; }

    /// <summary>True when the machine's current state satisfies the invariant.</summary>
    public bool Holds(Machine m) => Condition.Holds(m);
}

/// <summary>One comparison <c>FIELD OP VALUE</c> of an invariant.</summary>
public sealed record InvariantComparison(InvariantField Field, int Vcpu, InvariantOp Op, long Value) : InvariantCondition
{
    /// <summary>True when the machine's current state satisfies the comparison.</summary>
    public override bool Holds(Machine m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var x = Read(m);
        return Op switch
        {
            InvariantOp.Equal => x == Value,
            InvariantOp.NotEqual => x != Value,
            InvariantOp.Less => x < Value,
            InvariantOp.LessOrEqual => x <= Value,
            InvariantOp.Greater => x > Value,
            _ => x >= Value,
        };
    }

    /// <summary>The field's value in the machine's current state.</summary>
    public long Read(Machine m)
    {
        ArgumentNullException.ThrowIfNull(m);
        switch (Field)
        {
            case InvariantField.Sleeping:
                return CountTasks(m, TaskPhase.Sleeping);
            case InvariantField.Exited:
                return CountTasks(m, TaskPhase.Exited);
            case InvariantField.Killed:
                return CountTasks(m, TaskPhase.Killed);
            case InvariantField.SleepNodes:
                return m.SleepNodeCount();
            case InvariantField.Dummies:
            {
                var n = 0;
                for (var i = 0; i < m.SleepCapacity; i++)
                {
                    ref readonly var s = ref m.SleepNodeAt(i);
                    n += s.Used == SleepNode.Hashed && s.Dummy != 0 ? 1 : 0;
                }

                return n;
            }

            case InvariantField.LeakedDummies:
                return m.LeakedDummies;

            case InvariantField.InFlight:
            {
                var n = 0;
                for (var i = 0; i < m.WorkCapacity; i++)
                {
                    ref readonly var w = ref m.Work(i);
                    n += w.Kind != WorkKind.Free && w.Status == WorkStatus.InFlight ? 1 : 0;
                }

                return n;
            }
        }

        ref readonly var cpu = ref m.Vcpu(Vcpu);
        return Field switch
        {
            InvariantField.VcpuIf => cpu.If,
            InvariantField.VcpuNmiBlocked => cpu.NmiBlocked,
            InvariantField.VcpuVeBusy => cpu.VeBusy != 0 ? 1 : 0,
            InvariantField.VcpuApfTokenFull => cpu.ApfToken != 0 ? 1 : 0,
            InvariantField.VcpuHaltedInHost => cpu.Run == RunState.HostHalted ? 1 : 0,
            _ => cpu.Run == RunState.HostStalled ? 1 : 0,
        };
    }

    private static int CountTasks(Machine m, TaskPhase phase)
    {
        var n = 0;
        for (var i = 0; i < m.Config.Tasks.Count; i++)
        {
            n += m.Task(m.WorkloadTask(i)).Status == phase ? 1 : 0;
        }

        return n;
    }
}

/// <summary>A model read from a YAML model file: the workload, pages, bounds, knobs and user invariants.</summary>
public sealed class ModelFile
{
    /// <summary>
    /// The ops a program writes as one word, with the micro-op each is: one table that reading a program
    /// (<see cref="ReadOp"/>) and writing one (<see cref="OpText"/>) both use, so the two cannot disagree.
    /// </summary>
    private static readonly (string Word, MicroOp Op)[] s_simpleOps =
    [
        ("syscall", MicroOp.SyscallEnter),
        ("sysret", MicroOp.SyscallExit),
        ("cli", MicroOp.Cli),
        ("sti", MicroOp.Sti),
        ("compute", MicroOp.Compute),
        ("preempt-off", MicroOp.PreemptOff),
        ("preempt-on", MicroOp.PreemptOn),
        ("rcu-lock", MicroOp.RcuLock),
        ("rcu-unlock", MicroOp.RcuUnlock),
        ("yield", MicroOp.Yield),
        ("lapic-enable", MicroOp.LapicEnable),
        ("apf-disable", MicroOp.ApfDisable),
    ];

    /// <summary>A program's ops, as a file writes them.</summary>
    private static readonly string[] s_ops = ["touch", "ktouch", .. s_simpleOps.Select(o => o.Word)];

    private static readonly string[] s_keys =
        ["name", "vcpus", "pages", "host_absent", "guest_absent", "dax", "nmi_touch_page", "nmi_vcpu", "bounds", "knobs", "tasks", "invariants"];

    private static readonly string[] s_globalFields = ["sleeping", "exited", "killed", "sleep_nodes", "dummies", "in_flight", "leaked_dummies"];

    private static readonly string[] s_vcpuFields = ["if", "nmi_blocked", "ve_busy", "apf_token_full", "halted_in_host", "stalled_in_host"];

    /// <summary>The most ops a task's program may have (GuestProgram's 250 less work-done and exit).</summary>
    public const int MaxProgramOps = 248;

    private ModelFile(string path, string source, BuiltinModel model, IReadOnlyList<UserInvariant> invariants)
    {
        Path = path;
        Source = source;
        Model = model;
        Invariants = invariants;
    }

    /// <summary>The file the model was read from.</summary>
    public string Path { get; }

    /// <summary>The YAML text as read: counterexample traces embed it so a replay needs no file.</summary>
    public string Source { get; }

    /// <summary>
    /// The XxHash64 of <see cref="Source"/>, in hex: what tells one model file's text from another's whatever path
    /// names it (a checkpoint's identity, a swarm shard's <c>model_file_hash</c>).
    /// </summary>
    public string TextHash => System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(Source)).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The model, shaped like a built-in one.</summary>
    public BuiltinModel Model { get; }

    /// <summary>The user invariants, in the order written.</summary>
    public IReadOnlyList<UserInvariant> Invariants { get; }

    /// <summary>The keys a model file's top level may hold, in the order messages list them.</summary>
    public static IReadOnlyList<string> TopLevelKeys => s_keys;

    /// <summary>The fields an invariant may read (N stands for a vCPU index).</summary>
    public static IEnumerable<string> FieldNames => [.. s_globalFields, .. s_vcpuFields.Select(f => "vcpuN." + f)];

    /// <summary>Reads and checks a model file; bad input throws <see cref="InputException"/> with the file, line and column.</summary>
    public static ModelFile Load(string path)
    {
        var text = InputFile.ReadText(path, "model file");
        var model = From(ScenarioDocument.Parse(text, ErrorText.Path(path), "model file", allowEmpty: false), text, path);

        // Messages name the file with its control characters escaped; Path is the name itself, which the replay line
        // quotes and a trace's model_file gives back to Load: an escaped name would be another file.
        return new ModelFile(path, model.Source, model.Model, model.Invariants);
    }

    /// <summary>Parses model YAML; <paramref name="file"/> names it in messages.</summary>
    public static ModelFile Parse(string yaml, string file) => From(ScenarioDocument.Parse(yaml, file, "model file"), yaml, file);

    /// <param name="doc">The parsed file, named in messages as they print it.</param>
    /// <param name="source">The file's text.</param>
    /// <param name="path">The file's name as it is, which names a model that gives no name.</param>
    private static ModelFile From(ScenarioDocument doc, string source, string path)
    {
        var root = doc.Root;
        foreach (var e in root.Entries)
        {
            if (!s_keys.Contains(e.Key.Value, StringComparer.Ordinal))
            {
                throw e.Key.Error(NearestName.Unknown("key", e.Key.Value, s_keys));
            }
        }

        // As a task's: the name heads the output ("model NAME under P"), the JSON and the checkpoint's identity,
        // where an empty one (a bare 'name:') or one with spaces reads as something else.
        var name = root.TryGetValue("name", out var nameNode) ? Name(Scalar(nameNode)) : DefaultName(root, path);

        var vcpus = RequiredInt(root, "vcpus", 1, 8);
        var pages = RequiredInt(root, "pages", 1, 64);
        var hostAbsent = PageList(root, "host_absent", pages);
        var guestAbsent = PageList(root, "guest_absent", pages);
        var dax = PageList(root, "dax", pages);
        var nmiTouchPage = -1;
        if (root.TryGetValue("nmi_touch_page", out var nmiNode))
        {
            nmiTouchPage = Int(nmiNode, -1, pages - 1, "a page index or -1");
        }

        var nmiVcpu = -1;
        if (root.TryGetValue("nmi_vcpu", out var nmiVcpuNode))
        {
            nmiVcpu = Int(nmiVcpuNode, -1, vcpus - 1, "a vCPU index or -1 (any)");
        }

        var bounds = ExternalBounds.None;
        if (root.TryGetValue("bounds", out var boundsNode))
        {
            var b = Mapping(boundsNode);
            string[] keys = ["nmis", "ticks", "truncations", "reenables", "smis", "inits", "teardowns", "migrations", "host_exits"];
            var values = new int[keys.Length];
            foreach (var e in b.Entries)
            {
                var i = Array.IndexOf(keys, e.Key.Value);
                if (i < 0)
                {
                    throw e.Key.Error(NearestName.Unknown("key", e.Key.Value, keys));
                }

                values[i] = Int(e.Value, 0, 255, "an integer from 0 to 255");
            }

            bounds = new ExternalBounds(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8]);
        }

        // Only a raised NMI's handler touches nmi_touch_page, on nmi_vcpu: without one they would be ignored.
        if (bounds.Nmis == 0 && (nmiTouchPage >= 0 || nmiVcpu >= 0))
        {
            var node = nmiTouchPage >= 0 ? nmiNode! : nmiVcpuNode!;
            throw node.Error("no NMI is raised (bounds.nmis is 0), so this has no effect; set bounds.nmis or leave it out");
        }

        var knobs = new List<KeyValuePair<string, string>>();
        if (root.TryGetValue("knobs", out var knobsNode))
        {
            foreach (var e in Mapping(knobsNode).Entries)
            {
                var value = Scalar(e.Value);
                var knob = KnobCatalog.Find(e.Key.Value)
                    ?? throw e.Key.Error($"unknown knob '{e.Key.Value}'{KnobCatalog.Hint(e.Key.Value)} (vexlab explain keys lists them)");

                // Checked here, where the file says it, not later when the model is built for a protocol.
                KnobSet.Create(ProtocolCatalog.Names[0], [new(knob.Key, value.Value)], Where(value));
                knobs.Add(new(e.Key.Value, value.Value));
            }
        }

        if (!root.TryGetValue("tasks", out var tasksNode))
        {
            throw root.Error("missing key 'tasks'");
        }

        var tasks = new List<TaskSpec>();
        foreach (var item in Sequence(tasksNode).Items)
        {
            var task = ReadTask(Mapping(item), vcpus, pages);

            // Counterexamples name tasks ("vCPU0 [a]", "a.status", "switch to b"): two of one name could not be told apart.
            if (tasks.Any(t => t.Name == task.Name))
            {
                throw item.Error($"duplicate task name '{task.Name}'");
            }

            tasks.Add(task);
            RefuseCrowdedVcpu(item, tasks, bounds.Migrations > 0);
        }

        if (tasks.Count == 0)
        {
            throw tasksNode.Error("expected at least one task");
        }

        var invariants = new List<UserInvariant>();
        if (root.TryGetValue("invariants", out var invNode))
        {
            foreach (var item in Sequence(invNode).Items)
            {
                var inv = ReadInvariant(Mapping(item), vcpus);
                if (invariants.Any(i => i.Name == inv.Name))
                {
                    throw item.Error($"duplicate invariant name '{inv.Name}'");
                }

                invariants.Add(inv);
            }
        }

        var groups = new List<PageGroupSpec>();
        for (var p = 0; p < pages; p++)
        {
            groups.Add(new PageGroupSpec(p, 1, hostAbsent.Contains(p) ? HostPage.AbsentIo : HostPage.Resident, !guestAbsent.Contains(p), 0, dax.Contains(p)));
        }

        TaskSpec[] taskArray = [.. tasks];
        PageGroupSpec[] groupArray = [.. groups];
        var model = new BuiltinModel(
            name,
            string.Create(CultureInfo.InvariantCulture, $"{vcpus} vCPUs, {pages} pages, {tasks.Count} tasks (from {doc.File})"),
            knobs,
            bounds,
            (protocol, b) => new MachineConfig
            {
                Vcpus = vcpus,
                Pages = pages,
                Tasks = taskArray,
                PageGroups = groupArray,
                Protocol = protocol,
                Bounds = b,
                NmiTouchPage = nmiTouchPage,
                NmiVcpu = nmiVcpu,
                EnumerateChoices = true,
            },
            InMatrix: false);
        return new ModelFile(doc.File, source, model, invariants);
    }

    /// <summary>
    /// Refuses the task just read when a vCPU could hold more tasks than the checker's choice of the next task
    /// covers: an action carries at most <see cref="ScheduleChoice.MaxAlternatives"/> other picks, so a ninth
    /// runnable task on one vCPU would never be picked first and a pass would not be exhaustive. With migrations
    /// any user task can join any vCPU, where its kernel threads stay bound.
    /// </summary>
    private static void RefuseCrowdedVcpu(DocumentNode item, List<TaskSpec> tasks, bool migrations)
    {
        const int most = ScheduleChoice.MaxAlternatives + 1;
        var task = tasks[^1];
        var held = migrations
            ? tasks.Count(t => t.Mode == TaskMode.User) + tasks.Where(t => t.Mode == TaskMode.Kernel).GroupBy(t => t.Vcpu).Select(g => g.Count()).DefaultIfEmpty().Max()
            : tasks.Count(t => t.Vcpu == task.Vcpu);
        if (held > most)
        {
            var who = migrations ? "with migrations one vCPU may hold" : string.Create(CultureInfo.InvariantCulture, $"vCPU {task.Vcpu} holds");
            throw item.Error(string.Create(CultureInfo.InvariantCulture, $"{who} {held} tasks; the checker tries every choice of the next task among at most {most} tasks of one vCPU"));
        }
    }

    private static string Where(DocumentNode node) =>
        string.Create(CultureInfo.InvariantCulture, $"{node.File}:{node.Line}:{node.Column}");

    private static TaskSpec ReadTask(MappingNode node, int vcpus, int pages)
    {
        string[] keys = ["name", "mode", "vcpu", "program"];
        foreach (var e in node.Entries)
        {
            if (!keys.Contains(e.Key.Value, StringComparer.Ordinal))
            {
                throw e.Key.Error(NearestName.Unknown("key", e.Key.Value, keys));
            }
        }

        var nameNode = Scalar(Required(node, "name"));
        var name = Name(nameNode);

        // Counterexamples call vCPU N's idle task swapper/N (Machine.TaskName): a task of that name could not be told from it.
        if (Enumerable.Range(0, vcpus).Any(v => name == string.Create(CultureInfo.InvariantCulture, $"swapper/{v}")))
        {
            throw nameNode.Error($"'{name}' is the name of a vCPU's idle task in counterexamples");
        }

        var modeNode = Scalar(Required(node, "mode"));
        var mode = modeNode.Value switch
        {
            "user" => TaskMode.User,
            "kernel" => TaskMode.Kernel,
            _ => throw modeNode.Error(NearestName.Unknown("mode", modeNode.Value, ["user", "kernel"])),
        };
        var vcpu = node.TryGetValue("vcpu", out var vcpuNode) ? Int(vcpuNode, 0, vcpus - 1, $"a vCPU index from 0 to {vcpus - 1}") : 0;
        var programNode = Scalar(Required(node, "program"));
        var code = new List<Instr>();
        var user = mode == TaskMode.User;
        foreach (var raw in programNode.Value.Split(';'))
        {
            var words = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            var ins = ReadOp(programNode, words, pages);
            var fault = TaskPrivilege.Step(ins.Op, mode, ref user);
            if (fault != PrivilegeFault.None)
            {
                throw programNode.Error($"'{string.Join(' ', words)}': " + PrivilegeProblem(fault, words[0]));
            }

            code.Add(ins);
        }

        // GuestProgram holds at most MaxOps instructions, two of them the work-done marker and exit.
        if (code.Count > MaxProgramOps)
        {
            throw programNode.Error(string.Create(CultureInfo.InvariantCulture, $"the program has {code.Count} ops; at most {MaxProgramOps}"));
        }

        code.Add(new Instr(MicroOp.WorkDone));
        code.Add(new Instr(MicroOp.Exit));
        return new TaskSpec(name, mode, vcpu, new GuestProgram(name, [.. code]));
    }

    private static string PrivilegeProblem(PrivilegeFault fault, string op) => fault switch
    {
        PrivilegeFault.KernelOpInUserMode =>
            $"a user task runs '{op}' in user mode, where it is a kernel-only op; put it between 'syscall' and 'sysret', or make the task mode: kernel",
        PrivilegeFault.SyscallInKernel => "the task is already in the kernel ('syscall' without a 'sysret' before it, or a kernel thread)",
        PrivilegeFault.SysretOutsideSyscall => "the task is in user mode, with no 'syscall' to return from",
        _ => "a kernel thread has no user mode to return to",
    };

    private static Instr ReadOp(ScalarNode node, string[] words, int pages)
    {
        var op = words[0];
        var text = string.Join(' ', words);
        if (op is "touch" or "ktouch")
        {
            var fixup = true;
            if (words.Length == 3 && op == "ktouch" && words[2] == "nofixup")
            {
                fixup = false;
            }
            else if (words.Length != 2)
            {
                throw node.Error($"'{text}': expected '{op} N'" + (op == "ktouch" ? " or 'ktouch N nofixup'" : string.Empty));
            }

            if (!int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var page) || page >= pages)
            {
                throw node.Error($"'{text}': page out of range (expected 0 to {pages - 1})");
            }

            var flags = (byte)Addressing.Page;
            if (op == "ktouch" && fixup)
            {
                flags |= TouchFlags.Fixup;
            }

            return new Instr(op == "touch" ? MicroOp.Touch : MicroOp.KTouch, flags, (ushort)page);
        }

        MicroOp? simple = null;
        foreach (var (word, micro) in s_simpleOps)
        {
            if (word == op)
            {
                simple = micro;
                break;
            }
        }

        if (simple is null)
        {
            throw node.Error(NearestName.Unknown("op", op, s_ops));
        }

        if (words.Length != 1)
        {
            throw node.Error($"'{text}': '{op}' takes no operand");
        }

        return new Instr(simple.Value);
    }

    /// <summary>
    /// A program as a model file's <c>program</c> writes it ("touch 0; ktouch 2 nofixup"), the inverse of
    /// <see cref="ReadOp"/>: the closing work-done marker and exit, which every file's program gets, are left out. An
    /// instruction a model file cannot write (a built-in's region access, say) keeps the model's own name.
    /// </summary>
    public static string ProgramText(IReadOnlyList<Instr> code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var count = code.Count;
        if (count >= 2 && code[count - 2] == new Instr(MicroOp.WorkDone) && code[count - 1] == new Instr(MicroOp.Exit))
        {
            count -= 2;
        }

        return string.Join("; ", code.Take(count).Select(OpText));
    }

    /// <summary>One instruction in a model file's words, or the model's name for it where a file has none.</summary>
    public static string OpText(Instr ins)
    {
        // A file's accesses name a page (Addressing.Page, 0); only ktouch adds a flag, the fixup.
        var page = ins.B.ToString(CultureInfo.InvariantCulture);
        if (ins.Op == MicroOp.Touch && ins.A == (byte)Addressing.Page)
        {
            return "touch " + page;
        }

        if (ins.Op == MicroOp.KTouch && (ins.A & ~TouchFlags.Fixup) == (byte)Addressing.Page)
        {
            return (ins.A & TouchFlags.Fixup) != 0 ? "ktouch " + page : $"ktouch {page} nofixup";
        }

        if (ins.A == 0 && ins.B == 0)
        {
            foreach (var (word, micro) in s_simpleOps)
            {
                if (micro == ins.Op)
                {
                    return word;
                }
            }
        }

        return ins.ToString();
    }

    /// <summary>A task's mode as a model file writes it: <c>user</c> or <c>kernel</c>.</summary>
    public static string ModeText(TaskMode mode) => mode == TaskMode.Kernel ? "kernel" : "user";

    private static UserInvariant ReadInvariant(MappingNode node, int vcpus)
    {
        string[] keys = ["name", "expr"];
        foreach (var e in node.Entries)
        {
            if (!keys.Contains(e.Key.Value, StringComparer.Ordinal))
            {
                throw e.Key.Error(NearestName.Unknown("key", e.Key.Value, keys));
            }
        }

        var nameNode = Scalar(Required(node, "name"));
        var name = Name(nameNode);

        if (MachineSystem.IsKnownProperty(name))
        {
            throw nameNode.Error($"'{name}' is a built-in property name");
        }

        var exprNode = Scalar(Required(node, "expr"));
        var expr = exprNode.Value.Trim();
        var condition = InvariantParser.Parse(exprNode, vcpus);
        return new UserInvariant(name, expr, condition) { Source = exprNode };
    }

    /// <summary>A field name (global, or vcpuN.FIELD) and its vCPU; null when the name is unknown.</summary>
    internal static (InvariantField Field, int Vcpu)? FindField(string text, int vcpus, out string? problem)
    {
        problem = null;
        var g = Array.IndexOf(s_globalFields, text);
        if (g >= 0)
        {
            return ((InvariantField)g, 0);
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (text.StartsWith("vcpu", StringComparison.Ordinal) && dot > 4)
        {
            var f = Array.IndexOf(s_vcpuFields, text[(dot + 1)..]);
            if (f >= 0 && int.TryParse(text.AsSpan(4, dot - 4), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            {
                if (v >= vcpus)
                {
                    problem = $"vCPU {v} out of range (expected 0 to {vcpus - 1})";
                    return null;
                }

                return ((InvariantField)((int)InvariantField.VcpuIf + f), v);
            }
        }

        problem = NearestName.Unknown("field", text, FieldNames);
        return null;
    }

    private static DocumentNode Required(MappingNode node, string key) =>
        node.TryGetValue(key, out var value) ? value : throw node.Error($"missing key '{key}'");

    /// <summary>
    /// A model's, task's or invariant's name: one word, as the output, traces and --property name it. A control character
    /// is refused with the spaces: the report prints names as they are, and an ESC in one (a task named
    /// <c>"b\u001b]0;x\u0007"</c>) reached the terminal as a sequence it obeys, a changed window title.
    /// </summary>
    private static string Name(ScalarNode node) =>
        node.Value.Length == 0 ? throw node.Error("expected a name, got an empty value")
        : node.Value.Any(char.IsWhiteSpace) ? throw node.Error(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"expected a name without spaces, got {Vexlab.Scenarios.ErrorText.Quote(node.Value)}"))
        : node.Value.Any(char.IsControl) ? throw node.Error(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"expected a name without control characters, got {Vexlab.Scenarios.ErrorText.Quote(node.Value)}"))
        : node.Value;

    /// <summary>
    /// The name of a model that gives none: its file's, without the extension. One that holds a control character is
    /// refused as a written name with one is. It was taken from the name as messages print it, so the model was called
    /// <c>f\u001b]0;x\u0007y</c> in the output, the JSON and a trace, a name that is neither the file's nor one a
    /// <c>name:</c> could give, while a replay of that trace named its embedded model from the path as it is, ESC and all.
    /// </summary>
    private static string DefaultName(MappingNode root, string path)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(path);
        return ErrorText.Escape(name) == name
            ? name
            : throw root.Error($"the model has no 'name' and is named after its file, whose name has control characters or line separators ({ErrorText.Quote(name)}); give it a name: key");
    }

    private static ScalarNode Scalar(DocumentNode node) =>
        node as ScalarNode ?? throw node.Error($"expected a scalar, found {node.Description}");

    private static MappingNode Mapping(DocumentNode node) =>
        node as MappingNode ?? throw node.Error($"expected a mapping, found {node.Description}");

    private static SequenceNode Sequence(DocumentNode node) =>
        node as SequenceNode ?? throw node.Error($"expected a list, found {node.Description}");

    private static int RequiredInt(MappingNode root, string key, int min, int max) =>
        Int(Required(root, key), min, max, string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}"));

    private static int Int(DocumentNode node, int min, int max, string expected)
    {
        var s = Scalar(node);
        if (!int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw s.Error($"'{s.Value}': expected {expected}");
        }

        return v;
    }

    private static HashSet<int> PageList(MappingNode root, string key, int pages)
    {
        var set = new HashSet<int>();
        if (root.TryGetValue(key, out var node))
        {
            foreach (var item in Sequence(node).Items)
            {
                var page = Int(item, 0, pages - 1, string.Create(CultureInfo.InvariantCulture, $"a page from 0 to {pages - 1} (page out of range)"));
                if (!set.Add(page))
                {
                    // A page listed twice is most likely another page mistyped, which would then be left out unseen.
                    throw item.Error(string.Create(CultureInfo.InvariantCulture, $"page {page} is listed twice"));
                }
            }
        }

        return set;
    }
}
