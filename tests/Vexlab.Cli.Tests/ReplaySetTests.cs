using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Vexlab.Checking;
using Vexlab.Checking.Models;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Costs;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>vexlab replay --set</c>: a counterexample replayed under other costs, another backing store or seed, or a knob of
/// its protocol; the JSON says what it used, its replay line gives the same JSON again, and it has run's vcpu_ns.
/// </summary>
public sealed partial class ReplaySetTests : IDisposable
{
    private const long SlowWakeNs = 100_000;

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-replay-set-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Counterexample(string model, string protocol, params string[] more)
    {
        var trace = Path.Combine(_dir, model + "-" + protocol + ".json");
        var check = CliRunner.Run(["check", "--builtin", model, "--protocol", protocol, "--trace", trace, .. more]);
        Assert.Equal(1, check.ExitCode);
        return trace;
    }

    private static JsonObject Replay(params string[] args)
    {
        var result = CliRunner.Run(["replay", .. args, "--json", "-"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    /// <summary>
    /// The wakes of halted vCPUs in the trace, as the step list writes them: a vCPU's <c>run</c> leaving GuestHalt (the
    /// idle HLT) or HostHalted (KVM's artificial halt).
    /// </summary>
    private static int HaltedWakes(string trace)
    {
        var file = JsonNode.Parse(File.ReadAllText(trace))!.AsObject();
        var config = BuiltinModels.Get((string)file["model"]!).Build((string)file["protocol"]!);
        var actions = file["actions"]!.AsArray().Select(a => (ulong)(uint)a!).ToList();
        return TraceDescriber.Describe(new Machine(config), actions)
            .Sum(step => step.Changes.Count(c => HaltEnds().IsMatch(c)));
    }

    [GeneratedRegex(@"^vCPU\d+\.run (GuestHalt|HostHalted)->")]
    private static partial Regex HaltEnds();

    // Under kvm-pf truncate's first counterexample (one-node-per-token) takes its page-ready at a host interrupt
    // (HostExit, bounds.host_exits), not at a halted vCPU's wake; nmi-window's deadlock trace halts and is woken.
    [Theory]
    [InlineData("truncate", "kvm-halt", null)]
    [InlineData("nmi-window", "kvm-pf", "no-deadlock")]
    public void A_slower_wake_adds_its_difference_as_host_exit_once_per_wake(string model, string protocol, string? property)
    {
        // Each wake of a halted vCPU is cost.wake_halted_vcpu of host_exit, from the wake to the vCPU's next step (the
        // replay's own charge, ReplayWakeLawTests): on these traces each woken vCPU's next step is the next step, so a
        // 100 us wake adds (100 us - the default) per wake, to the nanosecond, and moves no guest time. Before --set the
        // replay took no costs: it always charged the default.
        var trace = property is null ? Counterexample(model, protocol) : Counterexample(model, protocol, "--property", property);
        var wakes = HaltedWakes(trace);
        Assert.True(wakes > 0);
        var fast = Replay(trace);
        var slow = Replay(trace, "--set", $"cost.wake_halted_vcpu={SlowWakeNs / 1000}us");
        var perWake = SlowWakeNs - CostModel.Default.WakeHaltedVcpu;
        Assert.Equal(wakes * perWake, (long)slow["vcpu_ns"]!["host_exit"]! - (long)fast["vcpu_ns"]!["host_exit"]!);
        Assert.Equal(wakes * perWake, (long)slow["simulated_ns"]! - (long)fast["simulated_ns"]!);
        Assert.Equal((long)fast["vcpu_ns"]!["guest"]!, (long)slow["vcpu_ns"]!["guest"]!);
        foreach (var doc in new[] { fast, slow })
        {
            // One vCPU in these models: its split covers the whole replay, as a run's does.
            var split = doc["vcpu_ns"]!.AsObject().Sum(kv => (long)kv.Value!);
            Assert.Equal((long)doc["simulated_ns"]!, split);
        }

        Assert.Equal(new JsonObject { ["cost.wake_halted_vcpu"] = "100us" }.ToJsonString(), slow["settings"]!.ToJsonString());
        Assert.Equal("{}", fast["settings"]!.ToJsonString());
    }

    [Theory]
    [InlineData("cost.wake_haltd_vcpu=1us", "cost.wake_haltd_vcpu: unknown key; did you mean cost.wake_halted_vcpu?")]
    [InlineData("no.such.key=1", "no.such.key: unknown key")]
    [InlineData("host.hz=1000", "host.hz: a scenario key that a replay does not take")]
    [InlineData("guest.vcpus=2", "guest.vcpus: a scenario key that a replay does not take")]
    [InlineData("cost.wake_halted_vcpu=1xs", "cost.wake_halted_vcpu: expected a duration")]
    [InlineData("guest.apf.dummy_entries=false", "guest.apf.dummy_entries: ve does not use this knob")]
    [InlineData("host.backing=nvme", "host.backing: unknown backing store 'nvme'")]
    [InlineData("host.swap.page_cluster=0", "host.swap.page_cluster: a replay does not read this key: swap readahead reads the pages around one that host reclaim swapped out")]
    [InlineData("host.swap.queue_depth=-1", "host.swap.queue_depth: ")]
    public void A_key_the_replay_cannot_use_is_one_line_naming_it(string set, string expected)
    {
        var trace = Counterexample("nmi-host-fault", "ve");
        var result = CliRunner.Run("replay", trace, "--set", set, "--json", "-");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: --set: " + expected, result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void The_same_replay_twice_gives_the_same_json_and_its_replay_line_gives_it_again()
    {
        var trace = Counterexample("truncate", "kvm-halt");
        string[] sets = ["--set", "cost.wake_halted_vcpu=100us", "--set", "host.backing=rdma", "--set", "seed=7", "--set", "cost.vm_exit_entry=1500ns"];
        var first = CliRunner.Run(["replay", trace, .. sets, "--json", "-"]);
        var second = CliRunner.Run(["replay", trace, .. sets, "--json", "-"]);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(WithoutTiming(first.Stdout), WithoutTiming(second.Stdout));

        // The line names every setting as the replay used it, on stderr and in the JSON; run as written, it gives the
        // same JSON (the temporary path needs no quoting, so splitting at spaces is the shell's reading).
        var line = (string)JsonNode.Parse(first.Stdout)!["replay"]!;
        Assert.Equal($"vexlab replay {trace} --set cost.wake_halted_vcpu=100us --set host.backing=rdma --set seed=7 --set cost.vm_exit_entry=1500ns", line);
        Assert.Contains("vexlab: seed 7; replay: " + line + "\n", first.Stderr, StringComparison.Ordinal);
        Assert.Equal(7UL, (ulong)JsonNode.Parse(first.Stdout)!["seed"]!);
        var words = line.Split(' ')[1..];
        var again = CliRunner.Run([.. words, "--json", "-"]);
        Assert.Equal(WithoutTiming(first.Stdout), WithoutTiming(again.Stdout));

        // And the settings changed the replay: the defaults give another time.
        var plain = Replay(trace);
        Assert.NotEqual((long)plain["simulated_ns"]!, (long)JsonNode.Parse(first.Stdout)!["simulated_ns"]!);
    }

    [Fact]
    public void A_knob_of_the_trace_protocol_is_applied_and_the_replay_says_what_it_changes()
    {
        // The VE info passed as hypercall arguments (guest.ve.info_store=args) closes nmi-host-fault's window: every
        // step still applies, but the last one no longer breaks fault-info-intact, and the replay says so (exit 1).
        var trace = Counterexample("nmi-host-fault", "ve");
        var result = CliRunner.Run("replay", trace, "--set", "guest.ve.info_store=args", "--json", "-");
        Assert.Equal(1, result.ExitCode);
        var doc = JsonNode.Parse(result.Stdout)!;
        Assert.Equal(false, (bool?)doc["confirmed"]);
        Assert.Equal("args", (string)doc["settings"]!["guest.ve.info_store"]!);
        Assert.EndsWith(" --set guest.ve.info_store=args", (string)doc["replay"]!, StringComparison.Ordinal);
    }

    /// <summary>
    /// check refuses a simulator key and names the command that takes it; that command takes it. check said "vexlab
    /// replay --set takes it" of every simulator key, duration and guest.vcpus included, which replay refuses: the
    /// counterexample's model sets the machine and its steps the timing.
    /// </summary>
    [Theory]
    [InlineData("cost.wake_halted_vcpu=100us", "replay")]
    [InlineData("host.latency=50us", "replay")]
    [InlineData("seed=3", "replay")]
    [InlineData("duration=1ms", "run")]
    [InlineData("guest.vcpus=2", "run")]
    [InlineData("host.swap.page_cluster=2", "run")]
    public void Check_points_a_simulator_key_to_a_command_that_takes_it(string setting, string taker)
    {
        var key = setting[..setting.IndexOf('=', StringComparison.Ordinal)];
        var result = CliRunner.Run("check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--set", setting);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: --set: {key}: a simulator key, not a model knob", result.Stderr, StringComparison.Ordinal);
        var advice = result.Stderr.Contains("vexlab replay --set takes it", StringComparison.Ordinal) ? "replay"
            : result.Stderr.Contains("vexlab run --set takes it", StringComparison.Ordinal) ? "run"
            : null;
        Assert.Equal(taker, advice);

        // The advice holds: the command named takes the key, and replay refuses what check sends to run.
        var trace = Counterexample("nmi-host-fault", "ve");
        var replay = CliRunner.Run("replay", trace, "--set", setting);
        string[] span = key == "duration" ? [] : ["--duration", "2ms"];
        var run = CliRunner.Run(["run", "--builtin", "postcopy", "--protocol", "ve", .. span, "--set", setting]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        if (taker == "replay")
        {
            Assert.True(replay.ExitCode is 0 or 1, replay.Stderr);
        }
        else
        {
            Assert.Equal(2, replay.ExitCode);
        }
    }

    [Theory]
    [InlineData("truncate", "kvm-halt")]
    [InlineData("wake-race", "kvm-pf-int", "--set", "guest.apf.dummy_entries=false")]
    public void The_human_output_has_the_vcpu_time_split_of_the_json(string model, string protocol, params string[] more)
    {
        // replay printed only the steps and the simulated time for people; the split was in the JSON alone. Now a table
        // holds each vcpu_ns field, in ns as the JSON has it, and the fields sum to vCPUs x simulated time in both.
        var trace = Counterexample(model, protocol, more);
        var json = Path.Combine(_dir, "replay.json");
        var result = CliRunner.Run("replay", trace, "--set", "cost.wake_halted_vcpu=100us", "--json", json);
        Assert.True(result.ExitCode is 0 or 1, result.Stderr);
        var split = JsonNode.Parse(File.ReadAllText(json))!["vcpu_ns"]!.AsObject();
        Assert.Equal(6, split.Count);
        foreach (var (key, value) in split)
        {
            var row = Regex.Match(result.Stdout, @"[│|] vCPU [^│|]+[│|] " + Regex.Escape(key) + @" +[│|] +([0-9,]+) [│|] +[0-9.]+% [│|]");
            Assert.True(row.Success, $"no row for {key} in:\n{result.Stdout}");
            Assert.Equal((long)value!, long.Parse(row.Groups[1].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Contains("vCPU time (vcpu_ns), summed over ", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_swap_device_keys_time_the_replays_fetches()
    {
        // host.swap.bandwidth and host.swap.queue_depth time every host fetch (HostMemory.SwapInLatency), a replay's
        // too, so a replay takes them; they were refused as scenario keys a replay does not take. At 4 KiB/s each
        // 4 KiB page's transfer takes 1 s more: the truncate trace under kvm-halt fetches its page three times.
        var trace = Counterexample("truncate", "kvm-halt");
        var plain = Replay(trace);
        var slow = Replay(trace, "--set", "host.swap.bandwidth=4KiB", "--set", "host.swap.queue_depth=1");
        Assert.Equal(3_000_000_000, (long)slow["simulated_ns"]! - (long)plain["simulated_ns"]!);
        Assert.Equal("4KiB", (string)slow["settings"]!["host.swap.bandwidth"]!);
        Assert.Equal("1", (string)slow["settings"]!["host.swap.queue_depth"]!);
        Assert.EndsWith(" --set host.swap.bandwidth=4KiB --set host.swap.queue_depth=1", (string)slow["replay"]!, StringComparison.Ordinal);
    }

    private static string WithoutTiming(string json)
    {
        var doc = JsonNode.Parse(json)!.AsObject();
        doc.Remove("timing");
        return doc.ToJsonString();
    }
}
