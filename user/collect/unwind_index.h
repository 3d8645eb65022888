/* SPDX-License-Identifier: MIT */
/*
 * A process's mapping index for the CFI unwinder (struct unwind_proc, include/unwind.h): each
 * executable mapping with its load bias and its object's rows, sorted, bounded. Plain C, no
 * kernel: the loader (unwind_loader.c) fills it from /proc/PID/maps.
 */
#ifndef CONCUR_UNWIND_INDEX_H
#define CONCUR_UNWIND_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "unwind.h"

/* A loadable segment (PT_LOAD): its file offset, ELF address and size in the file. */
struct unwind_seg {
	uint64_t off, vaddr, filesz;
};

/*
 * The load bias of a mapping of an object (run-time address = ELF address + bias), from the
 * segment whose file bytes hold the mapping's offset pgoff (proc(5): the maps line's offset)
 * or the page where it starts (segments are mapped from their page-aligned offset): start -
 * pgoff - (vaddr - off). 0, or -ENOENT when no segment holds pgoff. page: the page size.
 */
int unwind_bias(const struct unwind_seg *segs, size_t n, uint64_t start, uint64_t pgoff,
		uint64_t page, uint64_t *bias);

/*
 * m[0..n) (mappings as read, any order; m is reordered) into out: sorted by start, empty
 * ranges and any mapping overlapping the one before it dropped, at most UNWIND_MAX_MAPPINGS
 * kept (the lowest addresses). Returns how many were left out.
 */
size_t unwind_index_build(struct unwind_mapping *m, size_t n, struct unwind_proc *out);

#endif
