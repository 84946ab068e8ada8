using Vexlab.Model.Configuration;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;

namespace Vexlab.Checking.Models;

/// <summary>
/// One built-in checker configuration: the workload, the pages, the bounds on external events
/// and the knobs it sets (ignored by protocols that do not use them).
/// </summary>
public sealed record BuiltinModel(
    string Name,
    string Description,
    IReadOnlyList<KeyValuePair<string, string>> Knobs,
    ExternalBounds Bounds,
    Func<ProtocolSpec, ExternalBounds, MachineConfig> Configure,
    bool InMatrix = true)
{
    /// <summary>
    /// Builds the machine configuration under <paramref name="protocol"/> with the model's knobs, then
    /// <paramref name="overrides"/>; a bad knob is blamed on <paramref name="origin"/> (the option that gave the
    /// overrides), or on the command line.
    /// </summary>
    public MachineConfig Build(string protocol, IEnumerable<KeyValuePair<string, string>>? overrides = null, string? origin = null)
    {
        var knobs = new List<KeyValuePair<string, string>>(Knobs);
        knobs.AddRange(overrides ?? []);
        var spec = ProtocolCatalog.Create(protocol, knobs, origin: origin);
        return Configure(spec, Bounds);
    }
}

/// <summary>The checker's built-in models, each small enough to check in seconds under every protocol.</summary>
/// <remarks>
/// Host exits (<see cref="ExternalBounds.HostExits"/>, under the 5.7 and 5.8+ hosts): each model gets the least bound
/// past which one more exit reaches no new state under <c>kvm-pf</c> and <c>kvm-pf-int</c>, so its check is what an unbounded one
/// would be (HostExitBoundTests checks it), except <c>truncate</c>: two of its three completions may wait for a
/// host interrupt (492,866 states under <c>kvm-pf</c>; three exits give 1,671,324, unbounded 11,019,746).
/// </remarks>
public static class BuiltinModels
{
    public static IReadOnlyList<BuiltinModel> All { get; } =
    [
        new("wake-race",
            "2 vCPUs, page-ready on any vCPU: a user task per vCPU faulting on its own absent page",
            [Knob("host.apf.ready_target", "any")],
            ExternalBounds.None with { HostExits = 2 },
            (p, b) => Config(p, b, vcpus: 2, pages: 2,
                [User("a", 0, Touch(0)), User("b", 1, Touch(1))],
                [Absent(0, 2)])),
        new("token-wrap",
            "1 vCPU, 2-bit APF ids: two user tasks with three faults; vCPU0's first token is 0 unless ids skip 0, and the ids wrap",
            [Knob("host.apf.token_id_bits", "2")],
            ExternalBounds.None with { HostExits = 3 },
            (p, b) => Config(p, b, vcpus: 1, pages: 3,
                [User("a", 0, Touch(0), Touch(1)), User("b", 0, Touch(2))],
                [Absent(0, 3)])),
        new("nmi-window",
            "1 vCPU, one NMI whose handler touches a user page neither the guest nor the host has mapped (perf call chain), during a fault",
            [],
            new ExternalBounds(1, 0, 0, 0, HostExits: 1),
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [User("a", 0, Touch(0))],
                [Absent(0, 1), new PageGroupSpec(1, 1, HostPage.AbsentIo, false, 0, false)],
                nmiTouchPage: 1)),
        new("nmi-host-fault",
            "1 vCPU, one NMI whose handler touches a user page the guest has mapped and the host has not, during a fault",
            [],
            new ExternalBounds(1, 0, 0, 0, HostExits: 1),
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [User("a", 0, Touch(0))],
                [Absent(0, 2)],
                nmiTouchPage: 1)),
        new("trace-window",
            "1 vCPU: a user task faulting on an absent page; the #PF entry's trace point touches a page the guest has not mapped",
            [],
            ExternalBounds.None with { HostExits = 1 },
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [User("a", 0, Touch(0))],
                [Absent(0, 1), new PageGroupSpec(1, 1, HostPage.Resident, false, 0, false)],
                tracePage: 1)),
        new("irq-off",
            "1 vCPU: a kernel thread touching an absent page with interrupts off, a user task faulting beside it",
            [],
            ExternalBounds.None with { HostExits = 1 },
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [Kernel("k", 0, Op(MicroOp.Cli), KTouch(0), Op(MicroOp.Sti)), User("u", 0, Touch(1))],
                [Absent(0, 2)])),
        new("kernel-fault",
            "1 vCPU: a kernel thread faulting in kernel mode (not told to the guest) beside a user task",
            [],
            ExternalBounds.None with { HostExits = 2 },
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [Kernel("k", 0, KTouch(0)), User("u", 0, Touch(1))],
                [Absent(0, 2)])),
        new("truncate",
            "1 vCPU, DAX pages truncated at any point: a user access, a kernel access with fixup, one without (2-bit APF ids)",
            [Knob("host.apf.token_id_bits", "2")],
            new ExternalBounds(0, 0, 1, 0, HostExits: 2),
            (p, b) => Config(p, b, vcpus: 1, pages: 3,
                [User("u", 0, Touch(0)), Kernel("kfix", 0, KTouch(1)), Kernel("knofix", 0, KTouch(2, fixup: false))],
                [new PageGroupSpec(0, 3, HostPage.AbsentIo, true, 0, true)])),
        new("pending-event",
            "1 vCPU, one timer tick: two user tasks faulting, so an APF event can meet a pending one",
            [],
            new ExternalBounds(0, 1, 0, 0, HostExits: 2),
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [User("a", 0, Touch(0)), User("b", 0, Touch(1))],
                [Absent(0, 2)])),
        new("reenable",
            "1 vCPU, one migration re-enable (wake all) while tasks sleep; a kernel thread enables the LAPIC late",
            [],
            new ExternalBounds(0, 0, 0, 1, HostExits: 3),
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [Kernel("init", 0, Op(MicroOp.LapicEnable)), User("a", 0, Touch(0)), User("b", 0, Touch(1))],
                [Absent(0, 2)])),
        new("cpu-offline",
            "2 vCPUs: a user task on each faulting on an absent page, and vCPU1's CPU-offline path that disables APF (kvm_pv_disable_apf, apf_task_wake_all) at any point",
            [],
            ExternalBounds.None with { HostExits = 2 },
            // kvm_cpu_down_prepare runs kvm_guest_cpu_offline inside local_irq_save: a page-ready
            // raised meanwhile is taken after apf_reason.enabled is clear (sysvec_kvm_asyncpf_interrupt).
            // vCPU0 stays online: _cpu_down refuses to take the last online CPU down
            // (num_online_cpus() == 1 gives -EBUSY), so a 1-vCPU model of it is no kernel's execution.
            (p, b) => Config(p, b, vcpus: 2, pages: 2,
                [User("a", 1, Touch(0)), Kernel("offline", 1, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti)), User("b", 0, Touch(1))],
                [Absent(0, 2)])),
        new("smm",
            "1 vCPU, one SMI at any point: a user task faulting on an absent page (RSM restores CR0.PG through kvm_set_cr0)",
            [],
            new ExternalBounds(0, 0, 0, 0, Smis: 1, HostExits: 1),
            (p, b) => Config(p, b, vcpus: 1, pages: 1,
                [User("a", 0, Touch(0))],
                [Absent(0, 1)])),
        new("teardown",
            "1 vCPU: a user task faulting on an absent page, and the VMM closing the VM at any point",
            [],
            new ExternalBounds(0, 0, 0, 0, Teardowns: 1, HostExits: 1),
            (p, b) => Config(p, b, vcpus: 1, pages: 1,
                [User("a", 0, Touch(0))],
                [Absent(0, 1)])),
        new("entry-window",
            "1 vCPU, entry text on a host-absent page: a user task doing a syscall that touches an absent page",
            [],
            ExternalBounds.None with { HostExits = 1 },
            (p, b) => Config(p, b, vcpus: 1, pages: 2,
                [User("u", 0, Op(MicroOp.SyscallEnter), KTouch(0), Op(MicroOp.SyscallExit))],
                [Absent(0, 2)],
                entryPage: 1)),
        new("bench",
            "benchmark only: 2 vCPUs, 2 tasks, 3 pages, one tick",
            [Knob("host.apf.ready_target", "any")],
            new ExternalBounds(0, 1, 0, 0),
            // No NMIs: a task frame, its #PF handler and one interrupt are the deepest stack, so
            // four frames a task suffice and every state is 160 bytes smaller to copy and hash.
            (p, b) => Config(p, b, vcpus: 2, pages: 3,
                [User("a", 0, Touch(0), Touch(1), Touch(2)), User("b", 1, Touch(2), Touch(1), Touch(0))],
                [Absent(0, 3)],
                maxDepth: 4),
            InMatrix: false),
    ];

    public static IEnumerable<string> Names => All.Select(m => m.Name);

    /// <summary>The model called <paramref name="name"/>; an unknown name throws <see cref="InputException"/>.</summary>
    public static BuiltinModel Get(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal))
        ?? throw new InputException(NearestName.Unknown("built-in model", name, Names));

    private static KeyValuePair<string, string> Knob(string key, string value) => new(key, value);

    private static PageGroupSpec Absent(int first, int count) => new(first, count, HostPage.AbsentIo, true, 0, false);

    private static Instr Touch(int page) => new(MicroOp.Touch, (byte)Addressing.Page, (ushort)page);

    private static Instr KTouch(int page, bool fixup = true) =>
        new(MicroOp.KTouch, (byte)((byte)Addressing.Page | (fixup ? TouchFlags.Fixup : 0)), (ushort)page);

    private static Instr Op(MicroOp op) => new(op);

    private static TaskSpec User(string name, int vcpu, params Instr[] code) =>
        new(name, TaskMode.User, vcpu, new GuestProgram(name, [.. code, new Instr(MicroOp.WorkDone), new Instr(MicroOp.Exit)]));

    private static TaskSpec Kernel(string name, int vcpu, params Instr[] code) =>
        new(name, TaskMode.Kernel, vcpu, new GuestProgram(name, [.. code, new Instr(MicroOp.WorkDone), new Instr(MicroOp.Exit)]));

    private static MachineConfig Config(
        ProtocolSpec protocol,
        ExternalBounds bounds,
        int vcpus,
        int pages,
        TaskSpec[] tasks,
        PageGroupSpec[] groups,
        int nmiTouchPage = -1,
        int entryPage = -1,
        int tracePage = -1,
        int maxDepth = 6) => new()
        {
            MaxDepth = maxDepth,
            Vcpus = vcpus,
            Pages = pages,
            Tasks = tasks,
            PageGroups = groups,
            Protocol = protocol,
            Bounds = bounds,
            NmiTouchPage = nmiTouchPage,
            EntryPage = entryPage,
            TracePage = tracePage,
            EnumerateChoices = true,
        };
}
