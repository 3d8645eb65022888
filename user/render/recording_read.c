// SPDX-License-Identifier: MIT
/*
 * Recordings (.concur), the body's reader: every record through the profile's builders; then
 * recording_read_mem() frees the body and calls profile__finish(), as for a collected profile
 * (sorted and derived: a crafted file may list anything in any order). The body is hostile until proven otherwise; the
 * format is described at the top of recording_write.c, the file around it in recording_load.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include <glib.h>
#include "recording_cursor.h"
#include "recording_format.h"

/* What the body's records refer to while it is read. */
struct loader {
	struct rd r;
	struct profile *p;
	const char **strs;
	uint32_t nstrs;
};

static const char *get_str(struct loader *l)
{
	uint32_t i = rd_u32(&l->r);

	if (l->r.ret)
		return NULL;
	if (i >= l->nstrs) {
		rd_fail(&l->r, -EBADMSG, "corrupt recording: %s: string %u of %u", l->r.section, i,
			l->nstrs);
		return NULL;
	}
	return l->strs[i];
}

static void read_scalars(struct rd *r, struct profile *p)
{
	uint32_t ncats, nstats, i, mode;

	r->section = "profile";
	ncats = rd_u32(r);
	nstats = rd_count(r, 8, UINT32_MAX);
	if (!r->ret && ncats != CAT_MAX)
		rd_fail(r, -EBADMSG, "corrupt recording: %u categories, not %d", ncats, CAT_MAX);
	mode = rd_u32(r);
	if (mode != MODE_RUN && mode != MODE_ATTACH)
		rd_corrupt(r, "unknown mode");
	p->mode = mode;
	p->exit_status = rd_i32(r);
	p->interrupted = rd_flag(r);
	p->window_start_ns = rd_u64(r);
	p->window_ns = rd_u64(r);
	p->cpus = rd_i32(r);
	p->sample_hz = rd_u32(r);
	p->anomalies = rd_u64(r);
	/* Counters added by a later concur are skipped; ones it lacks stay 0. */
	for (i = 0; i < nstats && !r->ret; i++) {
		uint64_t v = rd_u64(r);

		if (i < STAT_MAX)
			p->stats[i] = v;
	}
	p->throttled_ns = rd_u64(r);
	p->nr_throttled = rd_u64(r);
}

static int read_strings(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i, len;
	const uint8_t *s;
	char *tmp;

	r->section = "strings";
	n = rd_count(r, SZ_STRING, UINT32_MAX);
	l->strs = calloc(n ? n : 1, sizeof(*l->strs));
	if (!l->strs)
		return rd_oom(r);
	for (i = 0; i < n && !r->ret; i++) {
		len = rd_u32(r);
		s = rd_take(r, len);
		if (!s)
			return r->ret;
		if (memchr(s, '\0', len))
			return rd_corrupt(r, "a NUL byte inside a string");
		tmp = strndup((const char *)s, len);
		if (!tmp)
			return rd_oom(r);
		l->strs[i] = profile__intern(l->p, tmp);
		free(tmp);
		if (!l->strs[i])
			return rd_oom(r);
		l->nstrs = i + 1;
	}
	return r->ret;
}

static int read_command(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t argc, i;

	r->section = "command";
	argc = rd_count(r, SZ_ARG, UINT32_MAX - 1);
	if (r->ret)
		return r->ret;
	l->p->owned_command = calloc(argc + 1, sizeof(char *));
	if (!l->p->owned_command)
		return rd_oom(r);
	/* Interned strings are never written to: the array is char ** only to match argv. */
	for (i = 0; i < argc && !r->ret; i++)
		l->p->owned_command[i] = (char *)get_str(l);
	l->p->command = l->p->owned_command;
	return r->ret;
}

/* The `other` time of the process just added. */
static void read_other(struct loader *l, uint32_t pid)
{
	struct rd *r = &l->r;
	uint32_t n = rd_count(r, SZ_OTHER, UINT32_MAX), i;
	int32_t nr;
	uint64_t ns, cnt;

	for (i = 0; i < n && !r->ret; i++) {
		nr = rd_i32(r);
		ns = rd_u64(r);
		cnt = rd_u64(r);
		if (!r->ret && profile__add_other(l->p, pid, nr, ns, cnt))
			rd_oom(r);
	}
}

static void read_proc(struct loader *l)
{
	struct rd *r = &l->r;
	struct proc pr = {};
	int err;

	pr.pid = rd_u32(r);
	pr.ppid = rd_u32(r);
	pr.start_ns = rd_u64(r);
	pr.end_ns = rd_u64(r);
	pr.exited = rd_flag(r);
	rd_comm(r, pr.comm);
	rd_comm(r, pr.runtime);
	pr.cpus = rd_u32(r);
	pr.peak_running = rd_u32(r);
	pr.rss_kb = rd_u64(r);
	pr.throttled_ns = rd_u64(r);
	pr.nr_throttled = rd_u64(r);
	if (r->ret)
		return;
	err = profile__add_proc(l->p, &pr);
	if (err == -EEXIST)
		rd_corrupt(r, "a process listed twice");
	else if (err)
		rd_oom(r);
	read_other(l, pr.pid);
}

static void read_procs(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "processes";
	n = rd_count(r, SZ_PROC, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++)
		read_proc(l);
}

static void read_threads(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "threads";
	n = rd_count(r, SZ_THREAD, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++) {
		struct thread t = {};

		t.pid = rd_u32(r);
		t.tid = rd_u32(r);
		rd_comm(r, t.comm);
		t.start_ns = rd_u64(r);
		t.end_ns = rd_u64(r);
		t.exited = rd_flag(r);
		rd_cats(r, t.ns);
		rd_cats(r, t.cnt);
		t.preemptions = rd_u64(r);
		t.wakeups = rd_u64(r);
		t.steal_ns = rd_u64(r);
		t.cpu_stalls = rd_u64(r);
		t.cpu_stall_ns = rd_u64(r);
		t.cpu_stall_max_ns = rd_u64(r);
		if (!r->ret && profile__add_thread(l->p, &t))
			rd_oom(r);
	}
}

static int read_frames(struct loader *l, struct stack *st)
{
	struct rd *r = &l->r;
	uint32_t n = rd_count(r, SZ_FRAME, REC_MAX_FRAMES), i;

	if (r->ret)
		return r->ret;
	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	if (!st->frames)
		return rd_oom(r);
	st->nframes = n;
	for (i = 0; i < n && !r->ret; i++) {
		st->frames[i].ip = rd_u64(r);
		st->frames[i].name = get_str(l);
		st->frames[i].module = get_str(l);
		st->frames[i].kernel = rd_flag(r);
		if (rd_flag(r)) {
			st->frames[i].file = get_str(l);
			st->frames[i].line = rd_u32(r);
		}
	}
	return r->ret;
}

/* A stack is added as soon as its frames are allocated: the profile frees them, read or not. */
static void read_stacks(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "stacks";
	n = rd_count(r, SZ_STACK, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++) {
		struct stack st = {};

		st.pid = rd_u32(r);
		st.tid = rd_u32(r);
		st.cat = rd_cat(r);
		st.ns = rd_u64(r);
		st.count = rd_u64(r);
		st.gil = (uint32_t)rd_le(r, 1);
		if (!r->ret && st.gil >= STACK_GIL_MAX)
			rd_corrupt(r, "a stack's GIL wait out of range");
		st.gil_holder = rd_u32(r);
		if (rd_flag(r))
			st.gil_holder_frame = get_str(l);
		if (!r->ret && st.gil == STACK_GIL_NONE && (st.gil_holder || st.gil_holder_frame))
			rd_corrupt(r, "a GIL holder on a stack that is no GIL wait");
		if (!r->ret && st.gil != STACK_GIL_NONE && st.cat != CAT_LOCK)
			rd_corrupt(r, "a GIL wait outside the lock category");
		if (read_frames(l, &st) == -ENOMEM)
			return;
		if (profile__add_stack(l->p, &st)) {
			free(st.frames);
			rd_oom(r);
		}
	}
}

static int read_unwind(struct loader *l)
{
	struct rd *r = &l->r;
	struct profile *p = l->p;
	uint32_t n, i;

	r->section = "unwind warnings";
	n = rd_count(r, SZ_UNWIND, UINT32_MAX);
	if (!n)
		return r->ret;
	p->unwind = g_new0(struct unwind_warning, n);
	p->nunwind = n;
	for (i = 0; i < n && !r->ret; i++) {
		p->unwind[i].module = get_str(l);
		p->unwind[i].shallow_ns = rd_u64(r);
		p->unwind[i].total_ns = rd_u64(r);
		p->unwind[i].shallow_stacks = rd_u64(r);
		p->unwind[i].stacks = rd_u64(r);
	}
	return r->ret;
}

static void read_futexes(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "futexes";
	n = rd_count(r, SZ_FUTEX, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++) {
		struct futex_wait fw = {};

		fw.pid = rd_u32(r);
		fw.tid = rd_u32(r);
		fw.addr = rd_u64(r);
		fw.ns = rd_u64(r);
		fw.count = rd_u64(r);
		if (rd_flag(r)) {
			fw.symbol = get_str(l);
			fw.module = get_str(l);
			fw.offset = rd_u64(r);
		}
		if (!r->ret && profile__add_futex(l->p, &fw))
			rd_oom(r);
	}
}

static void read_ustops(struct loader *l)
{
	struct rd *r = &l->r;
	struct profile *p = l->p;
	uint32_t kinds, n, i, k;

	r->section = "unwind stops";
	kinds = rd_u32(r);
	if (!r->ret && kinds > 1024)
		rd_corrupt(r, "absurd number of unwind stop reasons");
	n = r->ret ? 0 : rd_count(r, SZ_USTOPS(kinds), UINT32_MAX);
	if (!n)
		return;
	p->ustops = g_new0(struct unwind_stops, n);
	p->nustops = n;
	for (i = 0; i < n && !r->ret; i++) {
		p->ustops[i].module = get_str(l);
		for (k = 0; k < kinds; k++) {
			uint64_t v = rd_u64(r);

			if (k < UNWIND_STOP_MAX)
				p->ustops[i].stop[k] = v;
		}
		p->ustops[i].fp_frames = rd_u64(r);
	}
}

static void read_py(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, k;

	r->section = "Python counts";
	n = rd_count(r, 8, 1024);
	for (k = 0; k < n && !r->ret; k++) {
		uint64_t v = rd_u64(r);

		if (k < PYC_MAX)
			l->p->py[k] = v;
	}
}

static void read_utables(struct loader *l)
{
	struct unwind_tables *t = &l->p->utables;
	struct rd *r = &l->r;
	uint32_t *v[] = { &t->objects, &t->tables,   &t->no_cfi, &t->full,
			  &t->rows,    &t->max_rows, &t->rules,	 &t->max_rules };
	size_t i;

	r->section = "unwind tables";
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		*v[i] = rd_u32(r);
	if (!r->ret && (t->rows > t->max_rows || t->rules > t->max_rules ||
			(uint64_t)t->tables + t->no_cfi + t->full > t->objects))
		rd_corrupt(r, "unwind table figures do not add up");
}

/* The uncompressed body into a new profile. */
int recording_parse_body(const uint8_t *body, size_t len, struct profile **out, char *err,
			 size_t errlen)
{
	struct loader l = { .r = { .p = body, .left = len, .err = err, .errlen = errlen } };

	l.p = profile__new(MODE_RUN, NULL);
	if (!l.p)
		return rd_oom(&l.r);
	read_scalars(&l.r, l.p);
	read_strings(&l);
	read_command(&l);
	read_procs(&l);
	read_threads(&l);
	read_stacks(&l);
	read_unwind(&l);
	read_futexes(&l);
	read_ustops(&l);
	read_py(&l);
	read_utables(&l);
	if (!l.r.ret && l.r.left)
		rd_fail(&l.r, -EBADMSG, "corrupt recording: %zu bytes after the last section",
			l.r.left);
	free(l.strs);
	if (l.r.ret) {
		profile__free(l.p);
		return l.r.ret;
	}
	*out = l.p;
	return 0;
}
