// SPDX-License-Identifier: MIT
/*
 * The names of an object's PLT stubs, from its GOT relocations (plt.h). Everything read comes
 * from the target's files: counts are bounded, every section's data is read through libelf
 * (which refuses ranges past the file) and every stub only within its own bytes.
 */
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>
#include "plt.h"

/* A GOT slot and the .dynsym name its relocation fills it with. */
struct slot {
	uint64_t got;
	const char *name;
};

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	return x->got < y->got ? -1 : x->got > y->got;
}

static const char *section_name(Elf *elf, size_t shstrndx, const GElf_Shdr *sh)
{
	const char *name = elf_strptr(elf, shstrndx, sh->sh_name);

	return name ? name : "";
}

/* The .dynsym section's index, and its string table's; -ENOENT when there is none. */
static int find_dynsym(Elf *elf, size_t *ndx, size_t *strndx, Elf_Data **data, size_t *nsyms)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		*data = elf_getdata(scn, NULL);
		if (!*data)
			return -ENOENT;
		*ndx = elf_ndxscn(scn);
		*strndx = sh.sh_link;
		*nsyms = (*data)->d_size / sh.sh_entsize;
		return 0;
	}
	return -ENOENT;
}

/* The GOT slots the dynamic linker fills with a named function's address, sorted. */
static GArray *read_slots(Elf *elf)
{
	size_t dynndx, strndx, nsyms, i, n, total = 0;
	Elf_Data *syms, *data;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Rela rela;
	GElf_Sym sym;
	struct slot slot;
	GArray *slots;
	unsigned long type, symi;

	if (find_dynsym(elf, &dynndx, &strndx, &syms, &nsyms))
		return NULL;
	slots = g_array_new(FALSE, FALSE, sizeof(slot));
	while ((scn = elf_nextscn(elf, scn)) && total < PLT_MAX_RELOCS) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_link != dynndx ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		/* gelf_getrela checks each index against the data it was given. */
		n = data->d_size / sizeof(Elf64_Rela);
		for (i = 0; i < n && total < PLT_MAX_RELOCS; i++, total++) {
			if (!gelf_getrela(data, (int)i, &rela))
				break;
			type = GELF_R_TYPE(rela.r_info);
			symi = GELF_R_SYM(rela.r_info);
			if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !symi ||
			    symi >= nsyms || !gelf_getsym(syms, (int)symi, &sym))
				continue;
			slot.name = elf_strptr(elf, strndx, sym.st_name);
			if (!slot.name || !*slot.name)
				continue;
			slot.got = rela.r_offset;
			g_array_append_val(slots, slot);
		}
	}
	g_array_sort(slots, cmp_slot);
	return slots;
}

static const char *slot_name(const GArray *slots, uint64_t got)
{
	struct slot key = { got, NULL };
	const struct slot *hit = bsearch(&key, slots->data, slots->len, sizeof(key), cmp_slot);

	return hit ? hit->name : NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The GOT slot a stub of `size` bytes at addr jumps through: [endbr64] [bnd] jmp *disp32(%rip),
 * the forms binutils and lld emit (PLT0 and lazy IBT stubs push instead: none).
 */
static bool stub_slot(const uint8_t *p, uint64_t size, uint64_t addr, uint64_t *got)
{
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	uint64_t k = 0;

	if (size >= sizeof(endbr64) && !memcmp(p, endbr64, sizeof(endbr64)))
		k = sizeof(endbr64);
	if (k < size && p[k] == 0xf2)
		k++;
	if (k + 6 > size || p[k] != 0xff || p[k + 1] != 0x25)
		return false;
	/* rip-relative: from the end of the 6-byte jump; wraps like the CPU does. */
	*got = addr + k + 6 + (uint64_t)(int64_t)(int32_t)le32(p + k + 2);
	return true;
}

/* Stub size: the section's entry size when it is one binutils or lld uses, else its layout's. */
static uint64_t stub_size(const char *name, const GElf_Shdr *sh)
{
	if (sh->sh_entsize == 8 || sh->sh_entsize == 16)
		return sh->sh_entsize;
	return strcmp(name, ".plt.got") ? 16 : 8;
}

/* Names the stubs of one PLT section; *named counts them over all sections, up to the bound. */
static void read_section(Elf_Scn *scn, const GElf_Shdr *sh, const char *name, const GArray *slots,
			 plt_stub_fn fn, void *ctx, size_t *named)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	uint64_t size = stub_size(name, sh), got, i, n;
	const char *target;

	if (!data || !data->d_buf)
		return;
	n = data->d_size / size;
	if (sh->sh_size / size < n)
		n = sh->sh_size / size;
	for (i = 0; i < n && *named < PLT_MAX_STUBS; i++) {
		const uint8_t *p = (const uint8_t *)data->d_buf + i * size;
		uint64_t addr = sh->sh_addr + i * size;

		if (!stub_slot(p, size, addr, &got) || !(target = slot_name(slots, got)))
			continue;
		fn(ctx, addr, size, target);
		(*named)++;
	}
}

int plt_stubs__read(Elf *elf, plt_stub_fn fn, void *ctx)
{
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Scn *scn = NULL;
	GArray *slots;
	size_t shstrndx, named = 0;
	const char *name;

	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 ||
	    gelf_getclass(elf) != ELFCLASS64)
		return -ENOTSUP;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	slots = read_slots(elf);
	if (!slots)
		return 0;
	while (slots->len && (scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		name = section_name(elf, shstrndx, &sh);
		if (!strcmp(name, ".plt") || !strcmp(name, ".plt.sec") || !strcmp(name, ".plt.got"))
			read_section(scn, &sh, name, slots, fn, ctx, &named);
	}
	g_array_free(slots, TRUE);
	return (int)named;
}
