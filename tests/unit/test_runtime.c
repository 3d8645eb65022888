// SPDX-License-Identifier: MIT
/* Runtime detection from mapped file names. */
#include <criterion/criterion.h>
#include <unistd.h>
#include "profile/runtime.h"

static const char *of(const char *name)
{
	static char out[RUNTIME_LEN];

	return runtime_of_module(name, out) ? out : "";
}

Test(runtime, names)
{
	cr_expect_str_eq(of("python3.11"), "CPython 3.11");
	cr_expect_str_eq(of("libpython3.12.so.1.0"), "CPython 3.12");
	cr_expect_str_eq(of("node"), "Node.js");
	cr_expect_str_eq(of("libjvm.so"), "JVM");
	cr_expect_str_eq(of("libc.so.6"), "");
	cr_expect_str_eq(of("python"), "");
	cr_expect_str_eq(of("pythonx.y"), "");
}

Test(runtime, this_process_is_native)
{
	char out[RUNTIME_LEN];

	cr_assert_eq(runtime_detect(getpid(), out), 0);
	cr_expect_str_eq(out, "native");
	cr_expect_lt(runtime_detect(999999999, out), 0);
}
