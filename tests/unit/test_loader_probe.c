// SPDX-License-Identifier: MIT
/* Finding the dynamic loader's debugger hook: in the loader this test itself runs under. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include "collect/loader_probe.h"

/* An address of the loader's, less the loader's base: its ELF address (the loader is a
 * shared object whose first segment is at 0). */
static uint64_t elf_addr(const void *p)
{
	Dl_info info;

	cr_assert(dladdr(p, &info));
	return (uint64_t)((uintptr_t)p - (uintptr_t)info.dli_fbase);
}

Test(loader_probe, finds_the_hook_of_the_loader_we_run_under)
{
	struct loader_probe lp;
	void *hook = dlsym(RTLD_DEFAULT, "_dl_debug_state");
	void *r_debug = dlsym(RTLD_DEFAULT, "_r_debug");
	Dl_info info;

	cr_assert_eq(loader_probe_find("/proc/self/exe", &lp), 0);
	cr_assert_not_null(hook);
	/* The loader's own (this test takes no copy of it: no copy relocation). */
	cr_assert_not_null(r_debug);
	cr_assert(dladdr(hook, &info));
	/* The same file, whatever path names it (PT_INTERP may go through a symlink). */
	{
		char *a = realpath(lp.path, NULL), *b = realpath(info.dli_fname, NULL);

		cr_expect_str_eq(a, b);
		free(a);
		free(b);
	}
	cr_expect_eq(lp.debug_state_off, elf_addr(hook));
	cr_expect_eq(lp.r_debug_off, elf_addr(r_debug));
}

Test(loader_probe, a_file_without_a_loader_or_no_elf_is_refused)
{
	struct loader_probe lp, ld;

	/* The loader itself names no loader. */
	cr_assert_eq(loader_probe_find("/proc/self/exe", &ld), 0);
	cr_expect_eq(loader_probe_find(ld.path, &lp), -ENOENT);
	cr_expect_eq(loader_probe_find("/etc/hostname", &lp), -EINVAL);
	cr_expect_eq(loader_probe_find("/no/such/file", &lp), -EINVAL);
}
