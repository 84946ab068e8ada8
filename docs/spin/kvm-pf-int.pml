/*
 * The core of kvm-pf-int (Linux 5.8+ async page faults: not-present as #PF, page-ready as the
 * HYPERVISOR_CALLBACK_VECTOR interrupt) on Vexlab's `bench` configuration: 2 vCPUs, a user task
 * pinned to each (a touches pages 0 1 2, b touches 2 1 0), 3 host-absent pages, page-ready
 * delivered to any vCPU (host.apf.ready_target=any). Written for the checker comparison in
 * docs/checking.md; Vexlab's model is finer (micro-op handlers, interrupt flags, frames, a
 * timer tick), so state counts differ and the comparison is per state: states/s and bytes/state.
 *
 * Host: kvm_arch_setup_async_pf (token = id << 2 | vcpu, ids skip 0 as alloc_apf_token does since
 * 6f3c1fc53d86), async_pf_execute (the page becomes resident, the item goes to the done list),
 * kvm_check_async_pf_completion (token into the target's kvm_vcpu_pv_apf_data.token when that slot
 * is empty, then the interrupt). Guest: kvm_async_pf_task_wait_schedule (consume a dummy or hash a
 * sleeper), sysvec_kvm_asyncpf_interrupt (read the token, clear the slot and ack, then
 * kvm_async_pf_task_wake: wake the sleeper or hash a dummy).
 */
/* spin -DNV=3 ... scales it: vCPU v's task touches the pages from v round, every vCPU's in turn. */
#ifndef NV
#define NV 2
#endif
#define NP 3
#define NTOUCH 3
#define NW (2 * NV)
#define NS (2 * NV)

#define RUNNING  0
#define SLEEPING 1
#define WOKEN    2
#define EXITED   3

bit resident[NP];
byte n_inflight;             /* work items in flight */
byte n_done;                 /* work items on the done lists */
byte n_empty = NV;           /* vCPUs whose page-ready slot is empty */
byte next_id[NV];
byte apf_token[NV];          /* the page-ready slot: 0 empty */
bit irq[NV];                 /* callback vector requested */
byte tstate[NV];             /* task v runs on vCPU v */
byte pc[NV];
byte prog[NV * NTOUCH];

/* Host async work: a token, its vCPU, its page, done. */
bit w_used[NW];
bit w_done[NW];
byte w_token[NW];
byte w_page[NW];

/* The guest's sleep table: token, dummy, sleeping task. */
bit s_used[NS];
bit s_dummy[NS];
byte s_token[NS];
byte s_task[NS];

inline find_node(tok, at) {
  at = NS;
  for (i : 0 .. NS - 1) {
    if
    :: s_used[i] && s_token[i] == tok && at == NS -> at = i
    :: else -> skip
    fi
  }
}

inline free_node(at) {
  for (i : 0 .. NS - 1) {
    if
    :: !s_used[i] && at == NS -> at = i
    :: else -> skip
    fi
  }
  assert(at < NS)
}

proctype vcpu(byte v) {
  byte page, tok, at, i, n;
end:
  do
  :: atomic { tstate[v] == RUNNING && pc[v] < NTOUCH && resident[prog[v * NTOUCH + pc[v]]] -> pc[v]++ }
  :: atomic { tstate[v] == RUNNING && pc[v] == NTOUCH -> tstate[v] = EXITED }
  :: atomic {
       tstate[v] == RUNNING && pc[v] < NTOUCH && !resident[prog[v * NTOUCH + pc[v]]] ->
       /* EPT violation: kvm_arch_setup_async_pf, then the not-present #PF carries the token in CR2 */
       page = prog[v * NTOUCH + pc[v]];
       next_id[v]++;
       tok = (next_id[v] << 2) | v;      /* KVM: (id << 12) | vcpu_id; 2 bits suffice for NV <= 4 */
       at = NW;
       for (i : 0 .. NW - 1) {
         if
         :: !w_used[i] && at == NW -> at = i
         :: else -> skip
         fi
       }
       assert(at < NW);
       w_used[at] = 1; w_done[at] = 0; w_token[at] = tok; w_page[at] = page;
       n_inflight++
     }
     /* The #PF handler reads CR2 and the reason, then kvm_async_pf_task_wait_schedule takes the
        sleep-table lock: a dummy there means the page-ready came first. */
     n = tok;
     atomic {
       find_node(tok, at);
       if
       :: at < NS && s_dummy[at] -> s_used[at] = 0; s_dummy[at] = 0; s_token[at] = 0
       :: at < NS && !s_dummy[at] -> assert(false)      /* one node per token */
       :: at == NS ->
          free_node(at);
          s_used[at] = 1; s_token[at] = tok; s_task[at] = v;
          tstate[v] = SLEEPING
       fi
     }
  :: irq[v] ->
     /* sysvec_kvm_asyncpf_interrupt: read the token, clear the slot, ack (MSR_KVM_ASYNC_PF_ACK) */
     irq[v] = 0;
     tok = apf_token[v];
     atomic { apf_token[v] = 0; n_empty++ }
     /* kvm_async_pf_task_wake, under the sleep-table lock */
     atomic {
       find_node(tok, at);
       if
       :: at < NS && !s_dummy[at] ->
          tstate[s_task[at]] = WOKEN;
          s_used[at] = 0; s_token[at] = 0; s_task[at] = 0
       :: at < NS && s_dummy[at] -> assert(false)       /* one node per token */
       :: at == NS ->
          free_node(at);
          s_used[at] = 1; s_dummy[at] = 1; s_token[at] = tok
       fi
     }
  :: atomic { tstate[v] == WOKEN -> tstate[v] = RUNNING }
  od
}

/* async_pf_execute: any in-flight item completes; the page becomes resident, the item joins the done list. */
proctype worker() {
  byte k, r;
end:
  do
  :: atomic {
       n_inflight > 0 ->
       select(r : 0 .. n_inflight - 1);
       k = 0;
       do
       :: w_used[k] && !w_done[k] && r == 0 -> break
       :: w_used[k] && !w_done[k] && r > 0 -> r--; k++
       :: else -> k++
       od;
       resident[w_page[k]] = 1; w_done[k] = 1;
       n_inflight--; n_done++;
       k = 0; r = 0
     }
  od
}

/* kvm_check_async_pf_completion: any done item to any vCPU whose slot is empty (ready_target=any). */
proctype dequeue() {
  byte k, t, r;
end:
  do
  :: atomic {
       n_done > 0 && n_empty > 0 ->
       select(r : 0 .. n_done - 1);
       k = 0;
       do
       :: w_used[k] && w_done[k] && r == 0 -> break
       :: w_used[k] && w_done[k] && r > 0 -> r--; k++
       :: else -> k++
       od;
       select(r : 0 .. n_empty - 1);
       t = 0;
       do
       :: apf_token[t] == 0 && r == 0 -> break
       :: apf_token[t] == 0 && r > 0 -> r--; t++
       :: else -> t++
       od;
       apf_token[t] = w_token[k]; irq[t] = 1; n_empty--;
       w_used[k] = 0; w_done[k] = 0; w_token[k] = 0; w_page[k] = 0; n_done--;
       k = 0; t = 0; r = 0
     }
  od
}

init {
  byte v, k;
  atomic {
    /* bench: a touches 0 1 2, b touches 2 1 0; with more vCPUs, vCPU v starts at page v. */
    prog[0] = 0; prog[1] = 1; prog[2] = 2;
    prog[3] = 2; prog[4] = 1; prog[5] = 0;
    for (v : 2 .. NV - 1) {
      for (k : 0 .. NTOUCH - 1) {
        prog[v * NTOUCH + k] = (v + k) % NP
      }
    }
    for (v : 0 .. NV - 1) {
      run vcpu(v)
    }
    run worker(); run dequeue()
  }
}
