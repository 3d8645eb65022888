// SPDX-License-Identifier: MIT
/*
 * Skeleton lifecycle (open → rodata → load → targets → attach), the workload or targets
 * watched until the window ends, then the maps read into a profile. The memory maps, unwind
 * indexes and symbols read meanwhile: tracer_maps.c; run's workload: tracer_child.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include "account.h"
#include "collect.h"
#include "concur.skel.h"
#include "features.h"
#include "enrich.h"
#include "procfs.h"
#include "stop_signals.h"
#include "profile/symbolize.h"
#include "py_collect.h"
#include "profile/unwind_check.h"
#include "thread_store.h"
#include "unwind_table.h"
#include "session.h"
#include "tracer.h"
#include "log.h"

#define STATUS_PERIOD_MS 500

static int fail(struct tracer_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EINVAL;
}

/* The calling thread's CPU time (user and system: the verifier's work is the loader's system
 * time), in ns. */
static uint64_t thread_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

int tracer_check_env(struct tracer_error *e)
{
	return features_check_env(e->msg, sizeof(e->msg));
}

/* libbpf's messages at concur's levels: its warnings always, info with -v, debug with -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level ours = level == LIBBPF_WARN ? LOG_WARN :
			      level == LIBBPF_INFO ? LOG_INFO :
						     LOG_DEBUG;

	return ours > log_max_level ? 0 : vfprintf(stderr, fmt, ap);
}

/* At -v: how long start-up took to reach a stage, in wall-clock and CPU time (start-up runs
 * at concur's priority, and competes with the workload for a CPU). */
static void log_stage(const struct session *s, const char *stage)
{
	pr_info("%s %.1f ms after start (%.1f ms of CPU)", stage, (now_ns() - s->started_ns) / 1e6,
		(thread_cpu_ns() - s->started_cpu_ns) / 1e6);
}

static int track_proc(struct session *s, uint32_t pid)
{
	struct proc_info info = {};

	info.pid = pid;
	cgroup_watch_note(&s->cgroups, pid); /* its throttling counted from here */
	procfs_read_ppid(pid, &info.ppid);
	procfs_read_comm(pid, pid, info.comm);
	return bpf_map_update_elem(bpf_map__fd(s->skel->maps.procs), &pid, &info, BPF_ANY) ?
		       -errno :
		       0;
}

static int seed_one(uint32_t pid, uint32_t tid, void *ctx)
{
	struct session *s = ctx;
	struct thread_acct a;

	if (procfs_seed_thread(pid, tid, s->window_start_ns, &a))
		return 0; /* gone meanwhile */
	bpf_map_update_elem(bpf_map__fd(s->skel->maps.seeds), &tid, &a, BPF_ANY);
	return 0;
}

/* Reads a process's threads from /proc, and hands them over to the probes. */
static int seed_proc(struct session *s, uint32_t pid)
{
	int err;

	procfs_for_each_thread(pid, seed_one, s);
	err = thread_store_iterate(s->skel->progs.adopt_threads, pid);
	/* Gone meanwhile: the watch sees it exit. */
	return err == -ENOENT || err == -ESRCH ? 0 : err;
}

static int open_targets(struct session *s, struct tracer_error *e)
{
	size_t i;

	s->pidfds = calloc(s->o->npids, sizeof(*s->pidfds));
	if (!s->pidfds)
		return fail(e, -ENOMEM, "out of memory");
	for (i = 0; i < s->o->npids; i++)
		s->pidfds[i] = -1;
	for (i = 0; i < s->o->npids; i++) {
		s->pidfds[i] = pidfd_open(s->o->pids[i], 0);
		if (s->pidfds[i] < 0)
			return fail(e, -errno,
				    errno == ESRCH ? "no such process: %u" :
						     "cannot watch process %u: %s",
				    s->o->pids[i], strerror(errno));
	}
	return 0;
}

static struct unwind_maps unwind_maps(struct session *s)
{
	return (struct unwind_maps){ s->skel->maps.unwind_rows,	 s->skel->maps.unwind_rules,
				     s->skel->maps.unwind_procs, s->skel->maps.unwind_stats,
				     s->skel->maps.ustacks,	 s->skel->maps.unwind_asks };
}

static int load_probes(struct session *s, struct tracer_error *e)
{
	bool cfi = s->o->stacks && s->o->unwind_cfi;
	struct unwind_maps um;
	int err;

	s->skel = concur_bpf__open();
	if (!s->skel)
		return fail(e, -errno, "cannot open the BPF programs: %s", strerror(errno));
	log_stage(s, "BPF object opened");
	s->skel->rodata->follow_children = s->o->mode == MODE_RUN || s->o->follow_children;
	s->skel->rodata->stacks_enabled = s->o->stacks;
	s->skel->rodata->nr_cpus = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1;
	if (s->o->stacks)
		s->skel->rodata->sample_period_ns = 1000000000ull / s->o->sample_hz;
	s->skel->rodata->unwind_cfi = cfi;
	s->skel->rodata->bench_timing = s->o->stacks && s->o->bench_timing;
	um = unwind_maps(s);
	err = unwind_maps_size(&um, cfi);
	if (err)
		return fail(e, err, "cannot size the unwinder's maps: %s", strerror(-err));
	/* Iterators run on demand (thread_store.c), not from attach; the loader's hook needs a
	 * file to attach to (attach_loader_probe). */
	bpf_program__set_autoattach(s->skel->progs.adopt_threads, false);
	bpf_program__set_autoattach(s->skel->progs.snapshot_threads, false);
	bpf_program__set_autoattach(s->skel->progs.on_loader_state, false);
	if (s->o->stacks && !loader_probe_find("/proc/self/exe", &s->loader)) {
		s->skel->rodata->loader_debug_state_off = s->loader.debug_state_off;
		s->skel->rodata->loader_r_debug_off = s->loader.r_debug_off;
	} else {
		s->loader.path[0] = '\0';
	}
	err = concur_bpf__load(s->skel);
	if (err)
		return fail(e, err,
			    "cannot load the BPF programs: %s (-v shows the verifier's log)",
			    strerror(-err));
	log_stage(s, "BPF programs loaded (maps created, programs verified)");
	if (!cfi)
		return 0;
	err = unwind_maps_store(&um, &s->ustore);
	s->unwind = err ? NULL : unwind_loader__new(&s->ustore);
	if (!s->unwind) {
		err = err ? err : -errno;
		return fail(e, err, "cannot map the unwinder's tables: %s", strerror(-err));
	}
	err = unwind_loader__background(s->unwind, UNWIND_INLINE_MAX);
	if (err)
		pr_warn("cannot start the unwind tables' builder (%s): tables are built in the "
			"main loop",
			strerror(-err));
	pr_debug("unwind tables: %d of concur's own objects prefetched",
		 unwind_loader__prefetch(s->unwind));
	return 0;
}

/* A cpu-clock event on every CPU drives the sampler: software, so it works in any VM. */
static int attach_sampler(struct session *s, struct tracer_error *e)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 1000000000ull / s->o->sample_hz,
	};
	int ncpus = libbpf_num_possible_cpus(), cpu, fd;
	struct bpf_link *link;

	if (ncpus < 0)
		return fail(e, ncpus, "cannot count CPUs: %s", strerror(-ncpus));
	s->sample_links = calloc(ncpus, sizeof(*s->sample_links));
	if (!s->sample_links)
		return fail(e, -ENOMEM, "out of memory");
	for (cpu = 0; cpu < ncpus; cpu++) {
		fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && errno == ENODEV)
			continue; /* a possible but offline CPU */
		if (fd < 0)
			return fail(e, -errno, "cannot open a cpu-clock perf event on CPU %d: %s",
				    cpu, strerror(errno));
		link = bpf_program__attach_perf_event(s->skel->progs.on_sample, fd);
		if (!link) {
			close(fd);
			return fail(e, -errno, "cannot attach the sampler on CPU %d: %s", cpu,
				    strerror(errno));
		}
		s->sample_links[s->nsample_links++] = link;
	}
	return 0;
}

/*
 * Stacks are named best from a map read once the dynamic loader has mapped the libraries:
 * its debugger hook says when (bpf/loader.bpf.c). The system's loader (concur's own) is
 * hooked; without uprobes, or for a process with another loader, the map is read at its
 * first stack and again at growing intervals (mapwatch.h), as before.
 */
static void attach_loader_probe(struct session *s)
{
	struct bpf_uprobe_opts opts = { .sz = sizeof(opts), .func_name = "_dl_debug_state" };

	if (!s->loader.path[0])
		return;
	s->loader_link = bpf_program__attach_uprobe_opts(s->skel->progs.on_loader_state, -1,
							 s->loader.path, 0, &opts);
	if (!s->loader_link)
		pr_info("cannot hook the dynamic loader %s (%s): memory maps are read at each "
			"process's first stack",
			s->loader.path, strerror(errno));
}

static int attach_probes(struct session *s, struct tracer_error *e)
{
	int err;

	/* Stacks, and the futexes waited on (named by the global holding them), need maps. */
	s->sym = symbolizer__new();
	if (s->sym)
		symbolizer__set_function_starts(s->sym, unwind_table__function_starts);
	s->maps_rb = s->sym ? ring_buffer__new(bpf_map__fd(s->skel->maps.maps_events),
					       session__on_maps_event, s, NULL) :
			      NULL;
	if (!s->maps_rb)
		return fail(e, -ENOMEM, "cannot set up the symbolizer: %s", strerror(errno));
	if (s->o->stacks) {
		s->py = pyframes__new(bpf_map__fd(s->skel->maps.py_procs),
				      bpf_map__fd(s->skel->maps.pystacks),
				      &s->skel->bss->py_procs_any);
		err = ring_buffer__add(s->maps_rb, bpf_map__fd(s->skel->maps.py_events),
				       session__on_py_event, s);
		if (err)
			return fail(e, err, "cannot set up the Python frames: %s", strerror(-err));
	}
	s->window_start_ns = now_ns();
	err = concur_bpf__attach(s->skel);
	if (err)
		return fail(e, err, "cannot attach the BPF programs: %s", strerror(-err));
	err = s->o->stacks ? attach_sampler(s, e) : 0;
	if (!err)
		attach_loader_probe(s);
	if (!err)
		log_stage(s, "BPF programs attached");
	return err;
}

/*
 * Benchmarks (tools/bench) wait for this line before they start their workload, and take its
 * figure as the attach time: said once the targets' threads are tracked, which for attach
 * comes after the first read of their maps (with --unwind=cfi, the tables of their objects).
 */
/* Benchmarks wait for this line before they start their workload: the targets' threads are
 * tracked from here. */
static void say_attached(const struct session *s)
{
	log_stage(s, "probes attached");
}

static int start_attach(struct session *s, struct tracer_error *e)
{
	size_t i;
	int err;

	stop_signals_test_point("start");
	err = open_targets(s, e);
	if (!err)
		err = load_probes(s, e);
	stop_signals_test_point("loaded");
	for (i = 0; !err && i < s->o->npids; i++)
		if (track_proc(s, s->o->pids[i]))
			err = fail(e, -errno, "cannot track process %u: %s", s->o->pids[i],
				   strerror(errno));
	if (!err)
		err = attach_probes(s, e);
	if (!err)
		stop_signals_test_point("attached");
	for (i = 0; !err && i < s->o->npids; i++) {
		/* A running interpreter's frames from its first stacks on. */
		if (s->py)
			session__read_maps(s->o->pids[i], s);
		err = seed_proc(s, s->o->pids[i]);
		if (err)
			err = fail(e, err, "cannot track the threads of process %u: %s",
				   s->o->pids[i], strerror(-err));
	}
	if (!err)
		say_attached(s);
	return err;
}

static int start_run(struct session *s, struct tracer_error *e)
{
	struct thread_acct a = {};
	struct acct_kclock k;
	uint32_t pid;
	int err, status;

	stop_signals_test_point("start");
	err = launch_prepare(&s->child, s->o->argv, s->o->keep_root);
	if (err)
		return fail(e, err, "cannot start %s: %s", s->o->argv[0], strerror(-err));
	pid = s->child.pid;
	s->child_fd = pidfd_open(pid, 0);
	if (s->child_fd < 0)
		return fail(e, -errno, "cannot watch the workload: %s", strerror(errno));
	err = load_probes(s, e);
	stop_signals_test_point("loaded");
	if (!err && track_proc(s, pid))
		err = fail(e, -errno, "cannot track the workload: %s", strerror(errno));
	if (!err)
		err = attach_probes(s, e);
	if (err)
		return err;
	stop_signals_test_point("attached");
	/* Held in a read of the go pipe, released now: the window starts here, runnable. */
	s->window_start_ns = now_ns();
	acct_init(&a, pid, pid, s->window_start_ns, TS_RUNNABLE, CAT_OTHER, CONCUR_NO_SYSCALL);
	if (!procfs_read_kclock(pid, pid, &k))
		acct_set_kclock(&a, k);
	bpf_map_update_elem(bpf_map__fd(s->skel->maps.seeds), &pid, &a, BPF_ANY);
	err = thread_store_iterate(s->skel->progs.adopt_threads, pid);
	if (err)
		return fail(e, err, "cannot track the workload: %s", strerror(-err));
	say_attached(s);
	/* A stop signal during start-up: the workload is not started, the report (of an empty
	 * window) still written. */
	if (stop_signals_first()) {
		launch_cancel(&s->child);
		s->not_started = true;
		return 0;
	}
	err = launch_release(&s->child, &status);
	/* Killed while held by a stop signal sent to the whole group (timeout(1), a terminal's
	 * Ctrl-C) that reaches concur too: a stop, not a failure to execute. */
	if (err == -EPIPE && WIFSIGNALED(status) && stop_signal_is(WTERMSIG(status))) {
		s->not_started = true;
		return 0;
	}
	if (err) {
		e->exit_code = 127;
		return fail(e, err, "cannot execute %s: %s", s->o->argv[0], strerror(-err));
	}
	return 0;
}

/* True when the window is over. */
static bool check_targets(struct session *s, struct pollfd *pfds, size_t n)
{
	size_t i, alive = 0;

	if (s->o->mode == MODE_RUN) {
		if (!(pfds[0].revents & POLLIN))
			return false;
		session__reap_child(s);
		return true;
	}
	for (i = 0; i < n; i++) {
		if (pfds[i].revents & POLLIN) {
			close(s->pidfds[i]);
			s->pidfds[i] = -1;
			pfds[i].fd = -1;
		}
		alive += s->pidfds[i] >= 0;
	}
	return alive == 0;
}

static int watch(struct session *s)
{
	size_t n = s->o->mode == MODE_RUN ? 1 : s->o->npids, i;
	uint64_t deadline = s->o->duration_ns ? s->window_start_ns + s->o->duration_ns : 0, now;
	uint64_t next_status = s->window_start_ns + STATUS_PERIOD_MS * 1000000ull, maps_due, wake;
	const int thread_fds[2] = { bpf_map__fd(s->skel->maps.threads),
				    bpf_map__fd(s->skel->maps.dead_threads) };
	struct pollfd *pfds = calloc(n + 2, sizeof(*pfds));
	struct collect_snapshot snap;
	int timeout;

	if (!pfds)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pfds[i] =
			(struct pollfd){ .fd = s->o->mode == MODE_RUN ? s->child_fd : s->pidfds[i],
					 .events = POLLIN };
	/* Memory-map requests are served at once: the process may be about to exit. */
	pfds[n] = (struct pollfd){ .fd = s->maps_rb ? ring_buffer__epoll_fd(s->maps_rb) : -1,
				   .events = POLLIN };
	/* Tables built in the background are loaded at once: stacks fall back until then. */
	pfds[n + 1] = (struct pollfd){ .fd = s->unwind ? unwind_loader__fd(s->unwind) : -1,
				       .events = POLLIN };
	while (!stop_signals_first()) {
		maps_due = session__serve_maps(s);
		now = now_ns();
		if (deadline && now >= deadline)
			break;
		if (now >= next_status) {
			if (s->o->status_line &&
			    !thread_store_snapshot(s->skel->progs.snapshot_threads, thread_fds[0],
						   &s->skel->bss->snapshot_dropped)) {
				collect_snapshot(thread_fds, bpf_map__fd(s->skel->maps.stats), now,
						 &snap);
				status_update(&s->status, (now - s->window_start_ns) / 1e9, &snap);
			}
			next_status = now + STATUS_PERIOD_MS * 1000000ull;
		}
		wake = next_status;
		if (deadline && deadline < wake)
			wake = deadline;
		if (maps_due && maps_due < wake)
			wake = maps_due;
		timeout = wake > now ? (wake - now) / 1000000 + 1 : 0;
		if (poll(pfds, n + 2, timeout) > 0 && check_targets(s, pfds, n))
			break;
	}
	free(pfds);
	return 0;
}

static void detach_all(struct session *s)
{
	int i;

	for (i = 0; i < s->nsample_links; i++)
		bpf_link__destroy(s->sample_links[i]);
	s->nsample_links = 0;
	bpf_link__destroy(s->loader_link);
	s->loader_link = NULL;
	if (s->skel)
		concur_bpf__detach(s->skel);
}

/* The maps, read into p once the probes are detached; then what /proc adds, then finished. */
static int finish(struct session *s, struct profile *p, struct tracer_error *e)
{
	struct collect_fds fds = {
		.threads = bpf_map__fd(s->skel->maps.threads),
		.dead_threads = bpf_map__fd(s->skel->maps.dead_threads),
		.procs = bpf_map__fd(s->skel->maps.procs),
		.dead_procs = bpf_map__fd(s->skel->maps.dead_procs),
		.other = bpf_map__fd(s->skel->maps.other),
		.stats = bpf_map__fd(s->skel->maps.stats),
		.stack_weights = bpf_map__fd(s->skel->maps.stack_weights),
		.stacks = bpf_map__fd(s->skel->maps.stacks),
		.futexes = bpf_map__fd(s->skel->maps.futexes),
		.ustacks = s->unwind ? bpf_map__fd(s->skel->maps.ustacks) : -1,
	};
	struct enrich_child child = { s->child.pid, s->child_reaped, s->child_maxrss_kb };
	struct collect_pending pending = {};
	uint64_t end;
	int err;

	/* Detach first: every event the maps hold then happened before `end`. Tables are of no
	 * use after: the builder stops, and memory-map reads from here on are the symbolizer's. */
	detach_all(s);
	log_stage(s, "probes detached");
	if (s->unwind) {
		unwind_loader__stop(s->unwind);
		s->tables_done = true;
		unwind_loader__log(s->unwind);
		if (s->first_index_ns)
			pr_info("first unwind index written %.1f ms after start",
				(s->first_index_ns - s->started_ns) / 1e6);
	}
	end = now_ns();
	err = thread_store_snapshot(s->skel->progs.snapshot_threads, fds.threads,
				    &s->skel->bss->snapshot_dropped);
	if (err)
		return fail(e, err, "cannot read the threads' accounts: %s", strerror(-err));
	p->window_start_ns = s->window_start_ns;
	p->interrupted = stop_signals_first() != 0;
	if (s->child_reaped)
		p->exit_status = exit_status_of(s->child_status);
	err = collect_profile(p, &fds, end, &pending);
	/* Live threads with no room in `threads` are lost from the report, as a full map's. */
	p->stats[STAT_THREADS_FULL] += s->skel->bss->snapshot_dropped;
	if (!err)
		session__refresh_maps(s, p);
	if (!err)
		err = collect_futexes(p, fds.futexes, s->sym);
	if (!err && s->o->stacks) {
		p->sample_hz = s->o->sample_hz;
		session__note_forks(s);
		err = collect_stacks(p, &fds, s->sym, s->py, &pending);
		if (!err)
			pyframes__collect(s->py, bpf_map__fd(s->skel->maps.py_stats), p->py);
	}
	if (!err && s->unwind)
		err = unwind_loader__collect(s->unwind, bpf_map__fd(s->skel->maps.unwind_stats), p);
	collect_pending_free(&pending);
	if (err)
		return fail(e, err, "cannot read the BPF maps: %s", strerror(-err));
	enrich_profile(p, s->o->mode, s->sym, &child, &s->cgroups);
	profile__finish(p);
	pr_info("read %zu processes, %zu threads, %zu stacks, %zu futex waits in a %.2f s window",
		p->nprocs, p->nthreads, p->nstacks, p->nfutexes, p->window_ns / 1e9);
	/* Walked by CFI, a short stack is no sign of missing frame pointers: p->ustops says
	 * where walks stopped instead. */
	err = s->o->stacks && !s->unwind ? profile__check_unwinding(p) : 0;
	return err ? fail(e, err, "cannot check the stacks: %s", strerror(-err)) : 0;
}

static void cleanup(struct session *s)
{
	size_t i;

	if (s->child.go_fd >= 0 || s->child.err_fd >= 0)
		launch_abort(&s->child);
	detach_all(s);
	free(s->sample_links);
	ring_buffer__free(s->maps_rb);
	mapwatch_free(&s->maps_due);
	unwind_loader__free(s->unwind);
	unwind_maps_release(&s->ustore);
	cgroup_watch_free(&s->cgroups);
	symbolizer__free(s->sym);
	pyframes__free(s->py);
	concur_bpf__destroy(s->skel);
	for (i = 0; s->pidfds && i < s->o->npids; i++)
		if (s->pidfds[i] >= 0)
			close(s->pidfds[i]);
	free(s->pidfds);
	if (s->child_fd >= 0)
		close(s->child_fd);
}

int tracer_collect(const struct tracer_opts *o, struct profile **out, struct tracer_error *e)
{
	struct session s = { .o = o,
			     .child = { .pid = -1, .go_fd = -1, .err_fd = -1 },
			     .child_fd = -1,
			     .started_ns = now_ns(),
			     .started_cpu_ns = thread_cpu_ns() };
	struct profile *p = NULL;
	int err;

	e->exit_code = 1;
	libbpf_set_print(libbpf_print);
	stop_signals_install();
	p = profile__new(o->mode, NULL);
	if (!p)
		return fail(e, -ENOMEM, "out of memory");
	err = o->mode == MODE_RUN ? start_run(&s, e) : start_attach(&s, e);
	if (!err && s.not_started)
		pr_warn("stopped before %s started: the report holds none of its run", o->argv[0]);
	else if (!err)
		err = watch(&s);
	if (!err && stop_signals_first() && o->mode == MODE_RUN)
		session__stop_child(&s, stop_signals_first());
	if (o->status_line)
		status_clear(&s.status);
	if (!err)
		err = finish(&s, p, e);
	cleanup(&s);
	if (err) {
		profile__free(p);
		return err;
	}
	*out = p;
	return 0;
}
