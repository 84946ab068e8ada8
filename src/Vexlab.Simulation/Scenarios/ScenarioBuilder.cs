using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Values;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scheduling;

namespace Vexlab.Simulation.Scenarios;

/// <summary>Turns resolved scenario settings and a protocol into a <see cref="SimulationSetup"/>; semantic errors name file:line:col.</summary>
public static class ScenarioBuilder
{
    /// <summary>The largest guest the simulator takes: 64 GiB of 4 KiB pages (16 Mi pages, 64 MiB of page state).</summary>
    public const int MaxPages = 16 * 1024 * 1024;

    /// <summary>The ops a task's loop is written in.</summary>
    private static readonly string[] s_loopOps =
        ["compute", "touch", "read", "write", "alloc", "free", "sleep", "irq-off", "irq-on", "preempt-off", "preempt-on", "yield"];

    /// <summary>Programs are at most this long (the model's limit).</summary>
    private const int MaxProgram = 250;

    /// <summary>A counted loop's limit: WorkDone holds it in 24 bits.</summary>
    private const int MaxIterations = (1 << 24) - 1;

    public static SimulationSetup Build(ResolvedSettings s, string protocol, string? label = null, CostModel? costs = null)
    {
        ArgumentNullException.ThrowIfNull(s);
        var knobs = new List<KeyValuePair<string, string>>();
        foreach (var value in s.Values)
        {
            if (ScenarioSchema.IsKnob(value.Key))
            {
                knobs.Add(new(value.Key, value.Text));
            }
        }

        var spec = ProtocolCatalog.Create(protocol, knobs, label);
        var vcpus = (int)s.GetInteger("guest.vcpus");
        var pageSize = s.GetSize("guest.page_size");
        var memory = s.GetSize("guest.memory");
        var pages = memory / pageSize;

        // A model page stands for a whole number of the guest's 4 KiB pages (SDM Vol. 3A, 4.5: the smallest x86 page),
        // and guest memory for a whole number of model pages: a remainder would be dropped without a word.
        if (pageSize % 4096 != 0)
        {
            throw s.ErrorAt("guest.page_size", $"must be a whole number of 4 KiB pages, got {ValueFormat.FormatSize(pageSize)}");
        }

        if (memory % pageSize != 0 && pages >= 1)
        {
            throw s.ErrorAt("guest.memory", string.Create(CultureInfo.InvariantCulture,
                $"must be a whole number of guest.page_size ({ValueFormat.FormatSize(pageSize)}) pages, got {ValueFormat.FormatSize(memory)}: {pages:N0} pages and {ValueFormat.FormatSize(memory % pageSize)}"));
        }

        if (pages < 1 || pages > MaxPages)
        {
            throw s.ErrorAt("guest.memory", string.Create(CultureInfo.InvariantCulture,
                $"must be 1 to {MaxPages:N0} pages of guest.page_size (64 GiB of 4 KiB pages), got {pages}"));
        }

        var backingNames = new List<string>();
        int BackingIndex(string name)
        {
            var i = backingNames.IndexOf(name);
            if (i < 0)
            {
                backingNames.Add(name);
                i = backingNames.Count - 1;
            }

            return i;
        }

        var custom = CustomBackings(s);
        string KnownBacking(string name, Func<string, Model.Configuration.InputException> error)
        {
            if (custom.ContainsKey(name) || BackingStore.TryParseKind(name, out var kind) && kind != BackingKind.Custom && Array.IndexOf(ScenarioSchema.BackingKinds, name) >= 0)
            {
                return name;
            }

            throw error($"unknown backing store '{name}'{NearestName.Hint(name, [.. ScenarioSchema.BackingKinds, .. custom.Keys])} (built-ins: {string.Join(", ", ScenarioSchema.BackingKinds)}; or a name from backings[])");
        }

        var defaultBacking = KnownBacking(s.GetString("host.backing"), p => s.ErrorAt("host.backing", p));
        BackingIndex(defaultBacking);
        var defaultAbsent = s.GetRatio("host.absent_at_start");
        var regions = new List<RegionSpec>();
        var files = new List<bool>();
        var groups = new List<PageGroupSpec>();
        var next = 0L;
        foreach (var r in s.GetList("regions"))
        {
            var name = r.GetString("name");
            var size = r.GetSize("size");
            var count = (size + pageSize - 1) / pageSize;
            if (regions.Exists(x => string.Equals(x.Name, name, StringComparison.Ordinal)))
            {
                throw r.ErrorAt("name", $"duplicate region name {name}");
            }

            if (next + count > pages)
            {
                // Regions take guest memory in order, from its start, a whole guest page each started page.
                throw r.ErrorAt("size", $"region {name} ({ValueFormat.FormatSize(size)}) ends at {ValueFormat.FormatSize((next + count) * pageSize)}, past guest.memory ({ValueFormat.FormatSize(pages * pageSize)}); the regions take it in order, from its start");
            }

            var backing = r.Contains("backing") ? KnownBacking(r.GetString("backing"), p => r.ErrorAt("backing", p)) : defaultBacking;
            var absent = r.Contains("absent") ? r.GetRatio("absent") : defaultAbsent;
            var dax = string.Equals(backing, "dax", StringComparison.Ordinal);
            var absentCount = (int)Math.Round(count * absent, MidpointRounding.ToEven);
            var index = (byte)BackingIndex(backing);
            regions.Add(new RegionSpec(name, (int)next, (int)count));
            files.Add(r.GetBool("file"));
            if (absentCount > 0)
            {
                groups.Add(new PageGroupSpec((int)next, absentCount, HostPage.AbsentIo, true, index, dax));
            }

            if (count - absentCount > 0)
            {
                groups.Add(new PageGroupSpec((int)next + absentCount, (int)count - absentCount, HostPage.Resident, true, index, dax));
            }

            next += count;
        }

        var tasks = new List<TaskSpec>();
        var groupNames = new List<string>();
        var groupOf = new List<int>();
        var nice = new List<int>();
        var pinnedTasks = new List<bool>();
        var spans = new List<ComputeSpan>();
        var sleeps = new List<long>();
        var arrivals = new List<double>();
        var round = 0;
        foreach (var t in s.GetList("tasks"))
        {
            var name = t.GetString("name");
            var count = (int)t.GetInteger("count");
            var mode = t.GetString("mode") == "kernel" ? TaskMode.Kernel : TaskMode.User;
            var pinned = -1;
            if (t.Contains("vcpu"))
            {
                pinned = (int)t.GetInteger("vcpu");
                if (pinned >= vcpus)
                {
                    throw t.ErrorAt("vcpu", string.Create(CultureInfo.InvariantCulture,
                        $"pinned to a missing vCPU {pinned} (guest.vcpus is {vcpus})"));
                }
            }

            if (groupNames.Contains(name))
            {
                throw t.ErrorAt("name", $"duplicate task name {name}");
            }

            // The machine runs at most Machine.MaxTasks tasks, each vCPU's idle task among them.
            if (tasks.Count + count + vcpus > Machine.MaxTasks)
            {
                throw t.ErrorAt("count", string.Create(CultureInfo.InvariantCulture,
                    $"{tasks.Count + count} task instances up to here and the {vcpus} vCPUs' idle tasks make {tasks.Count + count + vcpus}; at most {Machine.MaxTasks} together"));
            }

            var interval = t.Contains("arrivals") ? ArrivalInterval(t) : 0;
            var program = ParseLoop(t, regions, files, spans, sleeps, (int)t.GetInteger("iterations"), mode, interval > 0);
            groupNames.Add(name);
            arrivals.Add(interval);
            for (var i = 0; i < count; i++)
            {
                var v = pinned >= 0 ? pinned : round++ % vcpus;
                tasks.Add(new TaskSpec(name, mode, v, program));
                groupOf.Add(groupNames.Count - 1);
                nice.Add((int)t.GetInteger("nice"));
                pinnedTasks.Add(pinned >= 0);
            }
        }

        CheckTicklessVcpus(s, tasks, vcpus);
        var duration = s.GetDuration("duration");
        var events = new List<HostEvent>();
        foreach (var e in s.GetList("host.events"))
        {
            long at;
            if (e.Contains("at") && e.Contains("at_fraction"))
            {
                // One time for one event: either one alone would be taken silently over the other.
                throw e.ErrorAt("at", "give at or at_fraction, not both (at_fraction is set too)");
            }

            if (e.Contains("at"))
            {
                at = e.GetDuration("at");
                // An event at the run's last instant still happens (the run dispatches up to its end, inclusive).
                if (at > duration)
                {
                    throw e.ErrorAt("at", $"{ValueFormat.FormatDuration(at)} is past the run's end (duration {ValueFormat.FormatDuration(duration)}): the event would never happen");
                }
            }
            else if (e.Contains("at_fraction"))
            {
                at = (long)(duration * e.GetRatio("at_fraction"));
            }
            else
            {
                throw e.ErrorAt(null, "needs at or at_fraction");
            }

            var truncate = e.GetString("kind") == "truncate";
            if (truncate && !groups.Exists(g => g.Dax))
            {
                // A truncation removes DAX file pages; with none it would change nothing and say nothing.
                throw e.ErrorAt("kind", "truncate needs a region with backing: dax, and no region has it");
            }

            events.Add(new HostEvent(at, truncate ? HostEventKind.Truncate : HostEventKind.Reenable));
        }

        events.Sort((a, b) => a.AtNs.CompareTo(b.AtNs));
        var nmiTouch = -1;
        if (s.GetBool("nmi.walk_user_stack") && regions.Count > 0)
        {
            nmiTouch = regions[0].FirstPage;
        }

        var machine = new MachineConfig
        {
            Vcpus = vcpus,
            Pages = (int)pages,
            Tasks = tasks,
            Regions = regions,
            PageGroups = groups,
            Protocol = spec,
            Bounds = ExternalBounds.Unbounded,
            NmiTouchPage = nmiTouch,
        };

        var stores = new List<BackingStore>();
        var latency = s.GetDuration("host.latency");
        foreach (var b in backingNames)
        {
            var store = custom.TryGetValue(b, out var own) ? own : BackingStore.Create(b);
            stores.Add(latency > 0 ? store.WithMean(latency) : store);
        }

        var overcommit = s.GetRatio("host.overcommit");
        var hostLimitPages = s.GetSize("host.memory_limit") / pageSize;
        if (overcommit > 0)
        {
            hostLimitPages = Math.Max(1, (long)(s.GetSize("guest.memory") / pageSize / overcommit));
        }

        var c = CostsOf(s, costs);
        var pcpus = (int)s.GetInteger("host.pcpus");
        var hz = s.GetInteger("host.hz");
        var hostTick = hz > 0 ? 1_000_000_000L / hz : 0;
        CheckHostTick(s, pcpus, vcpus, hostTick);
        var online = CheckOnlineCpus(s, pcpus, vcpus);
        var slice = s.GetDuration("host.sched.slice");
        if (slice == 0)
        {
            // The base slice scaled as the host's sysctls are: sysctl_sched_base_slice x
            // (1 + ilog2(min(num_online_cpus(), 8))) (get_update_sysctl_factor, kernel/sched/fair.c;
            // sysctl_sched_min_granularity before e4ec3318a17f renamed it in 6.6). update_sysctl sets
            // it for the whole host at boot (sched_init_smp -> sched_init_granularity) and at each
            // hotplug (rq_online_fair, rq_offline_fair): it counts host.online_cpus, not the pCPUs
            // the vCPU threads are pinned to. It stays the request (the deadlines and
            // update_entity_lag's limit use se->slice); the pCPU's tick ends the run it buys.
            slice = SchedConstants.BaseSliceNs * SchedConstants.TunableFactor(online);
        }

        var nmi = s.GetRate("nmi.rate");
        return new SimulationSetup
        {
            Machine = machine,
            Backings = stores,
            Costs = c,
            DurationNs = duration,
            Seed = (ulong)s.GetInteger("seed"),
            HostLimitPages = hostLimitPages,
            TickPeriodNs = s.GetDuration("guest.tick"),
            TickJitterNs = s.GetDuration("guest.tick_jitter"),
            NohzIdle = s.GetBool("guest.nohz_idle"),
            HostTickPeriodNs = hostTick,
            NmiMeanIntervalNs = nmi.IsZero ? 0 : nmi.MeanIntervalNanoseconds,
            HostEvents = events,
            TaskGroups = groupNames,
            TaskGroupOf = groupOf,
            TaskNice = nice,
            ComputeSpans = spans,
            SleepSpans = sleeps,
            HasFiles = files.Contains(true),
            PageCachePages = s.GetSize("guest.page_cache") / pageSize,
            ArrivalIntervalNs = arrivals,
            SchedPolicy = s.GetString("guest.sched.policy") == "cfs" ? SchedPolicy.Cfs : SchedPolicy.Eevdf,
            RunToParity = s.GetBool("guest.sched.run_to_parity"),
            GuestBaseSliceNs = s.GetDuration("guest.sched.base_slice"),
            Pcpus = pcpus,
            SwapQueueDepth = (int)s.GetInteger("host.swap.queue_depth"),
            SwapBandwidthBytesPerSecond = s.GetSize("host.swap.bandwidth"),
            Reclaim = new Memory.ReclaimSettings
            {
                MinFreePages = s.GetSize("host.reclaim.min_free") is var minFree && minFree > 0 ? Math.Max(1, minFree / pageSize) : -1,
                WatermarkScaleFactor = (int)s.GetInteger("host.reclaim.watermark_scale_factor"),
                PageCostNs = s.GetDuration("host.reclaim.page_cost"),
                PageCluster = (int)s.GetInteger("host.swap.page_cluster"),
            },
            PageBytes = pageSize,
            HostSliceNs = slice,
            HostWakeupPreemption = s.GetBool("host.sched.wakeup_preemption"),
            StealTime = s.GetBool("guest.steal_time"),
            Balance = s.GetBool("guest.sched.balance"),
            MigrationCostNs = s.GetDuration("guest.sched.migration_cost"),
            TaskPinned = pinnedTasks,
        };
    }

    /// <summary>
    /// <paramref name="costs"/> (the default model when null) with every <c>cost.*</c> key the settings set (a scenario
    /// file or an override) in place of its value: what <c>run</c> charges and what <c>replay --set</c> charges.
    /// </summary>
    public static CostModel CostsOf(ResolvedSettings s, CostModel? costs = null)
    {
        ArgumentNullException.ThrowIfNull(s);
        var c = costs ?? CostModel.Default;
        foreach (var cost in CostModel.Defaults)
        {
            // A cost the scenario or an override sets replaces the model's (a scaled model included).
            if (s[cost.Key].Source.Kind != ValueSourceKind.Default)
            {
                c = c.With(cost.Id, s.GetDuration(cost.Key));
            }
        }

        return c;
    }

    /// <summary>The scenario's backings[]: each name with its distribution; a CSV is read relative to the scenario file.</summary>
    private static Dictionary<string, BackingStore> CustomBackings(ResolvedSettings s)
    {
        var stores = new Dictionary<string, BackingStore>(StringComparer.Ordinal);
        foreach (var b in s.GetList("backings"))
        {
            var name = b.GetString("name");
            if (stores.ContainsKey(name) || BackingStore.TryParseKind(name, out _))
            {
                // The built-ins listed as host.backing lists them; 'fixed' is the store host.latency makes, no name to
                // choose, so it was listed here and refused as host.backing.
                var what = stores.ContainsKey(name) ? "is already defined in backings[]"
                    : ScenarioSchema.BackingKinds.Contains(name) ? "is a built-in"
                    : "is reserved (host.latency makes the fixed store)";
                throw b.ErrorAt("name", $"backing store '{name}' {what} (built-ins: {string.Join(", ", ScenarioSchema.BackingKinds)}); give it another name");
            }

            var text = b.GetString("latency");
            var source = b["latency"].Source;
            var folder = source.Kind == ValueSourceKind.File && source.Origin is not null ? Path.GetDirectoryName(source.Origin) : null;
            string Resolve(string file) => Path.IsPathRooted(file) || string.IsNullOrEmpty(folder) ? file : Path.Combine(folder, file);
            try
            {
                stores.Add(name, BackingStore.Custom(name, text, LatencySpec.Parse(text, Resolve)));
            }
            catch (FormatException e)
            {
                throw b.ErrorAt("latency", e.Message);
            }
        }

        return stores;
    }

    /// <summary>
    /// <c>host.online_cpus</c> counts the whole host, so it holds the pCPUs the vCPU threads share
    /// (<c>host.pcpus</c>) or, with <c>host.pcpus: 0</c>, the pCPU each vCPU thread has to itself.
    /// Fewer would be a host that cannot run what the scenario says it runs.
    /// </summary>
    private static int CheckOnlineCpus(ResolvedSettings s, int pcpus, int vcpus)
    {
        var online = (int)s.GetInteger("host.online_cpus");
        if (pcpus > 0 && online < pcpus)
        {
            throw s.ErrorAt("host.online_cpus", string.Create(CultureInfo.InvariantCulture,
                $"{online} is below host.pcpus {pcpus}: the host's online CPUs include the pCPUs the vCPU threads share; give at least {pcpus}"));
        }

        if (pcpus == 0 && online < vcpus)
        {
            throw s.ErrorAt("host.online_cpus", string.Create(CultureInfo.InvariantCulture,
                $"{online} is below guest.vcpus {vcpus}, and host.pcpus 0 gives each vCPU thread a pCPU of its own: the host's online CPUs include them; give at least {vcpus}, or set host.pcpus"));
        }

        return online;
    }

    /// <summary>
    /// <c>host.hz: 0</c> (no host tick, nohz_full) cannot hold where vCPU threads share a pCPU:
    /// <c>sched_can_stop_tick</c> (kernel/sched/core.c) keeps the tick while a CPU has more than
    /// one runnable task. Nor can the slice end without it, whether the base slice or an explicit
    /// <c>host.sched.slice</c> (the request, se->slice, /sys/kernel/debug/sched/base_slice_ns): with HRTICK off
    /// (<c>SCHED_FEAT(HRTICK, false)</c>) only the tick's <c>update_curr</c> -> <c>update_deadline</c>
    /// finds the request used up, and a CPU-bound thread would otherwise keep its pCPU until it
    /// blocked. So the combination is refused, the explicit slice included.
    /// </summary>
    private static void CheckHostTick(ResolvedSettings s, int pcpus, int vcpus, long hostTick)
    {
        if (hostTick == 0 && pcpus > 0 && pcpus < vcpus)
        {
            throw s.ErrorAt("host.hz", string.Create(CultureInfo.InvariantCulture,
                $"0 (no host tick) needs a pCPU per vCPU thread, and host.pcpus {pcpus} is below guest.vcpus {vcpus}: Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick), and without HRTICK only the tick or another thread's wakeup ends a thread's slice, an explicit host.sched.slice included, so CPU-bound threads would never swap; give a HZ such as 250"));
        }
    }

    /// <summary>
    /// <c>guest.tick: 0</c> is the tickless CPU of NO_HZ_IDLE or nohz_full, which Linux gives only a
    /// CPU with at most one runnable task: <c>sched_can_stop_tick</c> (kernel/sched/core.c) keeps
    /// the tick while more than one fair task is queued, "for involuntary preemption". A wakeup
    /// preempts only when the policy says so (EEVDF's <c>pick_eevdf</c> picks the woken task, CFS's
    /// <c>wakeup_gran</c>); every other switch between two tasks that never block comes from the
    /// tick, so without one a task that does not win at wakeup, or never ran, waits forever beside
    /// one that computes. With at most one task per vCPU at the start no vCPU ever holds two: a
    /// woken task's previous vCPU is idle, so <c>select_idle_sibling</c> keeps it there, and
    /// new-idle balance needs a queue of two.
    /// </summary>
    private static void CheckTicklessVcpus(ResolvedSettings s, List<TaskSpec> tasks, int vcpus)
    {
        var tick = s.GetDuration("guest.tick");
        if (tick != 0)
        {
            // A tick later than the next one's grid time would pass it: the jitter is a delivery latency, not a period.
            var jitter = s.GetDuration("guest.tick_jitter");
            if (jitter >= tick)
            {
                throw s.ErrorAt("guest.tick_jitter", string.Create(CultureInfo.InvariantCulture,
                    $"{ValueFormat.FormatDuration(jitter)} is not below guest.tick ({ValueFormat.FormatDuration(tick)}): a tick comes within its period, before the next one's grid time"));
            }

            return;
        }

        for (var v = 0; v < vcpus; v++)
        {
            var here = tasks.Where(t => t.Vcpu == v).ToList();
            if (here.Count > 1)
            {
                var names = here.GroupBy(t => t.Name).Select(g => g.Count() > 1 ? $"{g.Key} x{g.Count()}" : g.Key);
                throw s.ErrorAt("guest.tick", string.Create(CultureInfo.InvariantCulture,
                    $"0 (no tick) needs at most one task per vCPU, and vCPU {v} runs {here.Count} ({string.Join(", ", names)}): Linux keeps the tick while a CPU has two runnable tasks (sched_can_stop_tick), and without it a task that does not preempt at wakeup never runs; give a period such as 4ms"));
            }
        }
    }

    /// <summary>A task's <c>arrivals</c>: <c>poisson RATE</c>, as the mean ns between requests.</summary>
    private static double ArrivalInterval(ResolvedElement t)
    {
        var text = t.GetString("arrivals").Trim();
        const string Poisson = "poisson";
        if (!text.StartsWith(Poisson, StringComparison.Ordinal))
        {
            throw t.ErrorAt("arrivals", $"expected poisson RATE (such as poisson 2000/s), got '{text}'");
        }

        var rate = Vexlab.Scenarios.Values.ScalarParsers.ParseRate(text[Poisson.Length..]);
        if (!rate.IsOk || rate.Value.IsZero)
        {
            throw t.ErrorAt("arrivals", rate.Error ?? "the arrival rate must be positive");
        }

        return rate.Value.MeanIntervalNanoseconds;
    }

    /// <summary>Whether <paramref name="text"/> is a whole number written in decimal digits alone.</summary>
    private static bool IsDigits(string text) => text.Length > 0 && text.All(char.IsAsciiDigit);

    private static GuestProgram ParseLoop(ResolvedElement t, List<RegionSpec> regions, List<bool> files, List<ComputeSpan> spans, List<long> sleeps, int iterations, TaskMode mode, bool serves)
    {
        var body = new List<Instr>();
        if (serves)
        {
            // A worker of an open-loop stream waits for its next request at the top of each pass.
            body.Add(new Instr(MicroOp.Block, (byte)BlockKind.Request));
        }

        var text = t.GetString("loop");
        var user = mode == TaskMode.User;
        foreach (var raw in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var first = body.Count;
            var parts = raw.Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            InputExceptionAt Fail(string problem) => new(t.ErrorAt("loop", $"op '{raw}': {problem}"));
            int Count(int index, int max)
            {
                if (parts.Length <= index)
                {
                    return 1;
                }

                if (!int.TryParse(parts[index], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > max)
                {
                    // Digits are a count, out of range, as a key's whole number past its bounds is said to be.
                    throw Fail(IsDigits(parts[index])
                        ? string.Create(CultureInfo.InvariantCulture, $"count '{parts[index]}' is out of range: expected 1..{max}")
                        : string.Create(CultureInfo.InvariantCulture, $"expected a count 1..{max}")).Error;
                }

                return n;
            }

            long ComputeUnits()
            {
                var digits = parts[1].Replace("_", string.Empty, StringComparison.Ordinal);
                if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                {
                    // A count too large for a whole number (guest.vcpus: 99999999999999999999 is "out of range") is
                    // no less a count: say what is wrong with it, not what a count looks like.
                    throw Fail(IsDigits(digits)
                        ? string.Create(CultureInfo.InvariantCulture, $"count '{parts[1]}' is out of range: expected 1..{long.MaxValue} compute units")
                        : "expected a count of compute units (cost.compute_unit each) or a duration such as 10ms").Error;
                }

                return n;
            }

            long ComputeDuration()
            {
                var d = Vexlab.Scenarios.Values.ScalarParsers.ParseDuration(parts[1]);
                if (!d.IsOk || d.Value < 1)
                {
                    throw Fail(d.Error ?? "a compute duration must be positive").Error;
                }

                return d.Value;
            }

            // With no regions there is nothing to list: "(expected one of )" read as a cut message.
            string UnknownRegion(string name) => regions.Count == 0
                ? $"unknown region '{name}': the scenario defines no regions (add one under regions, with a name and a size)"
                : NearestName.Unknown("region", name, regions.Select(r => r.Name));

            ushort Region()
            {
                var region = parts.Length < 2 ? -1 : regions.FindIndex(r => string.Equals(r.Name, parts[1], StringComparison.Ordinal));
                if (region < 0)
                {
                    throw Fail(parts.Length < 2 ? "expected REGION" : UnknownRegion(parts[1])).Error;
                }

                return (ushort)region;
            }

            (ushort Region, byte Addressing) Target()
            {
                if (parts.Length < 3)
                {
                    throw Fail("expected REGION sequential|random").Error;
                }

                var region = regions.FindIndex(r => string.Equals(r.Name, parts[1], StringComparison.Ordinal));
                if (region < 0)
                {
                    throw Fail(UnknownRegion(parts[1])).Error;
                }

                var addressing = parts[2] switch
                {
                    "sequential" => (byte)Addressing.Sequential,
                    "random" => (byte)Addressing.Random,
                    _ => throw Fail(NearestName.Unknown("addressing", parts[2], ["sequential", "random"])).Error,
                };
                return ((ushort)region, addressing);
            }

            // Every op but touch (whose trailing load|store is handled below) takes a fixed number of
            // words; a word past them used to be dropped, so 'compute 10 20' ran as 'compute 10'.
            var (usage, words) = parts[0] switch
            {
                "compute" => ("compute [N|DURATION]", 2),
                "read" or "write" => (parts[0] + " REGION sequential|random [N]", 4),
                "alloc" or "free" => (parts[0] + " REGION", 2),
                "sleep" => ("sleep DURATION", 2),
                "irq-off" or "irq-on" or "preempt-off" or "preempt-on" or "yield" => (parts[0], 1),
                _ => (string.Empty, int.MaxValue),
            };
            if (parts.Length > words)
            {
                throw Fail($"unexpected '{parts[words]}'; expected {usage}").Error;
            }

            switch (parts[0])
            {
                case "compute":
                    {
                        // One op of any length: the driver runs it as a span of guest time that
                        // interrupts cut at any instant (the rest resumes after).
                        var span = parts.Length < 2 ? new ComputeSpan(1, 0)
                            : char.IsAsciiDigit(parts[1][^1]) ? new ComputeSpan(ComputeUnits(), 0)
                            : new ComputeSpan(0, ComputeDuration());
                        var index = spans.IndexOf(span);
                        if (index < 0)
                        {
                            if (spans.Count == ushort.MaxValue)
                            {
                                throw Fail("too many different compute lengths").Error;
                            }

                            spans.Add(span);
                            index = spans.Count - 1;
                        }

                        body.Add(new Instr(MicroOp.Compute, 1, (ushort)(index + 1)));
                        break;
                    }

                case "touch":
                    var (r, a) = Target();
                    var access = parts.Length > 3 && parts[^1] is "store" or "load" ? parts[^1] : "load";
                    var store = access == "store" ? TouchFlags.Store : 0;
                    if (parts.Length > 3 && parts[^1] is "store" or "load")
                    {
                        parts = parts[..^1];
                    }

                    if (parts.Length > 4)
                    {
                        throw Fail("expected touch REGION sequential|random [N] [load|store]").Error;
                    }

                    var touches = Count(3, 64);
                    for (var i = 0; i < touches; i++)
                    {
                        body.Add(new Instr(mode == TaskMode.Kernel ? MicroOp.KTouch : MicroOp.Touch, (byte)(a | store), r));
                    }

                    break;
                case "read":
                case "write":
                    var (rr, ra) = Target();
                    var copies = Count(3, 64);
                    if (mode == TaskMode.User)
                    {
                        body.Add(new Instr(MicroOp.SyscallEnter));
                    }

                    // A read of a file region goes through the guest page cache; a write copies into
                    // the page as before (write-back of dirty file pages is not modelled).
                    var cached = parts[0] == "read" && files[rr] ? TouchFlags.PageCache : 0;

                    // read() copies into the user's buffer (a store to the region); write() and a
                    // file read copy out of it.
                    cached |= parts[0] == "read" && !files[rr] ? TouchFlags.Store : 0;
                    for (var i = 0; i < copies; i++)
                    {
                        body.Add(new Instr(MicroOp.KTouch, (byte)(ra | TouchFlags.Fixup | cached), rr));
                    }

                    if (mode == TaskMode.User)
                    {
                        body.Add(new Instr(MicroOp.SyscallExit));
                    }

                    break;
                case "alloc":
                    body.Add(new Instr(MicroOp.Alloc, 0, Region()));
                    break;
                case "free":
                    body.Add(new Instr(MicroOp.Free, 0, Region()));
                    break;
                case "sleep":
                    {
                        var d = parts.Length < 2 ? default : Vexlab.Scenarios.Values.ScalarParsers.ParseDuration(parts[1]);
                        if (parts.Length < 2 || !d.IsOk || d.Value < 1)
                        {
                            throw Fail(parts.Length < 2 ? "expected a duration such as 1ms" : d.Error ?? "a sleep must be positive").Error;
                        }

                        var index = sleeps.IndexOf(d.Value);
                        if (index < 0)
                        {
                            if (sleeps.Count == ushort.MaxValue)
                            {
                                throw Fail("too many different sleep lengths").Error;
                            }

                            sleeps.Add(d.Value);
                            index = sleeps.Count - 1;
                        }

                        body.Add(new Instr(MicroOp.Block, (byte)BlockKind.Timer, (ushort)(index + 1)));
                        break;
                    }

                case "irq-off":
                    body.Add(new Instr(MicroOp.Cli));
                    break;
                case "irq-on":
                    body.Add(new Instr(MicroOp.Sti));
                    break;
                case "preempt-off":
                    body.Add(new Instr(MicroOp.PreemptOff));
                    break;
                case "preempt-on":
                    body.Add(new Instr(MicroOp.PreemptOn));
                    break;
                case "yield":
                    body.Add(new Instr(MicroOp.Yield));
                    break;
                default:
                    throw Fail(NearestName.Unknown("op", parts[0], s_loopOps)).Error;
            }

            for (var i = first; i < body.Count; i++)
            {
                if (TaskPrivilege.Step(body[i].Op, mode, ref user) != PrivilegeFault.None)
                {
                    // Only the interrupt and preemption ops can fault here (CLI and STI #GP at CPL 3,
                    // SDM Vol. 2A; preempt_disable is a kernel function): read and write enter and
                    // leave the kernel around their copies.
                    throw Fail($"a user task cannot run '{parts[0]}' (a kernel-only op); give the task mode: kernel").Error;
                }
            }
        }

        if (body.Count == (serves ? 1 : 0))
        {
            throw t.ErrorAt("loop", "the loop has no ops");
        }

        var code = new List<Instr>();
        if (iterations == 0)
        {
            code.AddRange(body);
            code.Add(new Instr(MicroOp.WorkDone));
            code.Add(new Instr(MicroOp.Jump, 0, 0));
        }
        else
        {
            // Counted, never unrolled: WorkDone carries the count and exits the task at it.
            if (iterations > MaxIterations)
            {
                throw t.ErrorAt("iterations", string.Create(CultureInfo.InvariantCulture, $"at most {MaxIterations:N0} iterations (0: forever)"));
            }

            code.AddRange(body);
            code.Add(new Instr(MicroOp.WorkDone, (byte)(iterations >> 16), (ushort)(iterations & 0xFFFF)));
            code.Add(new Instr(MicroOp.Jump, 0, 0));
        }

        if (code.Count > MaxProgram)
        {
            // The user's count and limit, not the program's: the pass's end and the jump back (and an
            // arrivals task's request) are not written, so 249 written ops used to be refused as "longer
            // than 250 ops" (docs/scenarios.md and docs/limits.md: 248, 247 with arrivals).
            var hidden = code.Count - body.Count + (serves ? 1 : 0);
            var ops = code.Count - hidden;
            var most = MaxProgram - hidden;
            var written = text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Length;
            var counting = ops == written ? string.Empty
                : " (a touch, read or write of N pages counts N ops, and a user task's read or write 2 more to enter and leave the kernel)";
            throw t.ErrorAt("loop", string.Create(CultureInfo.InvariantCulture,
                $"the loop has {ops} ops{counting}; at most {most}{(serves ? " with arrivals" : string.Empty)}"));
        }

        return new GuestProgram(t.GetString("name"), [.. code]);
    }

    private readonly record struct InputExceptionAt(Vexlab.Model.Configuration.InputException Error);
}
