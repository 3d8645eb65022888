/* SPDX-License-Identifier: MIT */
/* What the symbolizer's files share: its tables, and the helpers the maps reader uses. */
#ifndef CONCUR_SYMBOLIZE_INTERNAL_H
#define CONCUR_SYMBOLIZE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <gelf.h>
#include <glib.h>
#include "debuginfo.h"
#include "symbolize.h"

/* Bounds on what a hostile ELF file can make us allocate. */
#define MAX_SYMS     (16u << 20)
#define MAX_SEGS     64
#define MAX_MAPPINGS 65536
#define MAX_VDSO     (1u << 20)
/* A frame this close past the end of the symbol before it is named "sym+0xOFF": most likely
 * a hidden function of the same source file; farther, the object and address say more. */
#define NEAR_SYM_GAP 4096

struct seg {
	uint64_t off, filesz, vaddr, memsz;
};

struct sym {
	uint64_t addr, size;
	const char *name;
	unsigned int rank; /* among aliases at one address, the lowest is shown (see sym_rank) */
};

struct sym_table {
	struct sym *syms; /* functions */
	size_t nsyms;
	struct sym *dsyms; /* data objects, with their sizes */
	size_t ndsyms;
};

struct elf_image {
	dev_t dev;
	ino_t ino;
	const char *module;
	const char *dir; /* the object's directory as the target sees it; NULL: not searched */
	struct seg *segs;
	size_t nsegs;
	struct sym_table own;	 /* from the object: .symtab, else .dynsym */
	bool full;		 /* own is a .symtab: no debug file needed */
	struct debug_ref ref;	 /* where its debug file is */
	bool debug_tried;	 /* looked for it (on the first frame in the object) */
	struct sym_table *debug; /* the debug file's .symtab; NULL: none found */
	bool go;		 /* built by Go: it has the toolchain's .go.buildinfo section */
	struct sym *plt;	 /* its PLT stubs, "puts@plt", sorted (plt.h); named first */
	size_t nplt;
	uint64_t *fstarts; /* stripped: its functions' starts (FDEs), sorted; NULL: unknown */
	size_t nfstarts;
};

struct mapping {
	uint64_t start, end, pgoff;
	struct elf_image *img; /* NULL: could not be opened */
	const char *module;
	const char *bracketed; /* "[module]" */
};

/* Where a forked child's first image came from (symbolizer__inherit). */
struct fork_origin {
	uint32_t ppid, pgen;
};

/* One image of a process: its executable mappings as read (a value of symbolizer.maps). */
struct proc_maps {
	struct mapping *maps;
	size_t n;
};

struct symbolizer {
	struct strtab *strs;
	GPtrArray *imgs;       /* struct elf_image *, each loaded once */
	struct mapgens *maps;  /* struct proc_maps * by process and image generation */
	struct mapgens *forks; /* struct fork_origin * by child pid (gen 0) */
	struct sym *ksyms;
	size_t nksyms;
	bool kernel_loaded;
	const char *unknown, *kernel_module, *no_map;
	struct elf_image *vdso;
	char *vdso_bytes;
	char **debug_dirs;	 /* the roots debug files are looked for under */
	GHashTable *debug_by_id; /* build-id in hex → struct sym_table *, NULL when none found */
	GPtrArray *debug_tabs;	 /* struct sym_table *, each owned here */
	function_starts_fn function_starts; /* NULL: frames past a symbol go by NEAR_SYM_GAP */
};

/* qsort/GLib order of struct sym by address. */
int symbolize_cmp_addr(const void *a, const void *b);
/* syms sorted by cmp (GLib's sort is stable), handed over as a plain array of *n. */
struct sym *symbolize_sorted(GArray *syms, GCompareFunc cmp, size_t *n);
/* Hands a GArray's elements over as a plain array: *n of them, g_free to free. */
void *symbolize_take(GArray *a, size_t *n);
/* The map of pid's image gen: its own, or for a first image never read, its parent's. */
const struct proc_maps *symbolize_image_maps(const struct symbolizer *s, uint32_t pid,
					     uint32_t gen);
/* The loadable segments of elf into img; 0, or -EINVAL for none / too many. */
int symbolize_read_segments(Elf *elf, struct elf_image *img);
/* The function and data symbols of elf (.symtab, else .dynsym) into t, sorted. */
void symbolize_read_symbols(struct symbolizer *s, Elf *elf, struct sym_table *t, bool plain_first);
/* The image behind an open file, loaded once per (device, inode); NULL when unreadable. */
struct elf_image *symbolize_image_for(struct symbolizer *s, int fd, const char *module,
				      const char *dir);

#endif
