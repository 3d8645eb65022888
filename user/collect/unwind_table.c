// SPDX-License-Identifier: MIT
/*
 * The native unwinder's table builder: libdw decodes the CFI and runs each FDE's program; this
 * file only finds the FDEs, steps through their rows and classifies libdw's answers into the
 * few rule shapes the BPF unwinder will know (include/unwind.h).
 *
 * FDEs: .eh_frame_hdr's search table (the LSB's "eh_frame_hdr" format: version 1, then the
 * encodings of eh_frame_ptr, fde_count and the table; the table's pairs are (initial_location,
 * FDE address), datarel sdata4, sorted) or, without it, a walk of .debug_frame with
 * dwarf_next_cfi (DWARF 5 §6.4.1: an FDE's initial_location is a plain target address).
 * Rows: dwarf_cfi_addrframe at an FDE's start gives the first row and its [start, end); asking
 * again at `end` gives the next one, until the address falls outside every FDE (a gap: END row)
 * or reaches the next FDE's start. libdw reruns the FDE's program from its start on each call,
 * so the work is quadratic in an FDE's rows: bounded by UNWIND_MAX_WORK.
 */
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/unwind_table.h"
#include "cfi_guard.h"
#include "unwind_rule.h"

/* FDE programs run (rows asked of libdw, each rerunning its FDE up to that row), per object:
 * ~100 times libc's; a hostile FDE of a million rows is refused instead of taking hours. */
#define UNWIND_MAX_WORK (1u << 26)

/* .eh_frame_hdr: the only table encoding libdw itself binary-searches. */
#define EH_TABLE_ENC (DW_EH_PE_datarel | DW_EH_PE_sdata4)

struct builder {
	Elf *elf;
	Dwarf_CFI *cfi;
	Dwarf *dwarf;	 /* owns cfi for .debug_frame */
	GArray *starts;	 /* uint64_t: FDE initial locations */
	GArray *rows;	 /* struct unwind_row */
	GArray *rules;	 /* struct unwind_rule */
	GHashTable *ids; /* rule bytes → index + 1 */
	uint64_t work;	 /* rows asked of libdw */
	struct unwind_stats *st;
};

static Elf_Scn *find_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* A section's bytes and address; NULL when unreadable (beyond the file, say). */
static const uint8_t *section_bytes(Elf_Scn *scn, size_t *size, uint64_t *addr)
{
	Elf_Data *d = elf_rawdata(scn, NULL);
	GElf_Shdr sh;

	if (!d || !d->d_buf || !gelf_getshdr(scn, &sh))
		return NULL;
	*size = d->d_size;
	*addr = sh.sh_addr;
	return d->d_buf;
}

static uint64_t read_le(const uint8_t *p, int size)
{
	uint64_t v = 0;
	int i;

	for (i = size - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* FDE starts from .eh_frame_hdr's table. -ENOENT without a table, -EINVAL when malformed. */
static int starts_from_eh_frame_hdr(struct builder *b)
{
	Elf_Scn *scn = find_section(b->elf, ".eh_frame_hdr");
	int ptr_size, count_size;
	const uint8_t *p;
	uint64_t addr, count, i;
	size_t size, off;

	if (!scn || !find_section(b->elf, ".eh_frame"))
		return -ENOENT;
	p = section_bytes(scn, &size, &addr);
	if (!p || size < 4 || p[0] != 1)
		return -EINVAL;
	if (p[2] == DW_EH_PE_omit || p[3] != EH_TABLE_ENC)
		return -ENOENT;
	ptr_size = cfi_enc_size(p[1]);
	count_size = cfi_enc_size(p[2]);
	/* The count is an absolute (not pc- or data-relative) value. */
	if (ptr_size < 0 || count_size <= 0 || (p[2] & 0x70))
		return -EINVAL;
	off = 4 + (size_t)ptr_size;
	if (size < off + count_size)
		return -EINVAL;
	count = read_le(p + off, count_size);
	off += count_size;
	if (count > (size - off) / 8)
		return -EINVAL;
	if (count > UNWIND_MAX_FDES)
		return -E2BIG;
	for (i = 0; i < count; i++) {
		/* datarel: relative to the start of .eh_frame_hdr. */
		int32_t loc = (int32_t)read_le(p + off + i * 8, 4);
		uint64_t start = addr + (int64_t)loc;

		g_array_append_val(b->starts, start);
	}
	return 0;
}

/* FDE starts from a walk of .debug_frame. -ENOENT without one, -EINVAL when malformed. */
static int starts_from_debug_frame(struct builder *b)
{
	Elf_Scn *scn = find_section(b->elf, ".debug_frame");
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	Elf_Data *d;
	const unsigned char *ident = (const unsigned char *)elf_getident(b->elf, NULL);

	if (!scn || !ident)
		return -ENOENT;
	d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf)
		return -EINVAL;
	while (off < d->d_size && dwarf_next_cfi(ident, d, false, off, &next, &e) == 0) {
		if (next <= off)
			break;
		off = next;
		if (dwarf_cfi_cie_p(&e))
			continue;
		/* initial_location: an address of the object's size (ELF64: 8 bytes). */
		if (e.fde.end - e.fde.start < 8)
			return -EINVAL;
		if (b->starts->len >= UNWIND_MAX_FDES)
			return -E2BIG;
		uint64_t start = read_le(e.fde.start, 8);

		g_array_append_val(b->starts, start);
	}
	return b->starts->len ? 0 : -EINVAL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted, without duplicates: the table is sorted already, a hostile one need not be. */
static void sort_starts(GArray *starts)
{
	uint64_t *v = (uint64_t *)(void *)starts->data;
	guint i, n = 0;

	if (starts->len < 2)
		return;
	qsort(v, starts->len, sizeof(*v), cmp_u64);
	for (i = 0; i < starts->len; i++)
		if (!n || v[i] != v[n - 1])
			v[n++] = v[i];
	g_array_set_size(starts, n);
}

static guint rule_hash(gconstpointer p)
{
	const struct unwind_rule *r = p;

	return (guint)(r->cfa_kind | r->rbp_kind << 8 | r->ra_kind << 16 | r->flags << 24) ^
	       (guint)r->cfa_off * 2654435761u ^ (guint)r->rbp_off * 40503u;
}

static gboolean rule_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct unwind_rule));
}

/* The rule's index, added if new. -E2BIG past UNWIND_MAX_RULES. */
static int rule_id(struct builder *b, const struct unwind_rule *r)
{
	gpointer v = g_hash_table_lookup(b->ids, r);

	if (v)
		return GPOINTER_TO_INT(v) - 1;
	if (b->rules->len >= UNWIND_MAX_RULES)
		return -E2BIG;
	g_array_append_vals(b->rules, r, 1);
	g_hash_table_insert(b->ids, g_memdup2(r, sizeof(*r)), GINT_TO_POINTER(b->rules->len));
	return b->rules->len - 1;
}

/* A row at `pc` unless the rule does not change there. */
static int emit(struct builder *b, uint64_t pc, const struct unwind_rule *r, uint16_t flags)
{
	struct unwind_row row = { .elf_vaddr = (uint32_t)pc, .flags = flags };
	struct unwind_row *last = NULL;
	int id = rule_id(b, r);

	if (id < 0)
		return id;
	row.rule = (uint16_t)id;
	if (b->rows->len)
		last = &g_array_index(b->rows, struct unwind_row, b->rows->len - 1);
	if (last && last->rule == row.rule && last->flags == row.flags)
		return 0;
	if (last && last->elf_vaddr == row.elf_vaddr) {
		/* An empty row: the new one replaces it, or merges into the one before. */
		g_array_set_size(b->rows, b->rows->len - 1);
		return emit(b, pc, r, flags);
	}
	if (b->rows->len >= UNWIND_MAX_ROWS)
		return -E2BIG;
	g_array_append_val(b->rows, row);
	return 0;
}

static int emit_end(struct builder *b, uint64_t pc)
{
	static const struct unwind_rule none;

	return emit(b, pc, &none, UNWIND_ROW_END);
}

/* The rows of the FDE starting at `start`, up to `limit` (the next FDE's start). `*cursor` is
 * where the previous FDE's rows stopped: FDEs overlapping it are refused. */
static int add_fde(struct builder *b, uint64_t start, uint64_t limit, uint64_t *cursor)
{
	uint64_t pc = start;
	int err = 0;

	if (start < *cursor || start >= limit) {
		b->st->refused_fdes++;
		return 0;
	}
	while (pc < limit) {
		Dwarf_Frame *f = NULL;
		Dwarf_Addr s, e;
		bool signal;
		struct unwind_rule r;

		if (++b->work > UNWIND_MAX_WORK)
			return -E2BIG;
		if (dwarf_cfi_addrframe(b->cfi, pc, &f))
			break;
		if (dwarf_frame_info(f, &s, &e, &signal) < 0 || s > pc || e <= pc) {
			free(f);
			break;
		}
		unwind_rule_classify(f, signal, &r, b->st);
		free(f);
		err = emit(b, pc, &r, 0);
		if (err)
			return err;
		pc = e < limit ? e : limit;
	}
	if (pc == start)
		b->st->refused_fdes++;
	else
		b->st->fdes++;
	*cursor = pc;
	if (pc < limit)
		err = emit_end(b, pc);
	return err;
}

static int add_rows(struct builder *b)
{
	const uint64_t *v = (const uint64_t *)(const void *)b->starts->data;
	uint64_t cursor = 0, limit;
	guint i;
	int err;

	for (i = 0; i < b->starts->len; i++) {
		/* Rows hold 32-bit addresses. */
		if (v[i] > UINT32_MAX) {
			b->st->refused_fdes += b->starts->len - i;
			break;
		}
		limit = i + 1 < b->starts->len && v[i + 1] <= UINT32_MAX ? v[i + 1] : 1ull << 32;
		err = add_fde(b, v[i], limit, &cursor);
		if (err)
			return err;
	}
	return 0;
}

/* The CFI handle and FDE starts of the object's best CFI. */
/* The section's programs, checked before libdw runs any of them (cfi_guard.c). */
static int guard(struct builder *b, const char *name, bool eh_frame)
{
	Elf_Scn *scn = find_section(b->elf, name);

	return scn ? cfi_guard_section(b->elf, elf_rawdata(scn, NULL), eh_frame) : -EINVAL;
}

static int open_cfi(struct builder *b)
{
	int err = starts_from_eh_frame_hdr(b);

	if (!err)
		err = guard(b, ".eh_frame", true);
	if (!err) {
		b->cfi = dwarf_getcfi_elf(b->elf);
		b->st->source = UNWIND_SRC_EH_FRAME;
	} else {
		int derr;

		g_array_set_size(b->starts, 0);
		derr = starts_from_debug_frame(b);
		if (derr == -ENOENT)
			return err;
		if (!derr)
			derr = guard(b, ".debug_frame", false);
		if (derr)
			return derr;
		b->dwarf = dwarf_begin_elf(b->elf, DWARF_C_READ, NULL);
		b->cfi = b->dwarf ? dwarf_getcfi(b->dwarf) : NULL;
		b->st->source = UNWIND_SRC_DEBUG_FRAME;
	}
	return b->cfi ? 0 : -EINVAL;
}

static int check_elf(Elf *elf)
{
	GElf_Ehdr eh;
	const char *ident;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -EINVAL;
	ident = elf_getident(elf, NULL);
	/* Register numbers and byte order are x86-64's. */
	if (!ident || ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return -EINVAL;
	return 0;
}

static struct unwind_table *table_from(struct builder *b)
{
	struct unwind_table *t = g_new0(struct unwind_table, 1);

	t->nrows = b->rows->len;
	t->rows = (struct unwind_row *)(void *)g_array_free(b->rows, FALSE);
	t->nrules = b->rules->len;
	t->rules = (struct unwind_rule *)(void *)g_array_free(b->rules, FALSE);
	b->rows = b->rules = NULL;
	return t;
}

int unwind_table__function_starts(Elf *elf, uint64_t **starts, size_t *n)
{
	struct builder b = { .elf = elf };
	int err;

	*starts = NULL;
	*n = 0;
	err = check_elf(elf);
	if (err)
		return err;
	b.starts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	err = starts_from_eh_frame_hdr(&b);
	if (err) {
		g_array_set_size(b.starts, 0);
		err = starts_from_debug_frame(&b);
	}
	if (err) {
		g_array_free(b.starts, TRUE);
		return err;
	}
	sort_starts(b.starts);
	*n = b.starts->len;
	*starts = (uint64_t *)(void *)g_array_free(b.starts, FALSE);
	return 0;
}

int unwind_table__build(Elf *elf, struct unwind_table **tablep, struct unwind_stats *stats)
{
	static const struct unwind_rule none;
	struct unwind_stats dummy = { 0 };
	struct builder b = { .elf = elf, .st = stats ? stats : &dummy };
	int err;

	memset(b.st, 0, sizeof(*b.st));
	*tablep = NULL;
	err = check_elf(elf);
	if (err)
		goto out;
	b.starts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	b.rows = g_array_new(FALSE, FALSE, sizeof(struct unwind_row));
	b.rules = g_array_new(FALSE, FALSE, sizeof(struct unwind_rule));
	b.ids = g_hash_table_new_full(rule_hash, rule_equal, g_free, NULL);
	err = open_cfi(&b);
	if (err)
		goto out;
	sort_starts(b.starts);
	err = rule_id(&b, &none);
	if (!err)
		err = add_rows(&b);
	if (err)
		goto out;
	b.st->rows = b.rows->len;
	b.st->rules = b.rules->len;
	for (guint i = 0; i < b.rows->len; i++)
		b.st->end_rows += g_array_index(b.rows, struct unwind_row, i).flags &
				  UNWIND_ROW_END;
	*tablep = table_from(&b);
out:
	if (err)
		b.st->refused_table = 1;
	if (b.dwarf)
		dwarf_end(b.dwarf);
	else if (b.cfi)
		dwarf_cfi_end(b.cfi);
	if (b.ids)
		g_hash_table_destroy(b.ids);
	if (b.starts)
		g_array_free(b.starts, TRUE);
	if (b.rows)
		g_array_free(b.rows, TRUE);
	if (b.rules)
		g_array_free(b.rules, TRUE);
	return err;
}

int unwind_table__open(const char *path, struct unwind_table **tablep, struct unwind_stats *stats)
{
	Elf *elf;
	int fd, err;

	*tablep = NULL;
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	err = elf ? unwind_table__build(elf, tablep, stats) : -EINVAL;
	elf_end(elf);
	close(fd);
	return err;
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	g_free(t->rows);
	g_free(t->rules);
	g_free(t);
}

const struct unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t vaddr)
{
	uint32_t lo = 0, hi = t->nrows, mid;

	if (vaddr > UINT32_MAX)
		return NULL;
	/* The first row above vaddr: the answer is the one before it. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->rows[mid].elf_vaddr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}
