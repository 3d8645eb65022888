/* SPDX-License-Identifier: MIT */
/*
 * The per-thread time model, compiled into the BPF program and into host C.
 *
 * A thread is always in exactly one state; every event closes the interval since the
 * previous one into one category and opens the next. The intervals therefore tile the
 * thread's lifetime in the window, and the categories add up to it by construction,
 * whatever order events arrive in. An event that does not fit the state (one was
 * missed) is still accounted and counted as an anomaly.
 */
#ifndef CONCUR_ACCOUNT_H
#define CONCUR_ACCOUNT_H

#include "concur.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef ACCT_INLINE
#define ACCT_INLINE static __always_inline
#endif

/* What an event closed: `ns` nanoseconds into `cat`, blocked in syscall `nr`. */
struct acct_delta {
	__u64 ns;
	__u32 cat;
	__s32 nr;
};

ACCT_INLINE void acct_init(struct thread_acct *a, __u32 pid, __u32 tid, __u64 now, __u32 state,
			   __u32 cat, __s32 nr)
{
	a->pid = pid;
	a->tid = tid;
	a->since_ns = now;
	a->start_ns = now;
	a->state = state;
	a->cat = cat < CAT_MAX ? cat : CAT_OTHER;
	a->nr = nr;
	a->ustack = CONCUR_NO_STACK;
	a->kstack = CONCUR_NO_STACK;
}

/* The category the interval in progress would go to if it ended now. */
ACCT_INLINE __u32 acct_open_cat(const struct thread_acct *a)
{
	switch (a->state) {
	case TS_RUNNING:
	case TS_R_UNKNOWN:
		return CAT_CPU;
	case TS_RUNNABLE:
		return CAT_RUNQUEUE;
	default:
		return a->cat < CAT_MAX ? a->cat : CAT_OTHER;
	}
}

ACCT_INLINE struct acct_delta acct_close(struct thread_acct *a, __u64 now, __u32 cat)
{
	struct acct_delta d = { .ns = 0, .cat = cat, .nr = CONCUR_NO_SYSCALL };

	if (cat >= CAT_MAX)
		cat = d.cat = CAT_OTHER;
	if (a->state == TS_BLOCKED)
		d.nr = a->nr;
	if (now > a->since_ns)
		d.ns = now - a->since_ns;
	a->ns[cat] += d.ns;
	a->cnt[cat]++;
	a->since_ns = now > a->since_ns ? now : a->since_ns;
	return d;
}

/* Time on a CPU or runnable so far: the part of a loop's iteration that was computing. */
ACCT_INLINE __u64 acct_busy_ns(const struct thread_acct *a)
{
	return a->ns[CAT_CPU] + a->ns[CAT_RUNQUEUE];
}

/*
 * An event loop's iteration begins: the thread was woken from its poll at wake_ns (the
 * runnable part after it not yet closed). Called at the switch-in that ends a poll wait.
 */
ACCT_INLINE void acct_loop_wake(struct thread_acct *a, __u64 wake_ns)
{
	a->loop_wake_ns = wake_ns;
	a->loop_busy_base = acct_busy_ns(a);
	a->flags |= ACCT_LOOP_ITER;
}

/*
 * The thread blocks in its poll at now (its cpu interval closed): the iteration since its
 * last wake from the poll ends. LOOP_STALL_NS or longer with LOOP_BUSY_PCT % of it on a CPU
 * or runnable is a CPU stall (a callback computing while the loop's other events wait).
 * Iterations in which the loop never blocks in its poll (it always finds events ready) run
 * together into one: their callbacks are not told apart.
 */
ACCT_INLINE void acct_loop_poll(struct thread_acct *a, __u64 now)
{
	__u64 span, busy;

	if (!(a->flags & ACCT_LOOP_ITER))
		return;
	a->flags &= ~ACCT_LOOP_ITER;
	if (now <= a->loop_wake_ns)
		return;
	span = now - a->loop_wake_ns;
	busy = acct_busy_ns(a) - a->loop_busy_base;
	if (span < LOOP_STALL_NS || busy * 100 < span * LOOP_BUSY_PCT)
		return;
	a->cpu_stalls++;
	a->cpu_stall_ns += span;
	if (span > a->cpu_stall_max_ns)
		a->cpu_stall_max_ns = span;
}

/* The kernel's own per-task counters, read where an event happens (schedstat's fields). */
struct acct_kclock {
	__u64 exec_ns;	    /* sum_exec_runtime: time on a CPU */
	__u64 run_delay_ns; /* sched_info.run_delay: time waiting in a run queue */
};

ACCT_INLINE void acct_set_kclock(struct thread_acct *a, struct acct_kclock k)
{
	a->exec_ns = k.exec_ns;
	a->run_delay_ns = k.run_delay_ns;
	a->flags |= ACCT_EXEC_KNOWN;
}

/*
 * The switch-in that ended the interval in progress was never seen (it happens: some
 * kernels hide the scheduler events of their own agents, and the thread they preempted
 * gets the CPU back silently). The kernel's own counters say how the interval divides:
 * a runnable thread waited for what its run_delay grew by (counted at the unseen
 * switch-in); a blocked one was on a CPU for what its runtime grew by, and runnable before
 * that for what its run_delay grew by. The first part goes to the interval's category, the
 * runnable part to runqueue, the rest is left for cpu. Returns the first part.
 */
ACCT_INLINE struct acct_delta acct_split_missed_switch_in(struct thread_acct *a, __u64 now,
							  struct acct_kclock k)
{
	struct acct_delta d = { 0, CAT_CPU, CONCUR_NO_SYSCALL };
	__u64 part, ran, span = now > a->since_ns ? now - a->since_ns : 0;

	if (!(a->flags & ACCT_EXEC_KNOWN))
		return d;
	if (a->state == TS_RUNNABLE || a->state == TS_R_UNKNOWN) {
		if (k.run_delay_ns < a->run_delay_ns)
			return d;
		part = k.run_delay_ns - a->run_delay_ns;
		if (part > span)
			part = span;
		return acct_close(a, a->since_ns + part, CAT_RUNQUEUE);
	}
	if (k.exec_ns < a->exec_ns || k.exec_ns - a->exec_ns >= span)
		return d;
	ran = k.exec_ns - a->exec_ns;
	part = k.run_delay_ns > a->run_delay_ns ? k.run_delay_ns - a->run_delay_ns : 0;
	if (part > span - ran)
		part = span - ran;
	d = acct_close(a, now - ran - part, acct_open_cat(a));
	/* Not returned: only the wait itself is recorded by syscall and stack on this path. */
	acct_close(a, now - ran, CAT_RUNQUEUE);
	return d;
}

/*
 * The interval in progress ends on a CPU (the thread leaves it, or runs its exit path),
 * split first if its switch-in was never seen. Returns the blocked or waiting part when
 * there was one (what callers record by syscall and stack), else the cpu part.
 */
ACCT_INLINE struct acct_delta acct_off_cpu(struct thread_acct *a, __u64 now, struct acct_kclock k)
{
	struct acct_delta d, missed = { 0, CAT_CPU, CONCUR_NO_SYSCALL };

	if (a->state != TS_RUNNING) {
		if (a->state != TS_R_UNKNOWN)
			a->anomalies++;
		missed = acct_split_missed_switch_in(a, now, k);
	}
	/* Leaving a CPU proves it was on one, whatever the state said. */
	a->state = TS_RUNNING;
	d = acct_close(a, now, CAT_CPU);
	acct_set_kclock(a, k);
	return missed.ns ? missed : d;
}

/*
 * The thread leaves the CPU: preempted (still runnable) or blocking in `cat`; k holds the
 * kernel's counters for it, now.
 */
ACCT_INLINE struct acct_delta acct_switch_out(struct thread_acct *a, __u64 now, int runnable,
					      __u32 cat, __s32 nr, struct acct_kclock k)
{
	struct acct_delta d = { 0, CAT_CPU, CONCUR_NO_SYSCALL };

	if (a->state == TS_DEAD)
		return d;
	d = acct_off_cpu(a, now, k);
	if (runnable) {
		a->preemptions++;
		a->state = TS_RUNNABLE;
	} else {
		a->state = TS_BLOCKED;
		a->cat = cat < CAT_MAX ? cat : CAT_OTHER;
		a->nr = nr;
		if (a->cat == CAT_POLL)
			acct_loop_poll(a, now);
	}
	return d;
}

/*
 * The thread gets a CPU. A wait ends here: a preempted thread's runqueue time, or a blocked
 * thread's wait, whose last queued_ns were spent runnable (woken, waiting for this CPU: the
 * kernel's own figure, see the caller). Returns the wait; *queue gets the runnable part
 * after a blocked wait (empty otherwise). Wake-ups are not traced: this split costs nothing
 * at the wake-up, which on a switch-bound program is as frequent as the switch.
 */
ACCT_INLINE struct acct_delta acct_switch_in(struct thread_acct *a, __u64 now, __u64 queued_ns,
					     struct acct_delta *queue)
{
	struct acct_delta d = { 0, CAT_CPU, CONCUR_NO_SYSCALL };
	__u64 span = now > a->since_ns ? now - a->since_ns : 0;

	*queue = d;
	switch (a->state) {
	case TS_DEAD:
		return d;
	case TS_RUNNABLE:
	case TS_R_UNKNOWN:
		d = acct_close(a, now, CAT_RUNQUEUE);
		break;
	case TS_BLOCKED:
		a->wakeups++;
		if (queued_ns > span)
			queued_ns = span;
		d = acct_close(a, now - queued_ns, acct_open_cat(a));
		if (d.cat == CAT_POLL)
			acct_loop_wake(a, now - queued_ns);
		*queue = acct_close(a, now, CAT_RUNQUEUE);
		break;
	default:
		a->anomalies++;
		d = acct_close(a, now, CAT_CPU);
		break;
	}
	a->state = TS_RUNNING;
	return d;
}

/*
 * The thread exits: it is running its exit path, so the interval in progress ends on a CPU
 * (split as for a switch-out if its switch-in was never seen). k as for switch-out.
 */
ACCT_INLINE struct acct_delta acct_exit(struct thread_acct *a, __u64 now, struct acct_kclock k)
{
	struct acct_delta d = { 0, CAT_CPU, CONCUR_NO_SYSCALL };

	if (a->state == TS_DEAD)
		return d;
	d = acct_off_cpu(a, now, k);
	a->state = TS_DEAD;
	a->end_ns = now;
	return d;
}

/*
 * The thread, running, takes another tid (an exec from a non-main thread makes it its
 * process's leader). Its account so far goes into *old, ended now as by an exit; a starts
 * anew under tid, on a CPU since now, its totals empty (name and image kept). Returns what
 * ending *old closed.
 */
ACCT_INLINE struct acct_delta acct_retid(struct thread_acct *a, struct thread_acct *old, __u64 now,
					 struct acct_kclock k, __u32 tid)
{
	struct acct_delta d;
	int i;

	*old = *a;
	d = acct_exit(old, now, k);
	for (i = 0; i < CAT_MAX; i++) {
		a->ns[i] = 0;
		a->cnt[i] = 0;
	}
	a->wakeups = 0;
	a->preemptions = 0;
	a->steal_ns = 0;
	a->anomalies = 0;
	a->end_ns = 0;
	a->flags = 0;
	a->futex = 0;
	a->cpu_stalls = 0;
	a->cpu_stall_ns = 0;
	a->cpu_stall_max_ns = 0;
	acct_init(a, a->pid, tid, now, TS_RUNNING, CAT_OTHER, CONCUR_NO_SYSCALL);
	acct_set_kclock(a, k);
	return d;
}

/*
 * Steal. The scheduler's task clock (rq->clock_task) is the run queue's clock (rq->clock) less
 * the time the hypervisor took from the vCPU (with CONFIG_PARAVIRT_TIME_ACCOUNTING) and the time
 * spent in hard and soft interrupts (with CONFIG_IRQ_TIME_ACCOUNTING): kernel/sched/core.c
 * update_rq_clock_task(). A task's sum_exec_runtime advances on the task clock, concur's cpu on
 * the run queue's clock; the gap between the two clocks grows, while a thread is on a CPU, by
 * what it lost there. `gap` is rq->clock - rq->clock_task on the thread's CPU, read where the
 * scheduler has just updated both (a switch). The part is kept in cpu (the scheduler had the
 * thread on the CPU) and counted apart in steal_ns.
 */
ACCT_INLINE void acct_steal_in(struct thread_acct *a, __u64 gap)
{
	a->steal_base = gap;
	a->flags |= ACCT_STEAL_BASE;
}

/*
 * The on-CPU interval ends (switch-out, exit) with the clocks `gap` apart: what the gap grew by
 * since the switch-in is added to steal_ns and returned. Nothing when the switch-in was not
 * seen (a thread running at attach, a missed event) or the gap shrank (it never does on one
 * CPU: the thread did not stay on the CPU the base was read on).
 */
ACCT_INLINE __u64 acct_steal_out(struct thread_acct *a, __u64 gap)
{
	__u64 d = 0;

	if ((a->flags & ACCT_STEAL_BASE) && gap > a->steal_base)
		d = gap - a->steal_base;
	a->flags &= ~ACCT_STEAL_BASE;
	a->steal_ns += d;
	return d;
}

/*
 * The steal in the interval in progress of a thread still on its CPU, the clocks now `gap`
 * apart (the window closes), without ending the interval.
 */
ACCT_INLINE __u64 acct_steal_open(const struct thread_acct *a, __u64 gap)
{
	if (a->state != TS_RUNNING || !(a->flags & ACCT_STEAL_BASE) || gap <= a->steal_base)
		return 0;
	return gap - a->steal_base;
}

/* The window closes: the interval in progress ends in the category of the state it is in. */
ACCT_INLINE struct acct_delta acct_finish(struct thread_acct *a, __u64 now)
{
	struct acct_delta d = { 0, CAT_CPU, CONCUR_NO_SYSCALL };

	if (a->state == TS_DEAD)
		return d;
	return acct_close(a, now, acct_open_cat(a));
}

ACCT_INLINE __u64 acct_total_ns(const struct thread_acct *a)
{
	__u64 sum = 0;
	int i;

	for (i = 0; i < CAT_MAX; i++)
		sum += a->ns[i];
	return sum;
}

#endif /* CONCUR_ACCOUNT_H */
