// SPDX-License-Identifier: MIT
/* run's workload: reaped with its rusage, and stopped with concur. */
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect.h"
#include "account.h"
#include "concur.skel.h"
#include "session.h"
#include "stop_signals.h"

/* How long an interrupted `run` waits for its workload to exit on the forwarded signal. */
#define CHILD_GRACE_MS 2000

/* Passes a signal sent to concur alone on to every live process of the workload. */
static int signal_proc(const void *key, void *value, void *ctx)
{
	const struct proc_info *info = value;

	if (!(info->flags & PROC_EXITED))
		kill(*(const __u32 *)key, *(int *)ctx);
	return 0;
}

static void forward_signal(struct session *s, int sig)
{
	struct proc_info info;

	map_walk(bpf_map__fd(s->skel->maps.procs), sizeof(__u32), &info, signal_proc, &sig);
}

/*
 * The workload's exit status, and its peak resident memory: gone from /proc once it exited,
 * the kernel's rusage still has it.
 */
void session__reap_child(struct session *s)
{
	struct rusage ru;

	if (wait4(s->child.pid, &s->child_status, 0, &ru) > 0) {
		s->child_reaped = true;
		s->child_maxrss_kb = ru.ru_maxrss;
	}
}

/*
 * An interrupted `run` stops the workload too: a Ctrl-C from the terminal reached it
 * already, a signal sent to concur alone is passed on. It gets a moment to exit.
 */
void session__stop_child(struct session *s, int sig)
{
	struct pollfd pfd = { .fd = s->child_fd, .events = POLLIN };

	if (s->child_reaped || s->child.pid <= 0)
		return;
	if (stop_signals_by_kill())
		forward_signal(s, sig);
	if (poll(&pfd, 1, CHILD_GRACE_MS) == 1)
		session__reap_child(s);
}
