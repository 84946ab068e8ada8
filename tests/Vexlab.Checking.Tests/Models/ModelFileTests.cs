using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Configuration;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;

namespace Vexlab.Checking.Tests.Models;

public sealed class ModelFileTests
{
    private const string Good = """
        name: two-faults
        vcpus: 1
        pages: 2
        host_absent: [0, 1]
        guest_absent: []
        dax: []
        nmi_touch_page: -1
        bounds: {nmis: 0, ticks: 0, truncations: 0, reenables: 0}
        knobs: {guest.ve.info_store: args}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0; touch 1"}
          - {name: k, mode: kernel, vcpu: 0, program: "ktouch 1; cli; ktouch 0 nofixup; sti"}
        invariants:
          - {name: one-sleeper, expr: "sleeping <= 1"}
        """;

    private const string OneFault = """
        vcpus: 1
        pages: 1
        host_absent: [0]
        tasks:
          - {name: u, mode: user, vcpu: 0, program: "touch 0"}
        invariants:
          - {name: nobody-sleeps, expr: "sleeping <= 0"}
          - {name: vcpu-alive, expr: "vcpu0.stalled_in_host >= 0"}
        """;

    private static CheckerOptions Options(int? maxDepth = null) =>
        new() { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60), MaxDepth = maxDepth ?? int.MaxValue };

    [Fact]
    public void Parse_GoodFile_BuildsModel()
    {
        var file = ModelFile.Parse(Good, "two.yaml");
        Assert.Equal("two-faults", file.Model.Name);
        var inv = Assert.Single(file.Invariants);
        Assert.Equal("one-sleeper", inv.Name);
        var comparison = Assert.IsType<InvariantComparison>(inv.Condition);
        Assert.Equal(InvariantField.Sleeping, comparison.Field);
        Assert.Equal(InvariantOp.LessOrEqual, comparison.Op);
        Assert.Equal(1, comparison.Value);
        var config = file.Model.Build("kvm-pf-int");
        Assert.Equal(2, config.Tasks.Count);
        Assert.Equal(TaskMode.Kernel, config.Tasks[1].Mode);
        var code = config.Tasks[1].Program.Code;
        Assert.Equal([MicroOp.KTouch, MicroOp.Cli, MicroOp.KTouch, MicroOp.Sti, MicroOp.WorkDone, MicroOp.Exit], code.Select(i => i.Op));
        Assert.NotEqual(0, code[0].A & TouchFlags.Fixup);
        Assert.Equal(0, code[2].A & TouchFlags.Fixup);
        Assert.All(config.PageGroups, g => Assert.Equal(HostPage.AbsentIo, g.Host));
    }

    /// <summary>
    /// <c>models show</c> prints each built-in task's program in a model file's words: written back into a model file,
    /// every one reads as the same instructions, so the text is one a person can copy.
    /// </summary>
    [Fact]
    public void Every_builtin_program_spelled_as_a_file_reads_back_the_same()
    {
        foreach (var model in BuiltinModels.All)
        {
            var config = model.Build("kvm-pf-int");
            foreach (var task in config.Tasks)
            {
                var program = ModelFile.ProgramText(task.Program.Code);
                Assert.DoesNotContain(program, char.IsUpper);
                var yaml = $"vcpus: {config.Vcpus}\npages: {config.Pages}\ntasks:\n  - {{name: {task.Name}, mode: {ModelFile.ModeText(task.Mode)}, vcpu: {task.Vcpu}, program: \"{program}\"}}\n";
                var read = Assert.Single(ModelFile.Parse(yaml, "m.yaml").Model.Build("kvm-pf-int").Tasks);
                Assert.Equal(task.Program.Code, read.Program.Code);
                Assert.Equal(task.Mode, read.Mode);
            }
        }
    }

    [Theory]
    [InlineData(MicroOp.Touch, 0, 3, "touch 3")]
    [InlineData(MicroOp.KTouch, TouchFlags.Fixup, 1, "ktouch 1")]
    [InlineData(MicroOp.KTouch, 0, 2, "ktouch 2 nofixup")]
    [InlineData(MicroOp.SyscallEnter, 0, 0, "syscall")]
    [InlineData(MicroOp.ApfDisable, 0, 0, "apf-disable")]
    // A region access has no model-file op: it keeps the model's own name.
    [InlineData(MicroOp.Touch, (byte)Addressing.Sequential, 1, "Touch 1 1")]
    public void An_op_is_spelled_as_a_model_file_writes_it(MicroOp op, byte a, ushort b, string expected)
        => Assert.Equal(expected, ModelFile.OpText(new Instr(op, a, b)));

    [Theory]
    [InlineData("vcpus: 1\npages: 1\ncolour: red\ntasks: []\n", "m.yaml:3:1", "unknown key 'colour'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"sleeping =< 1\"}\n", "m.yaml:6:31", "unknown operator '=<'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"dozing < 1\"}\n", "m.yaml:6:22", "unknown field 'dozing'")]
    // A lone value is no expression (it read as "unknown field '3'"); a number or an operator is no field.
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: 3\n", "m.yaml:7:11", "invariants[0].expr: expected an invariant expression such as 'sleeping <= 1' (FIELD OP INTEGER, joined by and, or, not, =>), got '3'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: true\n", "m.yaml:7:11", "invariants[0].expr: expected an invariant expression such as 'sleeping <= 1'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: \"(\"\n", "m.yaml:7:12", "invariants[0].expr: expected an invariant expression such as 'sleeping <= 1'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: 3 < sleeping\n", "m.yaml:7:11", "invariants[0].expr: expected a field, 'not' or '(', got '3' (a comparison is FIELD OP INTEGER, such as 'sleeping <= 1')")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: \"== 1\"\n", "m.yaml:7:12", "invariants[0].expr: expected a field, 'not' or '(', got '=='")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: not 3\n", "m.yaml:7:15", "invariants[0].expr: expected a field, 'not' or '(', got '3'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: sleepin\n", "m.yaml:7:11", "unknown field 'sleepin'; did you mean sleeping?")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: sleeping\n", "m.yaml:7:19", "expected an operator")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"vcpu1.if == 1\"}\n", "m.yaml:6:22", "vCPU 1 out of range")]
    // The state counts leaked dummies up to Machine.LeakedDummiesCounted (3): a comparison it cannot decide is refused.
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"leaked_dummies <= 3\"}\n", "m.yaml:6:40", "leaked_dummies counts 0 to 2, then 3 for 3 or more: compare it with a number below 3 (or '< 3', '>= 3'), not '<= 3'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"leaked_dummies < 4\"}\n", "m.yaml:6:39", "not '< 4'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"leaked_dummies == 3\"}\n", "m.yaml:6:40", "not '== 3'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"sleeping < 1 and (exited > 0 or killd == 0)\"}\n", "m.yaml:6:54", "unknown field 'killd'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"(sleeping < 1\"}\n", "m.yaml:6:35", "expected ')' at the end")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"sleeping < 1 exited\"}\n", "m.yaml:6:35", "unexpected 'exited'")]
    [InlineData("vcpus: 1\npages: 1\nnmi_vcpu: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", "m.yaml:3:11", "a vCPU index")]
    [InlineData("vcpus: 1\npages: 2\ntasks:\n  - {name: u, mode: user, program: \"touch 2\"}\n", "m.yaml:4:36", "page out of range")]
    [InlineData("vcpus: 1\npages: 2\nhost_absent: [0, 5]\ntasks:\n  - {name: u, mode: user, program: \"touch 1\"}\n", "m.yaml:3:18", "page out of range")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, vcpu: 1, program: \"touch 0\"}\n", "m.yaml:4:33", "vCPU index")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"sleeping < 1\"}\n  - {name: x, expr: \"exited < 1\"}\n", "m.yaml:7:5", "duplicate invariant name 'x'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: no-deadlock, expr: \"sleeping < 1\"}\n", "m.yaml:6:12", "built-in property")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"jump 0\"}\n", "m.yaml:4:36", "unknown op 'jump'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n  - {name: u, mode: user, program: \"compute\"}\n", "m.yaml:5:5", "duplicate task name 'u'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: \"\", mode: user, program: \"touch 0\"}\n", "m.yaml:4:12", "expected a name, got an empty value")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: \"a b\", mode: user, program: \"touch 0\"}\n", "m.yaml:4:12", "expected a name without spaces")]
    [InlineData("vcpus: 1\npags: 1\ntasks: []\n", "m.yaml:2:1", "unknown key 'pags'; did you mean pages? (expected one of name, vcpus, pages,")]
    [InlineData("vcpus: 1\npages: 1\nbounds: {nmi: 1}\ntasks: []\n", "m.yaml:3:10", "unknown key 'nmi'; did you mean nmis? (expected one of nmis, ticks,")]
    // bounds.host_exits is a bound like the others: an integer from 0 to 255, at its value.
    [InlineData("vcpus: 1\npages: 1\nbounds: {host_exits: 256}\ntasks: []\n", "m.yaml:3:22", "an integer from 0 to 255")]
    [InlineData("vcpus: 1\npages: 1\nbounds: {host_exits: -1}\ntasks: []\n", "m.yaml:3:22", "an integer from 0 to 255")]
    [InlineData("vcpus: 1\npages: 1\nbounds: {host_exits: many}\ntasks: []\n", "m.yaml:3:22", "an integer from 0 to 255")]
    [InlineData("vcpus: 1\npages: 1\nbounds: {ticks: 0, host_exit: 1}\ntasks: []\n", "m.yaml:3:20", "unknown key 'host_exit'; did you mean host_exits?")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mod: user, program: \"touch 0\"}\n", "m.yaml:4:15", "unknown key 'mod'; did you mean mode? (expected one of name, mode, vcpu, program)")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: usr, program: \"touch 0\"}\n", "m.yaml:4:21", "unknown mode 'usr'; did you mean user? (expected one of user, kernel)")]
    // docs/checking.md, "Model files": a task needs name, mode and program; only vcpu has a default.
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, program: \"touch 0\"}\n", "m.yaml:4:5", "missing key 'mode'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user}\n", "m.yaml:4:5", "missing key 'program'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"tuch 0\"}\n", "m.yaml:4:36", "unknown op 'tuch'; did you mean touch? (expected one of touch, ktouch,")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"sleepin < 1\"}\n", "m.yaml:6:22", "unknown field 'sleepin'; did you mean sleeping? (expected one of sleeping,")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, exp: \"sleeping < 1\"}\n", "m.yaml:6:15", "unknown key 'exp'; did you mean expr? (expected one of name, expr)")]
    [InlineData("vcpus: 1\npages: 1\nknobs: {guest.apf.dumy_entries: false}\ntasks: []\n", "m.yaml:3:9", "unknown knob 'guest.apf.dumy_entries'; did you mean guest.apf.dummy_entries? (vexlab explain keys lists them)")]
    [InlineData("name:\nvcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", "m.yaml:1:6", "expected a name, got an empty value")]
    [InlineData("name: two faults\nvcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", "m.yaml:1:7", "expected a name without spaces")]
    // The idle task of vCPU N is swapper/N in counterexamples.
    [InlineData("vcpus: 2\npages: 1\ntasks:\n  - {name: swapper/1, mode: user, program: \"touch 0\"}\n", "m.yaml:4:12", "'swapper/1' is the name of a vCPU's idle task")]
    // A value that is not its source text (folded, continued on the next line, escaped) has no column per character: the error is at the scalar.
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: >\n      sleeping <= 1 and\n      exited >< 2\n", "m.yaml:7:11", "unknown operator '><'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - name: x\n    expr: sleeping <= 1 and\n      exited >< 2\n", "m.yaml:7:11", "unknown operator '><'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"\\x73leeping <= 1 and exited >< 2\"}\n", "m.yaml:6:21", "unknown operator '><'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: sleeping <= 1 and exited >< 2}\n", "m.yaml:6:46", "unknown operator '><'")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: 'sleeping <= 1 and exited >< 2'}\n", "m.yaml:6:47", "unknown operator '><'")]
    [InlineData("vcpus: 1\npages: 2\nhost_absent: [0, 0]\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", "m.yaml:3:18", "page 0 is listed twice")]
    [InlineData("vcpus: 1\npages: 2\nnmi_touch_page: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", "m.yaml:3:17", "no NMI is raised (bounds.nmis is 0)")]
    [InlineData("vcpus: 2\npages: 2\nnmi_vcpu: 1\nbounds: {ticks: 1}\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", "m.yaml:3:11", "no NMI is raised (bounds.nmis is 0)")]
    // TaskPrivilege: an op at a privilege level the task is not at describes no real execution.
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0; cli; touch 0; sti\"}\n", "m.yaml:4:36", "'cli': a user task runs 'cli' in user mode, where it is a kernel-only op")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"preempt-off\"}\n", "m.yaml:4:36", "'preempt-off': a user task runs 'preempt-off' in user mode")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"ktouch 0\"}\n", "m.yaml:4:36", "'ktouch 0': a user task runs 'ktouch' in user mode")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"syscall; cli; sti; sysret; rcu-lock\"}\n", "m.yaml:4:36", "'rcu-lock': a user task runs 'rcu-lock' in user mode")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"syscall; syscall\"}\n", "m.yaml:4:36", "'syscall': the task is already in the kernel")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0; sysret\"}\n", "m.yaml:4:36", "'sysret': the task is in user mode, with no 'syscall' to return from")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: k, mode: kernel, program: \"syscall\"}\n", "m.yaml:4:38", "'syscall': the task is already in the kernel")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: k, mode: kernel, program: \"ktouch 0; sysret\"}\n", "m.yaml:4:38", "'sysret': a kernel thread has no user mode to return to")]
    // A control character in a name reached the terminal as it is: an ESC in a task's name set the window title.
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: \"b\\u001b]0;x\\u0007\", mode: user, program: \"touch 0\"}\n", "m.yaml:4:12", "tasks[0].name: expected a name without control characters, got \"b\\u001b]0;x\\u0007\"")]
    [InlineData("vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: \"inv\\u001b[2J\", expr: \"sleeping < 1\"}\n", "m.yaml:6:12", "expected a name without control characters")]
    [InlineData("name: \"a\\u0007\"\nvcpus: 1\npages: 1\ntasks: []\n", "m.yaml:1:7", "expected a name without control characters")]
    public void Parse_BadFile_NamesThePlace(string yaml, string where, string problem)
    {
        var e = Assert.Throws<InputException>(() => ModelFile.Parse(yaml, "m.yaml"));
        Assert.StartsWith(where + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>
    /// A model without <c>name:</c> takes its file's name, refused as a written name is where it holds a control
    /// character or a line separator: it heads the output and a trace as the model's name.
    /// </summary>
    [Theory]
    [InlineData("dir/m.yaml", "m")]
    [InlineData("dir/two words.yaml", "two words")]
    [InlineData("dir/f\u001b]0;x\u0007y.yaml", null)]
    [InlineData("dir/u\u2028v.yaml", null)]
    public void Parse_WithoutName_IsNamedAfterAFileNameWithoutControlCharacters(string file, string? name)
    {
        file = System.Text.RegularExpressions.Regex.Unescape(file);
        const string Yaml = "vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n";
        if (name is not null)
        {
            Assert.Equal(name, ModelFile.Parse(Yaml, file).Model.Name);
            return;
        }

        var e = Assert.Throws<InputException>(() => ModelFile.Parse(Yaml, file));
        Assert.StartsWith(file + ":1:1: the model has no 'name' and is named after its file", e.Message, StringComparison.Ordinal);
        Assert.Equal("gee", ModelFile.Parse("name: gee\n" + Yaml, file).Model.Name);
    }

    /// <summary>
    /// An expression nests at most VEXLAB_MAX_INPUT_DEPTH (64) levels of not, parentheses and =>, as YAML does: 20,000
    /// nots in an 80 KB file overflowed the parser's stack (exit 134, no message). A chain of and or or is one level
    /// however long, so 100,000 comparisons joined by and parse and hold.
    /// </summary>
    [Theory]
    [InlineData("not ", "", 20_000, 278)]
    [InlineData("(", ")", 50_000, 86)]
    [InlineData("sleeping < 1 => ", "", 20_000, 1_059)]
    public void Parse_ExpressionNestedTooDeep_IsOneLine(string open, string close, int levels, int column)
    {
        var expr = string.Concat(Enumerable.Repeat(open, levels)) + "sleeping < 1" + string.Concat(Enumerable.Repeat(close, levels));
        var yaml = "vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"" + expr + "\"}\n";
        var e = Assert.Throws<InputException>(() => ModelFile.Parse(yaml, "m.yaml"));
        Assert.Equal(FormattableString.Invariant($"m.yaml:6:{column}: invariants[0].expr: nested deeper than 64 levels (not, parentheses and => count); set VEXLAB_MAX_INPUT_DEPTH to raise the limit"), e.Message);

        var within = string.Concat(Enumerable.Repeat(open, 64)) + "sleeping < 1" + string.Concat(Enumerable.Repeat(close, 64));
        ModelFile.Parse(yaml.Replace(expr, within, StringComparison.Ordinal), "m.yaml");
    }

    [Theory]
    [InlineData(" and ", true)]
    [InlineData(" or ", true)]
    [InlineData(" and exited > 5 and ", false)]
    public void Parse_LongChain_IsNoDeeperThanAShortOne(string joint, bool holds)
    {
        var expr = string.Join(joint, Enumerable.Repeat("sleeping < 1", 100_000));
        var yaml = "vcpus: 1\npages: 1\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\ninvariants:\n  - {name: x, expr: \"" + expr + "\"}\n";
        var model = ModelFile.Parse(yaml, "m.yaml");
        var machine = new Machine(model.Model.Build("ve"));
        Assert.Equal(holds, model.Invariants[0].Condition.Holds(machine));
    }

    /// <summary>A model file with a user task per entry of <paramref name="vcpuOfTask"/>, pinned to that vCPU.</summary>
    private static string Crowded(int vcpus, int migrations, string vcpuOfTask) =>
        $"vcpus: {vcpus}\npages: 1\nbounds: {{migrations: {migrations}}}\ntasks:\n"
        + string.Concat(vcpuOfTask.Split(',').Select((v, i) => $"  - {{name: t{i}, mode: user, vcpu: {v}, program: \"touch 0\"}}\n"));

    [Theory]
    [InlineData(1, 0, "0,0,0,0,0,0,0,0,0", "m.yaml:13:5", "vCPU 0 holds 9 tasks; the checker tries every choice of the next task among at most 8")]
    [InlineData(2, 1, "0,0,0,0,0,1,1,1,1", "m.yaml:13:5", "with migrations one vCPU may hold 9 tasks")]
    public void Parse_MoreTasksOnAVcpuThanTheChoiceCovers_IsRefused(int vcpus, int migrations, string vcpuOfTask, string where, string problem)
    {
        // The ninth task would never be the first pick (ScheduleChoice.MaxAlternatives): a pass would not be exhaustive.
        var e = Assert.Throws<InputException>(() => ModelFile.Parse(Crowded(vcpus, migrations, vcpuOfTask), "m.yaml"));
        Assert.StartsWith(where + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EightTasksOnEachVcpu_IsAccepted() =>
        Assert.Equal(16, ModelFile.Parse(Crowded(2, 0, "0,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1"), "m.yaml").Model.Build("sync").Tasks.Count);

    [Fact]
    public void FailingInvariant_GivesShortestCounterexample()
    {
        var file = ModelFile.Parse(OneFault, "one.yaml");
        var request = CheckRequest.ForFile(file, "kvm-pf-int", [], ["nobody-sleeps"]);
        var outcome = ModelCheck.Run(request, Options());
        Assert.Equal(Verdict.Violation, outcome.Result.Verdict);
        var v = Assert.Single(outcome.Violations);
        Assert.Equal("nobody-sleeps", v.Violation.Property);
        Assert.Equal(ViolationKind.Safety, v.Violation.Kind);
        Assert.Equal("vexlab check one.yaml --protocol kvm-pf-int --property nobody-sleeps", v.Replay);

        // No shorter path reaches a sleeping task.
        var n = v.Violation.Actions.Count;
        var shorter = ModelCheck.Run(request, Options(n - 1));
        Assert.Empty(shorter.Violations);
    }

    // The checker judges invariants on the states transitions reach: one the initial state breaks would blame the
    // first step for a state it did not make. Not selected (another --property), it is not judged, so not refused.
    [Theory]
    [InlineData("exited == 1", "nobody", true)]
    [InlineData("exited == 1", "no-deadlock", false)]
    [InlineData("exited == 0 or exited == 1", "nobody", false)]
    public void Invariant_FalseInTheInitialState_IsRefusedAtItsPlace(string expr, string property, bool refused)
    {
        var yaml = $"vcpus: 1\npages: 1\nhost_absent: [0]\ninvariants:\n  - {{name: nobody, expr: \"{expr}\"}}\ntasks:\n  - {{name: a, mode: user, program: \"touch 0\"}}\n";
        var request = CheckRequest.ForFile(ModelFile.Parse(yaml, "m.yaml"), "sync", [], [property]);
        if (!refused)
        {
            ModelCheck.BuildSystem(request).Dispose();
            return;
        }

        var e = Assert.Throws<InputException>(() => ModelCheck.BuildSystem(request));
        Assert.Equal($"m.yaml:5:26: invariants[0].expr: invariant nobody ('{expr}') is false in the initial state, before any step; an invariant must hold there", e.Message);
    }

    [Fact]
    public void HoldingInvariant_Passes()
    {
        var file = ModelFile.Parse(OneFault, "one.yaml");
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, "kvm-pf-int", [], ["vcpu-alive"]), Options());
        Assert.Equal(Verdict.Pass, outcome.Result.Verdict);
        var sync = ModelCheck.Run(CheckRequest.ForFile(file, "sync", [], ["nobody-sleeps"]), Options());
        Assert.Equal(Verdict.Pass, sync.Result.Verdict);
    }

    [Fact]
    public void Invariants_RunBesideBuiltinProperties()
    {
        var file = ModelFile.Parse(Good, "two.yaml");
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, "kvm-pf-int", [], []), Options());
        Assert.DoesNotContain(outcome.Violations, v => v.Violation.Property == "one-sleeper");
    }

    /// <summary>and, or, not and implication: a halted vCPU implies a waiting task; precedence and parentheses.</summary>
    [Theory]
    [InlineData("vcpu0.halted_in_host == 1 => sleeping == 0", "kvm-pf-int", true)]
    [InlineData("not (sleeping > 0 and vcpu0.if == 0)", "kvm-pf-int", false)]
    [InlineData("not (sleeping > 0 and vcpu0.if == 0)", "sync", true)]
    [InlineData("sleeping == 0 or exited == 1", "kvm-pf-int", false)]
    [InlineData("sleeping == 0 or exited == 1", "sync", true)]
    [InlineData("not sleeping == 0 => killed == 0", "kvm-pf-int", true)]
    public void BooleanInvariants_AreJudged(string expr, string protocol, bool holds)
    {
        var yaml = $"vcpus: 1\npages: 1\nhost_absent: [0]\ntasks:\n  - {{name: u, mode: user, program: \"touch 0\"}}\ninvariants:\n  - {{name: x, expr: \"{expr}\"}}\n";
        var file = ModelFile.Parse(yaml, "b.yaml");
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, protocol, [], ["x"]), Options());
        Assert.Equal(holds ? Verdict.Pass : Verdict.Violation, outcome.Result.Verdict);
    }

    /// <summary>A program can enable the LAPIC at a point (2f15d027c05f's situation) and NMIs can be pinned to one vCPU.</summary>
    [Fact]
    public void LapicEnableOp_AndPinnedNmi()
    {
        const string yaml = """
            vcpus: 2
            pages: 1
            nmi_vcpu: 1
            bounds: {nmis: 1}
            knobs: {guest.lapic.enabled_at_apf_enable: false}
            tasks:
              - {name: init, mode: kernel, vcpu: 0, program: "lapic-enable"}
            """;
        var file = ModelFile.Parse(yaml, "l.yaml");
        var config = file.Model.Build("kvm-pf-int");
        Assert.Equal(MicroOp.LapicEnable, config.Tasks[0].Program.Code[0].Op);
        Assert.Equal(1, config.NmiVcpu);
        var m = new Model.Machine.Machine(config);
        var buffer = new MachineAction[m.MaxActions];
        var n = m.EnabledActions(buffer);
        Assert.DoesNotContain(buffer[..n], a => a.Kind == ActionKind.RaiseNmi && a.Vcpu == 0);
        Assert.Contains(buffer[..n], a => a.Kind == ActionKind.RaiseNmi && a.Vcpu == 1);
    }

    /// <summary>
    /// Model files reach the lifecycle events: an SMI (B4, ab4e41eb9fab), INIT to an offline
    /// vCPU (kvm_vcpu_reset) and the VM's teardown (B7, 3d75b8aa5c29), each bounded.
    /// </summary>
    [Theory]
    [InlineData("smis", "host.apf.flush_on_cr0_pg: true", "no-lost-wakeup", Verdict.Violation)]
    [InlineData("smis", "host.apf.flush_on_cr0_pg: false", "no-lost-wakeup", Verdict.Pass)]
    [InlineData("teardowns", "host.apf.flush_work_on_destroy: false", "no-work-after-destroy", Verdict.Violation)]
    [InlineData("teardowns", "host.apf.flush_work_on_destroy: true", "no-work-after-destroy", Verdict.Pass)]
    [InlineData("inits", "host.apf.max_per_vcpu: 64", "no-lost-wakeup", Verdict.Pass)]
    public void LifecycleBounds_ReachTheirEvents(string bound, string knob, string property, Verdict verdict)
    {
        // INIT goes only to a vCPU its hotplug thread took down (sched_cpu_deactivate, then the APF disable of
        // kvm_cpu_down_prepare): vCPU 1 runs that thread.
        var offline = bound == "inits" ? "  - {name: offline, mode: kernel, vcpu: 1, program: \"cli; apf-disable; sti\"}\n" : string.Empty;
        var yaml = $"vcpus: 2\npages: 1\nhost_absent: [0]\nbounds: {{{bound}: 1}}\nknobs: {{{knob}}}\ntasks:\n  - {{name: u, mode: user, vcpu: 0, program: \"touch 0\"}}\n{offline}";
        var file = ModelFile.Parse(yaml, "life.yaml");
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, "kvm-pf-int", [], [property]), Options());
        Assert.Equal(verdict, outcome.Result.Verdict);
        var kind = bound switch { "smis" => ActionKind.Smi, "inits" => ActionKind.Init, _ => ActionKind.Teardown };
        Assert.Contains(outcome.Result.Coverage, c => c.Kind == kind.ToString() && c.Transitions > 0);
    }

    /// <summary>
    /// Tasks migrate (the load balancer, bounded by `migrations`), but the waiter still queues with
    /// interrupts off on the vCPU that took the not-present event, which is where KVM raises its
    /// page-ready: without ready_target=any neither B9 (no dummies) nor B8 (no re-lookup) is reached.
    /// </summary>
    [Theory]
    [InlineData("guest.apf.dummy_entries: false", "no-lost-wakeup")]
    [InlineData("guest.apf.recheck_before_dummy_insert: false", "one-node-per-token")]
    public void Migration_DoesNotReachB8OrB9WithSameVcpuPageReady(string knob, string property)
    {
        var yaml = $"vcpus: 2\npages: 2\nhost_absent: [0, 1]\nbounds: {{migrations: 2}}\nknobs: {{{knob}}}\ntasks:\n  - {{name: a, mode: user, vcpu: 0, program: \"touch 0\"}}\n  - {{name: b, mode: user, vcpu: 0, program: \"touch 1; touch 0\"}}\n";
        var file = ModelFile.Parse(yaml, "migrate.yaml");
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, "kvm-pf-int", [], [property]), Options());
        Assert.Equal(Verdict.Pass, outcome.Result.Verdict);
        Assert.Contains(outcome.Result.Coverage, c => c.Kind == nameof(ActionKind.Migrate) && c.Transitions > 0);
        var anyTarget = ModelCheck.Run(CheckRequest.ForFile(file, "kvm-pf-int", [new("host.apf.ready_target", "any")], [property]), Options());
        Assert.Equal(Verdict.Violation, anyTarget.Result.Verdict);
    }
}
