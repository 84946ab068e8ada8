using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Values;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Costs;

namespace Vexlab.Simulation.Scenarios;

/// <summary>The simulator's scenario keys (docs/scenarios.md): run bounds, guest, host, tasks, regions, events, knobs.</summary>
public static class ScenarioSchema
{
    public static readonly string[] BackingKinds = ["swap-nvme", "swap-sata", "swap-hdd", "optane", "rdma", "postcopy-net", "postcopy-net-vanilla", "dax"];

    public static KeySchema Instance { get; } = Build();

    private static KeySchema Build()
    {
        var schema = new KeySchema()
            .Add(new KeySpec { Key = "name", Kind = ValueKind.String, Default = "scenario", Description = "Scenario name, shown in results." })
            .Add(new KeySpec { Key = "duration", Kind = ValueKind.Duration, Default = "500ms", Min = 1, Description = "Simulated time to run (--duration)." })
            .Add(new KeySpec { Key = "seed", Kind = ValueKind.Integer, Default = 1, Min = 0, Description = "Seed of every random stream (--seed)." })
            .Add(new KeySpec { Key = "guest.vcpus", Kind = ValueKind.Integer, Default = 1, Min = 1, Max = 64, Description = "vCPUs." })
            .Add(new KeySpec { Key = "guest.memory", Kind = ValueKind.Size, Default = "64MiB", Min = 4096, Unit = "bytes", Description = "Guest memory." })
            .Add(new KeySpec
            {
                Key = "guest.page_size",
                Kind = ValueKind.Size,
                Default = "4KiB",
                Min = 4096,
                Unit = "bytes",
                Description = "Bytes one model page stands for, a whole number of 4 KiB pages, and guest.memory a whole number of model pages (a coarser granularity keeps large guests small; each fault still costs one backing-store sample).",
            })
            .Add(new KeySpec
            {
                Key = "guest.page_cache",
                Kind = ValueKind.Size,
                Default = "0",
                Min = 0,
                Unit = "bytes",
                Description = "Guest page cache for file regions: above it the least recently used file page is dropped (0: no limit).",
                Source = "mm/vmscan.c shrink_folio_list (the LRU of clean file folios)",
            })
            // Linux's CONFIG_HZ is 100 to 1000 (a 1 to 10 ms tick); the 1 s bound leaves room for what-ifs
            // and keeps the EEVDF lag limit, a tick scaled by NICE_0_LOAD / weight, within 64 bits.
            .Add(new KeySpec { Key = "guest.tick", Kind = ValueKind.Duration, Default = "4ms", Min = 0, Max = 1_000_000_000, Description = "Timer tick period per vCPU (0: no tick, only where each vCPU runs at most one task: Linux keeps the tick on a CPU with two runnable tasks)." })
            .Add(new KeySpec
            {
                Key = "guest.tick_jitter",
                Kind = ValueKind.Duration,
                Default = "1us",
                Min = 0,
                Max = 1_000_000_000,
                Description = "Each vCPU's tick comes up to this long after its place on the tick grid, uniformly and from the seed, below guest.tick: the vCPUs' TSC deadlines fall together in guest time, but each expires on its own pCPU (the VMX preemption timer, or the host hrtimer of a halted vCPU), and which vCPU's tick handler and balance softirq go first is a race of the host's delivery latencies [Est]. Without it the vCPUs tick in one fixed order forever, and the balancer's pulls fall into a cycle that a real kernel's timing breaks: three tasks on two vCPUs under CFS gave one task half a vCPU and the others three quarters. 0: every tick exactly on the grid, vCPU 0's first.",
                Source = "kernel/time/tick-sched.c tick_setup_sched_timer (one grid for every CPU without skew_tick); arch/x86/kvm/lapic.c start_sw_tscdeadline, kvm_lapic_expired_hv_timer; arch/x86/kvm/vmx/vmx.c vmx_set_hv_timer",
            })
            .Add(new KeySpec
            {
                Key = "guest.nohz_idle",
                Kind = ValueKind.Bool,
                Default = true,
                Description = "The guest stops an idle vCPU's tick (CONFIG_NO_HZ_IDLE, or NO_HZ_FULL, as distribution kernels are built): a vCPU running its idle task with nothing runnable takes no tick until an interrupt gives it work, and its tick then resumes on the same grid; the periodic balance it would have done at its tick is done for it by the idle load balancer, which a busy vCPU's tick kicks when that vCPU runs two tasks. false: every vCPU takes every tick, idle or not (CONFIG_HZ_PERIODIC, or nohz=off).",
                Source = "kernel/sched/idle.c cpuidle_idle_call (no cpuidle driver: tick_nohz_idle_stop_tick, default_idle_call); kernel/time/tick-sched.c tick_nohz_idle_stop_tick, tick_nohz_restart; kernel/sched/fair.c nohz_balancer_kick, _nohz_idle_balance",
            })
            .Add(new KeySpec
            {
                Key = "guest.sched.policy",
                Kind = ValueKind.Enum,
                EnumValues = ["eevdf", "cfs"],
                Default = "eevdf",
                Description = "The guest's fair scheduler: eevdf (6.6+: base slice 0.75 ms x (1 + ilog2(vcpus))) or cfs (5.x: sched_latency 6 ms, min_granularity 0.75 ms, wakeup_granularity 1 ms, same scaling).",
                Source = "kernel/sched/fair.c",
            })
            .Add(new KeySpec
            {
                Key = "guest.sched.run_to_parity",
                Kind = ValueKind.Bool,
                Default = true,
                Description = "EEVDF only: a wakeup does not preempt the current task while it is eligible and has not used up the request it was picked with (6.6's RUN_TO_PARITY sched_feat, on by default); false: a wakeup preempts whenever the woken task is eligible with the earlier deadline. CFS ignores it.",
                Source = "kernel/sched/fair.c pick_eevdf, set_next_entity; kernel/sched/features.h RUN_TO_PARITY (63304558ba5d)",
            })
            .Add(new KeySpec
            {
                Key = "guest.sched.base_slice",
                Kind = ValueKind.Duration,
                Default = "0",
                Min = 0,
                Description = "EEVDF only: a task's request, the virtual time between its eligibility and its deadline (sysctl_sched_base_slice, the value /sys/kernel/debug/sched/base_slice_ns writes: already scaled, used as given). 0: the kernel's default, 0.75 ms x (1 + ilog2(min(vCPUs, 8))). CFS ignores it.",
                Source = "kernel/sched/fair.c sysctl_sched_base_slice, update_deadline, update_sysctl; kernel/sched/debug.c base_slice_ns",
            })
            .Add(new KeySpec
            {
                Key = "guest.sched.balance",
                Kind = ValueKind.Bool,
                Default = true,
                Description = "The guest's load balancer moves tasks not pinned by `vcpu` between vCPUs: wakeup placement (previous vCPU if idle, else an idle one), new-idle balance, periodic balance at the tick (balance_interval = vCPUs ms, x16 while busy; a busy vCPU pulls an imbalance of one task after a failed attempt), and for idle vCPUs, whose tick guest.nohz_idle stops, from a busy vCPU's tick through the nohz kick. Kernel threads stay bound.",
                Source = "kernel/sched/fair.c select_task_rq_fair, newidle_balance, load_balance, nohz_balancer_kick",
            })
            .Add(new KeySpec
            {
                Key = "guest.sched.migration_cost",
                Kind = ValueKind.Duration,
                Default = "500us",
                Min = 0,
                Description = "sysctl_sched_migration_cost, as /sys/kernel/debug/sched/migration_cost_ns (6.6) or /proc/sys/kernel/sched_migration_cost_ns (5.x) sets it: the load balancer passes over a queued task that ran within this time of the attempt (cache hot) until the balancing vCPU's periodic attempts have failed twice in a row (cache_nice_tries 1); a task moved since it last ran is cold. 0: no task is cache hot. The model reads it for task_hot only: a 5.x guest's newidle_balance also skips a vCPU whose average idle is below it, which is not modelled.",
                Source = "kernel/sched/fair.c task_hot, can_migrate_task, detach_tasks; kernel/sched/topology.c sd_init (cache_nice_tries)",
            })
            .Add(new KeySpec
            {
                Key = "guest.steal_time",
                Kind = ValueKind.Bool,
                Default = true,
                Description = "The guest reads PV steal time (MSR_KVM_STEAL_TIME): time its vCPU waited for a physical CPU is not charged to the task that was current.",
                Source = "kernel/sched/core.c update_rq_clock_task; arch/x86/kvm/x86.c record_steal_time",
            })
            .Add(new KeySpec
            {
                Key = "host.pcpus",
                Kind = ValueKind.Integer,
                Default = 0,
                Min = 0,
                Max = 64,
                Description = "Physical CPUs the vCPU threads share (0: one per vCPU, no contention); a runnable vCPU without one waits, and that wait is its steal time.",
            })
            .Add(new KeySpec
            {
                Key = "host.online_cpus",
                Kind = ValueKind.Integer,
                Default = 64,
                Min = 1,
                Max = 8192,
                Description = "The host's online CPUs (num_online_cpus), at least host.pcpus (guest.vcpus with host.pcpus 0): not the pCPUs the vCPU threads are pinned to but the whole host's. They only scale the host scheduler's tunables: the default host.sched.slice is 0.75 ms x (1 + ilog2(min(online_cpus, 8))), so any host of 8 or more, the default 64 included, has a 3 ms base slice.",
                Source = "kernel/sched/fair.c get_update_sysctl_factor, update_sysctl (at boot from sched_init_smp -> sched_init_granularity, and at each CPU hotplug from rq_online_fair, rq_offline_fair)",
            })
            .Add(new KeySpec
            {
                Key = "host.hz",
                Kind = ValueKind.Integer,
                Default = 250,
                Min = 0,
                Max = 10_000,
                Description = "The host kernel's CONFIG_HZ: its scheduler tick interrupts each pCPU that runs a vCPU every 1/HZ (4 ms at 250, the kernel's default and Debian's and Ubuntu's; 1 ms at 1000, RHEL's), an EXTERNAL_INTERRUPT exit. Under kvm-pf the 5.7 host checks completions only on its way back in, so this exit also delivers a waiting page-ready; the other protocols do not wait for exits and leave it out, as they leave out the guest tick's. 0: no host tick (nohz_full with one runnable thread on the pCPU), refused with host.pcpus below guest.vcpus, an explicit host.sched.slice or not: Linux keeps the tick on a pCPU with two runnable threads, and without HRTICK only the tick or another thread's wakeup ends a slice.",
                Source = "kernel/Kconfig.hz (default HZ_250); arch/x86/kvm/x86.c vcpu_run -> kvm_check_async_pf_completion (5.7); kernel/sched/core.c sched_can_stop_tick; kernel/sched/features.h SCHED_FEAT(HRTICK, false)",
            })
            .Add(new KeySpec
            {
                Key = "host.sched.slice",
                Kind = ValueKind.Duration,
                Default = "0",
                Min = 0,
                Description = "A vCPU thread's request in the host's EEVDF (se->slice; 0: the base slice, 0.75 ms x (1 + ilog2(min(host.online_cpus, 8))), 3 ms on any host of 8 CPUs or more, however few pCPUs the vCPU threads share). Without HRTICK only the pCPU's tick (1/host.hz) finds it used up, so the run it buys ends at the first tick that finds it served, strictly after it is served when counted from the thread's pick (a request of whole ticks runs one tick more): two busy vCPU threads on one pCPU take turns of 4 ms at HZ=250 and at HZ=1000 (1 ms at HZ=1000 with host.online_cpus 1). An explicit slice is the request too.",
                Source = "kernel/sched/fair.c sysctl_sched_base_slice, entity_tick -> update_curr -> update_deadline; kernel/sched/features.h SCHED_FEAT(HRTICK, false); kernel/time/tick-sched.c tick_setup_sched_timer (skew_tick off)",
            })
            .Add(new KeySpec
            {
                Key = "host.sched.wakeup_preemption",
                Kind = ValueKind.Bool,
                Default = true,
                Description = "A vCPU thread that wakes (a stall, halt or HLT ended) preempts a running one as EEVDF does: at once if it is owed time (positive lag) and the running one is no longer eligible; false: it always waits for a slice's end (round-robin only).",
                Source = "kernel/sched/fair.c place_entity, update_entity_lag, pick_eevdf, check_preempt_wakeup",
            })
            .Add(new KeySpec
            {
                Key = "host.swap.queue_depth",
                Kind = ValueKind.Integer,
                Default = 0,
                Min = 0,
                Max = 65536,
                Description = "Swap reads the shared device serves at once; more wait in FIFO order (0: no device queue, every read is served at once).",
                Source = "block/blk-mq.c nr_requests (/sys/block/DEV/queue/nr_requests)",
            })
            .Add(new KeySpec
            {
                Key = "host.swap.bandwidth",
                Kind = ValueKind.Size,
                Default = "0",
                Min = 0,
                Unit = "bytes per second",
                Description = "Bytes per second the swap device moves, one page after another after its service time (0: no transfer time).",
            })
            .Add(new KeySpec
            {
                Key = "host.swap.page_cluster",
                Kind = ValueKind.Integer,
                Default = 3,
                Min = 0,
                Max = 5,
                Description = "Swap readahead: a swap-in reads the aligned 2^page_cluster slots around the fault that are still on swap, in one request (0: no readahead).",
                Source = "vm.page-cluster; mm/swap_state.c swap_cluster_readahead",
            })
            .Add(new KeySpec
            {
                Key = "host.reclaim.min_free",
                Kind = ValueKind.Size,
                Default = "0",
                Min = 0,
                Unit = "bytes",
                Description = "The min watermark: below it a faulting thread reclaims itself (0: derived as the kernel does, sqrt(16 x memory in KiB) KiB within 128 KiB..256 MiB, at most 1/8 of host.memory_limit).",
                Source = "vm.min_free_kbytes; mm/page_alloc.c init_per_zone_wmark_min, __alloc_pages_direct_reclaim",
            })
            .Add(new KeySpec
            {
                Key = "host.reclaim.watermark_scale_factor",
                Kind = ValueKind.Integer,
                Default = 10,
                Min = 1,
                Max = 3000,
                Description = "Low and high watermarks sit this many 1/10,000ths of host.memory_limit above min (at least min/4, twice that for high); kswapd runs from low until high.",
                Source = "vm.watermark_scale_factor; mm/page_alloc.c __setup_per_zone_wmarks; mm/vmscan.c kswapd, balance_pgdat",
            })
            .Add(new KeySpec
            {
                Key = "host.reclaim.page_cost",
                Kind = ValueKind.Duration,
                Default = "1us",
                Min = 0,
                Description = "Time reclaim spends on each page it scans (unmap, TLB flush); a kswapd pass of SWAP_CLUSTER_MAX (32) pages takes that many, and direct reclaim charges it to the faulting thread [Est].",
                Source = "mm/vmscan.c shrink_node, shrink_folio_list",
            })
            .Add(new KeySpec { Key = "host.memory_limit", Kind = ValueKind.Size, Default = "0", Min = 0, Unit = "bytes", Description = "Host memory for the guest; CLOCK eviction makes pages host-absent again above it (0: no limit)." })
            .Add(new KeySpec { Key = "host.backing", Kind = ValueKind.String, Default = "swap-nvme", Description = "Backing store of absent pages (regions may override): a built-in (swap-nvme, swap-sata, swap-hdd, optane, rdma, postcopy-net, postcopy-net-vanilla, dax) or a name from backings[]." })
            .Add(new KeySpec { Key = "host.latency", Kind = ValueKind.Duration, Default = "0", Min = 0, Description = "Mean latency of every backing store, keeping its shape (0: the store's own mean); the latency sweep's axis." })
            .Add(new KeySpec { Key = "host.overcommit", Kind = ValueKind.Ratio, Default = 0.0, Min = 0, Description = "Guest memory over host memory (0: host.memory_limit decides); sets the host limit to guest memory / overcommit." })
            .Add(new KeySpec { Key = "host.absent_at_start", Kind = ValueKind.Ratio, Default = 0.0, Min = 0, Max = 1, Description = "Fraction of each region's pages absent in the host at start (regions may override)." })
            .Add(new KeySpec { Key = "nmi.rate", Kind = ValueKind.Rate, Default = "0", Description = "NMIs per vCPU (perf sampling), Poisson." })
            .Add(new KeySpec { Key = "nmi.walk_user_stack", Kind = ValueKind.Bool, Default = false, Description = "The NMI handler walks the user stack (touches a user page)." })
            .Add(new ListSpec
            {
                Key = "regions",
                Description = "Named ranges of guest memory that tasks touch.",
                Required = ["name", "size"],
                Elements =
                [
                    new KeySpec { Key = "name", Kind = ValueKind.String, Description = "Region name." },
                    new KeySpec { Key = "size", Kind = ValueKind.Size, Min = 1, Description = "Size in bytes (rounded up to whole pages)." },
                    new KeySpec { Key = "backing", Kind = ValueKind.String, Description = "Backing store (default host.backing): a built-in or a name from backings[]; dax maps a DAX file that a truncation can take away." },
                    new KeySpec { Key = "absent", Kind = ValueKind.Ratio, Min = 0, Max = 1, Description = "Fraction absent at start (default host.absent_at_start)." },
                    new KeySpec { Key = "file", Kind = ValueKind.Bool, Default = false, Description = "A file: read ops go through the guest page cache (filemap_read); a miss sleeps on a read of the region's backing device." },
                ],
            })
            .Add(new ListSpec
            {
                Key = "backings",
                Description = "Backing stores the scenario defines: a name and a service-time distribution (vexlab explain backings prints the built-ins in the same terms).",
                Required = ["name", "latency"],
                Elements =
                [
                    new KeySpec { Key = "name", Kind = ValueKind.String, Description = "Store name, for host.backing and regions[].backing." },
                    new KeySpec { Key = "latency", Kind = ValueKind.String, Description = LatencySpec.Expected + "; a CSV path is relative to the scenario file." },
                ],
            })
            .Add(new ListSpec
            {
                Key = "tasks",
                Description = "Guest tasks; each instance runs the loop.",
                Required = ["name", "loop"],
                Elements =
                [
                    new KeySpec { Key = "name", Kind = ValueKind.String, Description = "Task name." },
                    new KeySpec { Key = "count", Kind = ValueKind.Integer, Default = 1, Min = 1, Max = 240, Description = "Instances." },
                    new KeySpec { Key = "vcpu", Kind = ValueKind.Integer, Min = 0, Description = "Pinned vCPU (default: instances spread round-robin)." },
                    new KeySpec { Key = "mode", Kind = ValueKind.Enum, EnumValues = ["user", "kernel"], Default = "user", Description = "User task or kernel thread." },
                    new KeySpec { Key = "nice", Kind = ValueKind.Integer, Default = 0, Min = -20, Max = 19, Description = "Nice level; its weight is sched_prio_to_weight's (nice 0: 1024, nice 5: 335).", Source = "kernel/sched/core.c sched_prio_to_weight" },
                    new KeySpec
                    {
                        Key = "loop",
                        Kind = ValueKind.String,
                        Description = "Ops separated by ';': compute [N] (units of cost.compute_unit; one without N) | compute DURATION (such as 10ms; interrupts cut it anywhere) | touch REGION sequential|random [N] [load|store] (default load) | read REGION sequential|random [N] | write REGION ... | alloc REGION | free REGION | sleep DURATION | irq-off | irq-on | preempt-off | preempt-on | yield.",
                    },
                    new KeySpec
                    {
                        Key = "arrivals",
                        Kind = ValueKind.String,
                        Description = "Open-loop requests: poisson RATE (such as poisson 2000/s); each pass of the loop serves one request, the instances are the workers, and requests wait in a backlog while all are busy. The JSON gains requests with latency p50/p99/p999.",
                    },
                    new KeySpec { Key = "iterations", Kind = ValueKind.Integer, Default = 0, Min = 0, Max = 16_777_215, Description = "Loop iterations before the task exits (0: forever); counted, never unrolled: finished gives the completion time." },
                ],
            })
            .Add(new ListSpec
            {
                Key = "host.events",
                Description = "Host events at a time.",
                Required = ["kind"],
                Elements =
                [
                    new KeySpec { Key = "kind", Kind = ValueKind.Enum, EnumValues = ["truncate", "reenable"], Description = "truncate the DAX file, or migration done and APF re-enabled." },
                    new KeySpec { Key = "at", Kind = ValueKind.Duration, Min = 0, Description = "Simulated time." },
                    new KeySpec { Key = "at_fraction", Kind = ValueKind.Ratio, Min = 0, Max = 1, Description = "Time as a fraction of duration (when at is not set)." },
                ],
            });

        // Every simulator cost is a key: --set, compare entries and sweeps change it like any other.
        foreach (var cost in CostModel.Defaults)
        {
            schema.Add(new KeySpec
            {
                Key = cost.Key,
                Kind = ValueKind.Duration,
                Default = cost.Nanoseconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + "ns",
                Min = 0,
                Description = "Simulator cost (calibrated range "
                    + cost.RangeLowNs.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".."
                    + cost.RangeHighNs.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ns); vexlab explain costs.",
                Source = cost.Source,
            });
        }

        foreach (var knob in KnobCatalog.All)
        {
            schema.Add(new KeySpec
            {
                Key = knob.Key,
                Kind = knob.Kind switch
                {
                    KnobKind.Bool => ValueKind.Bool,
                    KnobKind.Integer => ValueKind.Integer,
                    _ => ValueKind.Enum,
                },
                EnumValues = knob.Values,
                Min = knob.Kind == KnobKind.Integer ? knob.Min : null,
                Max = knob.Kind == KnobKind.Integer ? knob.Max : null,
                Protocols = knob.Protocols,
                Description = knob.Description + " (default " + knob.Default + ")",
                Source = knob.Source,
            });
        }

        return schema;
    }

    /// <summary>True when <paramref name="key"/> is a protocol knob.</summary>
    public static bool IsKnob(string key) => KnobCatalog.Find(key) is not null;
}
