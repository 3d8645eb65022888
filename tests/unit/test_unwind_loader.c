// SPDX-License-Identifier: MIT
/*
 * The unwind table loader over plain memory (a struct unwind_store of malloc'd arrays instead
 * of the kernel's maps): rules deduplicated across objects, objects cached by (device, inode,
 * size, mtime), full arrays leaving an object to frame pointers (flagged and counted), and
 * hostile ELF files (cut, bytes flipped) going through it without a crash.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "collect/unwind_loader.h"
#include "collect/unwind_table.h"

#define ELF_FRAMES    TEST_ELF_DIR "/frames"
#define ELF_FRAMES_FP TEST_ELF_DIR "/frames-fp"
#define LIBC	      "/lib/x86_64-linux-gnu/libc.so.6"

struct mem_store {
	struct unwind_store s;
	uint32_t puts;
};

static int mem_put(void *ctx, uint32_t pid, const struct unwind_proc *p)
{
	struct mem_store *m = ctx;

	(void)pid;
	(void)p;
	m->puts++;
	return 0;
}

/* Arrays of the given sizes, filled with garbage: the loader must not rely on zeroes beyond
 * what it wrote (rule 0 aside, which it zeroes itself). */
static struct unwind_loader *mem_loader(struct mem_store *m, uint32_t rows, uint32_t rules)
{
	struct unwind_loader *l;

	elf_version(EV_CURRENT);
	memset(m, 0, sizeof(*m));
	m->s.rows = malloc((size_t)(rows ? rows : 1) * sizeof(*m->s.rows));
	m->s.rules = malloc((size_t)(rules ? rules : 1) * sizeof(*m->s.rules));
	cr_assert(m->s.rows && m->s.rules);
	memset(m->s.rows, 0xa5, (size_t)(rows ? rows : 1) * sizeof(*m->s.rows));
	memset(m->s.rules, 0x5a, (size_t)(rules ? rules : 1) * sizeof(*m->s.rules));
	m->s.max_rows = rows;
	m->s.max_rules = rules;
	m->s.put_index = mem_put;
	m->s.ctx = m;
	l = unwind_loader__new(&m->s);
	cr_assert_not_null(l, "%s", strerror(errno));
	return l;
}

static void mem_free(struct unwind_loader *l, struct mem_store *m)
{
	unwind_loader__free(l);
	free(m->s.rows);
	free(m->s.rules);
}

static int load(struct unwind_loader *l, const char *path, struct unwind_mapping *m)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	memset(m, 0, sizeof(*m));
	err = unwind_loader__object(l, fd, path, m);
	close(fd);
	return err;
}

static struct unwind_loader_stats stats(const struct unwind_loader *l)
{
	struct unwind_loader_stats st;

	unwind_loader__stats(l, &st);
	return st;
}

/* The builder's own table of path, for comparison. */
static struct unwind_table *table_of(const char *path)
{
	struct unwind_table *t = NULL;
	struct unwind_stats ts;

	cr_assert_eq(unwind_table__open(path, &t, &ts), 0, "%s", path);
	return t;
}

/* Every row of the object at m is the builder's row, its rule the same bytes. */
static void expect_loaded_as_built(const struct mem_store *ms, const struct unwind_mapping *m,
				   const char *path)
{
	struct unwind_table *t = table_of(path);
	uint32_t i;

	cr_assert_eq(m->flags, 0, "%s has no table", path);
	cr_assert_eq(m->row_hi - m->row_lo, t->nrows);
	for (i = 0; i < t->nrows; i++) {
		const struct unwind_row *got = &ms->s.rows[m->row_lo + i], *want = &t->rows[i];

		cr_assert_eq(got->elf_vaddr, want->elf_vaddr, "row %u", i);
		cr_assert_eq(got->flags, want->flags, "row %u", i);
		cr_assert_eq(memcmp(&ms->s.rules[got->rule].r, &t->rules[want->rule],
				    sizeof(struct unwind_rule)),
			     0, "row %u at %#x: rule differs", i, want->elf_vaddr);
	}
	unwind_table__free(t);
}

Test(unwind_loader, rules_deduplicated_across_objects)
{
	struct unwind_mapping a, b;
	struct mem_store ms;
	struct unwind_loader *l = mem_loader(&ms, 1u << 20, 4096);
	struct unwind_table *ta = table_of(ELF_FRAMES), *tb = table_of(LIBC);
	GHashTable *distinct = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
						     (GDestroyNotify)g_bytes_unref, NULL);
	struct unwind_loader_stats st;
	uint32_t i, j;

	cr_assert_eq(load(l, ELF_FRAMES, &a), 0);
	cr_assert_eq(load(l, LIBC, &b), 0);
	expect_loaded_as_built(&ms, &a, ELF_FRAMES);
	expect_loaded_as_built(&ms, &b, LIBC);
	/* The rules in use are exactly the distinct rules of both objects, each once. */
	for (i = 0; i < ta->nrules + tb->nrules; i++) {
		const struct unwind_rule *r = i < ta->nrules ? &ta->rules[i] :
							       &tb->rules[i - ta->nrules];
		g_hash_table_add(distinct, g_bytes_new(r, sizeof(*r)));
	}
	st = stats(l);
	cr_expect_eq(st.rules, g_hash_table_size(distinct), "%u rules loaded, %u distinct",
		     st.rules, g_hash_table_size(distinct));
	for (i = 0; i < st.rules; i++)
		for (j = i + 1; j < st.rules; j++)
			cr_assert_neq(memcmp(&ms.s.rules[i].r, &ms.s.rules[j].r,
					     sizeof(struct unwind_rule)),
				      0, "rules %u and %u are the same", i, j);
	cr_expect_eq(st.rows, ta->nrows + tb->nrows);
	cr_expect_eq(st.tables, 2);
	g_hash_table_destroy(distinct);
	unwind_table__free(ta);
	unwind_table__free(tb);
	mem_free(l, &ms);
}

/* A copy of src in a new temporary file; its path (g_free it). */
static char *copy_file(const char *src)
{
	gchar *buf = NULL, *path = NULL;
	gsize n = 0;
	int fd;

	cr_assert(g_file_get_contents(src, &buf, &n, NULL), "%s", src);
	fd = g_file_open_tmp("concur-loader-XXXXXX", &path, NULL);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, buf, n), (ssize_t)n);
	close(fd);
	g_free(buf);
	return path;
}

Test(unwind_loader, objects_cached_by_identity)
{
	struct unwind_mapping a, again, copy, touched;
	struct mem_store ms;
	struct unwind_loader *l = mem_loader(&ms, 1u << 16, 1024);
	char *path = copy_file(ELF_FRAMES);
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	uint32_t rows;

	cr_assert_eq(load(l, ELF_FRAMES, &a), 0);
	rows = stats(l).rows;
	/* The same file again: the same object, nothing appended. */
	cr_assert_eq(load(l, ELF_FRAMES, &again), 0);
	cr_expect_eq(again.obj, a.obj);
	cr_expect_eq(again.row_lo, a.row_lo);
	cr_expect_eq(again.row_hi, a.row_hi);
	cr_expect_eq(stats(l).objects, 1);
	cr_expect_eq(stats(l).rows, rows);
	/* Same bytes, another inode: another object (an image replaced on disk is not the one
	 * a process still maps). */
	cr_assert_eq(load(l, path, &copy), 0);
	cr_expect_neq(copy.obj, a.obj);
	cr_expect_eq(copy.row_lo, a.row_hi);
	cr_expect_eq(stats(l).objects, 2);
	cr_expect_eq(stats(l).rows, 2 * rows);
	/* The same inode with another mtime: rewritten in place, built again. */
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	cr_assert_eq(load(l, path, &touched), 0);
	cr_expect_neq(touched.obj, copy.obj);
	cr_expect_eq(stats(l).objects, 3);
	cr_expect_eq(stats(l).rows, 3 * rows);
	unlink(path);
	g_free(path);
	mem_free(l, &ms);
}

Test(unwind_loader, full_row_array_leaves_frame_pointers)
{
	struct unwind_table *small = table_of(ELF_FRAMES), *big = table_of(LIBC);
	struct unwind_mapping m;
	struct mem_store ms;
	/* Room for libc's table and all of the small one's rows but one. */
	struct unwind_loader *l = mem_loader(&ms, big->nrows + small->nrows - 1, 4096);
	struct unwind_loader_stats st;

	cr_assert_eq(load(l, LIBC, &m), 0);
	cr_expect_eq(m.flags, 0);
	cr_assert_eq(load(l, ELF_FRAMES, &m), 0);
	st = stats(l);
	cr_expect_eq(m.flags, UNWIND_MAP_FP,
		     "an object over the limit is walked by frame pointers");
	cr_expect_eq(m.row_lo, m.row_hi);
	cr_expect_eq(st.full, 1, "counted as left without a table");
	cr_expect_eq(st.tables, 1);
	cr_expect_eq(st.rows, big->nrows, "nothing of it appended");
	cr_expect_eq(st.max_rows, big->nrows + small->nrows - 1);
	/* Found again later: still without a table, not counted twice. */
	cr_assert_eq(load(l, ELF_FRAMES, &m), 0);
	cr_expect_eq(m.flags, UNWIND_MAP_FP);
	cr_expect_eq(stats(l).full, 1);
	unwind_table__free(small);
	unwind_table__free(big);
	mem_free(l, &ms);
}

Test(unwind_loader, full_rule_array_leaves_frame_pointers)
{
	struct unwind_mapping m;
	struct mem_store ms;
	/* Rule 0 and two more: no real object's table fits. */
	struct unwind_loader *l = mem_loader(&ms, 1u << 20, 3);
	struct unwind_loader_stats st;

	cr_assert_eq(load(l, LIBC, &m), 0);
	st = stats(l);
	cr_expect_eq(m.flags, UNWIND_MAP_FP);
	cr_expect_eq(st.full, 1);
	cr_expect_eq(st.tables, 0);
	cr_expect_eq(st.rows, 0);
	cr_expect_leq(st.rules, 3);
	/* The loader keeps going: the next object is refused the same way, not crashed on. */
	cr_assert_eq(load(l, ELF_FRAMES, &m), 0);
	cr_expect_eq(m.flags, UNWIND_MAP_FP);
	cr_expect_eq(stats(l).full, 2);
	mem_free(l, &ms);
}

Test(unwind_loader, store_must_be_complete)
{
	struct unwind_store s = { 0 };

	cr_expect_null(unwind_loader__new(&s));
	cr_expect_eq(errno, EINVAL);
}

/* What every loaded object must satisfy, hostile input or not: its rows inside the used part
 * of the array, sorted (the BPF side's binary search), naming rules in use. */
static void expect_sane(const struct mem_store *ms, const struct unwind_loader *l,
			const struct unwind_mapping *m)
{
	struct unwind_loader_stats st = stats(l);
	uint32_t i;

	cr_assert_leq(st.rows, st.max_rows);
	cr_assert_leq(st.rules, st.max_rules);
	cr_assert_eq(st.objects, st.tables + st.no_cfi + st.full);
	if (m->flags & UNWIND_MAP_FP) {
		cr_assert_eq(m->row_lo, m->row_hi);
		return;
	}
	cr_assert_leq(m->row_lo, m->row_hi);
	cr_assert_leq(m->row_hi, st.rows);
	for (i = m->row_lo; i < m->row_hi; i++) {
		cr_assert_lt(ms->s.rows[i].rule, st.rules);
		if (i > m->row_lo)
			cr_assert_gt(ms->s.rows[i].elf_vaddr, ms->s.rows[i - 1].elf_vaddr);
	}
}

static void load_bytes(struct unwind_loader *l, const struct mem_store *ms, const char *path,
		       const void *bytes, size_t n)
{
	struct unwind_mapping m;
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	struct timespec ts[2];

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, bytes, n), (ssize_t)n);
	close(fd);
	/* A new mtime per variant: else the cache would hand back the first one. */
	ts[0] = ts[1] = (struct timespec){ 1000 + stats(l).objects, 0 };
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	cr_assert_eq(load(l, path, &m), 0);
	expect_sane(ms, l, &m);
}

/* The file bytes from .eh_frame_hdr's start to .eh_frame's end. */
static void cfi_range(const void *bytes, size_t n, size_t *lo, size_t *hi)
{
	Elf *elf = elf_memory((char *)bytes, n);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	*lo = SIZE_MAX;
	*hi = 0;
	cr_assert(elf && !elf_getshdrstrndx(elf, &shstrndx));
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".eh_frame") || !strcmp(name, ".eh_frame_hdr"))) {
			*lo = sh.sh_offset < *lo ? sh.sh_offset : *lo;
			*hi = sh.sh_offset + sh.sh_size > *hi ? sh.sh_offset + sh.sh_size : *hi;
		}
	}
	elf_end(elf);
	cr_assert(*lo < *hi && *hi <= n, "no CFI in the fixture");
}

Test(unwind_loader, hostile_files)
{
	struct mem_store ms;
	struct unwind_loader *l = mem_loader(&ms, 1u << 20, 4096);
	char *path = copy_file(ELF_FRAMES);
	gchar *orig = NULL;
	uint8_t *buf;
	gsize n = 0;
	size_t cut, lo, hi;
	GRand *rng = g_rand_new_with_seed(12);
	int i, k;

	cr_assert(g_file_get_contents(ELF_FRAMES, &orig, &n, NULL));
	buf = g_malloc(n);
	/* Cut anywhere: 64 lengths across the file (headers, tables, sections). */
	for (i = 0; i < 64; i++) {
		cut = (size_t)i * n / 64;
		load_bytes(l, &ms, path, orig, cut);
	}
	/* Bytes flipped: 300 variants of 1 to 16 random bytes each, two thirds of them inside
	 * the CFI (.eh_frame_hdr to the end of .eh_frame), the rest anywhere. */
	cfi_range(orig, n, &lo, &hi);
	for (i = 0; i < 300; i++) {
		memcpy(buf, orig, n);
		for (k = g_rand_int_range(rng, 1, 17); k > 0; k--) {
			size_t at =
				i % 3 ? lo + (size_t)g_rand_int_range(rng, 0, (gint32)(hi - lo)) :
					(size_t)g_rand_int_range(rng, 0, (gint32)n);

			buf[at] = (uint8_t)g_rand_int(rng);
		}
		load_bytes(l, &ms, path, buf, n);
	}
	cr_expect_gt(stats(l).tables, 0, "some variants keep a usable table");
	cr_expect_gt(stats(l).no_cfi, 0, "some variants are refused");
	unlink(path);
	g_free(path);
	g_free(orig);
	g_free(buf);
	g_rand_free(rng);
	mem_free(l, &ms);
}
