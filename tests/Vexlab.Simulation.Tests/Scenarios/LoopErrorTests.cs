using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Simulation.Tests.Scenarios;

/// <summary>
/// A mistyped word in a task's loop (op, region, addressing) or a backing store's name is refused at its place with
/// the nearest word and the words it could be (NearestName.Unknown).
/// </summary>
public sealed class LoopErrorTests
{
    [Theory]
    [InlineData("compute 10; tuch heap random", "s.yaml:6:11: tasks[0].loop: op 'tuch heap random': unknown op 'tuch'; did you mean touch? (expected one of compute, touch, read, write, alloc, free, sleep, irq-off, irq-on, preempt-off, preempt-on, yield)")]
    [InlineData("compute 10; touch hep random", "s.yaml:6:11: tasks[0].loop: op 'touch hep random': unknown region 'hep'; did you mean heap? (expected one of heap, files)")]
    [InlineData("compute 10; read zzz random", "s.yaml:6:11: tasks[0].loop: op 'read zzz random': unknown region 'zzz' (expected one of heap, files)")]
    [InlineData("compute 10; touch heap sequentail", "s.yaml:6:11: tasks[0].loop: op 'touch heap sequentail': unknown addressing 'sequentail'; did you mean sequential? (expected one of sequential, random)")]
    public void A_mistyped_loop_word_is_refused_with_the_nearest(string loop, string expected)
    {
        var yaml = $"guest:\n  vcpus: 1\n  memory: 256MiB\ntasks:\n  - name: a\n    loop: {loop}\nregions:\n  - name: heap\n    size: 64MiB\n  - name: files\n    size: 64MiB\n";
        var e = Assert.Throws<InputException>(() => Prepare(yaml));
        Assert.Equal(expected, e.Message);
    }

    // A scenario without regions has no names to offer: the list "(expected one of )" read as a cut message.
    [Theory]
    [InlineData("touch nowhere sequential")]
    [InlineData("compute 10; read nowhere random")]
    public void A_region_named_in_a_scenario_without_regions_says_there_are_none(string loop)
    {
        var yaml = $"guest:\n  vcpus: 1\n  memory: 256MiB\ntasks:\n  - name: a\n    loop: {loop}\n";
        var e = Assert.Throws<InputException>(() => Prepare(yaml));
        Assert.EndsWith("unknown region 'nowhere': the scenario defines no regions (add one under regions, with a name and a size)", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("s.yaml:6:11: tasks[0].loop: op '", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("compute 10 20", "op 'compute 10 20': unexpected '20'; expected compute [N|DURATION]")]
    [InlineData("compute 10ms 5", "op 'compute 10ms 5': unexpected '5'; expected compute [N|DURATION]")]
    [InlineData("read heap random 3 junk", "op 'read heap random 3 junk': unexpected 'junk'; expected read REGION sequential|random [N]")]
    [InlineData("write heap random 2 store", "op 'write heap random 2 store': unexpected 'store'; expected write REGION sequential|random [N]")]
    [InlineData("alloc heap 5", "op 'alloc heap 5': unexpected '5'; expected alloc REGION")]
    [InlineData("free heap heap", "op 'free heap heap': unexpected 'heap'; expected free REGION")]
    [InlineData("sleep 1ms 5ms", "op 'sleep 1ms 5ms': unexpected '5ms'; expected sleep DURATION")]
    [InlineData("yield 3", "op 'yield 3': unexpected '3'; expected yield")]
    [InlineData("preempt-off now; preempt-on", "op 'preempt-off now': unexpected 'now'; expected preempt-off")]
    // TaskPrivilege: a user task (the default mode) runs at CPL 3, where CLI and STI fault (SDM Vol. 2A).
    [InlineData("compute 10; irq-off; compute 5; irq-on", "op 'irq-off': a user task cannot run 'irq-off' (a kernel-only op); give the task mode: kernel")]
    [InlineData("preempt-off; compute 5; preempt-on", "op 'preempt-off': a user task cannot run 'preempt-off' (a kernel-only op); give the task mode: kernel")]
    public void A_word_past_an_ops_operands_is_refused(string loop, string expected)
    {
        var yaml = $"guest:\n  vcpus: 1\n  memory: 256MiB\ntasks:\n  - name: a\n    loop: {loop}\nregions:\n  - name: heap\n    size: 64MiB\n  - name: files\n    size: 64MiB\n";
        var e = Assert.Throws<InputException>(() => Prepare(yaml));
        Assert.Equal("s.yaml:6:11: tasks[0].loop: " + expected, e.Message);
    }

    // A count past its range says so, as guest.vcpus: 99999999999999999999 does ("out of range"), not what a count
    // looks like: the digits were a count.
    [Theory]
    [InlineData("compute 99999999999999999999", "op 'compute 99999999999999999999': count '99999999999999999999' is out of range: expected 1..9223372036854775807 compute units")]
    [InlineData("compute 9_223_372_036_854_775_808", "op 'compute 9_223_372_036_854_775_808': count '9_223_372_036_854_775_808' is out of range: expected 1..9223372036854775807 compute units")]
    [InlineData("compute 0", "op 'compute 0': count '0' is out of range: expected 1..9223372036854775807 compute units")]
    [InlineData("touch heap random 99999999999999999999", "op 'touch heap random 99999999999999999999': count '99999999999999999999' is out of range: expected 1..64")]
    [InlineData("touch heap random 65", "op 'touch heap random 65': count '65' is out of range: expected 1..64")]
    [InlineData("touch heap random many", "op 'touch heap random many': expected a count 1..64")]
    public void A_count_out_of_range_says_so_at_its_place(string loop, string expected)
    {
        var yaml = $"guest:\n  vcpus: 1\n  memory: 256MiB\ntasks:\n  - name: a\n    loop: {loop}\nregions:\n  - name: heap\n    size: 64MiB\n";
        var e = Assert.Throws<InputException>(() => Prepare(yaml));
        Assert.Equal("s.yaml:6:11: tasks[0].loop: " + expected, e.Message);
    }

    // docs/scenarios.md and docs/limits.md: a loop holds at most 248 ops, 247 with arrivals: the guest program's
    // 250 instructions (ScenarioBuilder.MaxProgram) less the pass's end and the jump back, and the request an
    // arrivals task takes. The docs had said 250 ops; then the refusal still said "longer than 250 ops" for 249.
    [Theory]
    [InlineData("", 248, "")]
    [InlineData("    arrivals: poisson 1000/s\n", 247, " with arrivals")]
    public void A_loop_holds_at_most_250_instructions_with_its_end_and_jump(string arrivals, int most, string with)
    {
        static string Yaml(string arrivals, int ops) =>
            $"guest:\n  vcpus: 1\ntasks:\n  - name: a\n{arrivals}    loop: {string.Join("; ", Enumerable.Repeat("compute", ops))}\n";

        Prepare(Yaml(arrivals, most));
        var e = Assert.Throws<InputException>(() => Prepare(Yaml(arrivals, most + 1)));
        Assert.Equal($"s.yaml:{(arrivals.Length == 0 ? 5 : 6)}:11: tasks[0].loop: the loop has {most + 1} ops; at most {most}{with}", e.Message);
    }

    // A touch of N pages is N instructions, so the count is not the number of ';'-separated ops: the message says so.
    [Fact]
    public void A_loop_of_many_touches_counts_each_page()
    {
        var loop = string.Join("; ", Enumerable.Repeat("touch heap random 64", 3)) + "; " + string.Join("; ", Enumerable.Repeat("compute", 57));
        var yaml = $"guest:\n  vcpus: 1\n  memory: 256MiB\ntasks:\n  - name: a\n    loop: {loop}\nregions:\n  - name: heap\n    size: 64MiB\n";
        var e = Assert.Throws<InputException>(() => Prepare(yaml));
        Assert.Equal("s.yaml:6:11: tasks[0].loop: the loop has 249 ops (a touch, read or write of N pages counts N ops, and a user task's read or write 2 more to enter and leave the kernel); at most 248", e.Message);
    }

    [Fact]
    public void A_bare_compute_is_one_unit()
    {
        // docs/scenarios.md: compute N is N x cost.compute_unit; without N, one.
        static SimulationResult Run(string loop)
        {
            var yaml = $"duration: 2ms\nguest:\n  vcpus: 1\n  memory: 256MiB\ntasks:\n  - name: a\n    loop: {loop}\n";
            var entry = Overrides.ParseProtocols("sync")[0];
            return ScenarioRunner.Run(ScenarioRunner.Prepare(ScenarioDocument.Parse(yaml, "s.yaml"), "s.yaml", entry, Overrides.ParseSets([]), [entry.Protocol]));
        }

        var bare = Run("compute");
        Assert.Equal(Run("compute 1").Tasks[0].WorkDone, bare.Tasks[0].WorkDone);
        Assert.True(bare.Tasks[0].WorkDone > 2 * Run("compute 2").Tasks[0].WorkDone * 9 / 10);
    }

    // Every store the simulator builds, but the sweeps' constant one, is one a scenario can name: postcopy-net-vanilla
    // was built and documented but refused as unknown.
    [Fact]
    public void Every_built_in_store_is_a_scenarios_host_backing()
    {
        Assert.Equal(BackingStore.KindNames.Where(n => n != "fixed"), ScenarioSchema.BackingKinds);
        foreach (var name in ScenarioSchema.BackingKinds)
        {
            Prepare($"guest:\n  vcpus: 1\nhost:\n  backing: {name}\ntasks:\n  - name: a\n    loop: compute 10\n");
        }
    }

    [Fact]
    public void A_mistyped_backing_store_is_refused_with_the_nearest()
    {
        var yaml = "guest:\n  vcpus: 1\nhost:\n  backing: postcopy-nett\ntasks:\n  - name: a\n    loop: compute 10\n";
        var e = Assert.Throws<InputException>(() => Prepare(yaml));
        Assert.StartsWith("s.yaml:4:12: host.backing: unknown backing store 'postcopy-nett'; did you mean postcopy-net? (built-ins: ", e.Message, StringComparison.Ordinal);
    }

    private static void Prepare(string yaml)
    {
        var document = ScenarioDocument.Parse(yaml, "s.yaml");
        var entry = Overrides.ParseProtocols("sync")[0];
        ScenarioRunner.Prepare(document, "s.yaml", entry, Overrides.ParseSets([]), [entry.Protocol]);
    }
}
