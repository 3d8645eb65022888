/* SPDX-License-Identifier: MIT */
/*
 * Where to hook the dynamic loader (bpf/loader.bpf.c): the loader an executable names
 * (PT_INTERP, for concur itself: the system's), and the ELF addresses in it of the debugger
 * hook _dl_debug_state() and of _r_debug, whose r_state says what the hook reports
 * (glibc's <link.h>).
 */
#ifndef CONCUR_LOADER_PROBE_H
#define CONCUR_LOADER_PROBE_H

#include <stdint.h>

struct loader_probe {
	char path[256];		  /* the loader's file, as PT_INTERP names it */
	uint64_t debug_state_off; /* ELF address of _dl_debug_state */
	uint64_t r_debug_off;	  /* ELF address of _r_debug; 0: not found */
};

/*
 * Reads exe's PT_INTERP, then that loader's dynamic (or full) symbol table. 0; -ENOENT when
 * exe has no loader (static) or the loader has no _dl_debug_state (not glibc's); -EINVAL for
 * an unreadable or malformed file; -ENAMETOOLONG for a path longer than path[].
 */
int loader_probe_find(const char *exe, struct loader_probe *lp);

#endif
