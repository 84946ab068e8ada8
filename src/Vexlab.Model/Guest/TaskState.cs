using System.Runtime.InteropServices;

namespace Vexlab.Model.Guest;

public enum TaskPhase : byte
{
    Runnable,
    Running,
    Sleeping,
    Exited,
    Killed,
}

/// <summary>A guest task (user task, kernel thread or a vCPU's idle task) and its kernel bookkeeping.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct TaskState
{
    public TaskPhase Status;
    public byte Vcpu;
    public byte Depth;
    public byte PreemptCount;
    public byte RcuDepth;

    /// <summary>1 while TASK_UNINTERRUPTIBLE was set by prepare_to_swait and no wake has come.</summary>
    public byte Uninterruptible;

    /// <summary>IF the task had when it was switched out; restored when it runs again.</summary>
    public byte SavedIf;

    /// <summary>1 when the completion this task waits on (the #VE design) is done.</summary>
    public byte Completed;
    public byte CompletionStatus;
    public byte Signals;
    public byte LastError;

    /// <summary>Why a task blocked in its own code (<see cref="BlockKind"/>): the driver's <see cref="Machine.ActionKind.Wake"/> ends it.</summary>
    public BlockKind Blocked;
    public uint WaitToken;
    public uint Iterations;
    public uint Cursor;
}

/// <summary>What a task blocked on with <see cref="MicroOp.Block"/>; an external wake ends each.</summary>
public enum BlockKind : byte
{
    None,

    /// <summary>nanosleep: an hrtimer wakes the task (hrtimer_wakeup) after its time.</summary>
    Timer,

    /// <summary>A server waiting for its next request (a blocking accept or read on a socket).</summary>
    Request,

    /// <summary>A read() that missed the page cache, waiting for the guest disk's read (folio_wait_locked).</summary>
    DiskRead,
}

/// <summary>
/// One handler or task activation on a task's stack. Interrupt and NMI frames nest on the
/// stack of the task they interrupt, so a task that sleeps in its #PF handler carries its frames.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct Frame
{
    public byte Program;
    public byte Pc;

    /// <summary>1 when this frame runs at CPL3.</summary>
    public byte User;

    /// <summary>RFLAGS.IF of the interrupted context, restored by IRET.</summary>
    public byte SavedIf;
    public FrameEvent Event;
    public byte Aux;
    public ushort Reserved;

    /// <summary>What the event delivered (CR2 for #PF, the gpa for #VE): kept to check fault-info-intact.</summary>
    public uint EventInfo;
    public uint R0;
    public uint R1;
}

/// <summary>The event that pushed a frame, as the hardware or host delivered it.</summary>
public enum FrameEvent : byte
{
    Task,
    PageFault,
    AsyncPfNotPresent,
    AsyncPfReady,
    Ve,
    Nmi,
    Interrupt,
    DoubleFault,
}

/// <summary>A node of the guest's APF sleep table (kvm_task_sleep_node), or a dummy.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct SleepNode
{
    /// <summary><see cref="Used"/>: hashed in the sleep table.</summary>
    public const byte Hashed = 1;

    /// <summary>0 free, or <see cref="Hashed"/>. A dummy apf_task_wake_one unhashes (and never frees) leaves the table: Globals.LeakedDummies counts it.</summary>
    public byte Used;
    public byte Dummy;
    public byte Task;
    public byte Cpu;
    public uint Token;
}
