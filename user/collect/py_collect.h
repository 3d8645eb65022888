/* SPDX-License-Identifier: MIT */
/*
 * CPython processes on the collect side: which ones the BPF walker may read (py_procs), their
 * code objects read while they live, and the Python frames of a stack named at the end.
 */
#ifndef CONCUR_PYFRAMES_COLLECT_H
#define CONCUR_PYFRAMES_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pyframes.h"
#include "profile/profile.h"

struct symbolizer;
struct pyframes;

/* The BPF maps it reads and writes: py_procs, pystacks; procs_any: the probes' py_procs_any
 * (their .bss), set to 1 once py_procs has an entry. */
struct pyframes *pyframes__new(int procs_fd, int stacks_fd, volatile uint32_t *procs_any);
void pyframes__free(struct pyframes *pf);

/*
 * After pid's memory map was read: when it runs a CPython with a known layout, its py_procs
 * entry (once; one that could not be set up, e.g. seen before libpython was mapped, is tried
 * again at the next read). A CPython without a layout gets a warning, once. 0, or a negative
 * errno for a process that is not CPython's or that could not be set up (the reason at -vv).
 */
int pyframes__note_proc(struct pyframes *pf, struct symbolizer *sym, uint32_t pid);

/* A frame list seen for the first time (BPF's py_event): its code objects are read now. */
void pyframes__resolve(struct pyframes *pf, uint32_t pid, uint64_t pystack);

/* One Python frame as the report shows it. */
struct pyframe_name {
	const char *name;   /* "qualname (file.py:line)", "[python]"; owned by pf */
	const char *module; /* the interpreter's: "python3.11" */
	const char *file;   /* the code object's co_filename (whole); NULL for "[python]" */
	uint32_t line;	    /* 0: unknown */
	uint64_t code;	    /* the code object's address, for the frame's ip */
	bool entry;
};

/*
 * The Python frames of pystack in pid, leaf first, into out (room for CONCUR_PY_MAX_FRAMES);
 * returns how many (0: none, or the list is gone). *truncated: the walker stopped at its limit.
 * Code objects not read yet are read now if the process lives, else named "[python]".
 */
size_t pyframes__frames(struct pyframes *pf, uint32_t pid, uint64_t pystack,
			struct pyframe_name *out, bool *truncated);

/* Counts for the profile: frames named "[python]", and stacks by how they merged. */
struct pyframes_counts {
	uint64_t unresolved, rooted, mismatched, spliced;
};
struct pyframes_counts *pyframes__counts(struct pyframes *pf);

/*
 * The walker's counters (py_stats, summed over CPUs) and these counts into out (enum
 * py_count, the profile's py[]), and in one line at -v.
 */
void pyframes__collect(struct pyframes *pf, int py_stats_fd, uint64_t out[PYC_MAX]);

#endif
