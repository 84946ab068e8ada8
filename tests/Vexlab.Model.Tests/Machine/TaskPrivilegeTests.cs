using Vexlab.Model.Guest;
using Vexlab.Model.Machine;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// TaskPrivilege: which ops a task may run at the privilege level its program has it at. Each row
/// names the rule: SDM Vol. 2A CLI/STI (#GP(0) when CPL > IOPL, and Linux's user space runs at
/// IOPL 0), SDM Vol. 2B MOV to CR8 (#GP(0) when CPL > 0), and kernel functions user code cannot call.
/// </summary>
public sealed class TaskPrivilegeTests
{
    [Theory]
    // User mode: only user accesses, compute, yield (sched_yield) and SYSCALL.
    [InlineData(TaskMode.User, MicroOp.Touch, PrivilegeFault.None)]
    [InlineData(TaskMode.User, MicroOp.Compute, PrivilegeFault.None)]
    [InlineData(TaskMode.User, MicroOp.Yield, PrivilegeFault.None)]
    [InlineData(TaskMode.User, MicroOp.Cli, PrivilegeFault.KernelOpInUserMode)] // SDM Vol. 2A, CLI: CPL 3 > IOPL 0
    [InlineData(TaskMode.User, MicroOp.Sti, PrivilegeFault.KernelOpInUserMode)] // SDM Vol. 2A, STI: CPL 3 > IOPL 0
    [InlineData(TaskMode.User, MicroOp.IrqDisable, PrivilegeFault.KernelOpInUserMode)] // local_irq_disable is CLI
    [InlineData(TaskMode.User, MicroOp.IrqEnable, PrivilegeFault.KernelOpInUserMode)]
    [InlineData(TaskMode.User, MicroOp.SetTpr, PrivilegeFault.KernelOpInUserMode)] // SDM Vol. 2B, MOV to CR8 at CPL 3
    [InlineData(TaskMode.User, MicroOp.PreemptOff, PrivilegeFault.KernelOpInUserMode)] // preempt_disable
    [InlineData(TaskMode.User, MicroOp.PreemptOn, PrivilegeFault.KernelOpInUserMode)]
    [InlineData(TaskMode.User, MicroOp.RcuLock, PrivilegeFault.KernelOpInUserMode)] // rcu_read_lock
    [InlineData(TaskMode.User, MicroOp.RcuUnlock, PrivilegeFault.KernelOpInUserMode)]
    [InlineData(TaskMode.User, MicroOp.LapicEnable, PrivilegeFault.KernelOpInUserMode)] // APIC SVR write
    [InlineData(TaskMode.User, MicroOp.ApfDisable, PrivilegeFault.KernelOpInUserMode)] // kvm_pv_disable_apf
    [InlineData(TaskMode.User, MicroOp.KTouch, PrivilegeFault.KernelOpInUserMode)] // a uaccess with its fixup
    [InlineData(TaskMode.User, MicroOp.SyscallExit, PrivilegeFault.SysretOutsideSyscall)]
    [InlineData(TaskMode.User, MicroOp.SyscallEnter, PrivilegeFault.None)]
    // A kernel thread: every kernel op, no SYSCALL and no SYSRET.
    [InlineData(TaskMode.Kernel, MicroOp.Cli, PrivilegeFault.None)]
    [InlineData(TaskMode.Kernel, MicroOp.SetTpr, PrivilegeFault.None)]
    [InlineData(TaskMode.Kernel, MicroOp.KTouch, PrivilegeFault.None)]
    [InlineData(TaskMode.Kernel, MicroOp.Touch, PrivilegeFault.None)]
    [InlineData(TaskMode.Kernel, MicroOp.SyscallEnter, PrivilegeFault.SyscallInKernel)]
    [InlineData(TaskMode.Kernel, MicroOp.SyscallExit, PrivilegeFault.SysretInKernelThread)]
    public void An_op_at_the_start_of_a_program(TaskMode mode, MicroOp op, PrivilegeFault expected)
    {
        var user = mode == TaskMode.User;
        Assert.Equal(expected, TaskPrivilege.Step(op, mode, ref user));
    }

    [Theory]
    // A system call puts a user task in the kernel until SYSRET (entry_SYSCALL_64 ... sysretq).
    [InlineData(TaskMode.User, new[] { MicroOp.SyscallEnter, MicroOp.Cli, MicroOp.KTouch, MicroOp.Sti, MicroOp.SyscallExit, MicroOp.Touch }, -1, PrivilegeFault.None)]
    [InlineData(TaskMode.User, new[] { MicroOp.SyscallEnter, MicroOp.SyscallExit, MicroOp.PreemptOff }, 2, PrivilegeFault.KernelOpInUserMode)]
    [InlineData(TaskMode.User, new[] { MicroOp.SyscallEnter, MicroOp.SyscallEnter }, 1, PrivilegeFault.SyscallInKernel)]
    [InlineData(TaskMode.User, new[] { MicroOp.SyscallEnter, MicroOp.SyscallExit, MicroOp.SyscallExit }, 2, PrivilegeFault.SysretOutsideSyscall)]
    // A user task may exit from inside a system call (exit_group).
    [InlineData(TaskMode.User, new[] { MicroOp.SyscallEnter, MicroOp.RcuLock, MicroOp.RcuUnlock, MicroOp.WorkDone, MicroOp.Exit }, -1, PrivilegeFault.None)]
    [InlineData(TaskMode.Kernel, new[] { MicroOp.PreemptOff, MicroOp.KTouch, MicroOp.PreemptOn, MicroOp.SyscallExit }, 3, PrivilegeFault.SysretInKernelThread)]
    public void A_program_is_followed_through_its_system_calls(TaskMode mode, MicroOp[] ops, int index, PrivilegeFault fault)
    {
        var code = Array.ConvertAll(ops, op => new Instr(op));
        Assert.Equal(index, TaskPrivilege.FirstFault(mode, code, out var found));
        Assert.Equal(fault, found);
    }
}
