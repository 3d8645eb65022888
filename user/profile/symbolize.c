// SPDX-License-Identifier: MIT
/*
 * Addresses → function names. User frames through the target's memory map (read in
 * symbolize_maps.c) and the ELF objects it maps (read in symbolize_elf.c, opened through
 * /proc/PID/map_files so deleted files and other mount namespaces work); kernel frames
 * through /proc/kallsyms.
 *
 * Stripped objects (most of a distribution's) are named from their separate debug files
 * (debuginfo.c) when installed, loaded only for objects that have frames, once per build-id.
 * A frame no symbol covers is named after the nearest symbol before it when close
 * ("sym+0x1f", from the symbol's start), else after its object and its ELF virtual address
 * ("[libc.so.6]+0x9a8e0", the virtual address objdump and addr2line take).
 *
 * Everything here comes from the target and is untrusted: objects are only ever opened for
 * reading under /proc/PID/ (debug files as debuginfo.c says), and a malformed ELF file yields
 * no symbols, not a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <glib.h>
#include "mapgens.h"
#include "runtime.h"
#include "strtab.h"
#include "symbolize.h"
#include "symbolize_internal.h"

int symbolize_cmp_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void free_table(struct sym_table *t)
{
	if (!t)
		return;
	g_free(t->syms);
	g_free(t->dsyms);
}

static void free_debug_table(void *arg)
{
	free_table(arg);
	free(arg);
}

static void free_proc_maps(void *arg)
{
	struct proc_maps *pm = arg;

	if (pm)
		g_free(pm->maps);
	free(pm);
}

static void free_image(void *arg)
{
	struct elf_image *img = arg;

	if (!img)
		return;
	g_free(img->segs);
	g_free(img->plt);
	g_free(img->fstarts);
	free_table(&img->own);
	free(img);
}

struct symbolizer *symbolizer__new(void)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->strs = strtab__new();
	s->imgs = g_ptr_array_new_with_free_func(free_image);
	s->maps = mapgens__new(free_proc_maps);
	s->forks = mapgens__new(free);
	s->unknown = strtab__intern(s->strs, "[unknown]");
	s->no_map = strtab__intern(s->strs, SYM_NO_MAP);
	s->kernel_module = strtab__intern(s->strs, "[kernel]");
	s->debug_dirs = g_strdupv((char *[]){ "/usr/lib/debug", NULL });
	s->debug_by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s->debug_tabs = g_ptr_array_new_with_free_func(free_debug_table);
	elf_version(EV_CURRENT);
	return s;
}

void symbolizer__set_function_starts(struct symbolizer *s, function_starts_fn fn)
{
	s->function_starts = fn;
}

int symbolizer__set_debug_dirs(struct symbolizer *s, const char *const *dirs)
{
	size_t i;

	for (i = 0; dirs[i]; i++)
		if (dirs[i][0] != '/')
			return -EINVAL;
	g_strfreev(s->debug_dirs);
	s->debug_dirs = g_strdupv((char **)dirs);
	return 0;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	g_ptr_array_unref(s->imgs);
	mapgens__free(s->maps);
	mapgens__free(s->forks);
	g_free(s->ksyms);
	free_image(s->vdso);
	free(s->vdso_bytes);
	g_strfreev(s->debug_dirs);
	g_hash_table_destroy(s->debug_by_id);
	g_ptr_array_unref(s->debug_tabs);
	strtab__free(s->strs);
	free(s);
}

/* A GArray's elements, handed over as a plain array to free with g_free(). */
void *symbolize_take(GArray *a, size_t *n)
{
	*n = a->len;
	return g_array_free(a, FALSE);
}

/* The last symbol at or before addr, whatever its size. */
static const struct sym *sym_before(const struct sym *syms, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &syms[lo - 1] : NULL;
}

/* The symbol covering addr; one of unknown size covers up to the next. */
static const struct sym *find_sym(const struct sym *syms, size_t n, uint64_t addr)
{
	const struct sym *sym = sym_before(syms, n, addr);

	if (sym && sym->size && addr - sym->addr >= sym->size)
		return NULL;
	return sym;
}

/* File offset → the address the ELF file's symbols use. */
static bool to_vaddr(const struct elf_image *img, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < img->nsegs; i++) {
		if (off >= img->segs[i].off && off < img->segs[i].off + img->segs[i].filesz) {
			*vaddr = off - img->segs[i].off + img->segs[i].vaddr;
			return true;
		}
	}
	return false;
}

int symbolizer__runtime(struct symbolizer *s, uint32_t pid, char out[RUNTIME_LEN])
{
	struct proc_maps *pm = mapgens__latest(s->maps, pid, NULL);
	size_t i;

	if (!pm)
		return -ENOENT;
	for (i = 0; i < pm->n; i++)
		if (runtime_of_module(pm->maps[i].module, out))
			return 0;
	for (i = 0; i < pm->n; i++)
		if (pm->maps[i].img && pm->maps[i].img->go) {
			snprintf(out, RUNTIME_LEN, "Go");
			return 0;
		}
	snprintf(out, RUNTIME_LEN, "native");
	return 0;
}

/* An object's debug file's symbols, read once per build-id; NULL when none is found. */
static struct sym_table *load_debug_table(struct symbolizer *s, const struct elf_image *img)
{
	struct sym_table *t = NULL;
	Elf *elf = NULL;
	int fd;

	fd = debug_file__open(&img->ref, (const char *const *)s->debug_dirs, img->dir);
	if (fd < 0)
		return NULL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && (t = calloc(1, sizeof(*t)))) {
		symbolize_read_symbols(s, elf, t, true);
		if (t->nsyms) {
			g_ptr_array_add(s->debug_tabs, t);
		} else {
			free_debug_table(t);
			t = NULL;
		}
	}
	elf_end(elf);
	close(fd);
	return t;
}

static struct sym_table *debug_table(struct symbolizer *s, const struct elf_image *img)
{
	char hex[2 * BUILD_ID_MAX + 1];
	struct sym_table *t;
	gpointer found;
	size_t i;

	if (!img->ref.build_id_len)
		return load_debug_table(s, img);
	for (i = 0; i < img->ref.build_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", img->ref.build_id[i]);
	if (g_hash_table_lookup_extended(s->debug_by_id, hex, NULL, &found))
		return found;
	t = load_debug_table(s, img);
	g_hash_table_insert(s->debug_by_id, g_strdup(hex), t);
	return t;
}

/* The symbols to name img's addresses by: its debug file's when it is stripped and has one. */
static const struct sym_table *image_table(struct symbolizer *s, struct elf_image *img)
{
	if (!img->full && !img->debug_tried) {
		img->debug_tried = true;
		img->debug = debug_table(s, img);
	}
	return img->debug ? img->debug : &img->own;
}

/* The symbol covering vaddr; else the one just before it, plus the offset; else the object. */
/* The start of the function holding vaddr, by the object's FDEs; 0 when unknown. */
static uint64_t function_start(const struct elf_image *img, uint64_t vaddr)
{
	size_t lo = 0, hi = img->nfstarts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (img->fstarts[mid] <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? img->fstarts[lo - 1] : 0;
}

/*
 * A frame no symbol covers: its own function, when the CFI says it starts past the nearest
 * symbol ("[obj]+0xSTART": that function's samples together, another's name not borrowed);
 * else near a symbol "sym+0xOFF", else "[obj]+0xADDR".
 */
static const char *frame_name(struct symbolizer *s, const struct mapping *m, uint64_t vaddr)
{
	const struct sym *stub = find_sym(m->img->plt, m->img->nplt, vaddr);
	const struct sym_table *t = image_table(s, m->img);
	const struct sym *sym = sym_before(t->syms, t->nsyms, vaddr);
	const char *name;
	uint64_t start;
	char *buf;

	/* No symbol covers a PLT stub: the nearest before it would be _init's. */
	if (stub)
		return stub->name;
	if (sym && (!sym->size || vaddr - sym->addr < sym->size))
		return sym->name;
	start = function_start(m->img, vaddr);
	if (start && (!sym || start > sym->addr))
		buf = g_strdup_printf("%s+0x%llx", m->bracketed, (unsigned long long)start);
	else if (sym && vaddr - sym->addr - sym->size < NEAR_SYM_GAP)
		buf = g_strdup_printf("%s+0x%llx", sym->name,
				      (unsigned long long)(vaddr - sym->addr));
	else
		buf = g_strdup_printf("%s+0x%llx", m->bracketed, (unsigned long long)vaddr);
	name = strtab__intern(s->strs, buf);
	g_free(buf);
	return name;
}

/* The executable mapping of pm holding ip; NULL when none (or no map: pm NULL). */
static const struct mapping *mapping_at(const struct proc_maps *pm, uint64_t ip)
{
	size_t i;

	for (i = 0; pm && i < pm->n; i++)
		if (ip >= pm->maps[i].start && ip < pm->maps[i].end)
			return &pm->maps[i];
	return NULL;
}

void symbolizer__user(struct symbolizer *s, uint32_t pid, uint32_t gen, uint64_t ip,
		      struct sym_result *r)
{
	const struct proc_maps *pm = symbolize_image_maps(s, pid, gen);
	const struct mapping *m = mapping_at(pm, ip);
	uint64_t vaddr;

	r->name = s->unknown;
	r->module = pm ? s->unknown : s->no_map;
	if (!m)
		return;
	r->module = m->module;
	/* An object that could not be read has no addresses of its own: only its name. */
	r->name = m->bracketed;
	if (m->img && to_vaddr(m->img, ip - m->start + m->pgoff, &vaddr))
		r->name = frame_name(s, m, vaddr);
}

int symbolizer__code_at(struct symbolizer *s, uint32_t pid, uint32_t gen, uint64_t ip)
{
	const struct proc_maps *pm = symbolize_image_maps(s, pid, gen);

	return pm ? mapping_at(pm, ip) != NULL : -ENOENT;
}

/*
 * Where an object's addresses are in the process: its executable mapping says. Data lies in
 * the object's other segments (.bss past the file's end included), at the same offset.
 */
static bool load_bias(const struct mapping *m, uint64_t *bias)
{
	uint64_t vaddr;

	if (!m->img || !to_vaddr(m->img, m->pgoff, &vaddr))
		return false;
	*bias = m->start - vaddr;
	return true;
}

static bool in_segment(const struct elf_image *img, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < img->nsegs; i++)
		if (vaddr >= img->segs[i].vaddr && vaddr - img->segs[i].vaddr < img->segs[i].memsz)
			return true;
	return false;
}

int symbolizer__data(struct symbolizer *s, uint32_t pid, uint64_t addr, struct sym_result *r,
		     uint64_t *offset)
{
	struct proc_maps *pm = mapgens__latest(s->maps, pid, NULL);
	const struct sym_table *t;
	const struct sym *sym;
	uint64_t bias, vaddr;
	size_t i;

	for (i = 0; pm && i < pm->n; i++) {
		const struct mapping *m = &pm->maps[i];

		if (!load_bias(m, &bias) || addr < bias)
			continue;
		vaddr = addr - bias;
		if (!in_segment(m->img, vaddr))
			continue;
		t = image_table(s, m->img);
		sym = find_sym(t->dsyms, t->ndsyms, vaddr);
		if (!sym || vaddr >= sym->addr + sym->size)
			return -ENOENT;
		r->name = sym->name;
		r->module = m->module;
		*offset = vaddr - sym->addr;
		return 0;
	}
	return -ENOENT;
}

/* A symbol by name in a sorted table: a linear pass (one look-up per process). */
static const struct sym *sym_named(const struct sym *syms, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(syms[i].name, name))
			return &syms[i];
	return NULL;
}

int symbolizer__address_of(struct symbolizer *s, uint32_t pid, const char *module, const char *name,
			   uint64_t *addr, uint64_t *size)
{
	struct proc_maps *pm = mapgens__latest(s->maps, pid, NULL);
	const struct sym_table *t;
	const struct sym *sym;
	uint64_t bias;
	size_t i;

	for (i = 0; pm && i < pm->n; i++) {
		const struct mapping *m = &pm->maps[i];

		if (strcmp(m->module, module) || !load_bias(m, &bias))
			continue;
		t = image_table(s, m->img);
		sym = sym_named(t->dsyms, t->ndsyms, name);
		if (!sym)
			sym = sym_named(t->syms, t->nsyms, name);
		if (!sym)
			return -ENOENT;
		*addr = sym->addr + bias;
		*size = sym->size;
		return 0;
	}
	return -ENOENT;
}

static int load_kallsyms(struct symbolizer *s)
{
	unsigned long long addr;
	char type, name[256], *line = NULL;
	struct sym sym;
	GArray *syms;
	size_t len = 0;
	FILE *f;

	s->kernel_loaded = true;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	syms = g_array_new(FALSE, FALSE, sizeof(sym));
	while (getline(&line, &len, f) > 0) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		sym = (struct sym){ addr, 0, strtab__intern(s->strs, name), 0 };
		g_array_append_val(syms, sym);
	}
	free(line);
	fclose(f);
	/* Aliases keep /proc/kallsyms' order: the last one listed is shown. */
	s->ksyms = symbolize_sorted(syms, symbolize_cmp_addr, &s->nksyms);
	return 0;
}

void symbolizer__kernel(struct symbolizer *s, uint64_t ip, struct sym_result *r)
{
	const struct sym *sym;

	if (!s->kernel_loaded)
		load_kallsyms(s);
	sym = find_sym(s->ksyms, s->nksyms, ip);
	r->name = sym ? sym->name : s->unknown;
	r->module = s->kernel_module;
}
