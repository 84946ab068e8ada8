using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

/// <summary>Whether a task runs user code (CPL3, with syscalls into the kernel) or is a kernel thread.</summary>
public enum TaskMode : byte
{
    User,
    Kernel,
}

/// <summary>One guest task: its program, where it runs and how many instances.</summary>
public sealed record TaskSpec(string Name, TaskMode Mode, int Vcpu, GuestProgram Program);

/// <summary>A contiguous run of guest pages that programs address by region index.</summary>
public sealed record RegionSpec(string Name, int FirstPage, int PageCount);

/// <summary>The initial state of a group of pages.</summary>
public sealed record PageGroupSpec(int FirstPage, int PageCount, HostPage Host, bool GuestPresent, byte Backing, bool Dax);

/// <summary>
/// Bounds on external events for the checker; the simulator schedules them itself and
/// uses <see cref="Unbounded"/> (it raises no SMIs, INITs or teardowns, and migrates no tasks).
/// <paramref name="HostExits"/> bounds <see cref="ActionKind.HostExit"/>: the host interrupts (tick,
/// IPI, device) after which the 5.7 host's vcpu_run injects a waiting page-ready, or whose entry uses up a
/// KVM_REQ_APF_READY the 5.8+ host cannot serve.
/// </summary>
public sealed record ExternalBounds(int Nmis, int Ticks, int Truncations, int Reenables, int Smis = 0, int Inits = 0, int Teardowns = 0, int Migrations = 0, int HostExits = 0)
{
    public static readonly ExternalBounds None = new(0, 0, 0, 0);

    /// <summary>
    /// The driver raises external events itself (255 = no bound in the state). Host exits are
    /// unbounded so that a replayed counterexample's HostExit steps apply; the simulator's own
    /// runs never take one (its host tick is <see cref="ActionKind.HostTick"/>).
    /// </summary>
    public static readonly ExternalBounds Unbounded = new(255, 255, 255, 255, HostExits: 255);
}

/// <summary>The whole configuration of a machine: immutable, shared by the drivers.</summary>
public sealed record MachineConfig
{
    public required int Vcpus { get; init; }

    public required int Pages { get; init; }

    public required IReadOnlyList<TaskSpec> Tasks { get; init; }

    public IReadOnlyList<RegionSpec> Regions { get; init; } = [];

    public IReadOnlyList<PageGroupSpec> PageGroups { get; init; } = [];

    public required ProtocolSpec Protocol { get; init; }

    public ExternalBounds Bounds { get; init; } = ExternalBounds.None;

    /// <summary>The page an NMI handler touches (perf's user call chain walk); -1 none.</summary>
    public int NmiTouchPage { get; init; } = -1;

    /// <summary>The only vCPU external NMIs arrive at; -1 any.</summary>
    public int NmiVcpu { get; init; } = -1;

    /// <summary>The page a trace point touches when it is not yet mapped; -1 none.</summary>
    public int TracePage { get; init; } = -1;

    /// <summary>The page holding syscall and NMI entry text (entry-window model); -1 none.</summary>
    public int EntryPage { get; init; } = -1;

    /// <summary>Maximum nesting of frames on one task's stack.</summary>
    public int MaxDepth { get; init; } = 6;

    /// <summary>When true, a touch of a random-pattern region lists one action per page (the checker).</summary>
    public bool EnumerateChoices { get; init; }
}
