// SPDX-License-Identifier: MIT
/* The time model (include/account.h) on synthetic event sequences: the code the BPF program runs. */
#include <criterion/criterion.h>
#include <string.h>
#include "account.h"

#define MS		1000000ull
#define KC(exec, delay) ((struct acct_kclock){ (exec), (delay) })

static struct thread_acct fresh(__u64 t, __u32 state)
{
	struct thread_acct a;

	memset(&a, 0, sizeof(a));
	acct_init(&a, 10, 11, t, state, CAT_OTHER, CONCUR_NO_SYSCALL);
	return a;
}

Test(account, busy_then_sleep_then_runqueue)
{
	struct thread_acct a = fresh(0, TS_RUNNING);
	struct acct_delta d, queue;

	acct_switch_out(&a, 5 * MS, 0, CAT_SLEEP, 35, KC(0, 0)); /* nanosleep */
	/* Woken at 15 ms: the kernel says it then waited 1 ms for the CPU. */
	d = acct_switch_in(&a, 16 * MS, 1 * MS, &queue);
	acct_exit(&a, 20 * MS, KC(0, 0));

	cr_expect_eq(d.cat, CAT_SLEEP);
	cr_expect_eq(d.nr, 35);
	cr_expect_eq(d.ns, 10 * MS);
	cr_expect_eq(queue.cat, CAT_RUNQUEUE);
	cr_expect_eq(queue.ns, 1 * MS);

	cr_expect_eq(a.ns[CAT_CPU], 9 * MS);
	cr_expect_eq(a.ns[CAT_SLEEP], 10 * MS);
	cr_expect_eq(a.ns[CAT_RUNQUEUE], 1 * MS);
	cr_expect_eq(a.wakeups, 1);
	cr_expect_eq(a.end_ns, 20 * MS);
	cr_expect_eq(a.state, TS_DEAD);
	cr_expect_eq(a.anomalies, 0);
}

Test(account, preemption_goes_to_runqueue)
{
	struct thread_acct a = fresh(0, TS_RUNNING);
	struct acct_delta queue;

	acct_switch_out(&a, 4 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(0, 0));
	acct_switch_in(&a, 12 * MS, 0, &queue);
	acct_switch_out(&a, 16 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(0, 0));
	acct_switch_in(&a, 24 * MS, 0, &queue);

	cr_expect_eq(a.ns[CAT_CPU], 8 * MS);
	cr_expect_eq(a.ns[CAT_RUNQUEUE], 16 * MS);
	cr_expect_eq(a.preemptions, 2);
	cr_expect_eq(a.cnt[CAT_CPU], 2);
}

Test(account, runnable_part_never_exceeds_the_wait)
{
	struct thread_acct a = fresh(0, TS_RUNNING);
	struct acct_delta d, queue;

	acct_switch_out(&a, 1 * MS, 0, CAT_OTHER, 16, KC(0, 0)); /* ioctl on something odd */
	d = acct_switch_in(&a, 4 * MS, 9 * MS, &queue);		 /* the kernel's figure is off */
	cr_expect_eq(d.cat, CAT_OTHER);
	cr_expect_eq(d.nr, 16);
	cr_expect_eq(d.ns, 0);
	cr_expect_eq(queue.ns, 3 * MS);
	cr_expect_eq(acct_total_ns(&a), 4 * MS);
	cr_expect_eq(a.wakeups, 1);
}

Test(account, preempted_thread_has_no_separate_runnable_part)
{
	struct thread_acct a = fresh(0, TS_RUNNING);
	struct acct_delta d, queue;

	acct_switch_out(&a, 1 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(0, 0));
	d = acct_switch_in(&a, 3 * MS, 1 * MS, &queue);
	cr_expect_eq(d.cat, CAT_RUNQUEUE);
	cr_expect_eq(d.ns, 2 * MS);
	cr_expect_eq(queue.ns, 0);
	cr_expect_eq(a.wakeups, 0);
}

Test(account, seeded_r_resolves_by_first_event)
{
	struct thread_acct on_cpu = fresh(0, TS_R_UNKNOWN), waiting = fresh(0, TS_R_UNKNOWN);
	struct acct_delta queue;

	acct_switch_out(&on_cpu, 7 * MS, 0, CAT_LOCK, 202, KC(0, 0));
	acct_switch_in(&waiting, 7 * MS, 0, &queue);
	cr_expect_eq(on_cpu.ns[CAT_CPU], 7 * MS);
	cr_expect_eq(waiting.ns[CAT_RUNQUEUE], 7 * MS);
	cr_expect_eq(on_cpu.anomalies + waiting.anomalies, 0);
}

Test(account, switch_in_after_block_is_not_an_anomaly)
{
	struct thread_acct a = fresh(100, TS_RUNNING);
	struct acct_delta queue;

	acct_switch_out(&a, 200, 0, CAT_IO_PIPE, 0, KC(0, 0));
	acct_switch_in(&a, 500, 0, &queue);
	acct_finish(&a, 600);
	cr_expect_eq(a.ns[CAT_IO_PIPE], 300);
	cr_expect_eq(a.anomalies, 0);
	cr_expect_eq(acct_total_ns(&a), 500);
}

Test(account, switch_in_while_running_counts_anomaly)
{
	struct thread_acct a = fresh(100, TS_RUNNING);
	struct acct_delta queue;

	acct_switch_in(&a, 400, 0, &queue);
	acct_finish(&a, 600);
	cr_expect_eq(a.ns[CAT_CPU], 500);
	cr_expect_eq(a.anomalies, 1);
}

Test(account, switch_out_while_blocked_counts_anomaly)
{
	struct thread_acct a = fresh(0, TS_BLOCKED);

	a.cat = CAT_SLEEP;
	acct_switch_out(&a, 10, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(0, 0));
	cr_expect_eq(a.anomalies, 1);
	cr_expect_eq(a.ns[CAT_CPU], 10);
	cr_expect_eq(a.state, TS_RUNNABLE);
}

Test(account, events_after_death_are_ignored)
{
	struct thread_acct a = fresh(0, TS_RUNNING);
	struct acct_delta queue;

	acct_exit(&a, 10, KC(0, 0));
	acct_switch_out(&a, 20, 0, CAT_SLEEP, 35, KC(0, 0));
	acct_switch_in(&a, 30, 5, &queue);
	acct_finish(&a, 50);
	cr_expect_eq(acct_total_ns(&a), 10);
	cr_expect_eq(a.end_ns, 10);
}

Test(account, window_end_closes_blocked_interval_into_its_category)
{
	struct thread_acct a = fresh(0, TS_BLOCKED);

	a.cat = CAT_LOCK;
	acct_finish(&a, 9 * MS);
	cr_expect_eq(a.ns[CAT_LOCK], 9 * MS);
	cr_expect_eq(a.end_ns, 0, "the window's end is not a death");
	cr_expect_eq(a.state, TS_BLOCKED);
}

Test(account, out_of_range_category_becomes_other)
{
	struct thread_acct a = fresh(0, TS_RUNNING);

	acct_switch_out(&a, 5, 0, CAT_MAX + 7, 1, KC(0, 0));
	acct_finish(&a, 8);
	cr_expect_eq(a.ns[CAT_OTHER], 3);
}

Test(account, time_going_backwards_adds_nothing)
{
	struct thread_acct a = fresh(1000, TS_RUNNING);

	acct_switch_out(&a, 900, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(0, 0));
	cr_expect_eq(acct_total_ns(&a), 0);
	cr_expect_eq(a.since_ns, 1000);
}

/* A long random walk: whatever the order, the categories add up to the lifetime. */
Test(account, random_sequences_tile_the_lifetime)
{
	unsigned int seed = 12345;
	int round, i;

	for (round = 0; round < 200; round++) {
		struct thread_acct a =
			fresh(1000, rand_r(&seed) % 5 == 0 ? TS_R_UNKNOWN : TS_RUNNING);
		struct acct_delta queue;
		__u64 t = 1000, exec = 0;

		for (i = 0; i < 300; i++) {
			t += rand_r(&seed) % 5000;
			if (rand_r(&seed) % 2) {
				exec += rand_r(&seed) % 5000;
				acct_switch_out(&a, t, rand_r(&seed) % 2, rand_r(&seed) % CAT_MAX,
						1, KC(exec, exec / 2));
			} else {
				acct_switch_in(&a, t, rand_r(&seed) % 8000, &queue);
			}
		}
		t += 17;
		acct_exit(&a, t, KC(0, 0));
		cr_assert_eq(acct_total_ns(&a), t - 1000, "round %d", round);
	}
}

Test(account, missed_switch_in_is_split_by_the_kernels_run_delay)
{
	struct thread_acct a = fresh(0, TS_RUNNING);

	acct_switch_out(&a, 10 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(10 * MS, 0));
	/* switched back in at 14 ms, unseen: the kernel counted 4 ms of waiting */
	acct_switch_out(&a, 20 * MS, 0, CAT_SLEEP, 35, KC(16 * MS, 4 * MS));
	cr_expect_eq(a.ns[CAT_RUNQUEUE], 4 * MS);
	cr_expect_eq(a.ns[CAT_CPU], 16 * MS);
	cr_expect_eq(a.anomalies, 1);
	cr_expect_eq(a.state, TS_BLOCKED);
}

Test(account, unseen_switch_in_after_a_block_splits_by_both_counters)
{
	struct thread_acct a = fresh(0, TS_RUNNING);

	acct_switch_out(&a, 2 * MS, 0, CAT_IO_NET, 0, KC(2 * MS, 0));
	/* woken, 2 ms runnable, 1 ms on a CPU: switched in unseen */
	acct_switch_out(&a, 10 * MS, 0, CAT_IO_NET, 0, KC(3 * MS, 2 * MS));
	cr_expect_eq(a.ns[CAT_IO_NET], 5 * MS);
	cr_expect_eq(a.ns[CAT_RUNQUEUE], 2 * MS);
	cr_expect_eq(a.ns[CAT_CPU], 3 * MS);
	cr_expect_eq(acct_total_ns(&a), 10 * MS);
}

Test(account, seeded_running_thread_uses_its_counters_at_seed)
{
	struct thread_acct a = fresh(0, TS_R_UNKNOWN);

	acct_set_kclock(&a, KC(100 * MS, 50 * MS));
	acct_switch_out(&a, 10 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(104 * MS, 56 * MS));
	cr_expect_eq(a.ns[CAT_RUNQUEUE], 6 * MS);
	cr_expect_eq(a.ns[CAT_CPU], 4 * MS);
	cr_expect_eq(a.anomalies, 0);
}

Test(account, unknown_or_implausible_runtime_means_all_cpu)
{
	struct thread_acct unknown = fresh(0, TS_RUNNABLE), backwards = fresh(0, TS_RUNNABLE);

	acct_switch_out(&unknown, 10 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(3 * MS, 0));
	cr_expect_eq(unknown.ns[CAT_CPU], 10 * MS);
	acct_set_kclock(&backwards, KC(50 * MS, 50 * MS));
	acct_switch_out(&backwards, 10 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(40 * MS, 40 * MS));
	cr_expect_eq(backwards.ns[CAT_CPU], 10 * MS);
}

Test(account, exit_after_an_unseen_switch_in_is_mostly_cpu)
{
	struct thread_acct a = fresh(0, TS_RUNNING);

	acct_switch_out(&a, 10 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(10 * MS, 0));
	/* back on a CPU at 11 ms, unseen; exits at 400 ms having run 389 ms more */
	acct_exit(&a, 400 * MS, KC(399 * MS, 1 * MS));
	cr_expect_eq(a.ns[CAT_RUNQUEUE], 1 * MS);
	cr_expect_eq(a.ns[CAT_CPU], 399 * MS);
	cr_expect_eq(a.anomalies, 1);
	cr_expect_eq(a.end_ns, 400 * MS);
}

Test(account, steal_is_the_clock_gap_growth_while_on_a_cpu)
{
	struct thread_acct a = fresh(0, TS_RUNNABLE);
	struct acct_delta queue;

	/* The clocks are 7 ms apart when it gets the CPU (others' steal and IRQs before it). */
	acct_switch_in(&a, 1 * MS, 0, &queue);
	acct_steal_in(&a, 7 * MS);
	/* 0.3 ms taken by the host while it ran: the gap grew by that. */
	acct_switch_out(&a, 11 * MS, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(9700000, 1 * MS));
	cr_expect_eq(acct_steal_out(&a, 7300000), 300000);
	/* Runnable: what the gap grows by meanwhile is no steal of its own. */
	acct_switch_in(&a, 12 * MS, 0, &queue);
	acct_steal_in(&a, 9 * MS);
	cr_expect_eq(acct_steal_open(&a, 9200000), 200000);
	acct_exit(&a, 20 * MS, KC(0, 0));
	cr_expect_eq(acct_steal_out(&a, 9500000), 500000);
	cr_expect_eq(a.steal_ns, 800000);
	cr_expect_eq(a.ns[CAT_CPU], 18 * MS);
	/* Kept in cpu: the scheduler had it on the CPU all along. */
	cr_expect_eq(acct_total_ns(&a), 20 * MS);
}

Test(account, steal_without_a_seen_switch_in_is_not_measured)
{
	struct thread_acct seeded = fresh(0, TS_RUNNING), missed = fresh(0, TS_RUNNABLE);
	struct acct_delta queue;

	/* Running at attach: no reading at its switch-in. */
	cr_expect_eq(acct_steal_open(&seeded, 5 * MS), 0);
	cr_expect_eq(acct_steal_out(&seeded, 5 * MS), 0);
	/* A switch-out without clocks (gap 0) ends the base: the next one measures nothing. */
	acct_switch_in(&missed, 1 * MS, 0, &queue);
	acct_steal_in(&missed, 2 * MS);
	cr_expect_eq(acct_steal_out(&missed, 0), 0);
	cr_expect_eq(acct_steal_out(&missed, 3 * MS), 0);
	/* Nor when the gap shrank (not the CPU the base was read on), nor once off the CPU. */
	acct_steal_in(&missed, 2 * MS);
	cr_expect_eq(acct_steal_out(&missed, 1 * MS), 0);
	acct_steal_in(&missed, 2 * MS);
	acct_switch_out(&missed, 4 * MS, 0, CAT_SLEEP, 35, KC(0, 0));
	cr_expect_eq(acct_steal_open(&missed, 3 * MS), 0);
	cr_expect_eq(missed.steal_ns, 0);
}

Test(account, exec_from_a_non_main_thread_splits_it_at_the_exec)
{
	struct thread_acct a = fresh(0, TS_RUNNING), old;
	struct acct_delta d, queue;

	memcpy(a.comm, "worker", 7);
	a.gen = 2;
	acct_switch_out(&a, 4 * MS, 0, CAT_SLEEP, 35, KC(4 * MS, 0));
	acct_switch_in(&a, 10 * MS, 0, &queue);
	/* At 13 ms tid 11 execs and becomes tid 10, its process's pid. */
	d = acct_retid(&a, &old, 13 * MS, KC(7 * MS, 0), 10);
	acct_exit(&a, 20 * MS, KC(14 * MS, 0));

	cr_expect_eq(d.cat, CAT_CPU);
	cr_expect_eq(d.ns, 3 * MS);
	/* Before: tid 11 from 0 to the exec, its intervals kept, ended as by an exit. */
	cr_expect_eq(old.tid, 11);
	cr_expect_eq(old.state, TS_DEAD);
	cr_expect_eq(old.start_ns, 0);
	cr_expect_eq(old.end_ns, 13 * MS);
	cr_expect_eq(old.ns[CAT_CPU], 7 * MS);
	cr_expect_eq(old.ns[CAT_SLEEP], 6 * MS);
	cr_expect_eq(old.wakeups, 1);
	cr_expect_eq(acct_total_ns(&old), 13 * MS);
	/* After: tid 10 from the exec on, its own totals only; name and image kept. */
	cr_expect_eq(a.pid, 10);
	cr_expect_eq(a.tid, 10);
	cr_expect_eq(a.start_ns, 13 * MS);
	cr_expect_eq(a.end_ns, 20 * MS);
	cr_expect_eq(a.ns[CAT_CPU], 7 * MS);
	cr_expect_eq(a.ns[CAT_SLEEP], 0);
	cr_expect_eq(a.wakeups, 0);
	cr_expect_eq(acct_total_ns(&a), 7 * MS);
	cr_expect_eq(a.anomalies, 0);
	cr_expect_str_eq(a.comm, "worker");
	cr_expect_eq(a.gen, 2);
}

/* An event loop (blocks in poll, nr 232: epoll_wait) woken at `wake` (queued 1 ms), then on a
 * CPU until `out`, preempted for `preempt` ms in the middle, then back in its poll. */
static void loop_iteration(struct thread_acct *a, __u64 wake, __u64 preempt, __u64 out)
{
	struct acct_delta queue;
	__u64 mid = wake + 1 * MS + (out - wake - 1 * MS - preempt) / 2;

	acct_switch_in(a, wake + 1 * MS, 1 * MS, &queue);
	if (preempt) {
		acct_switch_out(a, mid, 1, CAT_OTHER, CONCUR_NO_SYSCALL, KC(0, 0));
		acct_switch_in(a, mid + preempt, 0, &queue);
	}
	acct_switch_out(a, out, 0, CAT_POLL, 232, KC(0, 0));
}

Test(account, loop_cpu_stall_counted_from_the_wake_to_the_next_poll)
{
	struct thread_acct a = fresh(0, TS_RUNNING);

	acct_switch_out(&a, 1 * MS, 0, CAT_POLL, 232, KC(0, 0));
	/* Woken at 10 ms, computes 200 ms (20 ms of it preempted): one stall of 200 ms. */
	loop_iteration(&a, 10 * MS, 20 * MS, 210 * MS);
	/* A short iteration (5 ms): no stall, the longest stays. */
	loop_iteration(&a, 300 * MS, 0, 305 * MS);
	/* 120 ms: a second stall. */
	loop_iteration(&a, 400 * MS, 0, 520 * MS);

	cr_expect_eq(a.cpu_stalls, 2);
	cr_expect_eq(a.cpu_stall_ns, 320 * MS);
	cr_expect_eq(a.cpu_stall_max_ns, 200 * MS);
}

Test(account, loop_iteration_mostly_blocked_elsewhere_is_no_cpu_stall)
{
	struct thread_acct a = fresh(0, TS_RUNNING);
	struct acct_delta queue;

	acct_switch_out(&a, 1 * MS, 0, CAT_POLL, 232, KC(0, 0));
	/* Woken at 10 ms: 10 ms on a CPU, a 150 ms time.sleep, 10 ms on a CPU, back in poll: a
	 * 170 ms iteration only 12 % busy (the blocking-call rule's, not this one's). */
	acct_switch_in(&a, 10 * MS, 0, &queue);
	acct_switch_out(&a, 20 * MS, 0, CAT_SLEEP, 230, KC(0, 0));
	acct_switch_in(&a, 170 * MS, 0, &queue);
	acct_switch_out(&a, 180 * MS, 0, CAT_POLL, 232, KC(0, 0));
	cr_expect_eq(a.cpu_stalls, 0);
	cr_expect_eq(a.cpu_stall_ns, 0);
}

Test(account, loop_threshold_and_busy_share_are_inclusive)
{
	struct thread_acct a = fresh(0, TS_RUNNING), b;
	struct acct_delta queue;

	acct_switch_out(&a, 1 * MS, 0, CAT_POLL, 232, KC(0, 0));
	b = a;
	/* Exactly LOOP_STALL_NS, all of it busy: a stall. */
	acct_switch_in(&a, 10 * MS, 0, &queue);
	acct_switch_out(&a, 10 * MS + LOOP_STALL_NS, 0, CAT_POLL, 232, KC(0, 0));
	cr_expect_eq(a.cpu_stalls, 1);
	/* 1 ns shorter: none. */
	acct_switch_in(&b, 10 * MS, 0, &queue);
	acct_switch_out(&b, 10 * MS + LOOP_STALL_NS - 1, 0, CAT_POLL, 232, KC(0, 0));
	cr_expect_eq(b.cpu_stalls, 0);
	/* 200 ms with 79 % busy (42 ms asleep): none; 80 % (40 ms asleep): a stall. */
	acct_switch_in(&b, 500 * MS, 0, &queue);
	acct_switch_out(&b, 600 * MS, 0, CAT_SLEEP, 230, KC(0, 0));
	acct_switch_in(&b, 642 * MS, 0, &queue);
	acct_switch_out(&b, 700 * MS, 0, CAT_POLL, 232, KC(0, 0));
	cr_expect_eq(b.cpu_stalls, 0);
	acct_switch_in(&b, 800 * MS, 0, &queue);
	acct_switch_out(&b, 900 * MS, 0, CAT_SLEEP, 230, KC(0, 0));
	acct_switch_in(&b, 940 * MS, 0, &queue);
	acct_switch_out(&b, 1000 * MS, 0, CAT_POLL, 232, KC(0, 0));
	cr_expect_eq(b.cpu_stalls, 1);
	cr_expect_eq(b.cpu_stall_ns, 200 * MS);
}

Test(account, no_iteration_before_the_first_wake_from_poll)
{
	struct thread_acct a = fresh(0, TS_RUNNING);

	/* 500 ms on a CPU from the start, then its first poll: no wake began an iteration. */
	acct_switch_out(&a, 500 * MS, 0, CAT_POLL, 232, KC(0, 0));
	cr_expect_eq(a.cpu_stalls, 0);
}
