// SPDX-License-Identifier: GPL-2.0
/* Scheduler and process probes: one state machine per target thread, totals in maps. */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "concur.h"
#include "account.h"
#include "classify.h"
#include "clock_sync.h"
#include "arch.bpf.h"
#include "helpers.bpf.h"
#include "stacks.bpf.h"
#include "wait.bpf.h"

#define TASK_RUNNING 0
#define PF_EXITING   0x00000004

char LICENSE[] SEC("license") = "GPL";

static void account_other(__u32 pid, struct acct_delta d)
{
	struct other_key key = { .pid = pid, .nr = d.nr };

	add_interval(&other, &key, d.ns, STAT_OTHER_FULL);
}

/*
 * A wait on a futex word, by its address: userspace names the words that lie in a global
 * variable (a lock, CPython's GIL). Its process's memory map is wanted for that.
 */
static void account_futex(__u32 pid, __u32 tid, __u64 addr, __u64 ns)
{
	struct futex_wait_key key = { .pid = pid, .tid = tid, .addr = addr };

	if (add_interval(&futexes, &key, ns, STAT_FUTEX_FULL) == 1)
		want_maps(pid);
}

/*
 * Where a closed interval's time goes beyond the thread's totals: 'other' by syscall, lock
 * time by futex word, and off-CPU time onto the stack the thread left the CPU with (on-CPU
 * stacks come from samples).
 */
static __always_inline void account_interval(const struct thread_acct *a, struct acct_delta d)
{
	if (!d.ns || d.cat == CAT_CPU)
		return;
	if (d.cat == CAT_OTHER)
		account_other(a->pid, d);
	if (d.cat == CAT_LOCK && d.nr == __NR_futex && a->futex)
		account_futex(a->pid, a->tid, a->futex, d.ns);
	if (stacks_enabled)
		weigh_stack(a->pid, a->tid, a->gen, d.cat, a->ustack, a->kstack, a->pystack,
			    d.cat == CAT_LOCK ? a->gil : 0, a->gil_pystack, d.ns);
}

/*
 * Whether the kernel keeps a task's run-queue waits (CONFIG_SCHED_INFO: sched_info is in
 * task_struct). Without it there is no run-queue split after a block (the time from wake-up to
 * CPU goes to the wait's category) and a missed switch-in is split by runtime alone: nothing
 * else says how long the thread was runnable. Resolved by libbpf at load to a constant: the
 * verifier never walks the dead branch, and a kernel with sched_info pays a test of it.
 */
#define HAVE_SCHED_INFO bpf_core_field_exists(struct task_struct, sched_info)

static __always_inline struct acct_kclock kclock(struct task_struct *task)
{
	struct acct_kclock k = { task->se.sum_exec_runtime, 0 };

	if (HAVE_SCHED_INFO)
		k.run_delay_ns = task->sched_info.run_delay;
	return k;
}

/* Storage for a thread the probes see born; NULL when out of memory. */
static struct thread_acct *new_thread(struct task_struct *task, __u64 now, __u32 state)
{
	__u32 zero = 0;
	struct thread_acct *a = bpf_map_lookup_elem(&scratch, &zero), *t;

	if (!a)
		return NULL;
	__builtin_memset(a, 0, sizeof(*a));
	acct_init(a, task->tgid, task->pid, now, state, CAT_OTHER, CONCUR_NO_SYSCALL);
	acct_set_kclock(a, kclock(task));
	BPF_CORE_READ_STR_INTO(&a->comm, task, comm);
	t = bpf_task_storage_get(&thread_store, task, a, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		stat_add(STAT_THREADS_FULL, 1);
	return t;
}

/*
 * The thread's account, if it is a target's. Threads get one when a target forks them or
 * when userspace hands them over at attach (adopt_threads), never on the fly here: that
 * would cost every other task on the machine a second look-up at every switch.
 */
static __always_inline struct thread_acct *get_thread(struct task_struct *task)
{
	return bpf_task_storage_get(&thread_store, task, 0, 0);
}

struct switch_clock {
	__u64 now; /* ktime */
	__u64 rq;  /* the run queue's clock, 0 if unknown */
	__u64 gap; /* and its lead on the run queue's task clock (account.h: steal), 0 if unknown */
};

/*
 * The CFS queue `task` is on: its ->rq is the run queue, reached so because per-CPU kernel
 * variables have no address for BPF where kallsyms lists no data symbols. A sched_entity has
 * its cfs_rq, and a cfs_rq its rq, only with CONFIG_FAIR_GROUP_SCHED (one check covers both):
 * NULL without.
 */
static __always_inline struct cfs_rq *task_cfs_rq(struct task_struct *task)
{
	if (bpf_core_field_exists(struct sched_entity, cfs_rq))
		return task->se.cfs_rq;
	return NULL;
}

/* rq->clock - rq->clock_task of the CPU `task` is queued on; 0 without its run queue (no
 * steal is then measured). */
static __always_inline __u64 rq_clock_gap(struct task_struct *task)
{
	struct cfs_rq *cfs = task_cfs_rq(task);
	struct rq *rq;

	if (!cfs)
		return 0;
	rq = cfs->rq;
	return rq->clock - rq->clock_task;
}

/*
 * The time of this switch, from the run queue's clock (see clock_sync.h): `next`'s CFS queue
 * is this CPU's. Without the run queue (task_cfs_rq()) the switch is stamped with ktime (exact,
 * ~70 ns dearer) and the wait in progress at a switch-in is unknown (rq 0).
 */
static __always_inline struct switch_clock switch_now(struct task_struct *next)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct cfs_rq *cfs = task_cfs_rq(next);
	struct clock_sync *s;
	__u64 clock, task_clock;
	struct rq *rq;

	if (!cfs || cpu >= CONCUR_MAX_CPUS)
		return (struct switch_clock){ bpf_ktime_get_ns(), 0, 0 };
	rq = cfs->rq;
	/* __schedule() updated both for this switch (update_rq_clock()): they agree. */
	clock = rq->clock;
	task_clock = rq->clock_task;
	s = &clock_sync[cpu];
	if (clock_sync_due(s, clock))
		clock_sync_sample(s, clock, bpf_ktime_get_ns());
	return (struct switch_clock){ clock_sync_ktime(s, clock), clock, clock - task_clock };
}

/*
 * How long `next`, switched in now, was runnable since it last left a CPU: the run queue
 * waits the kernel has added to its run_delay since (a migration closes one) and the wait
 * in progress since it was queued on this CPU, on this run queue's clock (updated for this
 * switch). Exactly what the kernel adds to run_delay right after this tracepoint. 0 without
 * sched_info (see HAVE_SCHED_INFO); without the run queue's clock (rq_clock 0), only the
 * waits a migration closed.
 */
static __always_inline __u64 queued_ns(struct task_struct *next, const struct thread_acct *a,
				       __u64 rq_clock)
{
	__u64 q = 0, last;

	if (!HAVE_SCHED_INFO)
		return 0;
	last = next->sched_info.last_queued;
	if (last && rq_clock > last)
		q = rq_clock - last;
	if ((a->flags & ACCT_EXEC_KNOWN) && next->sched_info.run_delay > a->run_delay_ns)
		q += next->sched_info.run_delay - a->run_delay_ns;
	return q;
}

/* The "syscall" of a preemption, for the stack cache: never a real one, nor a CONCUR_* reason. */
#define NR_PREEMPTED (-100)
/* A cached pair of stacks is used at most this many times in a row, then captured anew. */
#define STACK_REUSE_MAX 63

/*
 * Walking a kernel stack costs microseconds here (it is most of the price of stacks), and a
 * thread in a loop leaves the CPU from the same few places over and over. When it leaves with
 * the same user instruction and stack pointers, in the same syscall, as one of the last four
 * times, the stacks captured then are used again; every 64th time they are captured anew, so
 * a different kernel path behind the same call site still shows up.
 */
static __always_inline void switch_out_stacks(void *ctx, struct task_struct *task, __s32 nr,
					      struct thread_acct *a)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct stack_cache_entry *e;
	struct stack_cache *c;
	__u64 ip, sp;
	bool own;
	int i;

	/* An io_uring worker has no user stack of its own (its registers are its creator's, with
	 * ip 0), nor has a task inside execve, so no cache key either: its kernel stack is taken
	 * at each switch-out, which comes about twice a request (its wait, then its idle wait
	 * for the next). */
	own = has_own_user_stack(task);
	c = own ? bpf_task_storage_get(&stack_cache, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE) :
		  NULL;
	if (!c || !regs) {
		stat_add(STAT_CACHE_MISSES, 1);
		capture_stacks(ctx, &a->ustack, &a->kstack, own);
		return;
	}
	ip = arch_user_ip(regs);
	sp = arch_user_sp(regs);
	for (i = 0; i < STACK_CACHE_WAYS; i++) {
		e = &c->e[i];
		if (e->ip == ip && e->sp == sp && e->nr == nr && e->ustack != CONCUR_NO_STACK &&
		    e->reuses < STACK_REUSE_MAX) {
			e->reuses++;
			a->ustack = e->ustack;
			a->kstack = e->kstack;
			stat_add(STAT_CACHE_HITS, 1);
			return;
		}
	}
	stat_add(STAT_CACHE_MISSES, 1);
	capture_stacks(ctx, &a->ustack, &a->kstack, true);
	/* With --unwind=cfi, a stack walked before the process's map was read is a stand-in:
	 * not to be reused once it is. */
	if (unwind_cfi && !unwind_cacheable(a->ustack))
		return;
	e = &c->e[c->next & (STACK_CACHE_WAYS - 1)];
	*e = (struct stack_cache_entry){ ip, sp, nr, 0, a->ustack, a->kstack };
	c->next++;
}

/* prev, a target thread, leaves the CPU: preempted, or blocking for the reason it is in. */
static __always_inline void thread_out(void *ctx, struct task_struct *prev, struct thread_acct *a,
				       struct switch_clock clk, bool preempt,
				       unsigned int prev_state)
{
	int runnable = preempt || (prev_state & 0xff) == TASK_RUNNING;
	/* Read before classify_task(): clang then spills less (see make bpf-insns). */
	struct acct_kclock k = kclock(prev);
	struct wait_class w = { CAT_OTHER, CONCUR_NO_SYSCALL };
	const struct py_proc *pp;
	struct acct_delta d;
	__u64 futex = 0;

	stat_add(STAT_SWITCHES, 1);
	if (!runnable)
		w = classify_task(prev, prev_state, &futex);
	d = acct_switch_out(a, clk.now, runnable, w.cat, w.nr, k);
	/* Unknown clocks (gap 0) measure nothing, and end the interval's base all the same. */
	acct_steal_out(a, clk.gap);
	/* d may close the previous wait (a missed switch-in): its futex is still set. */
	account_interval(a, d);
	a->futex = futex;
	/* prev is still the current task here: its stacks are where it stopped. */
	if (stacks_enabled) {
		switch_out_stacks(ctx, prev, runnable ? NR_PREEMPTED : w.nr, a);
		/* Outside the cache: different Python paths leave from one C ip and sp. Whether the
		 * process is CPython comes first: for the others, that lookup is all. An io_uring
		 * worker's thread pointer is its creator's copy: no Python frames are its own. */
		pp = py_proc_of(a->pid);
		a->gil = 0;
		a->gil_pystack = CONCUR_NO_PYSTACK;
		a->pystack = pp && has_own_user_stack(prev) ?
				     capture_pystack_timed(pp, a->pid, a->tid, futex, &a->gil,
							   &a->gil_pystack) :
				     CONCUR_NO_PYSTACK;
		want_maps(a->pid);
	}
}

/* next, a target thread, gets the CPU. */
static __always_inline void thread_in(struct task_struct *next, struct thread_acct *a,
				      struct switch_clock clk)
{
	struct acct_delta d, queue;

	d = acct_switch_in(a, clk.now, queued_ns(next, a, clk.rq), &queue);
	if (clk.rq)
		acct_steal_in(a, clk.gap);
	/* After a block the runnable part is closed, even at 0 ns: that is a wake-up, as the
	 * thread's own wakeups count it. */
	if (queue.cat == CAT_RUNQUEUE)
		stat_add(STAT_WAKEUPS, 1);
	account_interval(a, d);
	account_interval(a, queue);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct thread_acct *prev_acct = get_thread(prev), *next_acct = get_thread(next);
	struct switch_clock clk = {};

	if (stacks_enabled) {
		__u32 cpu = bpf_get_smp_processor_id();

		if (cpu < CONCUR_MAX_CPUS)
			running_pid[cpu] = next_acct ? next_acct->pid : 0;
	}
	/* Most switches on a machine are no target's: they cost the two lookups only. */
	if (prev_acct) {
		clk = switch_now(next);
		thread_out(ctx, prev, prev_acct, clk, preempt, prev_state);
	}
	if (next_acct) {
		if (!prev_acct)
			clk = switch_now(next);
		thread_in(next, next_acct, clk);
	}
	return 0;
}

/*
 * A forked child has its parent's address space, mapping for mapping (fork(2)): the parent's
 * mapping index walks it until userspace reads the child's own map. Without it the child's
 * first stacks (a worker that blocks at once, for seconds) would be the kernel's
 * frame-pointer walk, which loses the callers of every libc function.
 */
static __always_inline void inherit_unwind_index(__u32 ptgid, __u32 ctgid)
{
	struct unwind_proc *idx = bpf_map_lookup_elem(&unwind_procs, &ptgid);

	if (idx)
		bpf_map_update_elem(&unwind_procs, &ctgid, idx, BPF_NOEXIST);
}

/* A dead thread's account moves to dead_threads, keyed by the order threads die in. */
static __always_inline void retire(struct thread_acct *a)
{
	__u64 seq = __sync_fetch_and_add(&dead_seq, 1);

	if (bpf_map_update_elem(&dead_threads, &seq, a, BPF_NOEXIST))
		stat_add(STAT_DEAD_FULL, 1);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, gen = 0;
	struct proc_info info = {}, *pinfo = bpf_map_lookup_elem(&procs, &ptgid);
	struct thread_acct *a;

	if (!pinfo)
		return 0;
	if (ctgid != ptgid) {
		if (!follow_children)
			return 0;
		info.pid = ctgid;
		info.ppid = ptgid;
		info.parent_gen = pinfo->gen;
		info.start_ns = bpf_ktime_get_ns();
		BPF_CORE_READ_STR_INTO(&info.comm, child, comm);
		if (bpf_map_update_elem(&procs, &ctgid, &info, BPF_NOEXIST) == -E2BIG) {
			stat_add(STAT_PROCS_FULL, 1);
			return 0;
		}
		if (unwind_cfi)
			inherit_unwind_index(ptgid, ctgid);
	} else {
		gen = pinfo->gen; /* a new thread runs the image its process has now */
	}
	stat_add(STAT_FORKS, 1);
	/* Not runnable until wake_up_new_task(), microseconds later: count that as runqueue. */
	a = new_thread(child, bpf_ktime_get_ns(), TS_RUNNABLE);
	if (a)
		a->gen = gen;
	return 0;
}

/*
 * An exec passes its point of no return (begin_new_exec(), fs/exec.c): the old memory map is
 * about to go. The process's image generation moves on now, before the map changes, so that
 * a map userspace reads meanwhile is never taken for the old image's (struct proc_info).
 */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(on_prepare_exec, struct task_struct *p, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct proc_info *info = bpf_map_lookup_elem(&procs, &tgid);
	struct thread_acct *a;

	if (!info)
		return 0;
	__sync_fetch_and_add(&info->gen, 1);
	/* The name it had before the exec renames it: its time so far goes under it. */
	a = get_thread(p);
	if (a)
		BPF_CORE_READ_STR_INTO(&a->comm, p, comm);
	return 0;
}

/*
 * A thread that execs from a non-main thread takes the leader's tid (de_thread(), fs/exec.c:
 * the old leader is reaped, the exec'ing task gets the pid): its time so far stays under the
 * tid it had, ended here; it goes on as a new thread under the pid it became.
 */
static __always_inline void retake_tid(struct task_struct *p, struct thread_acct *a)
{
	__u32 zero = 0;
	struct thread_acct *old = bpf_map_lookup_elem(&scratch, &zero);
	__u64 gap = rq_clock_gap(p);
	struct acct_delta d;

	if (!old)
		return;
	d = acct_retid(a, old, bpf_ktime_get_ns(), kclock(p), p->pid);
	acct_steal_out(old, gap);
	account_interval(old, d);
	retire(old);
	acct_steal_in(a, gap);
}

/*
 * io_uring's workers and SQPOLL thread: create_io_thread() calls copy_process() itself, not
 * kernel_clone(), so sched_process_fork never fires for them; task_newtask does, at the end of
 * copy_process() for every new task (kernel/fork.c, v6.18), once the task has its tgid: a thread
 * of the process whose ring it serves (CLONE_THREAD). Other new tasks are on_fork's.
 */
SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct proc_info *info;
	struct thread_acct *a;
	__u32 tgid;

	if (!(task->flags & CONCUR_PF_IO_WORKER))
		return 0;
	tgid = task->tgid;
	info = bpf_map_lookup_elem(&procs, &tgid);
	if (!info)
		return 0;
	stat_add(STAT_FORKS, 1);
	/* As on_fork: runnable once wake_up_new_task() has queued it. */
	a = new_thread(task, bpf_ktime_get_ns(), TS_RUNNABLE);
	if (a)
		a->gen = info->gen;
	return 0;
}

/* The exec is done: the new image is mapped, its threads run it from here. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 tgid = p->tgid;
	struct proc_info *info = bpf_map_lookup_elem(&procs, &tgid);
	struct thread_acct *a;

	if (!info)
		return 0;
	BPF_CORE_READ_STR_INTO(&info->comm, p, comm);
	/* A new image: its memory map is another one. */
	info->flags &= ~PROC_MAPS_SENT;
	/* The old image's mapping index would walk the new one with wrong tables. */
	if (unwind_cfi)
		bpf_map_delete_elem(&unwind_procs, &tgid);
	/* Nor is the new image the same interpreter, if one at all: its map's read says. */
	bpf_map_delete_elem(&py_procs, &tgid);
	a = get_thread(p);
	if (!a)
		return 0;
	if (a->tid != (__u32)p->pid)
		retake_tid(p, a);
	a->gen = info->gen;
	BPF_CORE_READ_STR_INTO(&a->comm, p, comm);
	return 0;
}

static __always_inline void retire_proc(__u32 tgid, struct proc_info *info)
{
	__u64 seq = __sync_fetch_and_add(&dead_seq, 1);

	if (bpf_map_update_elem(&dead_procs, &seq, info, BPF_NOEXIST)) {
		stat_add(STAT_DEAD_FULL, 1);
		return;
	}
	bpf_map_delete_elem(&procs, &tgid);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tid = p->pid, tgid = p->tgid;
	struct thread_acct *a = get_thread(p), *seed = NULL;
	struct proc_info *info;
	struct acct_delta d;

	/* A thread seeded at attach that dies before it is adopted. */
	if (!a) {
		seed = bpf_map_lookup_elem(&seeds, &tid);
		if (!seed || seed->pid != tgid)
			return 0;
		a = seed;
	}
	stat_add(STAT_EXITS, 1);
	/* Threads are often renamed after they start: keep the name they die with. */
	BPF_CORE_READ_STR_INTO(&a->comm, p, comm);
	d = acct_exit(a, bpf_ktime_get_ns(), kclock(p));
	/*
	 * p runs its exit path on its CPU: the clocks are as of that run queue's last update (a
	 * tick or the switch-in), so the steal of the last tick or less goes uncounted.
	 */
	acct_steal_out(a, rq_clock_gap(p));
	account_interval(a, d);
	retire(a);
	/* Its state is now TS_DEAD: should the deletion fail, snapshots still leave it out. */
	if (seed)
		bpf_map_delete_elem(&seeds, &tid);
	else
		bpf_task_storage_delete(&thread_store, p);
	/* The last thread out: the process is gone, and its pid free for another. */
	if (!BPF_CORE_READ(p, signal, live.counter)) {
		info = bpf_map_lookup_elem(&procs, &tgid);
		if (info) {
			info->flags |= PROC_EXITED;
			info->end_ns = bpf_ktime_get_ns();
			retire_proc(tgid, info);
		}
	}
	return 0;
}

/*
 * Run by userspace over a target process's tasks once it has put their seeds in place: each
 * seed goes onto its task, unless the probes gave the task an account first (they know
 * better). A task already exiting is left to on_exit, which finds the seed. The seed's state
 * is /proc's, read just before.
 */
SEC("iter/task")
int adopt_threads(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct thread_acct *seed;
	__u32 tid;

	if (!task || (task->flags & PF_EXITING))
		return 0;
	tid = task->pid;
	seed = bpf_map_lookup_elem(&seeds, &tid);
	if (!seed || seed->pid != task->tgid)
		return 0;
	/*
	 * /proc tells an io_uring worker's state only (a 'D' is `other`): its wait in progress is
	 * asked here instead, as its switch-out would, the task at hand.
	 */
	if ((task->flags & CONCUR_PF_IO_WORKER) && seed->state == TS_BLOCKED) {
		struct wait_class w;

		if (!(task->__state & 0xff)) {
			/* Woken since /proc was read: running or runnable now, as a seeded 'R'
			 * is (a wait classified from this state read 34-76 ms as "other"). */
			seed->state = TS_R_UNKNOWN;
			seed->cat = CAT_OTHER;
			seed->nr = CONCUR_NO_SYSCALL;
		} else {
			classify_io_worker_task(task, task->__state, &w);
			seed->cat = w.cat;
			seed->nr = w.nr;
		}
	}
	if (!bpf_task_storage_get(&thread_store, task, seed, BPF_LOCAL_STORAGE_GET_F_CREATE))
		stat_add(STAT_THREADS_FULL, 1);
	bpf_map_delete_elem(&seeds, &tid);
	return 0;
}

/*
 * Live threads the last snapshot could not copy (`threads` full). Userspace zeroes it before
 * each snapshot and counts the final one's: a status-line snapshot must not add to the stats.
 */
__u64 snapshot_dropped = 0;

/* Run by userspace over every task: the live threads' accounts, copied into `threads`. */
SEC("iter/task")
int snapshot_threads(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct thread_acct *a, *copy;
	__u32 tid, zero = 0;
	__u64 steal;

	if (!task)
		return 0;
	a = bpf_task_storage_get(&thread_store, task, 0, 0);
	if (!a || a->state == TS_DEAD)
		return 0;
	tid = task->pid;
	/*
	 * A thread on a CPU now: the steal of its interval in progress, to its CPU's last clock
	 * update (a tick at most ago), goes into the copy; its own account keeps the base.
	 */
	steal = acct_steal_open(a, rq_clock_gap(task));
	copy = steal ? bpf_map_lookup_elem(&scratch, &zero) : NULL;
	if (copy) {
		*copy = *a;
		copy->steal_ns += steal;
		a = copy;
	}
	if (bpf_map_update_elem(&threads, &tid, a, BPF_ANY) == -E2BIG)
		snapshot_dropped++;
	return 0;
}
