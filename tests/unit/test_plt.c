// SPDX-License-Identifier: MIT
/*
 * PLT stub names (plt.c) on small programs the build links in each x86-64 PLT layout
 * (tests/unit/elf/plt.c), checked against objdump's names for the same stubs; the same files
 * damaged; and the symbolizer naming a stub of this test binary.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <libelf.h>
#include "profile/plt.h"
#include "profile/symbolize.h"

struct stub {
	uint64_t addr, size;
	char name[64];
};

static void collect(void *ctx, uint64_t addr, uint64_t size, const char *name)
{
	struct stub st = { addr, size, "" };

	snprintf(st.name, sizeof(st.name), "%s@plt", name);
	g_array_append_val((GArray *)ctx, st);
}

static char *slurp(const char *path, size_t *len)
{
	gchar *buf;
	gsize n;

	cr_assert(g_file_get_contents(path, &buf, &n, NULL), "%s: built by the Makefile", path);
	*len = n;
	return buf;
}

/* The stubs plt_stubs__read names in an ELF image held in memory; *rc its return. */
static GArray *stubs_of(char *bytes, size_t len, int *rc)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct stub));
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_memory(bytes, len);
	*rc = elf ? plt_stubs__read(elf, collect, a) : -EINVAL;
	elf_end(elf);
	return a;
}

/* A section header of an ELF64 image in memory, by name: raw bytes, as an attacker writes them. */
static Elf64_Shdr *raw_section(char *bytes, size_t len, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)bytes;
	Elf64_Shdr *sh, *strs;
	size_t i;

	cr_assert(len >= sizeof(*eh) && eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) <= len);
	sh = (Elf64_Shdr *)(bytes + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	for (i = 0; i < eh->e_shnum; i++)
		if (strs->sh_offset + sh[i].sh_name < len &&
		    !strcmp(bytes + strs->sh_offset + sh[i].sh_name, name))
			return &sh[i];
	return NULL;
}

/* The stubs named in plt-VARIANT are objdump's; those of .plt.got are got_size bytes, others 16. */
static void expect_as_objdump(const char *variant, uint64_t got_size)
{
	char path[512], *bytes, *ref, *line, *save = NULL;
	size_t len, reflen, i, nref = 0;
	Elf64_Shdr *pltgot;
	GArray *got;
	int rc;

	snprintf(path, sizeof(path), "%s/plt-%s", TEST_ELF_DIR, variant);
	bytes = slurp(path, &len);
	got = stubs_of(bytes, len, &rc);
	cr_assert_eq(rc, (int)got->len);
	snprintf(path, sizeof(path), "%s/plt-%s.plt", TEST_ELF_DIR, variant);
	ref = slurp(path, &reflen);
	for (line = strtok_r(ref, "\n", &save); line; line = strtok_r(NULL, "\n", &save), nref++) {
		unsigned long long addr;
		char name[64];
		bool found = false;

		cr_assert_eq(sscanf(line, "%llx %63s", &addr, name), 2);
		for (i = 0; i < got->len; i++) {
			struct stub *st = &g_array_index(got, struct stub, i);

			if (st->addr == addr) {
				cr_expect_str_eq(st->name, name, "%s at 0x%llx", variant, addr);
				found = true;
			}
		}
		cr_expect(found, "%s: objdump's %s at 0x%llx not named", variant, name, addr);
	}
	cr_expect_eq(got->len, nref, "%s: %u stubs named, objdump names %zu", variant, got->len,
		     nref);
	pltgot = raw_section(bytes, len, ".plt.got");
	for (i = 0; i < got->len; i++) {
		struct stub *st = &g_array_index(got, struct stub, i);
		bool in_got = pltgot && st->addr - pltgot->sh_addr < pltgot->sh_size;

		cr_expect_eq(st->size, in_got ? got_size : 16, "%s: %s", variant, st->name);
	}
	g_free(ref);
	g_array_free(got, TRUE);
	g_free(bytes);
}

static bool has_stub(const GArray *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->len; i++)
		if (!strcmp(g_array_index(a, struct stub, i).name, name))
			return true;
	return false;
}

Test(plt, lazy_binding_plt_as_objdump)
{
	expect_as_objdump("lazy", 8);
}

Test(plt, bind_now_plt_as_objdump)
{
	expect_as_objdump("now", 8);
}

/* The calls go through .plt.sec; .plt.got has the function whose address is taken too. */
Test(plt, ibt_plt_sec_as_objdump)
{
	expect_as_objdump("ibt", 16);
}

/* -fno-plt: the calls jump through the GOT themselves; only the crt files' .plt.got stub. */
Test(plt, no_plt_calls_have_no_stubs)
{
	char path[512], *bytes;
	GArray *got;
	size_t len;
	int rc;

	expect_as_objdump("noplt", 8);
	snprintf(path, sizeof(path), "%s/plt-noplt", TEST_ELF_DIR);
	bytes = slurp(path, &len);
	got = stubs_of(bytes, len, &rc);
	cr_expect_not(has_stub(got, "puts@plt"));
	cr_expect_not(has_stub(got, "usleep@plt"));
	g_array_free(got, TRUE);
	g_free(bytes);
}

static char *lazy_copy(size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/plt-lazy", TEST_ELF_DIR);
	return slurp(path, len);
}

/* Every prefix of the file (a copy cut short): no crash, never more stubs than the whole. */
Test(plt, truncated_file_names_fewer)
{
	size_t len, cut, full;
	char *bytes = lazy_copy(&len);
	GArray *got;
	int rc;

	got = stubs_of(bytes, len, &rc);
	full = got->len;
	g_array_free(got, TRUE);
	cr_assert_eq(full, 5);
	for (cut = 0; cut < len; cut += 61) {
		char *part = g_memdup2(bytes, cut ? cut : 1);

		got = stubs_of(part, cut, &rc);
		cr_expect(rc == -EINVAL || rc == -ENOTSUP || (rc >= 0 && (size_t)rc <= full),
			  "cut at %zu: %d", cut, rc);
		g_array_free(got, TRUE);
		g_free(part);
	}
	g_free(bytes);
}

/* Relocations against symbols past .dynsym's end: no slot is named, nothing is read there. */
Test(plt, relocations_to_absent_symbols_name_nothing)
{
	const char *relas[] = { ".rela.plt", ".rela.dyn" };
	size_t len, i, j;
	char *bytes = lazy_copy(&len);
	GArray *got;
	int rc;

	for (i = 0; i < 2; i++) {
		Elf64_Shdr *sh = raw_section(bytes, len, relas[i]);
		Elf64_Rela *r;

		cr_assert_not_null(sh, "%s", relas[i]);
		r = (Elf64_Rela *)(bytes + sh->sh_offset);
		for (j = 0; j < sh->sh_size / sizeof(*r); j++)
			r[j].r_info = ELF64_R_INFO(0xffffffu - j, ELF64_R_TYPE(r[j].r_info));
	}
	got = stubs_of(bytes, len, &rc);
	cr_expect_eq(rc, 0);
	cr_expect_eq(got->len, 0);
	g_array_free(got, TRUE);
	g_free(bytes);
}

/* .plt claiming 64 GiB past the end of the file, with an absurd entry size: refused. */
Test(plt, absurd_plt_section_refused)
{
	size_t len;
	char *bytes = lazy_copy(&len);
	Elf64_Shdr *sh = raw_section(bytes, len, ".plt");
	GArray *got;
	int rc;

	cr_assert_not_null(sh);
	sh->sh_size = 64ull << 30;
	sh->sh_entsize = 3;
	got = stubs_of(bytes, len, &rc);
	cr_expect(rc >= 0 && rc <= 1, "only .plt.got's stub may remain: %d", rc);
	cr_expect_not(has_stub(got, "puts@plt"));
	g_array_free(got, TRUE);
	g_free(bytes);
}

/* Stubs jumping anywhere but a relocated slot (here: all one byte off) are not named. */
Test(plt, stubs_not_jumping_through_a_slot_name_nothing)
{
	size_t len, i;
	char *bytes = lazy_copy(&len);
	Elf64_Shdr *sh = raw_section(bytes, len, ".plt");
	GArray *got;
	int rc;

	cr_assert_not_null(sh);
	for (i = 0; i + 6 <= sh->sh_size; i += 16)
		bytes[sh->sh_offset + i + 2]++; /* the low byte of jmp *disp32(%rip)'s disp32 */
	got = stubs_of(bytes, len, &rc);
	cr_expect_not(has_stub(got, "puts@plt"));
	cr_expect_not(has_stub(got, "usleep@plt"));
	g_array_free(got, TRUE);
	g_free(bytes);
}

Test(plt, other_machine_refused)
{
	size_t len;
	char *bytes = lazy_copy(&len);
	GArray *got;
	int rc;

	((Elf64_Ehdr *)bytes)->e_machine = EM_AARCH64;
	got = stubs_of(bytes, len, &rc);
	cr_expect_eq(rc, -ENOTSUP);
	cr_expect_eq(got->len, 0);
	g_array_free(got, TRUE);
	g_free(bytes);
}

static int main_object_bias(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	*(uint64_t *)ctx = info->dlpi_addr;
	return 1; /* the first one listed is the program */
}

/* This test binary's own stubs, as the symbolizer names them in its live process. */
Test(plt, symbolizer_names_a_stub_of_this_process)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_result r;
	uint64_t bias = 0;
	size_t len, i;
	char *bytes = slurp("/proc/self/exe", &len);
	GArray *got;
	int rc;

	got = stubs_of(bytes, len, &rc);
	cr_assert_gt(got->len, 0, "the test binary calls libc through its PLT");
	dl_iterate_phdr(main_object_bias, &bias);
	cr_assert_eq(symbolizer__snapshot(s, getpid(), NULL, NULL), 0);
	for (i = 0; i < got->len; i++) {
		struct stub *st = &g_array_index(got, struct stub, i);

		symbolizer__user(s, getpid(), 0, bias + st->addr + st->size - 1, &r);
		cr_expect_str_eq(r.name, st->name);
		cr_expect_str_eq(r.module, "unit-tests");
	}
	symbolizer__free(s);
	g_array_free(got, TRUE);
	g_free(bytes);
}
