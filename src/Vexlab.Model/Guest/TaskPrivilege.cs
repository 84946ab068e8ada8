using Vexlab.Model.Machine;

namespace Vexlab.Model.Guest;

/// <summary>Why a task cannot run an op where its program puts it.</summary>
public enum PrivilegeFault : byte
{
    /// <summary>The op can run there.</summary>
    None,

    /// <summary>A kernel-only op (CLI, STI, preempt_disable, a kernel access...) in user mode.</summary>
    KernelOpInUserMode,

    /// <summary>SYSCALL while the task is already in the kernel.</summary>
    SyscallInKernel,

    /// <summary>SYSRET in user mode, with no system call to return from.</summary>
    SysretOutsideSyscall,

    /// <summary>SYSRET in a kernel thread, which has no user mode to return to.</summary>
    SysretInKernelThread,
}

/// <summary>
/// The privilege level each op of a task's program runs at, followed through its system calls.
/// A program that breaks these rules describes no execution of a real guest, so the checker would
/// report paths the kernel cannot take and the simulator would time work no task can do.
/// </summary>
public static class TaskPrivilege
{
    /// <summary>
    /// Steps over <paramref name="op"/>: its fault when the task cannot run it in the mode
    /// <paramref name="user"/> says it is in, else <see cref="PrivilegeFault.None"/> with
    /// <paramref name="user"/> updated past a SYSCALL or SYSRET. A program starts with
    /// <paramref name="user"/> true for a user task.
    /// </summary>
    public static PrivilegeFault Step(MicroOp op, TaskMode mode, ref bool user)
    {
        switch (op)
        {
            case MicroOp.SyscallEnter:
                if (!user)
                {
                    return PrivilegeFault.SyscallInKernel;
                }

                user = false;
                return PrivilegeFault.None;
            case MicroOp.SyscallExit:
                if (mode == TaskMode.Kernel)
                {
                    return PrivilegeFault.SysretInKernelThread;
                }

                if (user)
                {
                    return PrivilegeFault.SysretOutsideSyscall;
                }

                user = true;
                return PrivilegeFault.None;

            // SDM Vol. 2A, CLI and STI: #GP(0) when CPL > IOPL (CR4.PVI is clear in Linux). Linux
            // runs user space at IOPL 0: since 5.5 iopl(3) is emulated with the I/O bitmap and no
            // longer lets user space clear IF (arch/x86/Kconfig, X86_IOPL_IOPERM). A TPR write is
            // a MOV to CR8, privileged at CPL 3 (SDM Vol. 3A, 11.8.6.1). The rest are kernel
            // functions (preempt_disable, rcu_read_lock, kvm_pv_disable_apf, a kernel access with
            // an exception-table fixup) that user code has no way to call.
            case MicroOp.Cli:
            case MicroOp.Sti:
            case MicroOp.IrqDisable:
            case MicroOp.IrqEnable:
            case MicroOp.SetTpr:
            case MicroOp.PreemptOff:
            case MicroOp.PreemptOn:
            case MicroOp.RcuLock:
            case MicroOp.RcuUnlock:
            case MicroOp.LapicEnable:
            case MicroOp.ApfDisable:
            case MicroOp.KTouch:
                return user ? PrivilegeFault.KernelOpInUserMode : PrivilegeFault.None;
            default:
                return PrivilegeFault.None;
        }
    }

    /// <summary>The first op of <paramref name="code"/> a task of <paramref name="mode"/> cannot run where it is, or -1.</summary>
    public static int FirstFault(TaskMode mode, ReadOnlySpan<Instr> code, out PrivilegeFault fault)
    {
        var user = mode == TaskMode.User;
        for (var i = 0; i < code.Length; i++)
        {
            fault = Step(code[i].Op, mode, ref user);
            if (fault != PrivilegeFault.None)
            {
                return i;
            }
        }

        fault = PrivilegeFault.None;
        return -1;
    }
}
