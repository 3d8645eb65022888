/* SPDX-License-Identifier: MIT */
#ifndef CONCUR_SYMBOLIZE_H
#define CONCUR_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

struct symbolizer;

/*
 * Names live as long as the symbolizer. A user frame's name is its function's, from the
 * object's symbols or its separate debug file's; "sym+0x1f" a little past the end of the
 * nearest symbol before it (a function none names); else "[libc.so.6]+0x9a8e0", its object
 * and ELF virtual address; a bare "[libc.so.6]" only when the object could not be read.
 */
struct sym_result {
	const char *name;   /* "[unknown]" when unresolved */
	const char *module; /* file name of the object, "[kernel]", "[unknown]" or SYM_NO_MAP */
};

/*
 * The module of a frame that could not be named because no memory map of its process's image
 * was read (it exited, or exec'd, before it could be): "[unknown]" is one outside every
 * mapping read. Bracketed: no file's name.
 */
#define SYM_NO_MAP "[no map]"

/* The image generation a process has now (struct proc_info's gen), or -errno (-ENOENT: no
 * such process is followed). ctx is the caller's. */
typedef int (*symbolizer_gen_fn)(uint32_t pid, void *ctx);

struct symbolizer *symbolizer__new(void);
void symbolizer__free(struct symbolizer *s);
/*
 * The directories separate debug files are looked for under (NULL-terminated, absolute;
 * default /usr/lib/debug), before the first lookup: tests point it at their own. -EINVAL
 * for a relative one.
 */
int symbolizer__set_debug_dirs(struct symbolizer *s, const char *const *dirs);
/*
 * Where a stripped object's functions start (its CFI's FDEs: the unwinder's table builder reads
 * them, collect/unwind_table.h): the starts of elf's functions, ELF virtual addresses, sorted,
 * into *starts (g_free) and *n; 0 or -errno. Set before the first lookup. With it, a frame no
 * symbol covers is named by its own function's start ("[libc.so.6]+0x8b4a0", every sample of
 * that function under one name) instead of after an exported symbol of another function.
 */
typedef int (*function_starts_fn)(Elf *elf, uint64_t **starts, size_t *n);
void symbolizer__set_function_starts(struct symbolizer *s, function_starts_fn fn);
/*
 * Reads the process's memory map and symbol tables now, while it is alive, as the map of the
 * image it runs: gen_of(pid) (NULL: always 0), asked before and after the read. The map
 * replaces that image's previous one. -EAGAIN, nothing kept, when the two answers differ (an
 * exec began meanwhile: the map read may be either image's); gen_of's error; -ENOENT when the
 * process shows no map (it exited: the map read while it lived is kept).
 */
int symbolizer__snapshot(struct symbolizer *s, uint32_t pid, symbolizer_gen_fn gen_of, void *ctx);
/*
 * pid was forked from ppid while ppid ran image pgen: pid's first image (gen 0), until it
 * execs, is a copy of that one, and is named with its map when pid's own was never read (a
 * child that execs at once). 0, or -ENOMEM.
 */
int symbolizer__inherit(struct symbolizer *s, uint32_t pid, uint32_t ppid, uint32_t pgen);
/* Names a user frame of a stack captured while the process ran image gen, with that image's
 * map (see symbolizer__inherit); module SYM_NO_MAP when none was read. */
void symbolizer__user(struct symbolizer *s, uint32_t pid, uint32_t gen, uint64_t ip,
		      struct sym_result *r);
/* Whether ip lies in one of image gen's executable mappings (1) or not (0), as its map was
 * last read; -ENOENT when it was never read. No symbol is looked up. */
int symbolizer__code_at(struct symbolizer *s, uint32_t pid, uint32_t gen, uint64_t ip);
/* The runtime of a process whose map was read (see runtime.h), from its newest image's, or
 * "native"; -ENOENT when its map was never read. */
int symbolizer__runtime(struct symbolizer *s, uint32_t pid, char out[16]);
/*
 * The global variable of a process's mapped objects (its newest image read) that holds addr (a lock, a futex word),
 * and addr's offset into it; -ENOENT when none does. r->module is the object.
 */
int symbolizer__data(struct symbolizer *s, uint32_t pid, uint64_t addr, struct sym_result *r,
		     uint64_t *offset);
/*
 * Where the symbol `name` (a function, or a data object with a size) of the mapped object
 * `module` (its file name, "python3.11") lies in pid, as its map was last read: *addr, and its
 * *size (0 for a function without one). -ENOENT when the object is not mapped or has no such
 * symbol.
 */
int symbolizer__address_of(struct symbolizer *s, uint32_t pid, const char *module, const char *name,
			   uint64_t *addr, uint64_t *size);
void symbolizer__kernel(struct symbolizer *s, uint64_t ip, struct sym_result *r);

#endif
