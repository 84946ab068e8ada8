using Vexlab.Simulation.Scheduling;

namespace Vexlab.Simulation.Tests;

/// <summary>
/// The host's wakeup preemption of vCPU threads (EEVDF, kernel/sched/fair.c 6.6): a thread that
/// blocked owed time comes back below the average and takes the pCPU of a running thread that is
/// then no longer eligible; one that blocked having had more than its share waits.
/// </summary>
public sealed class HostCpusTests
{
    private const long Us = 1_000;

    [Fact]
    public void AThreadThatBlockedOwedTimePreemptsAtWakeup()
    {
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));

        // 0 runs its slice; 1 runs 100 us of its own, then blocks having had 0.1 of 1 ms.
        Assert.Equal(1, cpus.SliceEnd(0, 1_000 * Us));
        Assert.Equal(0, cpus.Block(1, 1_100 * Us));
        Assert.Equal(450 * Us, cpus.Lag(1));

        // Woken 100 us later it is placed 2 x 450 us below 0's vruntime: 0 is no longer eligible.
        Assert.True(cpus.Want(1, 1_200 * Us, out var preempted, out _));
        Assert.Equal(0, preempted);
        Assert.True(cpus.IsWaiting(0));
        Assert.True(cpus.IsRunning(1));
    }

    [Fact]
    public void AThreadHandlingTheExitItBlocksIn_IsNotPreempted_AndHandsItsPcpuOnWhenItBlocks()
    {
        // As AThreadThatBlockedOwedTimePreemptsAtWakeup, but 0 is on its way to block (kvm_vcpu_block after the
        // exit's handling): the wakeup that would preempt it queues 1, and 0's block hands 1 the pCPU.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(1, cpus.SliceEnd(0, 1_000 * Us));
        Assert.Equal(0, cpus.Block(1, 1_100 * Us));
        cpus.SetBlocking(0, true);
        Assert.True(cpus.IsBlocking(0));
        Assert.False(cpus.Want(1, 1_200 * Us, out var preempted, out _));
        Assert.Equal(-1, preempted);
        Assert.True(cpus.IsRunning(0));

        // Its request is long served: the tick renews it and switches nothing.
        Assert.Equal(-1, cpus.SliceEnd(0, 2_200 * Us));
        Assert.True(cpus.IsRunning(0));
        Assert.Equal(1, cpus.Block(0, 2_201 * Us));
        Assert.False(cpus.IsBlocking(0));
        Assert.True(cpus.IsRunning(1));
    }

    [Fact]
    public void AThreadThatBlockedAheadWaitsForTheSlice()
    {
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));

        // 0 runs 100 us and blocks while 1 has run nothing: 0 had more than its share.
        Assert.Equal(1, cpus.Block(0, 100 * Us));
        Assert.Equal(-50 * Us, cpus.Lag(0));
        Assert.False(cpus.Want(0, 200 * Us, out var preempted, out _));
        Assert.Equal(-1, preempted);
        Assert.True(cpus.IsRunning(1));
    }

    [Fact]
    public void WithZeroLagTheRunningThreadKeepsItsSlice()
    {
        // Both start level; 0 blocks at once with lag 0 and wakes to find 1 eligible: RUN_TO_PARITY.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(1, cpus.Block(0, 0));
        Assert.Equal(0, cpus.Lag(0));
        Assert.False(cpus.Want(0, 86 * Us, out _, out _));
    }

    [Fact]
    public void WithoutWakeupPreemptionTheWokenThreadQueues()
    {
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us, wakeupPreemption: false);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(1, cpus.SliceEnd(0, 1_000 * Us));
        Assert.Equal(0, cpus.Block(1, 1_100 * Us));
        Assert.False(cpus.Want(1, 1_200 * Us, out var preempted, out _));
        Assert.Equal(-1, preempted);
    }

    [Fact]
    public void TheLagKeptIsClampedToTwoSlices()
    {
        // update_entity_lag: |lag| <= max(2 slices, a tick); the slice here is a whole tick.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(-1, cpus.SliceEnd(1, 0));

        // 0 runs 10 ms while 1 waits (no slice end is delivered here), then 1 blocks owed 5 ms.
        Assert.Equal(-1, cpus.Block(1, 10_000 * Us));
        Assert.Equal(2_000 * Us, cpus.Lag(1));
    }

    [Fact]
    public void TheLagKeptIsClampedToATickWhenTheSliceIsShorter()
    {
        // update_entity_lag: max(2 x se->slice, TICK_NSEC). An explicit 1 ms slice on a HZ=250
        // host keeps up to 4 ms of lag, the host's tick, not 2 ms.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us, tickNs: 4_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));

        // 0 runs 10 ms while 1 waits, then 1 blocks owed 5 ms.
        Assert.Equal(-1, cpus.Block(1, 10_000 * Us));
        Assert.Equal(4_000 * Us, cpus.Lag(1));
    }

    [Fact]
    public void AThreadPreemptedMidRequestRunsOnlyTheRestOfItWhenItComesBack()
    {
        // EEVDF keeps a preempted thread's vruntime and deadline (set_next_entity only stashes the
        // deadline; update_deadline renews it once served): 0 had served 400 us of its 1 ms
        // request when 1 preempted it, so back on the pCPU at 1,600 us the 100 us tick finds it
        // used up at the tick after 2,200 us (its run began a little after the tick at 1,600 us
        // that handed it the pCPU), not a whole request later at 2,600 us.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us, tickNs: 100 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(1, cpus.SliceEnd(0, 1_100 * Us));
        Assert.Equal(0, cpus.Block(1, 1_100 * Us));
        Assert.True(cpus.Want(1, 1_500 * Us, out var preempted, out _));
        Assert.Equal(0, preempted);
        Assert.Equal(0, cpus.Block(1, 1_600 * Us));
        Assert.Equal(2_300 * Us, cpus.SliceCheckAt(0, 1_600 * Us));

        // Used up there with nobody waiting: a new request from that tick's reading, and the tick a
        // whole request later finds it served.
        Assert.Equal(-1, cpus.SliceEnd(0, 2_300 * Us));
        Assert.Equal(3_300 * Us, cpus.SliceCheckAt(0, 2_300 * Us));
    }

    [Theory]
    [InlineData(1_000, 100, 1_100)]
    [InlineData(2_000, 1_000, 3_000)]
    [InlineData(750, 1_000, 1_000)]
    [InlineData(750, 4_000, 4_000)]
    public void ARequestOfWholeTicksFromAPick_IsFoundServedOneTickLater(long requestUs, long tickUs, long endUs)
    {
        // A thread handed its pCPU at a tick starts its run in the schedule() after that tick's handler
        // read the clock; whole periods later the tick's update_curr charges a little less than those
        // periods, so update_deadline finds a request of exactly k ticks served at tick k + 1. A request
        // off the grid (the 0.75 ms base slice) ends at the first tick past it.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: requestUs * Us, tickNs: tickUs * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(endUs * Us, cpus.SliceCheckAt(0, 0));
    }

    [Fact]
    public void ATickBeforeTheRequestIsServedDoesNotEndTheSlice()
    {
        // update_deadline returns early while vruntime < deadline: no resched, whoever waits.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us, tickNs: 100 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(-1, cpus.SliceEnd(0, 900 * Us));
        Assert.True(cpus.IsRunning(0));
        Assert.Equal(1, cpus.SliceEnd(0, 1_000 * Us));
    }

    [Fact]
    public void AtASliceEndTheWokenThreadOwedTimeGoesAheadOfOneThatQueuedEarlier()
    {
        // pick_eevdf, not first come first served: at the slice end the eligible waiter with the
        // earliest deadline takes the pCPU. Wakeup preemption is off, so both wakers queue.
        var cpus = new HostCpus(pcpus: 1, vcpus: 3, sliceNs: 1_000 * Us, wakeupPreemption: false);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(2, 0));

        // 2 runs 100 us of its turn and blocks owed 450 us; 0 gets the pCPU back.
        Assert.Equal(2, cpus.SliceEnd(0, 1_000 * Us));
        Assert.Equal(0, cpus.Block(2, 1_100 * Us));
        Assert.Equal(450 * Us, cpus.Lag(2));

        // 1 wakes with no lag at the average (vruntime 1,000 us, deadline 2,000 us) and queues
        // first; 2 wakes 100 us later placed 675 us below the average (375 us, deadline 1,375 us).
        Assert.False(cpus.Want(1, 1_100 * Us));
        Assert.False(cpus.Want(2, 1_200 * Us));

        // 0 (back on the pCPU at 1,100 us) has its request served at 2,100 us: the average is
        // then 1,125 us, both waiters are eligible, and 2's deadline is the earlier. The FIFO
        // queue gave the pCPU to 1.
        Assert.Equal(2, cpus.SliceEnd(0, 2_100 * Us));
        Assert.True(cpus.IsWaiting(1));
        Assert.True(cpus.IsWaiting(0));
    }

    [Fact]
    public void AFreedPcpuPassesOverAnIneligibleWaiterDespiteItsEarlierDeadline()
    {
        // 0 is preempted 100 us before its request is served: its deadline is close above its
        // vruntime, earlier than 1's, but it has run more than the average and is not eligible
        // (entity_eligible), so when a pCPU comes free pick_eevdf takes 1. The FIFO queue gave
        // it to 0, queued first.
        var cpus = new HostCpus(pcpus: 1, vcpus: 3, sliceNs: 1_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(2, 0));
        Assert.Equal(2, cpus.SliceEnd(0, 1_000 * Us));
        Assert.Equal(0, cpus.Block(2, 1_100 * Us));
        Assert.Equal(450 * Us, cpus.Lag(2));

        // 2 wakes at 1,900 us placed 900 us below 0 (vruntime 1,000 us): 0 (1,900 us, deadline
        // 2,000 us) is no longer eligible and waits.
        Assert.True(cpus.Want(2, 1_900 * Us, out var preempted, out _));
        Assert.Equal(0, preempted);

        // 1 wakes new at the average, 1,450 us (deadline 2,450 us), and queues behind 0.
        Assert.False(cpus.Want(1, 1_900 * Us, out _, out _));

        // 2 blocks: the average of 0 and 1 is 1,675 us, so only 1 is eligible.
        Assert.Equal(1, cpus.Block(2, 2_000 * Us));
        Assert.True(cpus.IsWaiting(0));
    }

    [Fact]
    public void AWakeupReschedulesARunningThreadWhoseRequestIsServed()
    {
        // enqueue_entity -> update_curr -> update_deadline: 0's 1 ms request was served at 1 ms,
        // but without HRTICK only the tick (at 4 ms) looked. 2 waking at 2 ms runs update_curr on
        // 0, and with 1 already waiting (nr_running > 1) resched_curr: pick_eevdf gives the pCPU
        // to 1, the eligible waiter with the earliest deadline. Wakeup preemption is off: this is
        // update_deadline's reschedule, not check_preempt_wakeup's. 0 ran on to the tick.
        var cpus = new HostCpus(pcpus: 1, vcpus: 3, sliceNs: 1_000 * Us, wakeupPreemption: false, tickNs: 4_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.Equal(4_000 * Us, cpus.SliceCheckAt(0, 0));

        Assert.False(cpus.Want(2, 2_000 * Us));
        Assert.True(cpus.IsRunning(1));
        Assert.True(cpus.IsWaiting(0));
        Assert.True(cpus.IsWaiting(2));
    }

    [Fact]
    public void AWakeupLeavesARunningThreadWhoseRequestIsNotServed()
    {
        // update_curr at the wakeup finds 0's 1 ms request (from 0) not served at 0.5 ms:
        // update_deadline does nothing, and 0 keeps the pCPU to the tick that finds it served
        // (4 ms), its deadline and RUN_TO_PARITY protection unchanged.
        var cpus = new HostCpus(pcpus: 1, vcpus: 3, sliceNs: 1_000 * Us, wakeupPreemption: false, tickNs: 4_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 0));
        Assert.False(cpus.Want(2, 500 * Us, out var preempted, out var granted));
        Assert.Equal((-1, -1), (preempted, granted));
        Assert.True(cpus.IsRunning(0));
        Assert.Equal(4_000 * Us, cpus.SliceCheckAt(0, 500 * Us));
        Assert.Equal(1, cpus.SliceEnd(0, 4_000 * Us));
    }

    [Fact]
    public void AWakeupOntoALoneServedThreadRenewsItsRequestWithoutAReschedule()
    {
        // update_curr runs before the woken thread is counted (account_entity_enqueue comes after
        // it in enqueue_entity), so with 0 alone on the queue update_deadline renews its request
        // at 3.5 ms without resched_curr. The tick at 4 ms then finds the new request (to 4.5 ms)
        // not served, and 0 runs on to the tick at 8 ms. The tick at 4 ms used to swap them.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us, wakeupPreemption: false, tickNs: 4_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.False(cpus.Want(1, 3_500 * Us));
        Assert.Equal(-1, cpus.SliceEnd(0, 4_000 * Us));
        Assert.True(cpus.IsRunning(0));
        Assert.Equal(8_000 * Us, cpus.SliceCheckAt(0, 4_000 * Us));
    }

    [Fact]
    public void AWakeupOntoALoneServedThreadPreemptsItOnceItsRequestIsRenewed()
    {
        // As above with wakeup preemption: the renewal ended 0's RUN_TO_PARITY protection (vlag no
        // longer equals its deadline), so check_preempt_wakeup's pick_eevdf compares
        // deadlines. 1, woken with no lag at the average (0's vruntime), has the same deadline as
        // 0's renewed one, and curr wins only when strictly earlier: 1 takes the pCPU. 0, eligible
        // and treated as protected, used to keep it to the tick.
        var cpus = new HostCpus(pcpus: 1, vcpus: 2, sliceNs: 1_000 * Us, tickNs: 4_000 * Us);
        Assert.True(cpus.Want(0, 0));
        Assert.True(cpus.Want(1, 3_500 * Us));
        Assert.True(cpus.IsWaiting(0));
    }
}
