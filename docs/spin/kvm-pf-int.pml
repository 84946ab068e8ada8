/*
 * kvm-pf-int (Linux 5.8+ host, 5.9+ guest: not-present as #PF, page-ready as the
 * HYPERVISOR_CALLBACK_VECTOR interrupt) at the grain of Vexlab's machine, for the checker comparison
 * in docs/checking.md ("Compared with SPIN"). One Promela step is one Vexlab action: a guest
 * micro-op of the task, its #PF handler, the interrupt handlers or the idle loop; an interrupt
 * delivery; a host completion, dequeue or unblock; a tick. What is left out is listed there.
 *
 * Configurations (pick one with -D; docs/spin/run.sh passes them):
 *   default       Vexlab's `bench`: 2 vCPUs, task a on vCPU 0 touches pages 0 1 2, task b on
 *                 vCPU 1 touches 2 1 0, all 3 pages absent in the host, one timer tick,
 *                 host.apf.ready_target=any.
 *   -DRACE        docs/spin/race.yaml: 2 vCPUs, each task touches page 0, no tick.
 *   -DNV=3        bench with a third vCPU whose task touches 1 2 0 (vCPU v starts at page v).
 *   -DNO_DUMMY    guest.apf.dummy_entries=false: a page-ready for a token nobody waits on is
 *                 dropped instead of leaving a dummy node, the lost wakeup of wake-race.
 *
 * Sources (the same as Vexlab's handlers cite, src/Vexlab.Model/Protocols/GuestHandlers.cs):
 * host  kvm_arch_setup_async_pf and kvm_setup_async_pf (one work item per fault; token
 *       (id << 12) | vcpu_id, ids skipping 0 since 6f3c1fc53d86), async_pf_execute (the page
 *       becomes resident, the item joins the done list), kvm_check_async_pf_completion with
 *       kvm_arch_can_dequeue_async_page_present (a done item goes to a vCPU whose
 *       kvm_vcpu_pv_apf_data.token is 0, then HYPERVISOR_CALLBACK_VECTOR), kvm_vcpu_has_events
 *       (a pending interrupt ends a guest HLT).
 * guest exc_page_fault -> kvm_handle_async_pf -> kvm_async_pf_task_wait_schedule (read CR2 and
 *       the reason, hash a sleeper or consume a dummy, the swait loop with irqs enabled around
 *       schedule()); sysvec_kvm_asyncpf_interrupt (EOI, read the token, kvm_async_pf_task_wake:
 *       wake the sleeper or drop the lock, allocate and insert a dummy after a second lookup,
 *       clear the token, MSR_KVM_ASYNC_PF_ACK); try_to_wake_up's reschedule IPI to another CPU;
 *       do_idle (cli, schedule if runnable, STI;HLT with STI's interrupt shadow).
 */
#ifndef NV
#define NV 2
#endif
#ifdef RACE
#define NP 1
#define NTOUCH 1
#ifndef TICKS
#define TICKS 0
#endif
#else
#define NP 3
#define NTOUCH 3
#ifndef TICKS
#define TICKS 1
#endif
#endif
#define NW NV              /* a task waits for one fault at a time: one work item per vCPU */
#define NS (2 * NV)        /* sleepers and dummies */

/* Task status (one workload task pinned to each vCPU, task v on vCPU v). */
#define RUNNING  0
#define UNINT    1         /* TASK_UNINTERRUPTIBLE set by prepare_to_swait, still on the CPU */
#define SLEEPING 2
#define RUNNABLE 3
#define EXITED   4

#define TASK 0
#define IDLE 1

/* Interrupt handlers (ih_kind). */
#define H_READY 0
#define H_TIMER 1
#define H_RESCHED 2

bit resident[NP];
byte prog[NV * NTOUCH];
byte ticks = TICKS;

/* Per vCPU (and its task). */
bit halted[NV];            /* HLT exit: blocked in the host until an interrupt is pending */
bit ifl[NV];               /* RFLAGS.IF */
bit cur[NV];               /* TASK or IDLE (swapper) */
byte tst[NV];
byte tpc[NV];              /* next touch of the task's program */
byte pf[NV];               /* #PF handler step, 0: the task's own code */
byte cr2[NV];
bit apf_np[NV];            /* the not-present reason in kvm_vcpu_pv_apf_data.flags */
byte r0[NV];               /* the #PF handler's token (from CR2) */
byte idle[NV];             /* do_idle step */
byte ih[NV];               /* interrupt handler step, 0: none (IF=0 inside: no nesting) */
byte ih_kind[NV];
byte itok[NV];             /* the page-ready handler's token */
byte apf_token[NV];        /* kvm_vcpu_pv_apf_data.token, 0: empty */
bit irr_ready[NV];
bit irr_timer[NV];
bit irr_resched[NV];
byte next_id[NV];

/* Host async work: token, page, done. */
bit w_used[NW];
bit w_done[NW];
byte w_token[NW];
byte w_page[NW];

/* The guest's sleep table (apf_task_wake's hash): token, dummy, sleeping task. */
bit s_used[NS];
bit s_dummy[NS];
byte s_token[NS];
byte s_task[NS];

/* Scratch for one d_step, reset before it ends; hidden keeps it out of the state vector. */
hidden byte i, at;

#define RUNS(v)       (!halted[v] && ih[v] == 0)
#define USER(v)       (RUNS(v) && cur[v] == TASK && pf[v] == 0)
#define PF(v, n)      (RUNS(v) && cur[v] == TASK && pf[v] == n)
#define IDLE_AT(v, n) (RUNS(v) && cur[v] == IDLE && idle[v] == n)
#define IRQ(v, k, n)  (!halted[v] && ih[v] == n && ih_kind[v] == k)
#define PAGE(v)       prog[v * NTOUCH + tpc[v]]
#define PENDING(v)    (irr_ready[v] || irr_timer[v] || irr_resched[v])

inline find_node(tok) {
  at = NS;
  for (i : 0 .. NS - 1) {
    if
    :: s_used[i] && s_token[i] == tok && at == NS -> at = i
    :: else -> skip
    fi
  }
  i = 0
}

inline free_node() {
  at = NS;
  for (i : 0 .. NS - 1) {
    if
    :: !s_used[i] && at == NS -> at = i
    :: else -> skip
    fi
  }
  i = 0;
  assert(at < NS)
}

/* apf_task_wake_one: unhash the sleeper and wake its task; a reschedule IPI if it is elsewhere. */
inline wake_node(v) {
  assert(!s_dummy[at]);                  /* one node per token */
  if
  :: tst[s_task[at]] == UNINT -> tst[s_task[at]] = RUNNING
  :: tst[s_task[at]] == SLEEPING -> tst[s_task[at]] = RUNNABLE
  :: else -> skip
  fi;
  if
  :: s_task[at] != v -> irr_resched[s_task[at]] = 1
  :: else -> skip
  fi;
  s_used[at] = 0; s_token[at] = 0; s_task[at] = 0
}

proctype vcpu(byte v) {
end:
  do
  /* The task's program: a resident page is a plain access. */
  :: d_step { USER(v) && tpc[v] < NTOUCH && resident[PAGE(v)] -> tpc[v]++ }
  /* EPT violation: kvm_arch_setup_async_pf queues the work, the not-present #PF carries the token in CR2. */
  :: d_step {
       USER(v) && tpc[v] < NTOUCH && !resident[PAGE(v)] ->
       at = NW;
       for (i : 0 .. NW - 1) {
         if
         :: !w_used[i] && at == NW -> at = i
         :: else -> skip
         fi
       }
       assert(at < NW);
       next_id[v]++;
       w_used[at] = 1; w_token[at] = (next_id[v] << 2) | v; w_page[at] = PAGE(v);
       pf[v] = 1; ifl[v] = 0; cr2[v] = w_token[at]; apf_np[v] = 1;
       i = 0; at = 0
     }
  :: d_step { USER(v) && tpc[v] == NTOUCH -> tst[v] = EXITED; cur[v] = IDLE; idle[v] = 1; ifl[v] = 0 }

  /* exc_page_fault (5.9): ReadCr2, ReadResetApfFlags, then kvm_async_pf_task_wait_schedule. */
  :: d_step { PF(v, 1) -> r0[v] = cr2[v]; pf[v] = 2 }
  :: d_step { PF(v, 2) -> assert(apf_np[v]); apf_np[v] = 0; pf[v] = 3 }
  :: d_step {                            /* ApfQueueTask: a dummy means the page-ready came first */
       PF(v, 3) ->
       find_node(r0[v]);
       if
       :: at < NS && s_dummy[at] -> s_used[at] = 0; s_dummy[at] = 0; s_token[at] = 0; pf[v] = 8
       :: at < NS && !s_dummy[at] -> assert(false)      /* one node per token */
       :: else -> free_node(); s_used[at] = 1; s_token[at] = r0[v]; s_task[at] = v; pf[v] = 4
       fi;
       at = 0
     }
  :: d_step {                            /* WaitCheck: prepare_to_swait, then hlist_unhashed */
       PF(v, 4) ->
       find_node(r0[v]);
       if
       :: at == NS -> tst[v] = RUNNING; pf[v] = 8
       :: else -> tst[v] = UNINT; pf[v] = 5
       fi;
       at = 0
     }
  :: d_step { PF(v, 5) -> ifl[v] = 1; pf[v] = 6 }                   /* IrqEnable */
  :: d_step {                                                       /* SleepSchedule */
       PF(v, 6) ->
       pf[v] = 7;
       if
       :: tst[v] == UNINT -> tst[v] = SLEEPING; cur[v] = IDLE; idle[v] = 1; ifl[v] = 0
       :: else -> skip
       fi
     }
  :: d_step { PF(v, 7) -> ifl[v] = 0; pf[v] = 4 }                   /* IrqDisable */
  :: d_step { PF(v, 8) -> r0[v] = 0; ifl[v] = 1; pf[v] = 0 }        /* Iret: the access runs again */

  /* do_idle: Cli, Schedule, SafeHaltSti, Hlt. */
  :: d_step { IDLE_AT(v, 1) -> ifl[v] = 0; idle[v] = 2 }
  :: d_step {
       IDLE_AT(v, 2) ->
       if
       :: tst[v] == RUNNABLE -> tst[v] = RUNNING; cur[v] = TASK; idle[v] = 0; ifl[v] = 1
       :: else -> idle[v] = 3
       fi
     }
  :: d_step { IDLE_AT(v, 3) -> ifl[v] = 1; idle[v] = 4 }
  :: d_step { IDLE_AT(v, 4) -> halted[v] = 1; idle[v] = 1 }

  /* The host ends the HLT when an interrupt is pending (kvm_vcpu_has_events). */
  :: d_step { halted[v] && PENDING(v) -> halted[v] = 0 }

  /* Interrupt delivery at IF=1, not in STI's shadow; the highest vector first (0xfd, 0xf3, 0xec). */
  :: d_step {
       !halted[v] && ih[v] == 0 && ifl[v] && !(cur[v] == IDLE && idle[v] == 4) && PENDING(v) ->
       if
       :: irr_resched[v] -> irr_resched[v] = 0; ih_kind[v] = H_RESCHED
       :: !irr_resched[v] && irr_ready[v] -> irr_ready[v] = 0; ih_kind[v] = H_READY
       :: else -> irr_timer[v] = 0; ih_kind[v] = H_TIMER
       fi;
       ih[v] = 1; ifl[v] = 0
     }

  /* sysvec_kvm_asyncpf_interrupt: Eoi, ReadApfToken, kvm_async_pf_task_wake, ClearApfToken, WrmsrApfAck, ExitPreempt, Iret. */
  :: d_step { IRQ(v, H_READY, 1) -> ih[v] = 2 }
  :: d_step { IRQ(v, H_READY, 2) -> itok[v] = apf_token[v]; ih[v] = 3 }
  :: d_step {                            /* ApfWakeLookup */
       IRQ(v, H_READY, 3) ->
       find_node(itok[v]);
       if
       :: at < NS -> wake_node(v); ih[v] = 6
       :: else -> ih[v] = 4
       fi;
       at = 0
     }
#ifdef NO_DUMMY
  :: d_step { IRQ(v, H_READY, 4) -> ih[v] = 6 }
#else
  :: d_step { IRQ(v, H_READY, 4) -> ih[v] = 5 }                     /* ApfAllocDummy: the lock is dropped */
  :: d_step {                            /* ApfWakeInsert: look again under the lock */
       IRQ(v, H_READY, 5) ->
       find_node(itok[v]);
       if
       :: at < NS -> wake_node(v)
       :: else -> free_node(); s_used[at] = 1; s_dummy[at] = 1; s_token[at] = itok[v]
       fi;
       at = 0; ih[v] = 6
     }
#endif
  :: d_step { IRQ(v, H_READY, 6) -> apf_token[v] = 0; itok[v] = 0; ih[v] = 7 }
  :: d_step { IRQ(v, H_READY, 7) -> ih[v] = 8 }     /* WrmsrApfAck: KVM_REQ_APF_READY, the dequeue below */
  :: d_step { IRQ(v, H_READY, 8) -> ih[v] = 9 }     /* ExitPreempt: one task per vCPU, nothing to preempt to */
  :: d_step { IRQ(v, H_READY, 9) -> ih[v] = 0; ifl[v] = 1 }

  /* sysvec_apic_timer_interrupt: Eoi, TimerWork, ExitPreempt, Iret; sysvec_reschedule_ipi: Eoi, ExitPreempt, Iret. */
  :: d_step { IRQ(v, H_TIMER, 1) -> ih[v] = 2 }
  :: d_step { IRQ(v, H_TIMER, 2) -> ih[v] = 3 }
  :: d_step { IRQ(v, H_TIMER, 3) -> ih[v] = 4 }
  :: d_step { IRQ(v, H_TIMER, 4) -> ih[v] = 0; ifl[v] = 1 }
  :: d_step { IRQ(v, H_RESCHED, 1) -> ih[v] = 2 }
  :: d_step { IRQ(v, H_RESCHED, 2) -> ih[v] = 3 }
  :: d_step { IRQ(v, H_RESCHED, 3) -> ih[v] = 0; ifl[v] = 1 }

  /* A tick: LOCAL_TIMER_VECTOR raised on this vCPU while the budget lasts. */
  :: d_step { ticks > 0 && !irr_timer[v] -> ticks--; irr_timer[v] = 1 }
  od
}

/* async_pf_execute: work item k completes; its page becomes resident. */
proctype worker(byte k) {
end:
  do
  :: d_step { w_used[k] && !w_done[k] -> resident[w_page[k]] = 1; w_done[k] = 1 }
  od
}

/* kvm_check_async_pf_completion: done item k to vCPU t when t's token slot is empty (ready_target=any). */
proctype dequeue(byte k; byte t) {
end:
  do
  :: d_step {
       w_done[k] && apf_token[t] == 0 ->
       apf_token[t] = w_token[k]; irr_ready[t] = 1;
       w_used[k] = 0; w_done[k] = 0; w_token[k] = 0; w_page[k] = 0
     }
  od
}

/* no-deadlock: when nothing else can move, every task must have exited (Vexlab's valid end). */
proctype finished() {
  byte v;
  timeout ->
  for (v : 0 .. NV - 1) {
    assert(tst[v] == EXITED)
  }
}

init {
  byte v, k;
  atomic {
#ifdef RACE
    for (v : 0 .. NV - 1) {
      prog[v] = 0
    }
#else
    /* bench: a touches 0 1 2, b touches 2 1 0; vCPU v >= 2 touches from page v on. */
    prog[0] = 0; prog[1] = 1; prog[2] = 2;
    prog[3] = 2; prog[4] = 1; prog[5] = 0;
    for (v : 2 .. NV - 1) {
      for (k : 0 .. NTOUCH - 1) {
        prog[v * NTOUCH + k] = (v + k) % NP
      }
    }
#endif
    for (v : 0 .. NV - 1) {
      ifl[v] = 1;
      run vcpu(v)
    }
    for (k : 0 .. NW - 1) {
      run worker(k);
      for (v : 0 .. NV - 1) {
        run dequeue(k, v)
      }
    }
    run finished();
    v = 0; k = 0
  }
}
