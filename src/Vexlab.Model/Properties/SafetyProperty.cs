namespace Vexlab.Model.Properties;

/// <summary>
/// The safety properties the model checks as it steps (names are the CLI's). The machine reports a
/// violation as a <see cref="Machine.ModelEventKind.PropertyViolated"/> event.
/// </summary>
public enum SafetyProperty : byte
{
    /// <summary>A "do other stuff" event (not-present #PF, resolve_ept(true)) only when the interrupted IF was 1.</summary>
    DosOnlyIf1,

    /// <summary>Page-ready or wakeup delivered only where interrupts are accepted.</summary>
    ReadyOnlyIf1,

    /// <summary>A host-absent access is told at that instruction or resolved synchronously, never dropped.</summary>
    NotPresentNeverDeferred,

    /// <summary>Every fault handler acts on its own CR2, APF flags and VE info.</summary>
    FaultInfoIntact,

    /// <summary>No task sleeps with preemption off, in RCU, in interrupt context or as the idle task.</summary>
    NoSleepInAtomic,

    /// <summary>The protocol never produces a double fault.</summary>
    NoProtocolDoubleFault,

    /// <summary>Page-ready only for a token whose not-present event was delivered (or broadcast).</summary>
    ReadyMatchesNotPresent,

    /// <summary>At most one sleep-table node per token.</summary>
    OneNodePerToken,

    /// <summary>No dummy entries left when the guest is quiescent.</summary>
    NoStaleDummies,

    /// <summary>No #VE in the SYSCALL gap or NMI entry.</summary>
    NoVeInEntryWindow,

    /// <summary>No async_pf_execute runs after its VM is destroyed and the module reference put.</summary>
    NoWorkAfterDestroy,
}

/// <summary>Liveness properties, judged on paths where the guest stays alive.</summary>
public enum LivenessProperty : byte
{
    /// <summary>Every waiting task is eventually woken.</summary>
    NoLostWakeup,

    /// <summary>A fault on an unrecoverable page ends (SIGBUS, fixup, oops, VMM error), never loops.</summary>
    UnrecoverableTerminates,

    /// <summary>A vCPU woken from a halt by a completion it cannot dequeue takes one eventually, never spins.</summary>
    NoHaltLivelock,
}

public static class PropertyNames
{
    public static readonly string[] Safety =
    [
        "dos-only-if1", "ready-only-if1", "not-present-never-deferred", "fault-info-intact", "no-sleep-in-atomic",
        "no-protocol-double-fault", "ready-matches-not-present", "one-node-per-token", "no-stale-dummies",
        "no-ve-in-entry-window", "no-work-after-destroy",
    ];

    public static readonly string[] Liveness = ["no-lost-wakeup", "unrecoverable-terminates", "no-halt-livelock"];

    public static string Of(SafetyProperty p) => Safety[(int)p];

    public static string Of(LivenessProperty p) => Liveness[(int)p];
}
