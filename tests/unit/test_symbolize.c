// SPDX-License-Identifier: MIT
/* The symbolizer on a live process (this test itself): its maps, its ELF files, the kernel. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "profile/symbolize.h"

/* Two functions the test binary (a PIE) defines, looked up by address. */
__attribute__((noinline)) int concur_test_marker(int x)
{
	return x * 3 + 1;
}

Test(symbolize, own_pie_function_and_libc_function)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_result r;

	cr_assert_not_null(s);
	cr_assert_eq(symbolizer__snapshot(s, getpid(), NULL, NULL), 0);
	symbolizer__user(s, getpid(), 0, (uint64_t)(uintptr_t)concur_test_marker + 2, &r);
	cr_expect_str_eq(r.name, "concur_test_marker");
	cr_expect_str_eq(r.module, "unit-tests");
	/* A libc function, resolved through .dynsym (Debian's libc has no .symtab). */
	symbolizer__user(s, getpid(), 0, (uint64_t)(uintptr_t)getpid + 1, &r);
	cr_expect_str_eq(r.name, "getpid");
	cr_expect_str_eq(r.module, "libc.so.6");
	symbolizer__free(s);
}

Test(symbolize, unmapped_address_is_unknown)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_result r;

	cr_assert_not_null(s);
	symbolizer__snapshot(s, getpid(), NULL, NULL);
	symbolizer__user(s, getpid(), 0, 0x10, &r);
	cr_expect_str_eq(r.name, "[unknown]");
	cr_expect_str_eq(r.module, "[unknown]");
	symbolizer__user(s, 999999999, 0, 0x401000, &r); /* never snapshotted */
	cr_expect_str_eq(r.name, "[unknown]");
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	symbolizer__free(s);
}

/* A fake of the probes' image generations: each call returns the next of a script. */
struct gen_script {
	int gens[4];
	int calls;
};

static int scripted_gen(uint32_t pid, void *ctx)
{
	struct gen_script *g = ctx;

	(void)pid;
	return g->gens[g->calls++ % 4];
}

Test(symbolize, map_is_kept_for_the_image_it_was_read_in)
{
	struct symbolizer *s = symbolizer__new();
	uint64_t ip = (uint64_t)(uintptr_t)concur_test_marker + 2;
	struct gen_script g = { { 3, 3, 3, 3 }, 0 };
	struct sym_result r;

	cr_assert_not_null(s);
	cr_assert_eq(symbolizer__snapshot(s, getpid(), scripted_gen, &g), 0);
	cr_expect_eq(g.calls, 2, "asked before and after the read");
	symbolizer__user(s, getpid(), 3, ip, &r);
	cr_expect_str_eq(r.name, "concur_test_marker");
	/* Stacks of the images before and after: another image's map never stands in. */
	symbolizer__user(s, getpid(), 2, ip, &r);
	cr_expect_str_eq(r.name, "[unknown]");
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	cr_expect_eq(symbolizer__code_at(s, getpid(), 2, ip), -ENOENT);
	cr_expect_eq(symbolizer__code_at(s, getpid(), 3, ip), 1);
	symbolizer__user(s, getpid(), 4, ip, &r);
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	symbolizer__free(s);
}

Test(symbolize, map_read_across_an_exec_is_dropped)
{
	struct symbolizer *s = symbolizer__new();
	uint64_t ip = (uint64_t)(uintptr_t)concur_test_marker + 2;
	struct gen_script exec_meanwhile = { { 0, 1, 0, 1 }, 0 };
	struct gen_script gone = { { -ENOENT, -ENOENT, -ENOENT, -ENOENT }, 0 };
	struct sym_result r;

	cr_assert_not_null(s);
	cr_expect_eq(symbolizer__snapshot(s, getpid(), scripted_gen, &exec_meanwhile), -EAGAIN);
	symbolizer__user(s, getpid(), 0, ip, &r);
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	symbolizer__user(s, getpid(), 1, ip, &r);
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	/* A process the probes do not follow is not read at all. */
	cr_expect_eq(symbolizer__snapshot(s, getpid(), scripted_gen, &gone), -ENOENT);
	cr_expect_eq(gone.calls, 1);
	symbolizer__free(s);
}

Test(symbolize, gone_process_keeps_no_snapshot)
{
	struct symbolizer *s = symbolizer__new();

	cr_assert_not_null(s);
	cr_expect_lt(symbolizer__snapshot(s, 999999999, NULL, NULL), 0);
	symbolizer__free(s);
}

Test(symbolize, kernel_symbol_from_kallsyms)
{
	struct symbolizer *s = symbolizer__new();
	unsigned long long addr = 0;
	char line[256], name[128], type;
	struct sym_result r;
	FILE *f = fopen("/proc/kallsyms", "r");

	cr_assert_not_null(s);
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) == 3 &&
		    !strcmp(name, "schedule"))
			break;
	fclose(f);
	if (!addr)
		cr_skip_test("kernel addresses hidden (not root?)");
	symbolizer__kernel(s, addr + 1, &r);
	cr_expect_str_eq(r.name, "schedule");
	cr_expect_str_eq(r.module, "[kernel]");
	symbolizer__free(s);
}

Test(symbolize, forked_child_before_its_exec_is_named_with_its_parents_image)
{
	struct symbolizer *s = symbolizer__new();
	uint64_t ip = (uint64_t)(uintptr_t)concur_test_marker + 2;
	struct gen_script g = { { 1, 1, 1, 1 }, 0 };
	struct sym_result r;

	cr_assert_not_null(s);
	/* This process plays the parent, in its image 1; 900001 forked it then, 900002 from that. */
	cr_assert_eq(symbolizer__snapshot(s, getpid(), scripted_gen, &g), 0);
	cr_assert_eq(symbolizer__inherit(s, 900001, getpid(), 1), 0);
	cr_assert_eq(symbolizer__inherit(s, 900002, 900001, 0), 0);
	symbolizer__user(s, 900001, 0, ip, &r);
	cr_expect_str_eq(r.name, "concur_test_marker");
	symbolizer__user(s, 900002, 0, ip, &r);
	cr_expect_str_eq(r.name, "concur_test_marker");
	cr_expect_eq(symbolizer__code_at(s, 900002, 0, ip), 1);
	/* After its exec the child runs an image of its own: never its parent's. */
	symbolizer__user(s, 900001, 1, ip, &r);
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	/* Forked from an image never read: nothing stands in. */
	cr_assert_eq(symbolizer__inherit(s, 900003, getpid(), 0), 0);
	symbolizer__user(s, 900003, 0, ip, &r);
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	/* A loop (pids reused) ends. */
	cr_assert_eq(symbolizer__inherit(s, 900004, 900005, 0), 0);
	cr_assert_eq(symbolizer__inherit(s, 900005, 900004, 0), 0);
	symbolizer__user(s, 900004, 0, ip, &r);
	cr_expect_str_eq(r.module, SYM_NO_MAP);
	symbolizer__free(s);
}
