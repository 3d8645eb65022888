// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>
#include "loader_probe.h"

/* exe's PT_INTERP into out (NUL-terminated, bounded). */
static int read_interp(Elf *elf, int fd, char *out, size_t size)
{
	GElf_Phdr ph;
	size_t i, n;
	ssize_t got;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz < 2)
			return -EINVAL;
		if (ph.p_filesz > size)
			return -ENAMETOOLONG;
		got = pread(fd, out, ph.p_filesz, (off_t)ph.p_offset);
		if (got != (ssize_t)ph.p_filesz || out[ph.p_filesz - 1] != '\0')
			return -EINVAL;
		return out[0] == '/' ? 0 : -EINVAL;
	}
	return -ENOENT;
}

/* The two symbols in the symbol section of type `type` (SHT_DYNSYM or SHT_SYMTAB). */
static void find_syms(Elf *elf, Elf64_Word type, struct loader_probe *lp)
{
	Elf_Scn *scn = NULL;
	const char *name;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t i, n;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; data && i < n; i++) {
			if (!gelf_getsym(data, (int)i, &sym) || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			if (GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
			    !strcmp(name, "_dl_debug_state"))
				lp->debug_state_off = sym.st_value;
			else if (GELF_ST_TYPE(sym.st_info) == STT_OBJECT &&
				 !strcmp(name, "_r_debug"))
				lp->r_debug_off = sym.st_value;
		}
	}
}

static Elf *open_elf(const char *path, int *fd)
{
	Elf *elf;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		close(*fd);
		return NULL;
	}
	return elf;
}

int loader_probe_find(const char *exe, struct loader_probe *lp)
{
	Elf *elf;
	int fd, err;

	memset(lp, 0, sizeof(*lp));
	elf_version(EV_CURRENT);
	elf = open_elf(exe, &fd);
	if (!elf)
		return -EINVAL;
	err = read_interp(elf, fd, lp->path, sizeof(lp->path));
	elf_end(elf);
	close(fd);
	if (err)
		return err;
	elf = open_elf(lp->path, &fd);
	if (!elf)
		return -EINVAL;
	find_syms(elf, SHT_DYNSYM, lp);
	if (!lp->debug_state_off)
		find_syms(elf, SHT_SYMTAB, lp);
	elf_end(elf);
	close(fd);
	return lp->debug_state_off ? 0 : -ENOENT;
}
