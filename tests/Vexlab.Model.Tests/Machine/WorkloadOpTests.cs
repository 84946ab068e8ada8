using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// The workload micro-ops a scenario's alloc, free, sleep and request waits compile to: Block and
/// its external Wake (nanosleep's hrtimer_wakeup, a request's arrival), and Alloc's fresh pages,
/// which do_anonymous_page zeroes with clear_page in kernel mode before mapping.
/// </summary>
public sealed class WorkloadOpTests
{
    [Theory]
    [InlineData(BlockKind.Timer)]
    [InlineData(BlockKind.Request)]
    public void Block_SleepsTheTask_UntilItsWake(BlockKind kind)
    {
        var m = Build("sync", [User("a", 0, new Instr(MicroOp.Block, (byte)kind, 1), Op(MicroOp.Compute))]);
        var s = new Script(m);
        var t = m.WorkloadTask(0);
        Assert.False(s.IsEnabled(ActionKind.Wake, 0, t));
        var blocked = s.StepUntil(ModelEventKind.TaskBlocked);
        Assert.Contains(blocked, e => e.Kind == ModelEventKind.TaskBlocked && e.Aux == (byte)kind && e.Token == 1);
        Assert.Equal(TaskPhase.Sleeping, m.Task(t).Status);
        Assert.Equal(0, m.Vcpu(0).CurrentTask);

        // The wake is try_to_wake_up plus an interrupt on the task's vCPU, which then runs it.
        var woken = s.Do(ActionKind.Wake, 0, t);
        Assert.Contains(woken, e => e.Kind == ModelEventKind.TaskWoken && e.Task == t);
        Assert.Contains(woken, e => e.Kind == ModelEventKind.InterruptRaised);
        Assert.False(s.IsEnabled(ActionKind.Wake, 0, t));
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
    }

    [Fact]
    public void AFileReadMiss_SleepsOnTheDiskRead_AndAHitDoesNot()
    {
        // filemap_read: the first read of page 2 misses (the task sleeps until its Wake), the second hits.
        var read = new Instr(MicroOp.KTouch, (byte)((byte)Addressing.Page | TouchFlags.Fixup | TouchFlags.PageCache), 2);
        var m = Build("sync", [User("a", 0, Op(MicroOp.SyscallEnter), read, read, Op(MicroOp.SyscallExit))]);
        var s = new Script(m);
        var t = m.WorkloadTask(0);
        var miss = s.StepUntil(ModelEventKind.TaskBlocked);
        Assert.Contains(miss, e => e.Kind == ModelEventKind.PageCacheLookup && e.Aux == 0 && e.Page == 2);
        Assert.Contains(miss, e => e.Kind == ModelEventKind.TaskBlocked && e.Aux == (byte)BlockKind.DiskRead && e.Page == 2);
        Assert.NotEqual(0, (int)(m.Page(2).Flags & PageFlags.Cached));
        s.Do(ActionKind.Wake, 0, t);
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        Assert.Single(s.Events, e => e.Kind == ModelEventKind.PageCacheLookup && e.Aux == 1);
        Assert.Single(s.Events, e => e.Kind == ModelEventKind.TaskBlocked);
        Assert.Equal(2, s.Events.Count(e => e.Kind == ModelEventKind.AccessDone));
    }

    [Fact]
    public void Block_InAtomicContext_IsASleepInAtomicBug()
    {
        // might_sleep(): a blocking call with preemption disabled.
        var m = Build("sync", [User("a", 0, Op(MicroOp.PreemptOff), new Instr(MicroOp.Block, (byte)BlockKind.Timer, 1))]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.Oops);
        Assert.Equal(PanicReason.SleepInAtomic, m.Panic);
    }

    /// <summary>
    /// A user touch of a fresh host-absent page: the guest #PF comes first, then clear_page's
    /// host fault in kernel mode (AccessFault Aux = 0), with interrupts on (do_user_addr_fault's
    /// local_irq_enable), handled as each protocol handles a kernel-mode fault with IF=1; once the
    /// page is in, the handler maps it (GuestMinorFault Aux = 1). kvm-pf, which delivers it as a
    /// not-present #PF inside the #PF handler, is in FreshPageIrqTests.
    /// </summary>
    [Theory]
    [InlineData("sync", ModelEventKind.SyncStall)]
    [InlineData("kvm-halt", ModelEventKind.ArtificialHalt)]
    [InlineData("kvm-pf-int", ModelEventKind.ArtificialHalt)]
    [InlineData("ve", ModelEventKind.VeDelivered)]
    public void FirstTouchOfAFreshPage_ZeroesItInKernelMode(string protocol, ModelEventKind hostPath)
    {
        var regions = new[] { new RegionSpec("heap", 0, 2) };
        var config = new MachineConfig
        {
            Vcpus = 1,
            Pages = 4,
            Tasks = [User("a", 0, new Instr(MicroOp.Alloc, 0, 0), Touch(0), Touch(0))],
            Regions = regions,
            Protocol = ProtocolCatalog.Create(protocol, []),
            PageGroups = [new PageGroupSpec(0, 2, HostPage.AbsentIo, true, 0, false)],
            Bounds = ExternalBounds.None,
        };
        var m = new Model.Machine.Machine(config);
        var s = new Script(m);
        s.Do(ActionKind.Step);
        Assert.Equal(PageFlags.Fresh, m.Page(0).Flags & (PageFlags.Fresh | PageFlags.GuestPresent));

        var pf = s.StepUntil(ModelEventKind.AccessFault);
        Assert.Contains(pf, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == 14);
        Assert.Contains(pf, e => e.Kind == ModelEventKind.AccessFault && e.Aux == 0 && e.Page == 0);
        Assert.Contains(pf, e => e.Kind == hostPath);
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        Assert.Contains(s.Events, e => e.Kind == ModelEventKind.GuestMinorFault && e.Aux == 1 && e.Page == 0);
        Assert.Equal(PageFlags.GuestPresent, m.Page(0).Flags & (PageFlags.Fresh | PageFlags.GuestPresent));
        Assert.Single(s.Events, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == 14);
    }
}
