// SPDX-License-Identifier: MIT
/*
 * The unwind loader building tables in the background (unwind_loader__background), over plain
 * memory, on this very process's map: no index is written before every table it needs is in,
 * the process is named ready when they are, stopping with builds pending leaves their
 * objects to frame pointers, counted, and a small object is built at once all the same.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "collect/unwind_loader.h"

#define ELF_FRAMES TEST_ELF_DIR "/frames"

struct store {
	struct unwind_store s;
	uint32_t puts, pid;
	struct unwind_proc last;
};

static int put(void *ctx, uint32_t pid, const struct unwind_proc *p)
{
	struct store *m = ctx;

	if (p) {
		m->puts++;
		m->pid = pid;
		m->last = *p;
	}
	return 0;
}

static struct unwind_loader *new_loader(struct store *m)
{
	struct unwind_loader *l;

	memset(m, 0, sizeof(*m));
	m->s.max_rows = UNWIND_GLOBAL_ROWS;
	m->s.max_rules = UNWIND_GLOBAL_RULES;
	m->s.rows = calloc(m->s.max_rows, sizeof(*m->s.rows));
	m->s.rules = calloc(m->s.max_rules, sizeof(*m->s.rules));
	cr_assert(m->s.rows && m->s.rules);
	m->s.put_index = put;
	m->s.ctx = m;
	l = unwind_loader__new(&m->s);
	cr_assert_not_null(l);
	return l;
}

static void free_loader(struct unwind_loader *l, struct store *m)
{
	unwind_loader__free(l);
	free(m->s.rows);
	free(m->s.rules);
}

/* The loader opens each mapped object through /proc/PID/map_files, which takes privilege
 * (CAP_SYS_ADMIN, proc(5)); without, there is nothing to build. */
static void need_map_files(void)
{
	char line[512], path[96];
	unsigned long lo, hi;
	FILE *f = fopen("/proc/self/maps", "re");
	int fd = -1;

	cr_assert_not_null(f);
	while (fd < 0 && fgets(line, sizeof(line), f)) {
		/* A file's mapping: anonymous ones have no entry there. */
		if (!strchr(line, '/') || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", lo, hi);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
	}
	fclose(f);
	if (fd < 0)
		cr_skip_test("cannot open /proc/self/map_files (needs CAP_SYS_ADMIN)");
	close(fd);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void note_ready(uint32_t pid, void *ctx)
{
	*(uint32_t *)ctx = pid;
}

static const struct unwind_mapping *mapping_of(const struct unwind_proc *p, uint64_t addr)
{
	uint32_t i;

	for (i = 0; i < p->n && i < UNWIND_MAX_MAPPINGS; i++)
		if (p->m[i].start <= addr && addr < p->m[i].end)
			return &p->m[i];
	return NULL;
}

Test(unwind_background, index_waits_for_its_tables_then_is_written)
{
	uint32_t me = (uint32_t)getpid(), ready = 0;
	struct unwind_loader_stats st;
	const struct unwind_mapping *libc;
	struct unwind_loader *l;
	struct pollfd pfd;
	struct store m;
	int waits = 0;

	need_map_files();
	l = new_loader(&m);
	/* 0: every object in the background, the vDSO and ld.so too. */
	cr_assert_eq(unwind_loader__background(l, 0), 0);
	cr_assert_geq(unwind_loader__fd(l), 0);
	cr_expect_eq(unwind_loader__sync(l, me), -EINPROGRESS, "new objects: tables to build");
	cr_expect_eq(m.puts, 0, "no index before its tables are in");
	pfd = (struct pollfd){ .fd = unwind_loader__fd(l), .events = POLLIN };
	/* 20 s at most: the builder runs at SCHED_IDLE and the test machine may be busy. */
	while (!ready) {
		cr_assert(waits++ < 200, "the tables were not built in 20 s");
		poll(&pfd, 1, 100);
		unwind_loader__serve(l, mono_ns(), note_ready, &ready);
	}
	cr_expect_eq(ready, me);
	cr_expect_eq(m.puts, 0, "serve names the process; the caller syncs it");
	cr_expect_eq(unwind_loader__sync(l, me), 0);
	cr_assert_eq(m.puts, 1);
	cr_expect_eq(m.pid, me);
	libc = mapping_of(&m.last, (uint64_t)(uintptr_t)&getpid);
	cr_assert_not_null(libc, "getpid's mapping is in the index");
	cr_expect_eq(libc->flags, 0, "libc has its table");
	cr_expect_gt(libc->row_hi, libc->row_lo);
	unwind_loader__stats(l, &st);
	cr_expect_gt(st.tables, 0);
	cr_expect_gt(st.build_ns, 0, "the builder's CPU time is counted");
	unwind_loader__stop(l);
	unwind_loader__stats(l, &st);
	cr_expect_eq(st.unbuilt, 0);
	cr_expect_eq(st.tables + st.no_cfi + st.full, st.objects);
	free_loader(l, &m);
}

Test(unwind_background, stopping_with_builds_pending_leaves_frame_pointers)
{
	uint32_t me = (uint32_t)getpid();
	struct unwind_loader_stats st;
	const struct unwind_mapping *libc;
	struct unwind_loader *l;
	struct store m;

	need_map_files();
	l = new_loader(&m);
	cr_assert_eq(unwind_loader__background(l, 0), 0);
	cr_expect_eq(unwind_loader__sync(l, me), -EINPROGRESS);
	unwind_loader__stop(l);
	cr_expect_eq(unwind_loader__fd(l), -1);
	unwind_loader__stats(l, &st);
	cr_expect_gt(st.objects, 0);
	cr_expect_eq(st.tables + st.no_cfi + st.full + st.unbuilt, st.objects,
		     "each object built, refused or counted unbuilt: %u + %u + %u + %u of %u",
		     st.tables, st.no_cfi, st.full, st.unbuilt, st.objects);
	/* Unbuilt objects are walked by frame pointers; the index is written now. */
	cr_expect_eq(unwind_loader__sync(l, me), 0);
	cr_assert_eq(m.puts, 1);
	libc = mapping_of(&m.last, (uint64_t)(uintptr_t)&getpid);
	cr_assert_not_null(libc);
	if (st.unbuilt == st.objects)
		cr_expect_eq(libc->flags, UNWIND_MAP_FP);
	free_loader(l, &m);
}

static int object_of(struct unwind_loader *l, const char *path, struct unwind_mapping *m)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	memset(m, 0, sizeof(*m));
	err = unwind_loader__object(l, fd, path, m);
	close(fd);
	return err;
}

/* A small object (a program's own binary, ld.so) does not wait for the idle-priority builder:
 * on a busy machine that wait was 200 ms of a new image's stacks on frame pointers. */
Test(unwind_background, small_object_built_at_once)
{
	struct unwind_mapping small, queued;
	struct unwind_loader_stats st;
	struct unwind_loader *l;
	struct stat sb;
	struct store m;

	cr_assert_eq(stat(ELF_FRAMES, &sb), 0);
	cr_assert_leq((size_t)sb.st_size, UNWIND_INLINE_MAX, "the test object is small");
	l = new_loader(&m);
	cr_assert_eq(unwind_loader__background(l, (size_t)sb.st_size), 0);
	cr_assert_eq(object_of(l, ELF_FRAMES, &small), 0);
	cr_expect_eq(small.flags, 0, "its table is in at once");
	cr_expect_gt(small.row_hi, small.row_lo);
	unwind_loader__stats(l, &st);
	cr_expect_eq(st.tables, 1);
	free_loader(l, &m);

	/* One byte over the limit: queued for the builder, frame pointers until it is in. */
	l = new_loader(&m);
	cr_assert_eq(unwind_loader__background(l, (size_t)sb.st_size - 1), 0);
	cr_assert_eq(object_of(l, ELF_FRAMES, &queued), 0);
	cr_expect_eq(queued.flags, UNWIND_MAP_FP, "queued: frame pointers meanwhile");
	cr_expect_eq(queued.row_hi, queued.row_lo);
	unwind_loader__stats(l, &st);
	cr_expect_eq(st.tables, 0);
	unwind_loader__stop(l);
	free_loader(l, &m);
}

/* concur's own libc and ld.so are built before any target maps them; a target mapping the same
 * files (here: this process) reuses their tables rather than building them again. */
Test(unwind_background, own_libc_prefetched_and_reused)
{
	uint32_t me = (uint32_t)getpid(), rows;
	const struct unwind_mapping *libc;
	struct unwind_loader_stats st;
	struct unwind_loader *l;
	struct store m;
	int n;

	need_map_files();
	elf_version(EV_CURRENT); /* done by unwind_loader__background(), not called here */
	l = new_loader(&m);	 /* no background builder: built at once */
	n = unwind_loader__prefetch(l);
	cr_expect_eq(n, 2, "libc.so.6 and ld-linux-x86-64.so.2, got %d", n);
	unwind_loader__stats(l, &st);
	cr_expect_eq(st.objects, (uint32_t)n);
	cr_expect_eq(st.tables, (uint32_t)n);
	rows = st.rows;
	cr_assert_eq(unwind_loader__sync(l, me), 0);
	libc = mapping_of(&m.last, (uint64_t)(uintptr_t)&getpid);
	cr_assert_not_null(libc);
	cr_expect_eq(libc->flags, 0);
	cr_expect(libc->row_hi <= rows && libc->row_lo < libc->row_hi,
		  "libc's rows [%u, %u) are the prefetched ones (%u then)", libc->row_lo,
		  libc->row_hi, rows);
	unwind_loader__stats(l, &st);
	cr_expect_gt(st.objects, (uint32_t)n, "the others built now");
	free_loader(l, &m);
}
