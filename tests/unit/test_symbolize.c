// SPDX-License-Identifier: MIT
/* The symbolizer on a live process (this test itself): its maps, its ELF files, the kernel. */
#include <criterion/criterion.h>
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
	cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);
	symbolizer__user(s, getpid(), (uint64_t)(uintptr_t)concur_test_marker + 2, &r);
	cr_expect_str_eq(r.name, "concur_test_marker");
	cr_expect_str_eq(r.module, "unit-tests");
	/* A libc function, resolved through .dynsym (Debian's libc has no .symtab). */
	symbolizer__user(s, getpid(), (uint64_t)(uintptr_t)getpid + 1, &r);
	cr_expect_str_eq(r.name, "getpid");
	cr_expect_str_eq(r.module, "libc.so.6");
	symbolizer__free(s);
}

Test(symbolize, unmapped_address_is_unknown)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_result r;

	cr_assert_not_null(s);
	symbolizer__snapshot(s, getpid());
	symbolizer__user(s, getpid(), 0x10, &r);
	cr_expect_str_eq(r.name, "[unknown]");
	symbolizer__user(s, 999999999, 0x401000, &r); /* never snapshotted */
	cr_expect_str_eq(r.name, "[unknown]");
	symbolizer__free(s);
}

Test(symbolize, gone_process_keeps_no_snapshot)
{
	struct symbolizer *s = symbolizer__new();

	cr_assert_not_null(s);
	cr_expect_lt(symbolizer__snapshot(s, 999999999), 0);
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
