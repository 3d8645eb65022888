// SPDX-License-Identifier: MIT
/*
 * ELF objects' symbols for the symbolizer: each object's loadable segments and its function and
 * data symbols (.symtab, else .dynsym; PLT stubs named by plt.c), aliases ranked, loaded once
 * per (device, inode). The object is the target's, untrusted: a malformed one gives no symbols.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gelf.h>
#include <glib.h>
#include "demangle.h"
#include "plt.h"
#include "strtab.h"
#include "symbolize.h"
#include "symbolize_internal.h"

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Aliases: the one to show last, where find_sym looks (the order decides, not luck). */
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return -strcmp(x->name, y->name);
}

static const char *intern_name(struct symbolizer *s, const char *raw)
{
	char *pretty = demangle(raw);
	const char *name = strtab__intern(s->strs, pretty ? pretty : raw);

	free(pretty);
	return name;
}

int symbolize_read_segments(Elf *elf, struct elf_image *img)
{
	GArray *segs;
	struct seg seg;
	GElf_Phdr ph;
	size_t n, i;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	segs = g_array_new(FALSE, FALSE, sizeof(seg));
	for (i = 0; i < n && segs->len < MAX_SEGS; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		seg = (struct seg){ ph.p_offset, ph.p_filesz, ph.p_vaddr, ph.p_memsz };
		g_array_append_val(segs, seg);
	}
	img->segs = symbolize_take(segs, &img->nsegs);
	return 0;
}

/* Go binaries are static: their runtime shows in a section of their own, kept by strip. */
static bool built_by_go(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".go.buildinfo"))
			return true;
	}
	return false;
}

/* The section holding the symbols: .symtab where present, .dynsym otherwise. */
static Elf_Scn *symbol_section(Elf *elf, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL, *dyn = NULL;
	GElf_Shdr sh, dynsh;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			*out = sh;
			return scn;
		}
		if (sh.sh_type == SHT_DYNSYM && !dyn) {
			dyn = scn;
			dynsh = sh;
		}
	}
	if (dyn)
		*out = dynsh;
	return dyn;
}

/* Sorted by address (GLib's sort is stable), handed over as a plain array. */
struct sym *symbolize_sorted(GArray *syms, GCompareFunc cmp, size_t *n)
{
	g_array_sort(syms, cmp);
	return symbolize_take(syms, n);
}

/*
 * Aliases at one address (Debian's libc: __GI___getpid, __getpid, getpid): the name a
 * programmer calls: not a compatibility version ("memcpy@GLIBC_2.2.5"), fewest leading
 * underscores, then global over weak over local. The vDSO's global names say what they
 * are (__vdso_clock_gettime, its weak alias clock_gettime): binding only, there.
 */
static unsigned int sym_rank(const char *raw, int bind, bool plain_first)
{
	unsigned int under = strspn(raw, "_"), rank = 0;

	if (plain_first)
		rank = (strchr(raw, '@') ? 64 : 0) + (under > 15 ? 15 : under) * 4;
	return rank + (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2);
}

void symbolize_read_symbols(struct symbolizer *s, Elf *elf, struct sym_table *t, bool plain_first)
{
	GElf_Shdr sh;
	Elf_Scn *scn = symbol_section(elf, &sh);
	Elf_Data *data;
	GArray *funcs, *objs;
	size_t i, n;
	GElf_Sym es;
	struct sym sym;
	const char *raw, *at;
	char *plain;
	int type;

	if (!scn || !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return;
	funcs = g_array_new(FALSE, FALSE, sizeof(sym));
	objs = g_array_new(FALSE, FALSE, sizeof(sym));
	n = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < n && funcs->len + objs->len < MAX_SYMS; i++) {
		if (!gelf_getsym(data, i, &es) || !es.st_value || es.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(es.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC &&
		    (type != STT_OBJECT || !es.st_size))
			continue;
		raw = elf_strptr(elf, sh.sh_link, es.st_name);
		if (!raw || !*raw)
			continue;
		/* "clock_nanosleep@@GLIBC_2.17" (a debug file's): the default version is the name. */
		at = strstr(raw, "@@");
		plain = at ? g_strndup(raw, at - raw) : g_strdup(raw);
		sym = (struct sym){ es.st_value, es.st_size, intern_name(s, plain),
				    sym_rank(plain, GELF_ST_BIND(es.st_info), plain_first) };
		g_free(plain);
		g_array_append_val(type == STT_OBJECT ? objs : funcs, sym);
	}
	t->syms = symbolize_sorted(funcs, cmp_sym, &t->nsyms);
	t->dsyms = symbolize_sorted(objs, cmp_sym, &t->ndsyms);
}

/* What plt_stubs__read hands each stub to: where names are interned, where stubs go. */
struct plt_ctx {
	struct symbolizer *s;
	GArray *stubs; /* struct sym */
};

static void add_plt_stub(void *ctx, uint64_t addr, uint64_t size, const char *name)
{
	struct plt_ctx *c = ctx;
	char *buf = g_strdup_printf("%s@plt", name);
	struct sym sym = { addr, size, strtab__intern(c->s->strs, buf), 0 };

	g_free(buf);
	g_array_append_val(c->stubs, sym);
}

/* The object's PLT stubs, named after their targets (no symbol table has them). */
static void read_plt(struct symbolizer *s, Elf *elf, struct elf_image *img)
{
	struct plt_ctx c = { s, g_array_new(FALSE, FALSE, sizeof(struct sym)) };

	plt_stubs__read(elf, add_plt_stub, &c);
	img->plt = symbolize_sorted(c.stubs, symbolize_cmp_addr, &img->nplt);
}

/* Whether the object has a full symbol table of its own (not stripped). */
static bool has_symtab(Elf *elf)
{
	GElf_Shdr sh;

	return symbol_section(elf, &sh) && sh.sh_type == SHT_SYMTAB;
}

static struct elf_image *load_image(struct symbolizer *s, int fd, const struct stat *st,
				    const char *module, const char *dir)
{
	struct elf_image *img = calloc(1, sizeof(*img));
	Elf *elf;

	if (!img)
		return NULL;
	img->dev = st->st_dev;
	img->ino = st->st_ino;
	img->module = module;
	img->dir = dir;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		/* A damaged file keeps whatever could be read: the frames name the module. */
		if (!symbolize_read_segments(elf, img)) {
			symbolize_read_symbols(s, elf, &img->own, true);
			read_plt(s, elf, img);
		}
		img->full = has_symtab(elf);
		if (!img->full)
			debug_ref__read(elf, &img->ref);
		/* Without .symtab, local functions have no symbol: their starts tell them apart. */
		if (!img->full && s->function_starts &&
		    s->function_starts(elf, &img->fstarts, &img->nfstarts))
			img->nfstarts = 0;
		img->go = built_by_go(elf);
	}
	elf_end(elf);
	return img;
}

/* The image behind an open file, loaded once per (device, inode). */
struct elf_image *symbolize_image_for(struct symbolizer *s, int fd, const char *module,
				      const char *dir)
{
	struct elf_image *img;
	struct stat st;
	size_t i;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	for (i = 0; i < s->imgs->len; i++) {
		img = g_ptr_array_index(s->imgs, i);
		if (img->dev == st.st_dev && img->ino == st.st_ino)
			return img;
	}
	img = load_image(s, fd, &st, module, dir);
	if (img)
		g_ptr_array_add(s->imgs, img);
	return img;
}
