using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Properties;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

/// <summary>The micro-op interpreter: one guest step of one vCPU.</summary>
public sealed partial class Machine
{
    private const byte Efault = 14;

    /// <summary>Follows jumps (they cost no step) and returns the pc of the next real micro-op.</summary>
    private int ResolvePc(int v, int t, ref Frame f)
    {
        var code = _programs[f.Program].Code;
        var pc = (int)f.Pc;
        for (var guard = 0; guard < 64; guard++)
        {
            var ins = code[pc];
            if (ins.Op == MicroOp.Jump)
            {
                pc = ins.B;
            }
            else if (ins.Op == MicroOp.JumpIf)
            {
                pc = Evaluate((Condition)ins.A, v, t, ref f) ? ins.B : pc + 1;
            }
            else
            {
                return pc;
            }
        }

        throw new InvalidOperationException($"program {_programs[f.Program].Name}: jump loop at {f.Pc}");
    }

    private bool Evaluate(Condition condition, int v, int t, ref Frame f)
    {
        ref var task = ref TaskRef(t);
        switch (condition)
        {
            case Condition.FlagsZero:
                return f.R1 == 0;
            case Condition.FlagsNotPresent:
                return f.R1 == 1;
            case Condition.FlagsReady:
                return f.R1 == 2;
            case Condition.InterruptedIfZero:
                return f.SavedIf == 0;
            case Condition.InterruptedUser:
                return InterruptedUser(t);
            case Condition.InterruptedKernel:
                return !InterruptedUser(t);
            case Condition.Woken:
                return f.Aux == 1;
            case Condition.ErrorStatus:
                return f.R1 == ErrorStatus;
            case Condition.CanContinue:
                return CanContinue(t, ref f);
            case Condition.CannotSchedule:
                return CannotSchedule(t);
            case Condition.ApfReasonDisabled:
                // kvm_pv_disable_apf clears apf_reason.enabled right after its MSR write; the model's
                // APF disable is one step, so the host's enable bit is the guest's flag too.
                return VcpuRef(v).ApfEnabled == 0;
            case Condition.NeedResched:
                // TIF_NEED_RESCHED alone, as need_resched() reads it: every task queued on an idle CPU sets it
                // (check_preempt_curr preempts idle), and it stays set when the balancer takes that task away again
                // before the idle loop schedules.
                return VcpuRef(v).NeedResched == 1;
            case Condition.TokenBroadcast:
                return f.R0 == BroadcastToken;
            case Condition.Found:
                return f.R1 == 1;
            case Condition.NmiLatched:
                return f.Aux == 2;
            case Condition.NmiNested:
                return f.Aux == 1;
            case Condition.VeKnownUnrecoverable:
                // With only unrecoverable entries convertible, any #VE means the page is gone.
                return _host.Convertible == VeConvertible.UnrecoverableOnly;
            default:
                _ = v;
                _ = task;
                return true;
        }
    }

    /// <summary>True when the context the top frame interrupted ran at CPL3.</summary>
    private bool InterruptedUser(int t)
    {
        ref var task = ref TaskRef(t);
        return task.Depth >= 2 && FrameRef(t, task.Depth - 2).User == 1;
    }

    /// <summary>True when every frame below the top is task-level or a fault handler (no IRQ/NMI context).</summary>
    private bool InTaskContext(int t, int belowDepth)
    {
        for (var d = 0; d < belowDepth; d++)
        {
            var e = FrameRef(t, d).Event;
            if (e is FrameEvent.Nmi or FrameEvent.Interrupt)
            {
                return false;
            }
        }

        return true;
    }

    private bool IsIdle(int t) => t < _vcpus;

    /// <summary>The seed's can_continue decision for the context the #VE interrupted.</summary>
    private bool CanContinue(int t, ref Frame f)
    {
        ref var task = ref TaskRef(t);
        return _guest.CanContinue switch
        {
            CanContinuePolicy.Seed => InterruptedUser(t),
            // preemptible() is 0 without CONFIG_PREEMPT_COUNT (include/linux/preempt.h): preempt_disable()
            // does not count there, so the handler cannot tell a preempt-off kernel context from any other
            // and no kernel context may continue, as 5.7's kvm_async_pf_task_wait halts every one.
            CanContinuePolicy.UserOrPreemptibleKernel => InterruptedUser(t)
                || (_guest.ConfigPreempt && f.SavedIf == 1 && task.PreemptCount == 0 && task.RcuDepth == 0 && !IsIdle(t) && InTaskContext(t, task.Depth - 1)),
            CanContinuePolicy.Always => true,
            _ => false,
        };
    }

    /// <summary>
    /// 5.7's kvm_async_pf_task_wait (the kvm-pf guest only; 6bca69ada4bc replaced it):
    /// <c>n.halted = is_idle_task(current) || (IS_ENABLED(CONFIG_PREEMPT_COUNT) ? preempt_count() > 1
    /// || rcu_preempt_depth() : interrupt_kernel)</c>. guest.config_preempt stands for CONFIG_PREEMPTION,
    /// which selects CONFIG_PREEMPT_COUNT. With it, the bucket's raw_spin_lock is the one count the wait
    /// holds itself, so any count of the interrupted context (preempt, hardirq, NMI) halts, and the
    /// interrupted context's IF is not read: kernel code with IF=0 and no count sleeps. Without it, every
    /// kernel context halts (interrupt_kernel is do_async_page_fault's !user_mode(regs)).
    /// </summary>
    private bool CannotSchedule(int t)
    {
        ref var task = ref TaskRef(t);
        if (IsIdle(t))
        {
            return true;
        }

        if (!_guest.ConfigPreempt)
        {
            return !InterruptedUser(t);
        }

        // A trace point's probe runs under preempt_disable_notrace (__DO_TRACE,
        // include/linux/tracepoint.h): a fault in it holds a count, so it halts.
        return task.PreemptCount > 0 || task.RcuDepth > 0 || !InTaskContext(t, task.Depth - 1) || InterruptedTracePoint(t);
    }

    /// <summary>True when the context the top frame interrupted is stopped in a trace point (its probe faulted).</summary>
    private bool InterruptedTracePoint(int t)
    {
        ref var task = ref TaskRef(t);
        if (task.Depth < 2)
        {
            return false;
        }

        ref var interrupted = ref FrameRef(t, task.Depth - 2);
        return _programs[interrupted.Program].Code[interrupted.Pc].Op == MicroOp.TracePoint;
    }

    private void Step<TSink>(int v, ushort choice, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        var t = cpu.CurrentTask;
        ref var task = ref TaskRef(t);
        ref var f = ref FrameRef(t, task.Depth - 1);
        f.Pc = (byte)ResolvePc(v, t, ref f);
        var ins = DeactivationDue(v, t) ? new Instr(MicroOp.CpuDeactivate) : _programs[f.Program].Code[f.Pc];

        // The shadow covers exactly this instruction: the access in it still sees the shadow
        // (kvm_arch_interrupt_allowed is false), and after it interrupts may come.
        var shadowed = cpu.Shadow != InterruptShadow.None;
        var vb = (byte)v;
        var tb = (byte)t;
        switch (ins.Op)
        {
            case MicroOp.Compute:
                // A: compute units; B, when set, names the driver's span length (its index + 1).
                sink.On(new ModelEvent(ModelEventKind.Compute, vb, tb, ins.A, ins.B, -1));
                f.Pc++;
                break;
            case MicroOp.Touch:
            case MicroOp.KTouch:
            case MicroOp.TracePoint:
                ExecuteTouch(v, t, ref f, ins, choice, ref sink);
                break;
            case MicroOp.SyscallEnter:
                if (_config.EntryPage >= 0 && !EntryWindowAccess(v, t, ref sink))
                {
                    break;
                }

                f.User = 0;
                f.Pc++;
                break;
            case MicroOp.SyscallExit:
                f.User = 1;
                f.Pc++;
                ReturnToUserCheck(v, ref sink);
                break;
            case MicroOp.Cli:
            case MicroOp.IrqDisable:
                cpu.If = 0;
                f.Pc++;
                break;
            case MicroOp.Sti:
            case MicroOp.SafeHaltSti:
                // SDM Vol. 3A, STI: the shadow exists only when STI sets IF from 0.
                if (cpu.If == 0)
                {
                    cpu.If = 1;
                    cpu.Shadow = InterruptShadow.Sti;
                    shadowed = false;
                }

                f.Pc++;
                break;
            case MicroOp.IrqEnable:
                cpu.If = 1;
                f.Pc++;
                break;
            case MicroOp.PreemptOff:
                task.PreemptCount++;
                f.Pc++;
                break;
            case MicroOp.PreemptOn:
                if (task.PreemptCount > 0)
                {
                    task.PreemptCount--;
                }

                f.Pc++;
                // preempt_enable(): a pending reschedule runs now if preemption is allowed.
                if (task.PreemptCount == 0 && cpu.NeedResched == 1 && cpu.If == 1 && _guest.ConfigPreempt)
                {
                    Schedule(v, false, ref sink);
                }

                break;
            case MicroOp.RcuLock:
                task.RcuDepth++;
                f.Pc++;
                break;
            case MicroOp.RcuUnlock:
                if (task.RcuDepth > 0)
                {
                    task.RcuDepth--;
                }

                f.Pc++;
                break;
            case MicroOp.SetTpr:
                cpu.Tpr = ins.A;
                f.Pc++;
                break;
            case MicroOp.Yield:
                f.Pc++;
                Schedule(v, false, ref sink);
                break;
            case MicroOp.WorkDone:
                task.Iterations++;
                sink.On(new ModelEvent(ModelEventKind.IterationDone, vb, tb, 0, task.Iterations, -1));
                f.Pc++;
                if ((ins.A | ins.B) != 0 && task.Iterations >= (((uint)ins.A << 16) | ins.B))
                {
                    // A counted loop (A:B iterations) ends here: the task exits as MicroOp.Exit does.
                    task.Status = TaskPhase.Exited;
                    sink.On(new ModelEvent(ModelEventKind.TaskExited, vb, tb, 0, 0, -1));
                    EndTask(v, t, ref sink);
                }

                break;
            case MicroOp.Alloc:
            case MicroOp.Free:
                MapRegion(v, t, ins, ref sink);
                f.Pc++;
                break;
            case MicroOp.Block:
                // A blocking system call (nanosleep, a read on an empty socket): set_current_state,
                // then schedule(); the driver's external wake (hrtimer_wakeup, the data's arrival) ends it.
                f.Pc++;
                task.Blocked = (BlockKind)ins.A;
                task.Uninterruptible = 1;
                sink.On(new ModelEvent(ModelEventKind.TaskBlocked, vb, tb, ins.A, ins.B, -1));
                SleepSchedule(v, t, ref sink);
                break;
            case MicroOp.Exit:
                task.Status = TaskPhase.Exited;
                sink.On(new ModelEvent(ModelEventKind.TaskExited, vb, tb, 0, 0, -1));
                EndTask(v, t, ref sink);
                break;
            case MicroOp.LapicEnable:
                cpu.LapicEnabled = 1;
                f.Pc++;
                LapicEnabled(v, ref sink);
                break;
            case MicroOp.CpuDeactivate:
                // The pc stays: the thread's first op comes next.
                sink.On(new ModelEvent(ModelEventKind.KernelStep, vb, tb, 0, 0, -1));
                CpuDeactivate(v, ref sink);
                break;
            case MicroOp.ApfDisable:
                f.Pc++;
                ApfDisable(v, ref sink);
                break;
            case MicroOp.ReadCr2:
                f.R0 = cpu.Cr2;
                if (f.Event is FrameEvent.PageFault or FrameEvent.AsyncPfNotPresent or FrameEvent.AsyncPfReady && f.R0 != f.EventInfo)
                {
                    Violated(SafetyProperty.FaultInfoIntact, v, t, ref sink);
                }

                f.Pc++;
                break;
            case MicroOp.ReadResetApfFlags:
                f.R1 = cpu.ApfFlags;
                if (cpu.ApfEnabled == 1)
                {
                    cpu.ApfFlags = 0;
                }

                var expected = f.Event switch
                {
                    FrameEvent.AsyncPfNotPresent => 1u,
                    FrameEvent.AsyncPfReady => 2u,
                    _ => 0u,
                };
                if (f.R1 != expected)
                {
                    Violated(SafetyProperty.FaultInfoIntact, v, t, ref sink);
                }

                f.Pc++;
                break;
            case MicroOp.NmiEnter:
                if (cpu.NmiState != 0)
                {
                    // exc_nmi: NMI_EXECUTING -> NMI_LATCHED; the running handler repeats.
                    cpu.NmiState = 2;
                    f.Aux = 1;
                }
                else
                {
                    cpu.NmiState = 1;
                }

                f.Pc++;
                break;
            case MicroOp.NmiSaveCr2:
                f.R0 = cpu.Cr2;
                f.Pc++;
                break;
            case MicroOp.NmiRestoreCr2:
                if (cpu.Cr2 != f.R0)
                {
                    cpu.Cr2 = f.R0;
                }

                f.Pc++;
                break;
            case MicroOp.NmiSaveApfFlags:
                f.R1 = cpu.ApfFlags;
                cpu.ApfFlags = 0;
                f.Pc++;
                break;
            case MicroOp.NmiRestoreApfFlags:
                cpu.ApfFlags = f.R1;
                f.Pc++;
                break;
            case MicroOp.NmiExit:
                if (cpu.NmiState == 2)
                {
                    cpu.NmiState = 1;
                    f.Aux = 2;
                }
                else
                {
                    cpu.NmiState = 0;
                    f.Aux = 0;
                }

                f.Pc++;
                break;
            case MicroOp.ApfQueueTask:
                ApfQueueTask(v, t, ref f, ref sink);
                f.Pc++;
                break;
            case MicroOp.WaitCheck:
                if (ins.A == 0)
                {
                    task.Uninterruptible = 1;
                }

                if (FindNodeOfTask(t) < 0)
                {
                    task.Uninterruptible = 0;
                    f.Aux = 1;
                    f.R1 = task.CompletionStatus != 0 ? ErrorStatus : 0;
                    task.CompletionStatus = 0;
                }
                else
                {
                    f.Aux = 0;
                }

                f.Pc++;
                break;
            case MicroOp.SleepSchedule:
                f.Pc++;
                SleepSchedule(v, t, ref sink);
                break;
            case MicroOp.ApfWakeLookup:
                ApfWakeLookup(v, ins.A == 1, ref f, ref sink);
                f.Pc++;
                break;
            case MicroOp.ApfAllocDummy:
                // kzalloc outside the raw lock (0547758a6de3): the lock is dropped here.
                sink.On(new ModelEvent(ModelEventKind.KernelStep, vb, tb, 0, 0, -1));
                f.Pc++;
                break;
            case MicroOp.ApfWakeInsert:
                ApfWakeInsert(v, ref f, ref sink);
                f.Pc++;
                break;
            case MicroOp.ReadApfToken:
                f.R0 = cpu.ApfToken;
                f.R1 = cpu.Reserved;
                f.Pc++;
                break;
            case MicroOp.ClearApfToken:
                cpu.ApfToken = 0;
                cpu.Reserved = 0;
                f.Pc++;
                break;
            case MicroOp.WrmsrApfAck:
                // MSR_KVM_ASYNC_PF_ACK: an exit; the host clears pageready_pending and rescans its queue.
                // pageready_pending only decides whether kvm_arch_async_page_present_queued kicks the
                // vCPU; the model's Dequeue may come at any point while KVM_REQ_APF_READY is pending, a
                // superset of the kicked and the unkicked timing, so the flag is not kept (B5 stays out of scope).
                sink.On(new ModelEvent(ModelEventKind.VmExit, vb, tb, (byte)ExitReason.MsrWrite, 0, -1));
                f.Pc++;

                // kvm_set_msr_common(MSR_KVM_ASYNC_PF_ACK) calls kvm_check_async_pf_completion at once (557a961abbe0),
                // which dequeues while kvm_arch_can_dequeue_async_page_present holds: past completions it sends no
                // page-ready for (a fault the guest was not told of), up to the first that fills the token slot. The
                // write's re-entry then serves any KVM_REQ_APF_READY still pending, which finds nothing more.
                ServeReadyRequest(v, ref sink);
                break;
            case MicroOp.Eoi:
                cpu.Isr = ClearHighestBit(cpu.Isr);
                f.Pc++;
                break;
            case MicroOp.TimerWork:
                // scheduler_tick: the policy decides whether the current task has run its share. It is
                // asked at every tick, a lone task's too: task_tick_fair -> entity_tick runs
                // update_curr (and 6.6's update_deadline) whatever else is queued; only the
                // reschedule needs another task to run.
                if (sink.PreemptOnTick(v, t) && OtherRunnable(v, t) >= 0)
                {
                    cpu.NeedResched = 1;
                }

                f.Pc++;
                break;
            case MicroOp.ExitPreempt:
                f.Pc++;
                ExitPreempt(v, t, ref f, ref sink);
                break;
            case MicroOp.Schedule:
                f.Pc++;
                if (OtherRunnable(v, t) >= 0)
                {
                    Schedule(v, false, ref sink);
                    if (IsIdle(t) && VcpuRef(v).CurrentTask != t)
                    {
                        IdleSwitchedOut(t);
                    }
                }
                else
                {
                    // __schedule clears need_resched whatever it picks (clear_tsk_need_resched): a task the balancer
                    // took away after the idle loop's test leaves the idle task picked again, and the flag clear, so the
                    // next task queued here sends its IPI (resched_curr).
                    cpu.NeedResched = 0;
                }

                break;
            case MicroOp.SetPolling:
            case MicroOp.ClearPolling:
                // The flag is read off the idle loop's place (IdlePolling): nothing else to write.
                f.Pc++;
                break;
            case MicroOp.Hlt:
                f.Pc++;
                cpu.Run = RunState.GuestHalt;
                sink.On(new ModelEvent(ModelEventKind.GuestHalted, vb, tb, 0, 0, -1));
                if (!_host.HltInGuest)
                {
                    sink.On(new ModelEvent(ModelEventKind.VmExit, vb, tb, (byte)ExitReason.Hlt, 0, -1));
                }

                break;
            case MicroOp.Iret:
                Iret(v, t, ref sink);
                break;
            case MicroOp.Panic:
                Die(v, t, (PanicReason)ins.A, ref sink);
                break;
            case MicroOp.MinorFault:
                MinorFault(v, t, ref f, ref sink);
                break;
            case MicroOp.SendSigbus:
                SendSignal(v, t, Signal.SIGBUS, ref sink);
                break;
            case MicroOp.FixupOrDie:
                FixupOrDie(v, t, ref sink);
                f.Pc++;
                break;
            case MicroOp.StoreVeInfo:
                if (cpu.VeGpa != f.EventInfo)
                {
                    Violated(SafetyProperty.FaultInfoIntact, v, t, ref sink);
                }

                if (_guest.InfoStore == VeInfoStore.PvPage)
                {
                    cpu.VePvGpa = cpu.VeGpa;
                }
                else
                {
                    f.R0 = cpu.VeGpa;
                }

                f.Pc++;
                break;
            case MicroOp.ClearVeBusy:
                cpu.VeBusy = 0;
                f.Pc++;
                break;
            case MicroOp.ResolveEptSuspend:
                f.Pc++;
                ResolveEpt(v, t, ref f, canContinue: false, ref sink);
                break;
            case MicroOp.InitCompletion:
                task.Completed = 0;
                task.CompletionStatus = 0;
                task.WaitToken = (uint)(t + 1);
                f.Pc++;
                break;
            case MicroOp.ResolveEptContinue:
                f.Pc++;
                ResolveEpt(v, t, ref f, canContinue: true, ref sink);
                break;
            case MicroOp.CompletionWaitCheck:
                task.Uninterruptible = 1;
                if (task.Completed == 1)
                {
                    task.Uninterruptible = 0;
                    f.Aux = 1;
                    f.R1 = task.CompletionStatus != 0 ? ErrorStatus : 0;
                    task.WaitToken = 0;
                    task.Completed = 0;
                }
                else
                {
                    f.Aux = 0;
                }

                f.Pc++;
                break;
            case MicroOp.DrainWakeupRing:
                DrainWakeupRing(v, ref sink);
                f.Pc++;
                break;
            case MicroOp.EntryGapTouch:
                if (EntryWindowAccess(v, t, ref sink))
                {
                    f.Pc++;
                }

                break;
            default:
                throw new InvalidOperationException($"micro-op {ins.Op} is not executable");
        }

        if (shadowed)
        {
            VcpuRef(v).Shadow = InterruptShadow.None;
        }
    }

    private void ExecuteTouch<TSink>(int v, int t, ref Frame f, Instr ins, ushort choice, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        if (ins.Op == MicroOp.TracePoint && TracingBelow(t))
        {
            // The tracer's recursion protection (trace_test_and_set_recursion): a trace point hit
            // while a fault taken inside a trace point is handled does not trace again.
            f.Pc++;
            return;
        }

        var addressing = ins.Op == MicroOp.TracePoint ? Addressing.Config : (Addressing)(ins.A & TouchFlags.AddressingMask);
        var which = ins.Op == MicroOp.TracePoint ? (ushort)ConfigPage.Trace : ins.B;
        var fixup = ins.Op != MicroOp.Touch && (ins.Op == MicroOp.TracePoint || (ins.A & TouchFlags.Fixup) != 0);
        int page;
        switch (addressing)
        {
            case Addressing.Page:
                page = which;
                break;
            case Addressing.Sequential:
                var seq = _config.Regions[which];
                page = seq.FirstPage + (int)(task.Cursor % (uint)seq.PageCount);
                break;
            case Addressing.Random:
                var region = _config.Regions[which];
                if (f.R0 == 0)
                {
                    // The driver's choice (1-based), kept across retries of the same access.
                    f.R0 = choice == 0 ? 1u : Math.Min(choice, (uint)region.PageCount);
                }

                page = region.FirstPage + (int)f.R0 - 1;
                break;
            default:
                page = (ConfigPage)which switch
                {
                    ConfigPage.NmiTouch => _config.NmiTouchPage,
                    ConfigPage.Trace => _config.TracePage,
                    _ => _config.EntryPage,
                };
                break;
        }

        if (page < 0)
        {
            f.Pc++;
            return;
        }

        if ((ins.A & TouchFlags.PageCache) != 0 && ins.Op == MicroOp.KTouch && !PageCacheLookup(v, t, ref f, page, ref sink))
        {
            return;
        }

        if (Access(v, t, page, f.User == 1, ref sink))
        {
            if (addressing == Addressing.Sequential)
            {
                task.Cursor++;
            }

            if (addressing == Addressing.Random)
            {
                f.R0 = 0;
            }

            // Token = 1: a store (the EPT dirty bit the host reads at reclaim).
            var store = (ins.A & TouchFlags.Store) != 0 && ins.Op != MicroOp.TracePoint ? 1u : 0u;
            sink.On(new ModelEvent(ModelEventKind.AccessDone, (byte)v, (byte)t, fixup ? (byte)1 : (byte)0, store, page));
            if ((ins.A & TouchFlags.PageCache) != 0 && ins.Op == MicroOp.KTouch)
            {
                // The file read's lookup is done with; R1 of other frames (an NMI's saved APF flags) is not ours.
                f.R1 = 0;
            }

            f.Pc++;
        }
    }

    /// <summary>
    /// filemap_read's lookup of <paramref name="page"/>: a cached page is copied at once; a miss
    /// adds the page to the cache (locked), submits the guest disk's read and sleeps until it
    /// completes; the step then repeats and copies (R1 = 1 marks the lookup done).
    /// </summary>
    private bool PageCacheLookup<TSink>(int v, int t, ref Frame f, int page, ref TSink sink)
        where TSink : IModelEventSink
    {
        if (f.R1 == 1)
        {
            return true;
        }

        ref var pg = ref PageRef(page);
        var hit = (pg.Flags & PageFlags.Cached) != 0;
        f.R1 = 1;
        sink.On(new ModelEvent(ModelEventKind.PageCacheLookup, (byte)v, (byte)t, hit ? (byte)1 : (byte)0, 0, page));
        if (hit)
        {
            return true;
        }

        pg.Flags |= PageFlags.Cached;
        ref var task = ref TaskRef(t);
        task.Blocked = BlockKind.DiskRead;
        task.Uninterruptible = 1;
        sink.On(new ModelEvent(ModelEventKind.TaskBlocked, (byte)v, (byte)t, (byte)BlockKind.DiskRead, 0, page));
        SleepSchedule(v, t, ref sink);
        return false;
    }

    /// <summary>True when a frame below the top is stopped inside a trace point (it faulted there).</summary>
    private bool TracingBelow(int t)
    {
        ref var task = ref TaskRef(t);
        for (var d = 0; d < task.Depth - 1; d++)
        {
            ref var below = ref FrameRef(t, d);
            if (_programs[below.Program].Code[below.Pc].Op == MicroOp.TracePoint)
            {
                return true;
            }
        }

        return false;
    }

    private static byte ClearHighestBit(byte bits)
    {
        for (var bit = 7; bit >= 0; bit--)
        {
            if ((bits & (1 << bit)) != 0)
            {
                return (byte)(bits & ~(1 << bit));
            }
        }

        return bits;
    }

    private void Violated<TSink>(SafetyProperty property, int v, int t, ref TSink sink)
        where TSink : IModelEventSink =>
        sink.On(new ModelEvent(ModelEventKind.PropertyViolated, (byte)v, (byte)t, (byte)property, 0, -1));

    private void Die<TSink>(int v, int t, PanicReason reason, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var g = ref GlobalsRef;
        g.Outcome = GuestOutcome.Oops;
        g.Panic = reason;
        sink.On(new ModelEvent(ModelEventKind.Oops, (byte)v, (byte)t, (byte)reason, 0, -1));
    }

    private void MinorFault<TSink>(int v, int t, ref Frame f, ref TSink sink)
        where TSink : IModelEventSink
    {
        var page = PageOfAddress(f.R0);
        if (page >= 0 && FaultHandlerDisabled(t))
        {
            // do_user_addr_fault: faulthandler_disabled() (pagefault_disable() as in
            // copy_from_user_nmi, or in_atomic(): NMI, hard IRQ, a preempt count with
            // CONFIG_PREEMPT_COUNT) goes to
            // bad_area_nosemaphore: no page is mapped; the access takes its exception-table fixup.
            FixupOrDie(v, t, ref sink);
            f.Pc++;
            return;
        }

        if (page >= 0)
        {
            ref var pg = ref PageRef(page);
            if ((pg.Flags & PageFlags.Fresh) != 0)
            {
                ref var cpu = ref VcpuRef(v);
                ref var task = ref TaskRef(t);

                // do_user_addr_fault, after its faulthandler_disabled() test and before
                // handle_mm_fault(): local_irq_enable() for a fault from user mode, and for one from
                // kernel mode whose interrupted context had IF=1 (regs->flags & X86_EFLAGS_IF). The
                // zeroing below therefore runs with interrupts on, and its EPT violation meets
                // kvm_can_do_async_pf() with IF=1.
                if (InterruptedUser(t) || f.SavedIf == 1)
                {
                    cpu.If = 1;
                }

                if (_guest.ClearPageUnderKmapAtomic && f.Aux == 0)
                {
                    // clear_highpage() maps the page with kmap_atomic(), which does preempt_disable()
                    // and pagefault_disable() even without CONFIG_HIGHMEM, until d2c20e51e396
                    // (mm/highmem: remove deprecated kmap_atomic) made it kmap_local_page(). A fault
                    // in clear_page() holds that count until the page is in; Aux marks it held.
                    task.PreemptCount++;
                    f.Aux = 1;
                }

                // do_anonymous_page: the page comes from the allocator with __GFP_ZERO (x86's
                // alloc_zeroed_user_highpage_movable), which zeroes it with clear_page() through the
                // kernel's direct map before the PTE is set, so a host-absent page faults here, in
                // kernel mode inside the #PF handler, whatever the access was.
                if (!HostAccess(v, t, page, false, ref sink))
                {
                    return;
                }

                if (f.Aux == 1)
                {
                    task.PreemptCount--;
                    f.Aux = 0;
                }

                pg.Flags = (pg.Flags & ~PageFlags.Fresh) | PageFlags.GuestPresent;
                sink.On(new ModelEvent(ModelEventKind.GuestMinorFault, (byte)v, (byte)t, 1, 0, page));

                // handle_page_fault: local_irq_disable() once do_user_addr_fault() returns (5.7: the
                // exception exit path, error_exit); IRET then restores the interrupted IF.
                cpu.If = 0;
            }
            else if ((pg.Flags & PageFlags.GuestPresent) == 0)
            {
                pg.Flags |= PageFlags.GuestPresent;
                sink.On(new ModelEvent(ModelEventKind.GuestMinorFault, (byte)v, (byte)t, 0, 0, page));
            }

            f.Pc++;
            return;
        }

        // do_user_addr_fault on an address nothing maps: SIGSEGV for user, fixup or oops for kernel.
        if (InterruptedUser(t))
        {
            SendSignal(v, t, Signal.SIGSEGV, ref sink);
            return;
        }

        FixupOrDie(v, t, ref sink);
        f.Pc++;
    }

    /// <summary>
    /// alloc (mmap) or free (munmap, MADV_DONTNEED) of region B: its pages leave the page table and
    /// the next touch of each faults in a fresh zeroed page. The host keeps what it had: it is not
    /// told that a freed page's contents are dead (free page reporting is not modelled).
    /// </summary>
    private void MapRegion<TSink>(int v, int t, Instr ins, ref TSink sink)
        where TSink : IModelEventSink
    {
        var region = _config.Regions[ins.B];
        for (var p = region.FirstPage; p < region.FirstPage + region.PageCount; p++)
        {
            ref var pg = ref PageRef(p);
            pg.Flags = (pg.Flags & ~PageFlags.GuestPresent) | PageFlags.Fresh;
        }

        var free = ins.Op == MicroOp.Free ? (byte)1 : (byte)0;
        sink.On(new ModelEvent(ModelEventKind.RegionMapped, (byte)v, (byte)t, free, ins.B, region.FirstPage));
    }

    /// <summary>
    /// faulthandler_disabled() (include/linux/uaccess.h: <c>pagefault_disabled() || in_atomic()</c>) for the
    /// context the top #PF frame interrupted: kernel code in an NMI or interrupt handler, a trace point's probe,
    /// or, with CONFIG_PREEMPT_COUNT, code holding a preempt count.
    /// </summary>
    private bool FaultHandlerDisabled(int t)
    {
        ref var task = ref TaskRef(t);
        if (InterruptedUser(t))
        {
            return false;
        }

        // in_atomic() is preempt_count() != 0. nmi_enter() and irq_enter() add their counts to it whatever the
        // configuration (__preempt_count_add), and copy_from_user_nmi() runs under pagefault_disable(), a
        // per-task count (current->pagefault_disabled) of its own.
        if (!InTaskContext(t, task.Depth - 1))
        {
            return true;
        }

        // A probe runs under preempt_disable_notrace() (__DO_TRACE, include/linux/tracepoint.h), the
        // count CannotSchedule reads too, and one that reads memory does so with a *_nofault helper
        // (copy_from_user_nofault, under pagefault_disable()): faulthandler_disabled() is true with or
        // without the preempt count, and do_user_addr_fault goes to bad_area_nosemaphore and the
        // exception-table fixup.
        if (InterruptedTracePoint(t))
        {
            return true;
        }

        // preempt_disable() and spin_lock() touch preempt_count only with CONFIG_PREEMPT_COUNT (include/linux/
        // preempt.h: barrier() otherwise), which CONFIG_PREEMPTION selects (guest.config_preempt). Without it,
        // in_atomic() is false in a spinlock section and do_user_addr_fault goes on to handle_mm_fault. The
        // other count the model holds, kmap_atomic()'s in MinorFault, comes with pagefault_disable(), but only
        // the host's EPT violation can happen under it: clear_page() writes through the direct map.
        return _guest.ConfigPreempt && task.PreemptCount > 0;
    }

    private void FixupOrDie<TSink>(int v, int t, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        ref var below = ref FrameRef(t, task.Depth - 2);
        var ins = _programs[below.Program].Code[below.Pc];
        var hasFixup = ins.Op == MicroOp.TracePoint || (ins.Op == MicroOp.KTouch && (ins.A & TouchFlags.Fixup) != 0);
        if (!hasFixup)
        {
            Die(v, t, PanicReason.KernelFault, ref sink);
            return;
        }

        // fixup_exception: resume after the access with -EFAULT.
        below.Pc++;
        if (ins.Op == MicroOp.KTouch && (ins.A & TouchFlags.PageCache) != 0)
        {
            below.R1 = 0;
        }

        if ((Addressing)(ins.A & TouchFlags.AddressingMask) == Addressing.Random)
        {
            below.R0 = 0;
        }

        task.LastError = Efault;
        sink.On(new ModelEvent(ModelEventKind.Fixup, (byte)v, (byte)t, 0, 0, -1));
    }

    private void SendSignal<TSink>(int v, int t, Signal signal, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        task.Signals++;
        sink.On(new ModelEvent(ModelEventKind.Signal, (byte)v, (byte)t, (byte)signal, 0, -1));

        // SIGBUS and SIGSEGV terminate a task that does not handle them.
        task.Status = TaskPhase.Killed;
        RemoveNodesOfTask(t);
        EndTask(v, t, ref sink);
    }

    private void Iret<TSink>(int v, int t, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        ref var task = ref TaskRef(t);
        ref var f = ref FrameRef(t, task.Depth - 1);

        // SDM Vol. 3A 6.7.1: IRET restores RFLAGS (IF) and ends NMI blocking, also from an
        // exception handler nested in the NMI handler.
        var after = GateDelivery.AfterIret(ArchState(v), f.SavedIf == 1);
        cpu.If = after.If ? (byte)1 : (byte)0;
        cpu.NmiBlocked = after.NmiBlocked ? (byte)1 : (byte)0;
        cpu.Shadow = after.Shadow;
        f = default;
        task.Depth--;
        ReturnToUserCheck(v, ref sink);
    }

    /// <summary>exit_to_user_mode: a pending reschedule runs before returning to CPL3.</summary>
    private void ReturnToUserCheck<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        var t = cpu.CurrentTask;
        ref var task = ref TaskRef(t);
        if (cpu.NeedResched == 1 && task.Depth == 1 && FrameRef(t, 0).User == 1)
        {
            Schedule(v, false, ref sink);
        }
    }

    /// <summary>
    /// irqentry_exit (retint_kernel in 5.7): preempt the interrupted context if it is user mode or
    /// preemptible kernel. The idle task never is: it runs do_idle with a preempt count of 1
    /// (5.7: start_secondary's preempt_disable(), rest_init's schedule_preempt_disabled(); since
    /// f1a0a376ca0c init_idle_preempt_count sets PREEMPT_DISABLED), so retint_kernel's
    /// __preempt_count test fails and it switches at do_idle's own schedule point instead, when
    /// default_idle returns into the while (!need_resched()) loop and schedule_idle() runs. Nor is
    /// code inside a trace point's probe, which __DO_TRACE (include/linux/tracepoint.h) runs under
    /// preempt_disable_notrace(): a fault there (the halt loop of 5.7's kvm_async_pf_task_wait in
    /// trace-window) holds that count until the probe returns, as <see cref="CannotSchedule"/> reads it.
    /// </summary>
    private void ExitPreempt<TSink>(int v, int t, ref Frame f, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        ref var task = ref TaskRef(t);
        if (cpu.NeedResched == 0 || OtherRunnable(v, t) < 0)
        {
            return;
        }

        var user = InterruptedUser(t);
        // An RCU reader is preemptible: guest.config_preempt stands for CONFIG_PREEMPTION, which selects
        // PREEMPT_RCU, whose rcu_read_lock() takes no preempt count (__rcu_read_lock), and the test here is
        // the preempt count's alone. Sleeping there is what is forbidden (CannotSchedule, CanContinue).
        var preemptibleKernel = _guest.ConfigPreempt && f.SavedIf == 1 && task.PreemptCount == 0
            && !IsIdle(t) && InTaskContext(t, task.Depth - 1) && !TracingBelow(t);
        if (user || preemptibleKernel)
        {
            Schedule(v, false, ref sink);
        }
    }
}
