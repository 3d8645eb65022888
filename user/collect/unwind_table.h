/* SPDX-License-Identifier: MIT */
/*
 * The native unwinder's table of one ELF object, built from its CFI with elfutils libdw:
 * .eh_frame (the LSB's format, FDEs found through .eh_frame_hdr's sorted table), or
 * .debug_frame (DWARF 5 §6.4) when the object has no indexed .eh_frame. Row and rule shapes are
 * in include/unwind.h. Everything read from the file is untrusted.
 */
#ifndef CONCUR_UNWIND_TABLE_H
#define CONCUR_UNWIND_TABLE_H

#include <libelf.h>
#include <stdint.h>

#include "unwind.h"

/* Which CFI a table came from. */
enum unwind_source {
	UNWIND_SRC_NONE = 0,
	UNWIND_SRC_EH_FRAME,
	UNWIND_SRC_DEBUG_FRAME,
};

/* Per object; counts of rows are before merging unless said otherwise. */
struct unwind_stats {
	uint32_t source;	/* enum unwind_source */
	uint32_t fdes;		/* FDEs turned into rows */
	uint32_t rows;		/* rows in the table (merged, END rows included) */
	uint32_t end_rows;	/* gaps */
	uint32_t rules;		/* distinct rules, rule 0 included */
	uint32_t cfi_rows;	/* CFI rows classified (libdw's rows, before merging) */
	uint32_t invalid_rows;	/* CFA or return address not representable */
	uint32_t approx_rows;	/* rbp recovery not representable: taken as unchanged */
	uint32_t stop_rows;	/* return address undefined */
	uint32_t ra_reg_rows;	/* return address in a register */
	uint32_t signal_rows;	/* signal frames */
	uint32_t refused_fdes;	/* FDEs skipped: overlapping, beyond 4 GiB, unreadable rows */
	uint32_t refused_table; /* 1 when the whole object was refused (limits, no CFI) */
};

struct unwind_table {
	struct unwind_row *rows; /* sorted by elf_vaddr, strictly increasing */
	uint32_t nrows;
	struct unwind_rule *rules; /* rules[0] is UNWIND_RULE_NONE's */
	uint32_t nrules;
};

/* Builds the table of an ELF object (the caller keeps `elf`). *tablep is set on success; stats
 * (optional) are filled in either way. Errors: -ENOENT no usable CFI (no .eh_frame with an
 * index, no .debug_frame), -EINVAL not an ELF object or malformed CFI headers, -E2BIG over
 * UNWIND_MAX_FDES/ROWS/RULES, -ENOMEM. */
int unwind_table__build(Elf *elf, struct unwind_table **tablep, struct unwind_stats *stats);

/* The same from a file's path. Errors as above and open(2)'s. */
int unwind_table__open(const char *path, struct unwind_table **tablep, struct unwind_stats *stats);

void unwind_table__free(struct unwind_table *t);

/*
 * The functions' starts of an ELF object (its FDEs' initial locations, ELF virtual addresses),
 * sorted and distinct, into *starts (g_free) and *n: .eh_frame_hdr's search table, else a walk
 * of .debug_frame; no CFI program is run. 0, -ENOENT without either, -EINVAL when malformed,
 * -E2BIG over UNWIND_MAX_FDES. A symbolizer's function_starts_fn (profile/symbolize.h).
 */
int unwind_table__function_starts(Elf *elf, uint64_t **starts, size_t *n);

/* The row covering ELF address `vaddr` (the last row at or before it), by binary search as the
 * BPF side will do; NULL before the first row or beyond 4 GiB. An END row means no CFI there. */
const struct unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t vaddr);

/* The rule of a row (rule 0 for an END row). */
static inline const struct unwind_rule *unwind_table__rule(const struct unwind_table *t,
							   const struct unwind_row *row)
{
	return &t->rules[row->rule < t->nrules ? row->rule : UNWIND_RULE_NONE];
}

#endif
