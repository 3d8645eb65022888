// SPDX-License-Identifier: MIT
/* Parsing what /proc says about a thread, names chosen by the target included. */
#include <criterion/criterion.h>
#include <unistd.h>
#include <asm/unistd.h>
#include "collect/procfs.h"

Test(procfs, state_after_the_last_paren)
{
	cr_expect_eq(procfs_parse_state("123 (bash) S 1 123 123 0"), 'S');
	cr_expect_eq(procfs_parse_state("9 (a) b) R 1 2"), 'R', "a ')' inside the name");
	cr_expect_eq(procfs_parse_state("9 (x) D"), 'D');
	cr_expect_lt(procfs_parse_state("9 (x)"), 0);
	cr_expect_lt(procfs_parse_state("garbage"), 0);
}

Test(procfs, syscall_lines)
{
	long nr = 0, arg0 = 0;

	cr_expect_eq(procfs_parse_syscall("running", &nr, &arg0), 1);
	cr_expect_eq(procfs_parse_syscall("202 0x7f12345678 0x80 0x2 0x0 0x0 0x0 0x7ffd 0x7f01",
					  &nr, &arg0),
		     0);
	cr_expect_eq(nr, __NR_futex);
	cr_expect_eq(arg0, 0x7f12345678);
	cr_expect_eq(procfs_parse_syscall("0 0x3 0x7ffd 0x1 0x0 0x0 0x0 0x7ffd 0x7f01", &nr, &arg0),
		     0);
	cr_expect_eq(nr, __NR_read);
	cr_expect_eq(arg0, 3);
	cr_expect_eq(procfs_parse_syscall("-1 0x7ffd1000 0x401000", &nr, &arg0), 0);
	cr_expect_eq(nr, -1);
	cr_expect_lt(procfs_parse_syscall("", &nr, &arg0), 0);
	cr_expect_lt(procfs_parse_syscall("zzz", &nr, &arg0), 0);
}

Test(procfs, seeds_this_very_thread_as_running)
{
	struct thread_acct a;

	cr_assert_eq(procfs_seed_thread(getpid(), getpid(), 42, &a), 0);
	cr_expect_eq(a.state, TS_R_UNKNOWN);
	cr_expect_eq(a.since_ns, 42);
	cr_expect_eq(a.pid, (__u32)getpid());
}
