// SPDX-License-Identifier: MIT
/* Parsing what /proc says about a thread, names chosen by the target included. */
#include <criterion/criterion.h>
#include <unistd.h>
#include <asm/unistd.h>
#include "classify.h"
#include "collect/procfs.h"

Test(procfs, state_after_the_last_paren)
{
	cr_expect_eq(procfs_parse_state("123 (bash) S 1 123 123 0"), 'S');
	cr_expect_eq(procfs_parse_state("9 (a) b) R 1 2"), 'R', "a ')' inside the name");
	cr_expect_eq(procfs_parse_state("9 (x) D"), 'D');
	cr_expect_lt(procfs_parse_state("9 (x)"), 0);
	cr_expect_lt(procfs_parse_state("garbage"), 0);
}

Test(procfs, flags_are_the_ninth_field)
{
	uint32_t flags = 0;

	/* An io-wq worker's line as kernel 6.18 printed it (an IOSQE_ASYNC reader's): 0x404050,
	 * PF_IO_WORKER | PF_FORKNOEXEC | PF_USER_WORKER | PF_RANDOMIZE. */
	cr_expect_eq(procfs_parse_flags("4242 (iou-wrk-4240) D 1 4240 4240 0 -1 4210768 0 0 0 0",
					&flags),
		     0);
	cr_expect_eq(flags, 4210768u);
	cr_expect(flags & CONCUR_PF_IO_WORKER);
	/* Its process's main thread: 0x400100, PF_SUPERPRIV | PF_RANDOMIZE. */
	cr_expect_eq(procfs_parse_flags("9 (a) b) S 1 2 3 34816 -1 4194560 5 0", &flags), 0,
		     "a ')' inside the name");
	cr_expect_eq(flags, 4194560u);
	cr_expect_not(flags & CONCUR_PF_IO_WORKER);
	cr_expect_lt(procfs_parse_flags("9 (x) S 1 2 3", &flags), 0, "cut short");
	cr_expect_lt(procfs_parse_flags("9 (x) S 1 2 3 4 5 -6", &flags), 0, "negative flags");
	cr_expect_lt(procfs_parse_flags("9 (x) S 1 2 3 4 5 99999999999", &flags), 0, "too big");
	cr_expect_lt(procfs_parse_flags("9 (x) S 1 2 x 4 5 6", &flags), 0);
	cr_expect_lt(procfs_parse_flags("garbage", &flags), 0);
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
