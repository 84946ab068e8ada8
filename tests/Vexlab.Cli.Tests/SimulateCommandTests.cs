using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

public sealed class SimulateCommandTests : IDisposable
{
    // Every file a test writes goes in here and goes with the test: the scenarios and traces used to stay in /tmp.
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-simulate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteScenario(string yaml)
    {
        var path = Path.Combine(_dir, "s-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string Good = "name: t\nduration: 20ms\nguest:\n  vcpus: 1\n  memory: 4MiB\nregions:\n  - name: data\n    size: 1MiB\n    absent: 50%\ntasks:\n  - name: w\n    loop: touch data random; compute 5\n";

    [Fact]
    public void Run_Json_HasTheDocumentedFields()
    {
        var result = CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "ve", "--duration", "20ms", "--json");
        Assert.Equal(0, result.ExitCode);
        var doc = JsonNode.Parse(result.Stdout)!.AsObject();
        foreach (var key in new[] { "scenario", "protocol", "variant", "seed", "replay", "simulated_ns", "events", "digest", "work_done", "guest", "signals", "fault_latency_ns", "vcpu_ns", "exits", "injected", "timing" })
        {
            Assert.True(doc.ContainsKey(key), key);
        }

        Assert.Equal("running", doc["guest"]!["outcome"]!.GetValue<string>());
        Assert.Contains("replay: vexlab run --builtin swap-overcommit --protocol ve", result.Stderr);
    }

    [Fact]
    public void Run_SameArguments_IdenticalOutsideTiming()
    {
        string Strip(string json)
        {
            var o = JsonNode.Parse(json)!.AsObject();
            o.Remove("timing");
            return o.ToJsonString();
        }

        var a = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "20ms", "--json");
        var b = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "20ms", "--json");
        Assert.Equal(Strip(a.Stdout), Strip(b.Stdout));
    }

    [Theory]
    [InlineData("a b.yaml", "'{0}'")]
    [InlineData("it's.yaml", "'{0}'")]
    [InlineData("plain.yaml", "{0}")]
    public void Run_replay_names_the_scenario_file_as_one_shell_word(string name, string shown)
    {
        // The line is pasted into a shell: a path with a space or a quote, written as is, named other files.
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "replay")).FullName;
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, Good);
        var result = CliRunner.Run("run", path, "--protocol", "sync", "--json");
        Assert.Equal(0, result.ExitCode);
        var word = string.Format(System.Globalization.CultureInfo.InvariantCulture, shown, path.Replace("'", "'\\''", StringComparison.Ordinal));
        var json = JsonNode.Parse(result.Stdout)!;
        var hash = json["scenario_hash"]!.GetValue<string>()[..12];
        Assert.Equal("vexlab run " + word + " --protocol sync --seed 1 --duration 20ms --scenario-hash " + hash, json["replay"]!.GetValue<string>());
    }

    [Fact]
    public void Compare_Json_OneResultPerEntry_AndSeeds()
    {
        var result = CliRunner.Run("compare", "--builtin", "kernel-heavy", "--protocols", "kvm-pf-int,ve,ve[guest.ve.can_continue=user-or-preemptible-kernel]", "--duration", "20ms", "--seeds", "2", "--json");
        Assert.Equal(0, result.ExitCode);
        var results = JsonNode.Parse(result.Stdout)!["results"]!.AsArray();
        Assert.Equal(3, results.Count);
        Assert.Equal(2, results[0]!["seeds"]!.AsArray().Count);
        Assert.NotNull(results[2]!["work_done"]!["ci95"]);
    }

    // Each column is its replay line's run, knobs of the other protocols left out of both (a kvm-pf-int column under
    // --set guest.ve.can_continue carried that knob in its scenario_hash) and an entry's own knobs kept in its label
    // (replayed as --protocol ve --set ..., the variant was "ve").
    [Fact]
    public void Compare_EachColumn_IsItsReplayLinesRun()
    {
        var compare = CliRunner.Run("compare", "--builtin", "postcopy", "--protocols", "kvm-pf-int,ve,ve[guest.ve.clear_busy=after-hypercall]", "--set", "guest.ve.can_continue=always", "--duration", "1ms", "--json", "-");
        Assert.True(compare.ExitCode == 0, compare.Stderr);
        foreach (var column in JsonNode.Parse(compare.Stdout)!["results"]!.AsArray())
        {
            // The line as a shell splits it: words, or '...' quoted ones.
            var replay = column!["replay"]!.GetValue<string>();
            var words = System.Text.RegularExpressions.Regex.Matches(replay, "'[^']*'|\\S+").Select(m => m.Value.Trim('\'')).ToArray();
            var run = CliRunner.Run([.. words[1..], "--json", "-"]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            var replayed = JsonNode.Parse(run.Stdout)!;
            foreach (var key in new[] { "scenario_hash", "variant", "digest" })
            {
                Assert.Equal(column[key]!.GetValue<string>(), replayed[key]!.GetValue<string>());
            }
        }
    }

    [Fact]
    public void Compare_Table_HasAColumnPerProtocol()
    {
        var result = CliRunner.Run("compare", "--duration", "20ms");
        Assert.Equal(0, result.ExitCode);
        foreach (var p in new[] { "sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve", "fault p99.9", "vCPU stalled in host", "guest outcome" })
        {
            Assert.Contains(p, result.Stdout);
        }
    }

    [Fact]
    public void Set_OfAKnobNoListedProtocolUses_IsAnError()
    {
        var result = CliRunner.Run("compare", "--protocols", "sync,ve", "--duration", "10ms", "--set", "host.apf.report_errors=true");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("host.apf.report_errors", result.Stderr);
        var applies = CliRunner.Run("compare", "--protocols", "sync,kvm-pf-int", "--duration", "10ms", "--set", "host.apf.report_errors=true");
        Assert.Equal(0, applies.ExitCode);
    }

    [Fact]
    public void Tick_of_one_second_runs_and_longer_is_refused()
    {
        // A tick past 1 s once overflowed the EEVDF lag limit (tick x NICE_0_LOAD) into an internal error.
        var longest = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "3s", "--set", "guest.tick=1s");
        Assert.Equal(0, longest.ExitCode);
        var over = CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "ve", "--duration", "100us", "--set", "guest.tick=1001ms");
        Assert.Equal(2, over.ExitCode);
        Assert.Equal("vexlab: --set: guest.tick: must be at most 1s, got 1001ms\n", over.Stderr);
    }

    [Fact]
    public void Scenarios_ListAndShow()
    {
        var list = CliRunner.Run("scenarios", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("dax-truncate", list.Stdout);
        var show = CliRunner.Run("scenarios", "show", "swap-overcommit");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("memory_limit", show.Stdout);
    }

    [Fact]
    public void Validate_GoodFile()
    {
        var path = WriteScenario(Good);
        var result = CliRunner.Run("validate", path);
        Assert.Equal(0, result.ExitCode);
    }

    [Theory]
    [InlineData("guest:\n  vcpus: 1\n  memroy: 4MiB\n", 3, 3, "guest.memroy")]
    [InlineData("guest:\n  vcpus: many\n", 2, 10, "guest.vcpus")]
    [InlineData("guest:\n  memory: 0\n", 2, 11, "guest.memory")]
    [InlineData("guest:\n  memory: 4MiB\nregions:\n  - name: big\n    size: 8MiB\n", 5, 11, "size")]
    [InlineData("guest:\n  vcpus: 2\ntasks:\n  - name: t\n    vcpu: 3\n    loop: compute 1\n", 5, 11, "vcpu")]
    [InlineData("regions:\n  - name: r\n    size: -4KiB\n", 3, 11, "size")]
    [InlineData("guest:\n  tick: 8806316530991104us\n", 2, 9, "guest.tick")]
    public void BadScenario_IsOneLineWithFileLineColumn_Exit2(string yaml, int line, int column, string key)
    {
        var path = WriteScenario(yaml);
        var result = CliRunner.Run("validate", path);
        Assert.Equal(2, result.ExitCode);
        var message = result.Stderr.TrimEnd('\n');
        Assert.Single(message.Split('\n'));
        Assert.Contains($"{path}:{line}:{column}", message);
        Assert.Contains(key, message);
    }

    // Regions that outgrow guest memory say by how much: the region, where it ends (whole guest pages) and the memory.
    [Theory]
    [InlineData("regions:\n  - name: heap\n    size: 1GiB\n", ":3:11: regions[0].size: region heap (1GiB) ends at 1GiB, past guest.memory (64MiB); the regions take it in order, from its start")]
    [InlineData("guest:\n  memory: 1GiB\n  page_size: 2MiB\nregions:\n  - name: heap\n    size: 768MiB\n  - name: files\n    size: 257MiB\n",
        ":8:11: regions[1].size: region files (257MiB) ends at 1026MiB, past guest.memory (1GiB); the regions take it in order, from its start")]
    public void Regions_past_guest_memory_say_where_they_end(string yaml, string expected)
    {
        var path = WriteScenario(yaml);
        var result = CliRunner.Run("validate", path);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {path}{expected}\n", result.Stderr);
    }

    // A model page is a whole number of 4 KiB pages and guest memory a whole number of model pages: a remainder used to
    // be dropped without a word (8GiB of 3MiB pages ran 2,730 pages).
    [Theory]
    [InlineData("guest:\n  memory: 8GiB\n  page_size: 3MiB\n", ":2:11: guest.memory: must be a whole number of guest.page_size (3MiB) pages, got 8GiB: 2,730 pages and 2MiB")]
    [InlineData("guest:\n  memory: 8193MiB\n  page_size: 2MiB\n", ":2:11: guest.memory: must be a whole number of guest.page_size (2MiB) pages, got 8193MiB: 4,096 pages and 1MiB")]
    [InlineData("guest:\n  page_size: 6KiB\n", ":2:14: guest.page_size: must be a whole number of 4 KiB pages, got 6KiB")]
    [InlineData("guest:\n  memory: 12MiB\n  page_size: 3MiB\n", null)]
    // The machine's limit on tasks (Machine.MaxTasks, idle tasks included) is blamed on the task group that passes it.
    [InlineData("guest:\n  vcpus: 64\ntasks:\n  - name: a\n    count: 90\n    loop: compute 1\n  - name: b\n    count: 100\n    loop: compute 1\n", ":8:12: tasks[1].count: 190 task instances up to here and the 64 vCPUs' idle tasks make 254; at most 250 together")]
    [InlineData("guest:\n  vcpus: 64\ntasks:\n  - name: a\n    count: 186\n    loop: compute 1\n", null)]
    public void Memory_page_size_and_task_counts_fit_the_model(string yaml, string? expected) => AssertValidation(yaml, expected);

    // A host event with two times, a time past the run's end, or a truncation with no DAX region to truncate
    // used to be taken without a word (the first time won; the event never happened; nothing was truncated).
    [Theory]
    [InlineData("duration: 100ms\nregions:\n  - {name: f, size: 1MiB, backing: dax}\nhost:\n  events:\n    - kind: truncate\n      at: 10ms\n      at_fraction: 0.5\n",
        ":7:11: host.events[0].at: give at or at_fraction, not both (at_fraction is set too)")]
    [InlineData("duration: 100ms\nregions:\n  - {name: f, size: 1MiB, backing: dax}\nhost:\n  events:\n    - kind: truncate\n      at: 101ms\n",
        ":7:11: host.events[0].at: 101ms is past the run's end (duration 100ms): the event would never happen")]
    [InlineData("duration: 100ms\nregions:\n  - {name: f, size: 1MiB}\nhost:\n  events:\n    - kind: truncate\n      at: 10ms\n",
        ":6:13: host.events[0].kind: truncate needs a region with backing: dax, and no region has it")]
    [InlineData("duration: 100ms\nregions:\n  - {name: f, size: 1MiB, backing: dax}\nhost:\n  events:\n    - kind: truncate\n      at: 100ms\n    - kind: reenable\n      at_fraction: 1\n", null)]
    public void Host_events_happen_in_the_run(string yaml, string? expected) => AssertValidation(yaml, expected);

    // guest.tick: 0 beside two tasks on one vCPU used to run without a word, and the task that did not
    // win at wakeup never ran again (a sleeper beside a computing task: 1 pass in 50 ms, against 47 with
    // the 4 ms tick). Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick).
    [Theory]
    [InlineData("guest:\n  tick: 0\ntasks:\n  - name: cpu\n    loop: compute 100us\n  - name: sleeper\n    loop: sleep 1ms; compute 10us\n",
        ":2:9: guest.tick: 0 (no tick) needs at most one task per vCPU, and vCPU 0 runs 2 (cpu, sleeper): Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick), and without it a task that does not preempt at wakeup never runs; give a period such as 4ms")]
    [InlineData("guest:\n  vcpus: 2\n  tick: 0\ntasks:\n  - name: w\n    count: 3\n    loop: compute 1\n",
        ":3:9: guest.tick: 0 (no tick) needs at most one task per vCPU, and vCPU 0 runs 2 (w x2): Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick), and without it a task that does not preempt at wakeup never runs; give a period such as 4ms")]
    [InlineData("guest:\n  vcpus: 2\n  tick: 0\ntasks:\n  - {name: a, vcpu: 1, loop: compute 1}\n  - {name: b, vcpu: 1, loop: compute 1}\n",
        ":3:9: guest.tick: 0 (no tick) needs at most one task per vCPU, and vCPU 1 runs 2 (a, b): Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick), and without it a task that does not preempt at wakeup never runs; give a period such as 4ms")]
    [InlineData("guest:\n  vcpus: 2\n  tick: 0\ntasks:\n  - name: cpu\n    loop: compute 100us\n  - name: sleeper\n    loop: sleep 1ms; compute 10us\n", null)]
    [InlineData("guest:\n  tick: 4ms\ntasks:\n  - name: cpu\n    loop: compute 100us\n  - name: sleeper\n    loop: sleep 1ms; compute 10us\n", null)]
    public void No_tick_needs_one_task_per_vcpu(string yaml, string? expected) => AssertValidation(yaml, expected);

    // guest.tick_jitter is a delivery latency within the tick's period: one as long as the period would let a tick
    // pass the next one's grid time.
    [Theory]
    [InlineData("guest:\n  tick: 1ms\n  tick_jitter: 1ms\ntasks:\n  - name: cpu\n    loop: compute 100us\n",
        ":3:16: guest.tick_jitter: 1ms is not below guest.tick (1ms): a tick comes within its period, before the next one's grid time")]
    [InlineData("guest:\n  tick: 1ms\n  tick_jitter: 999us\ntasks:\n  - name: cpu\n    loop: compute 100us\n", null)]
    [InlineData("guest:\n  tick: 0\n  tick_jitter: 5ms\ntasks:\n  - name: cpu\n    loop: compute 100us\n", null)]
    public void The_tick_jitter_stays_below_the_tick(string yaml, string? expected) => AssertValidation(yaml, expected);

    [Fact]
    public void No_tick_set_on_a_shared_vcpu_is_refused()
    {
        var result = CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "1ms", "--set", "guest.tick=0");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: --set: guest.tick: 0 (no tick) needs at most one task per vCPU, and vCPU 0 runs 2 (mem, cpu):", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    // host.hz: 0 with host.pcpus below guest.vcpus used to run with the default slice rounded up to a
    // 1 ms tick, as at HZ=1000, on a host with no tick at all. Linux keeps the tick on a pCPU with two
    // runnable threads (sched_can_stop_tick), and without HRTICK that tick is what ends a slice. An
    // explicit host.sched.slice was still taken, and the threads swapped every 2 ms on a host with
    // nothing to end a slice: it is the request (se->slice), which only the tick finds used up.
    [Theory]
    [InlineData("guest:\n  vcpus: 2\nhost:\n  hz: 0\n  pcpus: 1\ntasks:\n  - name: w\n    count: 2\n    loop: compute 1\n",
        ":4:7: host.hz: 0 (no host tick) needs a pCPU per vCPU thread, and host.pcpus 1 is below guest.vcpus 2: Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick), and without HRTICK only the tick or another thread's wakeup ends a thread's slice, an explicit host.sched.slice included, so CPU-bound threads would never swap; give a HZ such as 250")]
    [InlineData("guest:\n  vcpus: 2\nhost:\n  hz: 0\n  pcpus: 2\ntasks:\n  - name: w\n    count: 2\n    loop: compute 1\n", null)]
    [InlineData("guest:\n  vcpus: 2\nhost:\n  hz: 0\ntasks:\n  - name: w\n    count: 2\n    loop: compute 1\n", null)]
    [InlineData("guest:\n  vcpus: 2\nhost:\n  hz: 0\n  pcpus: 1\n  sched:\n    slice: 2ms\ntasks:\n  - name: w\n    count: 2\n    loop: compute 1\n",
        ":4:7: host.hz: 0 (no host tick) needs a pCPU per vCPU thread, and host.pcpus 1 is below guest.vcpus 2: Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick), and without HRTICK only the tick or another thread's wakeup ends a thread's slice, an explicit host.sched.slice included, so CPU-bound threads would never swap; give a HZ such as 250")]
    [InlineData("guest:\n  vcpus: 2\nhost:\n  hz: 0\n  pcpus: 2\n  sched:\n    slice: 2ms\ntasks:\n  - name: w\n    count: 2\n    loop: compute 1\n", null)]
    [InlineData("guest:\n  vcpus: 2\nhost:\n  hz: 250\n  pcpus: 1\ntasks:\n  - name: w\n    count: 2\n    loop: compute 1\n", null)]
    public void No_host_tick_needs_a_pcpu_per_vcpu(string yaml, string? expected) => AssertValidation(yaml, expected);

    [Fact]
    public void No_host_tick_set_on_shared_pcpus_is_refused()
    {
        var result = CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "1ms",
            "--set", "guest.vcpus=2", "--set", "host.pcpus=1", "--set", "host.hz=0");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: --set: host.hz: 0 (no host tick) needs a pCPU per vCPU thread, and host.pcpus 1 is below guest.vcpus 2:", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void No_host_tick_with_an_explicit_slice_on_shared_pcpus_is_refused()
    {
        var result = CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "1ms",
            "--set", "guest.vcpus=2", "--set", "host.pcpus=1", "--set", "host.hz=0", "--set", "host.sched.slice=2ms");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: --set: host.hz: 0 (no host tick) needs a pCPU per vCPU thread, and host.pcpus 1 is below guest.vcpus 2:", result.Stderr);
        Assert.Contains("an explicit host.sched.slice included", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    /// <summary>validate on <paramref name="yaml"/>: exit 0 when <paramref name="expected"/> is null, else exit 2 and that one line after the file's name.</summary>
    // The host's default slice was scaled by host.pcpus, as if the host had only the pCPUs the vCPU
    // threads share online; get_update_sysctl_factor counts num_online_cpus(), the whole host's, now
    // host.online_cpus. Those include the shared pCPUs (or, with host.pcpus 0, one per vCPU thread):
    // fewer is a host that cannot run the scenario, refused at the key's line.
    [Theory]
    [InlineData("guest:\n  vcpus: 2\nhost:\n  pcpus: 4\n  online_cpus: 2\n",
        ":5:16: host.online_cpus: 2 is below host.pcpus 4: the host's online CPUs include the pCPUs the vCPU threads share; give at least 4")]
    [InlineData("guest:\n  vcpus: 4\nhost:\n  online_cpus: 2\n",
        ":4:16: host.online_cpus: 2 is below guest.vcpus 4, and host.pcpus 0 gives each vCPU thread a pCPU of its own: the host's online CPUs include them; give at least 4, or set host.pcpus")]
    [InlineData("guest:\n  vcpus: 4\nhost:\n  pcpus: 2\n  online_cpus: 2\n", null)]
    [InlineData("guest:\n  vcpus: 4\nhost:\n  online_cpus: 4\n", null)]
    [InlineData("guest:\n  vcpus: 4\nhost:\n  pcpus: 1\n", null)]
    public void Online_cpus_hold_the_pcpus_the_vcpu_threads_use(string yaml, string? expected) => AssertValidation(yaml, expected);

    [Fact]
    public void Online_cpus_below_the_pcpus_set_on_the_command_line_are_refused()
    {
        var result = CliRunner.Run("run", "--builtin", "swap-overcommit", "--protocol", "sync", "--duration", "1ms",
            "--set", "guest.vcpus=4", "--set", "host.pcpus=2", "--set", "host.online_cpus=1");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vexlab: --set: host.online_cpus: 1 is below host.pcpus 2: the host's online CPUs include the pCPUs the vCPU threads share; give at least 2\n", result.Stderr);
    }

    private void AssertValidation(string yaml, string? expected)
    {
        var path = WriteScenario(yaml);
        var result = CliRunner.Run("validate", path);
        if (expected is null)
        {
            Assert.Equal(0, result.ExitCode);
            return;
        }

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {path}{expected}\n", result.Stderr);
    }

    [Fact]
    public void Run_TraceFiles_AreWritten()
    {
        var json = Path.Combine(_dir, "trace.json");
        var text = Path.Combine(_dir, "trace.txt");
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "5ms", "--trace", json).ExitCode);
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(json))!["traceEvents"]);
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "kvm-pf-int", "--duration", "5ms", "--trace", text, "--trace-format", "ftrace", "--exits").ExitCode);
        Assert.Contains("kvm_exit:             vcpu", File.ReadAllText(text));
    }
}
