// SPDX-License-Identifier: MIT
/*
 * The unwind table builder on programs with known frame shapes (tests/unit/elf/, built by the
 * Makefile into TEST_ELF_DIR), cross-checked row by row against binutils' own CFI decoder
 * (`readelf --debug-dump=frames-interp`) on them and on the machine's libc, and on hostile
 * input: truncated files, corrupted CFI, no CFI.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "collect/unwind_table.h"

#define ELF_FRAMES	 TEST_ELF_DIR "/frames"
#define ELF_FRAMES_FP	 TEST_ELF_DIR "/frames-fp"
#define ELF_FRAMES_DEBUG TEST_ELF_DIR "/frames-debug"
#define ELF_FRAMES_NOCFI TEST_ELF_DIR "/frames-nocfi"
#define LIBC		 "/lib/x86_64-linux-gnu/libc.so.6"

static struct unwind_table *open_table(const char *path, struct unwind_stats *st)
{
	struct unwind_table *t = NULL;
	int err = unwind_table__open(path, &t, st);

	cr_assert_eq(err, 0, "%s: %s", path, strerror(-err));
	return t;
}

static const struct unwind_rule *rule_at(const struct unwind_table *t, uint64_t addr)
{
	const struct unwind_row *row = unwind_table__find(t, addr);

	cr_assert_not_null(row, "no row at %#lx", (unsigned long)addr);
	return unwind_table__rule(t, row);
}

static void *read_file(const char *path, size_t *size)
{
	gchar *buf = NULL;
	gsize n = 0;

	cr_assert(g_file_get_contents(path, &buf, &n, NULL), "%s", path);
	*size = n;
	return buf;
}

/* A function's address and size from .symtab, and its code. */
struct func {
	uint64_t addr, size;
	uint8_t code[256];
	size_t ncode;
};

static void find_func(const char *path, const char *name, struct func *fn)
{
	int fd = open(path, O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	bool found = false;

	cr_assert_geq(fd, 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	memset(fn, 0, sizeof(*fn));
	while (!found && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = elf_getdata(scn, NULL);
		GElf_Sym sym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !d)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize && gelf_getsym(d, i, &sym); i++) {
			const char *n = elf_strptr(elf, sh.sh_link, sym.st_name);

			if (n && !strcmp(n, name)) {
				fn->addr = sym.st_value;
				fn->size = sym.st_size;
				found = true;
				break;
			}
		}
	}
	scn = NULL;
	while (found && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = elf_getdata(scn, NULL);

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !d ||
		    fn->addr < sh.sh_addr || fn->addr >= sh.sh_addr + d->d_size)
			continue;
		fn->ncode = MIN(sizeof(fn->code), sh.sh_addr + d->d_size - fn->addr);
		memcpy(fn->code, (char *)d->d_buf + (fn->addr - sh.sh_addr), fn->ncode);
	}
	elf_end(elf);
	close(fd);
	cr_assert(found && fn->size, "%s: no symbol %s", path, name);
}

Test(unwind_table, leaf_keeps_cfa_at_rsp_plus_8)
{
	struct unwind_table *t = open_table(ELF_FRAMES, NULL);
	struct func fn;

	find_func(ELF_FRAMES, "frames_leaf", &fn);
	for (uint64_t a = fn.addr; a < fn.addr + fn.size; a++) {
		const struct unwind_rule *r = rule_at(t, a);

		cr_expect_eq(r->cfa_kind, UNWIND_CFA_RSP, "at %#lx", (unsigned long)a);
		cr_expect_eq(r->cfa_off, 8);
		cr_expect_eq(r->ra_kind, UNWIND_RA_AT_CFA_MINUS_8);
		cr_expect_eq(r->rbp_kind, UNWIND_RBP_UNCHANGED);
	}
	unwind_table__free(t);
}

/* After `sub $N, %rsp` (48 81 ec imm32) the CFA is N further from rsp. */
Test(unwind_table, big_frame_after_its_prologue)
{
	struct unwind_table *t = open_table(ELF_FRAMES, NULL);
	struct func fn;
	size_t i;

	find_func(ELF_FRAMES, "frames_big", &fn);
	for (i = 0; i + 7 <= fn.ncode; i++)
		if (fn.code[i] == 0x48 && fn.code[i + 1] == 0x81 && fn.code[i + 2] == 0xec)
			break;
	cr_assert_leq(i + 7, fn.ncode, "no sub $imm32, %%rsp in frames_big");
	int32_t imm;

	memcpy(&imm, fn.code + i + 3, 4);
	cr_assert_geq(imm, 40000);
	const struct unwind_rule *before = rule_at(t, fn.addr + i);
	const struct unwind_rule *after = rule_at(t, fn.addr + i + 7);

	cr_expect_eq(before->cfa_kind, UNWIND_CFA_RSP);
	cr_expect_eq(after->cfa_kind, UNWIND_CFA_RSP);
	cr_expect_eq(after->cfa_off, before->cfa_off + imm);
	/* The function's first byte: nothing pushed yet. */
	cr_expect_eq(rule_at(t, fn.addr)->cfa_off, 8);
	unwind_table__free(t);
}

/* alloca keeps an rbp frame: CFA rbp + 16, rbp saved at CFA - 16. */
static void expect_rbp_frame(const char *path, const char *name)
{
	struct unwind_table *t = open_table(path, NULL);
	struct func fn;
	bool seen = false;

	find_func(path, name, &fn);
	for (uint64_t a = fn.addr; a < fn.addr + fn.size; a++) {
		const struct unwind_rule *r = rule_at(t, a);

		if (r->cfa_kind != UNWIND_CFA_RBP)
			continue;
		seen = true;
		cr_expect_eq(r->cfa_off, 16);
		cr_expect_eq(r->rbp_kind, UNWIND_RBP_SAVED);
		cr_expect_eq(r->rbp_off, -16);
	}
	cr_expect(seen, "%s: no rbp-based row in %s", path, name);
	unwind_table__free(t);
}

Test(unwind_table, alloca_and_frame_pointers_use_rbp)
{
	expect_rbp_frame(ELF_FRAMES, "frames_alloca");
	expect_rbp_frame(ELF_FRAMES_FP, "frames_big");
	expect_rbp_frame(ELF_FRAMES_FP, "main");
}

/* _start's CIE leaves the return address undefined: the end of every stack. */
Test(unwind_table, start_is_a_stop_row)
{
	struct unwind_stats st;
	struct unwind_table *t = open_table(ELF_FRAMES, &st);
	struct func fn;

	find_func(ELF_FRAMES, "_start", &fn);
	cr_expect_eq(rule_at(t, fn.addr)->ra_kind, UNWIND_RA_STOP);
	cr_expect_geq(st.stop_rows, 1);
	cr_expect_eq(st.invalid_rows, 0);
	cr_expect_eq(st.source, UNWIND_SRC_EH_FRAME);
	unwind_table__free(t);
}

/*
 * glibc's vfork pops its return address into rdi before the syscall (its CFI: rip in r5): a
 * thread blocked there is at the instruction after the syscall, CFA rsp + 0, the return
 * address in rdi. Before the pop it is the usual call frame. Found in this process's libc.
 */
Test(unwind_table, vfork_return_address_in_rdi)
{
	/* libc's own vfork, not an interceptor's (ASan's libasan defines one). */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	const uint8_t *code = libc ? dlsym(libc, "vfork") : NULL;
	struct unwind_stats st;
	struct unwind_table *t;
	const struct unwind_rule *r;
	uint64_t vaddr;
	Dl_info info;
	size_t i;

	cr_assert(code && dladdr(code, &info) && info.dli_saddr && info.dli_fname);
	cr_assert(strstr(info.dli_fname, "libc.so.6"), "%s", info.dli_fname);
	/* Debian's libc: its first segment's vaddr is 0, so the offset is the ELF address. */
	vaddr = (uint64_t)((const char *)info.dli_saddr - (const char *)info.dli_fbase);
	for (i = 0; i + 1 < 32 && !(code[i] == 0x0f && code[i + 1] == 0x05); i++)
		;
	cr_assert_lt(i + 1, 32, "vfork has a syscall instruction near its start");
	t = open_table(LIBC, &st);
	r = rule_at(t, vaddr + i + 2);
	cr_expect_eq(r->ra_kind, UNWIND_RA_IN_RDI);
	cr_expect_eq(r->cfa_kind, UNWIND_CFA_RSP);
	cr_expect_eq(r->cfa_off, 0);
	cr_expect_eq(rule_at(t, vaddr)->ra_kind, UNWIND_RA_AT_CFA_MINUS_8);
	cr_expect_geq(st.ra_reg_rows, 1);
	unwind_table__free(t);
	dlclose(libc);
}

/* Rows are strictly increasing; a lookup between two rows gives the first; END rows name
 * rule 0 and never follow one another; before the first row there is nothing. */
Test(unwind_table, rows_sorted_and_lookups_between_rows)
{
	struct unwind_stats st;
	struct unwind_table *t = open_table(ELF_FRAMES, &st);
	uint32_t i;

	cr_assert_gt(t->nrows, 2);
	cr_expect_eq(st.rows, t->nrows);
	cr_expect_eq(st.rules, t->nrules);
	cr_expect_eq(t->rules[0].cfa_kind, UNWIND_CFA_INVALID);
	cr_expect_null(unwind_table__find(t, t->rows[0].elf_vaddr - 1));
	cr_expect_null(unwind_table__find(t, 1ull << 32));
	cr_expect(t->rows[t->nrows - 1].flags & UNWIND_ROW_END, "the last row ends the last FDE");
	for (i = 0; i < t->nrows; i++) {
		const struct unwind_row *r = &t->rows[i];

		cr_expect_lt(r->rule, t->nrules);
		if (r->flags & UNWIND_ROW_END)
			cr_expect_eq(r->rule, UNWIND_RULE_NONE);
		if (i + 1 == t->nrows)
			break;
		cr_assert_lt(r->elf_vaddr, r[1].elf_vaddr);
		cr_expect(r->rule != r[1].rule || r->flags != r[1].flags, "row %u repeats", i);
		cr_expect_eq(unwind_table__find(t, r->elf_vaddr), r);
		cr_expect_eq(unwind_table__find(t, r[1].elf_vaddr - 1), r);
		cr_expect_eq(unwind_table__find(t,
						r->elf_vaddr + (r[1].elf_vaddr - r->elf_vaddr) / 2),
			     r);
	}
	unwind_table__free(t);
}

Test(unwind_table, debug_frame_when_eh_frame_has_no_index)
{
	struct unwind_stats st;
	struct unwind_table *t = open_table(ELF_FRAMES_DEBUG, &st);
	struct func fn;

	cr_expect_eq(st.source, UNWIND_SRC_DEBUG_FRAME);
	find_func(ELF_FRAMES_DEBUG, "frames_leaf", &fn);
	cr_expect_eq(rule_at(t, fn.addr)->cfa_kind, UNWIND_CFA_RSP);
	cr_expect_eq(rule_at(t, fn.addr)->cfa_off, 8);
	expect_rbp_frame(ELF_FRAMES_DEBUG, "frames_alloca");
	unwind_table__free(t);
}

/* ---- The cross-check against readelf. ---- */

/* One readelf row: the tokens of its CFA, rbp and ra columns ("rsp+16", "c-16", "u"...). */
struct rd_row {
	uint64_t addr, fde_lo, fde_hi;
	char cfa[32], rbp[16], ra[16];
};

struct rd_fde {
	uint64_t lo, hi;
};

struct rd_cie {
	unsigned long off;
	struct rd_row row;
};

struct readelf {
	GArray *rows, *fdes, *cies;
	/* The current block: a CIE (cie >= 0) or an FDE. */
	long cie;
	struct rd_row cur;
	int col_cfa, col_rbp, col_ra;
};

static void rd_header(struct readelf *rd, char *line)
{
	char *save, *tok;
	int i = 0;

	rd->col_cfa = rd->col_rbp = rd->col_ra = -1;
	for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), i++) {
		if (!strcmp(tok, "CFA"))
			rd->col_cfa = i;
		else if (!strcmp(tok, "rbp"))
			rd->col_rbp = i;
		else if (!strcmp(tok, "ra"))
			rd->col_ra = i;
	}
}

static void rd_row(struct readelf *rd, char *line)
{
	struct rd_row row = rd->cur;
	char *save, *tok;
	int i = 0;

	strcpy(row.rbp, "u");
	for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), i++) {
		/* "r10 (r10)": a register's number and name, one column. */
		if (tok[0] == '(')
			i--;
		else if (i == 0)
			row.addr = strtoull(tok, NULL, 16);
		else if (i == rd->col_cfa)
			g_strlcpy(row.cfa, tok, sizeof(row.cfa));
		else if (i == rd->col_rbp)
			g_strlcpy(row.rbp, tok, sizeof(row.rbp));
		else if (i == rd->col_ra)
			g_strlcpy(row.ra, tok, sizeof(row.ra));
	}
	if (rd->cie >= 0) {
		struct rd_cie c = { .off = (unsigned long)rd->cie, .row = row };

		g_array_append_val(rd->cies, c);
		return;
	}
	g_array_append_val(rd->rows, row);
}

/* An FDE starts with its CIE's initial row (readelf prints no rows for an FDE without
 * instructions). */
static void rd_fde(struct readelf *rd, const char *line)
{
	const char *p = strstr(line, "cie="), *q = strstr(line, "pc=");
	unsigned long cie = strtoul(p + 4, NULL, 16);
	struct rd_fde f;
	guint i;

	f.lo = strtoull(q + 3, NULL, 16);
	f.hi = strtoull(strstr(q, "..") + 2, NULL, 16);
	g_array_append_val(rd->fdes, f);
	rd->cie = -1;
	memset(&rd->cur, 0, sizeof(rd->cur));
	rd->cur.fde_lo = f.lo;
	rd->cur.fde_hi = f.hi;
	for (i = 0; i < rd->cies->len; i++) {
		struct rd_cie *c = &g_array_index(rd->cies, struct rd_cie, i);

		if (c->off != cie)
			continue;
		struct rd_row row = c->row;

		row.addr = f.lo;
		row.fde_lo = f.lo;
		row.fde_hi = f.hi;
		g_array_append_val(rd->rows, row);
	}
}

/* readelf's rows of one CFI section of `path`. */
static void readelf_parse(const char *path, const char *section, struct readelf *rd)
{
	char *cmd = g_strdup_printf("readelf --debug-dump=frames-interp '%s' 2>/dev/null", path);
	FILE *f = popen(cmd, "r");
	char line[1024];
	bool in = false;

	cr_assert_not_null(f);
	memset(rd, 0, sizeof(*rd));
	rd->rows = g_array_new(FALSE, FALSE, sizeof(struct rd_row));
	rd->fdes = g_array_new(FALSE, FALSE, sizeof(struct rd_fde));
	rd->cies = g_array_new(FALSE, FALSE, sizeof(struct rd_cie));
	rd->cie = -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Contents of the ", 16)) {
			in = !strncmp(line + 16, section, strlen(section));
		} else if (!in) {
			continue;
		} else if (strstr(line, " FDE cie=")) {
			rd_fde(rd, line);
		} else if (strstr(line, " CIE")) {
			rd->cie = (long)strtoul(line, NULL, 16);
			memset(&rd->cur, 0, sizeof(rd->cur));
		} else if (!strncmp(line, "   LOC", 6)) {
			rd_header(rd, line);
		} else if (strlen(line) > 17 && line[16] == ' ' && g_ascii_isxdigit(line[0])) {
			rd_row(rd, line);
		}
	}
	/* readelf exits 1 on libc with nothing on stderr: its rows are what counts. */
	pclose(f);
	cr_assert_gt(rd->rows->len, 0, "%s: no rows", cmd);
	g_free(cmd);
}

static void readelf_free(struct readelf *rd)
{
	g_array_free(rd->rows, TRUE);
	g_array_free(rd->fdes, TRUE);
	g_array_free(rd->cies, TRUE);
}

static bool rd_mismatch(const struct unwind_table *t, const struct rd_row *row, char *why, size_t n)
{
	const struct unwind_rule *r = rule_at(t, row->addr);
	long long off;
	char reg[4];

	if (sscanf(row->cfa, "%3[a-z]%lld", reg, &off) != 2 ||
	    (strcmp(reg, "rsp") && strcmp(reg, "rbp")))
		return false;
	uint8_t kind = !strcmp(reg, "rsp") ? UNWIND_CFA_RSP : UNWIND_CFA_RBP;

	if (r->cfa_kind != kind || r->cfa_off != off) {
		snprintf(why, n, "CFA %s, table kind %u off %d", row->cfa, r->cfa_kind, r->cfa_off);
		return true;
	}
	if (row->rbp[0] == 'c' && sscanf(row->rbp + 1, "%lld", &off) == 1 &&
	    (r->rbp_kind != UNWIND_RBP_SAVED || r->rbp_off != off)) {
		snprintf(why, n, "rbp %s, table kind %u off %d", row->rbp, r->rbp_kind, r->rbp_off);
		return true;
	}
	if ((!strcmp(row->rbp, "u") || !strcmp(row->rbp, "s")) &&
	    r->rbp_kind != UNWIND_RBP_UNCHANGED) {
		snprintf(why, n, "rbp %s, table kind %u", row->rbp, r->rbp_kind);
		return true;
	}
	if ((!strcmp(row->ra, "c-8") && r->ra_kind != UNWIND_RA_AT_CFA_MINUS_8) ||
	    (!strcmp(row->ra, "u") && r->ra_kind != UNWIND_RA_STOP)) {
		snprintf(why, n, "ra %s, table kind %u", row->ra, r->ra_kind);
		return true;
	}
	return false;
}

/* Every FDE covered from its first to its last byte; an END row right after it unless
 * another FDE starts there. */
static unsigned check_fdes(const struct unwind_table *t, const struct readelf *rd)
{
	GHashTable *starts = g_hash_table_new(g_int64_hash, g_int64_equal);
	unsigned bad = 0;
	guint i;

	for (i = 0; i < rd->fdes->len; i++) {
		struct rd_fde *f = &g_array_index(rd->fdes, struct rd_fde, i);

		g_hash_table_add(starts, &f->lo);
	}
	for (i = 0; i < rd->fdes->len; i++) {
		const struct rd_fde *f = &g_array_index(rd->fdes, struct rd_fde, i);
		const struct unwind_row *lo = unwind_table__find(t, f->lo);
		const struct unwind_row *hi = unwind_table__find(t, f->hi - 1);
		const struct unwind_row *end = unwind_table__find(t, f->hi);

		if (f->hi <= f->lo)
			continue;
		if (!lo || !hi || (lo->flags & UNWIND_ROW_END) || (hi->flags & UNWIND_ROW_END)) {
			if (bad++ < 10)
				fprintf(stderr, "FDE %#lx..%#lx not covered\n",
					(unsigned long)f->lo, (unsigned long)f->hi);
		} else if (!g_hash_table_contains(starts, &f->hi) &&
			   (!end || !(end->flags & UNWIND_ROW_END))) {
			if (bad++ < 10)
				fprintf(stderr, "FDE %#lx..%#lx: no END row after it\n",
					(unsigned long)f->lo, (unsigned long)f->hi);
		}
	}
	g_hash_table_destroy(starts);
	return bad;
}

/* Compares every readelf row with a CFA of rsp+N or rbp+N (the last row at an address, inside
 * its FDE); returns the mismatches, printing the first few. */
static unsigned cross_check(const char *path, const char *section, unsigned *checked)
{
	struct unwind_table *t = open_table(path, NULL);
	struct readelf rd;
	unsigned bad = 0;
	char why[128];
	guint i;

	readelf_parse(path, section, &rd);
	*checked = 0;
	for (i = 0; i < rd.rows->len; i++) {
		const struct rd_row *row = &g_array_index(rd.rows, struct rd_row, i);

		if (row->addr < row->fde_lo || row->addr >= row->fde_hi)
			continue;
		if (i + 1 < rd.rows->len &&
		    g_array_index(rd.rows, struct rd_row, i + 1).addr == row->addr)
			continue;
		if (!strncmp(row->cfa, "rsp", 3) || !strncmp(row->cfa, "rbp", 3))
			(*checked)++;
		if (rd_mismatch(t, row, why, sizeof(why)) && bad++ < 10)
			fprintf(stderr, "%s %#lx: %s\n", path, (unsigned long)row->addr, why);
	}
	bad += check_fdes(t, &rd);
	if (bad)
		fprintf(stderr, "%s: %u mismatches with readelf over %u rows\n", path, bad,
			*checked);
	readelf_free(&rd);
	unwind_table__free(t);
	return bad;
}

Test(unwind_table, same_rules_as_readelf_on_test_programs)
{
	unsigned checked;

	cr_expect_eq(cross_check(ELF_FRAMES, ".eh_frame", &checked), 0);
	cr_expect_gt(checked, 10);
	cr_expect_eq(cross_check(ELF_FRAMES_FP, ".eh_frame", &checked), 0);
	cr_expect_gt(checked, 10);
	cr_expect_eq(cross_check(ELF_FRAMES_DEBUG, ".debug_frame", &checked), 0);
	cr_expect_gt(checked, 5);
}

Test(unwind_table, same_rules_as_readelf_on_libc, .timeout = 60)
{
	struct unwind_stats st;
	struct unwind_table *t;
	struct timespec a, b;
	unsigned checked;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t = open_table(LIBC, &st);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_log_info("libc: %.1f ms, %u FDEs, %u rows (%u END), %u rules; %u CFI rows: %u invalid, "
		    "%u approximate, %u stop, %u RA in a register, %u signal; %u FDEs refused",
		    (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6, st.fdes, st.rows,
		    st.end_rows, st.rules, st.cfi_rows, st.invalid_rows, st.approx_rows,
		    st.stop_rows, st.ra_reg_rows, st.signal_rows, st.refused_fdes);
	cr_expect_gt(st.fdes, 1000);
	cr_expect_eq(st.refused_fdes, 0);
	unwind_table__free(t);
	cr_expect_eq(cross_check(LIBC, ".eh_frame", &checked), 0);
	cr_expect_gt(checked, 20000);
}

/* ---- Hostile input: no crash, a clean -errno or counted refusals. ---- */

static int build_mem(void *buf, size_t n, struct unwind_stats *st)
{
	struct unwind_table *t = NULL;
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	elf = elf_memory(buf, n);
	if (!elf)
		return -EINVAL;
	err = unwind_table__build(elf, &t, st);
	if (!err) {
		/* Whatever was accepted is sorted and names existing rules. */
		for (uint32_t i = 0; i < t->nrows; i++) {
			cr_assert_lt(t->rows[i].rule, t->nrules);
			cr_assert(i == 0 || t->rows[i - 1].elf_vaddr < t->rows[i].elf_vaddr);
		}
	}
	cr_assert_eq(!!t, !err);
	unwind_table__free(t);
	elf_end(elf);
	return err;
}

/* A section's file offset and size. */
static void section_range(const char *path, const char *name, size_t *off, size_t *size)
{
	int fd = open(path, O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_eq(elf_getshdrstrndx(elf, &shstrndx), 0);
	*size = 0;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    !strcmp(elf_strptr(elf, shstrndx, sh.sh_name) ?: "", name)) {
			*off = sh.sh_offset;
			*size = sh.sh_size;
		}
	elf_end(elf);
	close(fd);
	cr_assert_gt(*size, 0, "%s: no %s", path, name);
}

Test(unwind_table, no_cfi_is_enoent)
{
	struct unwind_table *t = NULL;
	struct unwind_stats st;

	cr_expect_eq(unwind_table__open(ELF_FRAMES_NOCFI, &t, &st), -ENOENT);
	cr_expect_null(t);
	cr_expect_eq(st.refused_table, 1);
	cr_expect_eq(unwind_table__open("/nonexistent", &t, &st), -ENOENT);
	cr_expect_eq(unwind_table__open("/etc/passwd", &t, &st), -EINVAL);
}

Test(unwind_table, truncated_files)
{
	size_t n, cut;
	char *buf = read_file(ELF_FRAMES, &n);
	struct unwind_stats st;

	for (cut = 0; cut < n; cut += cut < 256 ? 1 : 97) {
		char *copy = g_memdup2(buf, cut);

		build_mem(copy, cut, &st);
		g_free(copy);
	}
	g_free(buf);
}

/* Flipped bytes in .eh_frame and .eh_frame_hdr, and both cut short (their sizes kept). */
Test(unwind_table, corrupted_cfi, .timeout = 60)
{
	static const char *const sections[] = { ".eh_frame", ".eh_frame_hdr", ".debug_frame" };
	static const char *const files[] = { ELF_FRAMES, ELF_FRAMES, ELF_FRAMES_DEBUG };
	struct unwind_stats st;
	GRand *rnd = g_rand_new_with_seed(42);

	for (int s = 0; s < 3; s++) {
		size_t n, off, size;
		char *buf = read_file(files[s], &n);
		char *copy = g_malloc(n);

		section_range(files[s], sections[s], &off, &size);
		for (int round = 0; round < 400; round++) {
			memcpy(copy, buf, n);
			for (int k = 0; k < 1 + round % 8; k++)
				copy[off + g_rand_int_range(rnd, 0, (gint32)size)] ^=
					(char)g_rand_int_range(rnd, 1, 256);
			build_mem(copy, n, &st);
		}
		/* Cut short: the rest of the section zeroed, then garbage. */
		for (size_t keep = 0; keep < size; keep += 1 + size / 64) {
			memcpy(copy, buf, n);
			memset(copy + off + keep, (keep & 1) ? 0xff : 0, size - keep);
			build_mem(copy, n, &st);
		}
		g_free(copy);
		g_free(buf);
	}
	g_rand_free(rnd);
}

/* .eh_frame_hdr's count beyond its size, and its table pointing far away. */
Test(unwind_table, absurd_eh_frame_hdr)
{
	size_t n, off, size;
	char *buf = read_file(ELF_FRAMES, &n);
	struct unwind_stats st;
	uint32_t v;

	section_range(ELF_FRAMES, ".eh_frame_hdr", &off, &size);
	/* version, 3 encodings, eh_frame_ptr (sdata4), fde_count (udata4), then the table. */
	cr_assert_eq(buf[off + 2], 0x03);
	v = 0xffffffff;
	memcpy(buf + off + 8, &v, 4);
	cr_expect_eq(build_mem(buf, n, &st), -EINVAL);
	v = (uint32_t)(size - 12) / 8;
	memcpy(buf + off + 8, &v, 4);
	for (size_t e = off + 12; e + 8 <= off + size; e += 8) {
		v = 0x7ffffff0 - (uint32_t)(e - off);
		memcpy(buf + e, &v, 4);
	}
	cr_expect_eq(build_mem(buf, n, &st), 0);
	cr_expect_eq(st.fdes, 0);
	cr_expect_gt(st.refused_fdes, 0);
	g_free(buf);
}

/*
 * A program naming a register number in the hundreds of millions would make libdw allocate
 * and zero an array that long (2 GiB, found by fuzzing): the object is refused before libdw
 * runs anything. The input is the fuzzer's, kept as a regression.
 */
Test(unwind_table, huge_register_numbers_are_refused)
{
	struct unwind_table *t = NULL;
	struct unwind_stats st;
	int err = unwind_table__open("tests/unit/unwind-regressions/oom-huge-register", &t, &st);

	cr_expect_lt(err, 0);
	cr_expect_null(t);
	cr_expect_eq(st.refused_table, 1);
	unwind_table__free(t);
}

/* The functions' starts the symbolizer names stripped frames by: every function's, sorted. */
Test(unwind_table, function_starts_from_the_fde_table)
{
	int fd = open(ELF_FRAMES, O_RDONLY);
	uint64_t *starts;
	struct func fn;
	size_t n, i;
	bool seen = false;
	Elf *elf;

	cr_assert_geq(fd, 0);
	find_func(ELF_FRAMES, "frames_leaf", &fn);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_eq(unwind_table__function_starts(elf, &starts, &n), 0);
	cr_expect_gt(n, 3);
	for (i = 0; i < n; i++) {
		seen |= starts[i] == fn.addr;
		if (i)
			cr_expect_gt(starts[i], starts[i - 1], "sorted, distinct");
	}
	cr_expect(seen, "frames_leaf's start %#llx is one", (unsigned long long)fn.addr);
	g_free(starts);
	elf_end(elf);
	close(fd);
}
