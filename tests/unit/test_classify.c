// SPDX-License-Identifier: MIT
/* The category rules (include/classify.h), shared with the BPF program. */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include "classify.h"

Test(classify, futex_is_lock)
{
	cr_expect_eq(classify_block(__NR_futex, FD_NONE), CAT_LOCK);
	cr_expect_eq(classify_block(__NR_futex_waitv, FD_NONE), CAT_LOCK);
}

Test(classify, read_depends_on_the_fd)
{
	cr_expect_eq(classify_block(__NR_read, FD_FILE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_read, FD_SOCKET), CAT_IO_NET);
	cr_expect_eq(classify_block(__NR_read, FD_PIPE), CAT_IO_PIPE);
	cr_expect_eq(classify_block(__NR_read, FD_CHAR), CAT_IO_PIPE);
	cr_expect_eq(classify_block(__NR_pwritev2, FD_FILE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_writev, FD_SOCKET), CAT_IO_NET);
	/* eventfd, timerfd, signalfd: anonymous inodes */
	cr_expect_eq(classify_block(__NR_read, FD_OTHER), CAT_OTHER);
	cr_expect_eq(classify_block(__NR_read, FD_NONE), CAT_OTHER);
}

Test(classify, socket_calls_are_net_whatever_the_fd)
{
	cr_expect_eq(classify_block(__NR_recvfrom, FD_NONE), CAT_IO_NET);
	cr_expect_eq(classify_block(__NR_accept4, FD_NONE), CAT_IO_NET);
	cr_expect_eq(classify_block(__NR_connect, FD_NONE), CAT_IO_NET);
	cr_expect_eq(classify_block(__NR_sendmsg, FD_NONE), CAT_IO_NET);
}

Test(classify, event_loops_sleeps_and_children)
{
	cr_expect_eq(classify_block(__NR_epoll_wait, FD_NONE), CAT_POLL);
	cr_expect_eq(classify_block(__NR_epoll_pwait2, FD_NONE), CAT_POLL);
	cr_expect_eq(classify_block(__NR_pselect6, FD_NONE), CAT_POLL);
	cr_expect_eq(classify_block(__NR_io_uring_enter, FD_NONE), CAT_POLL);
	cr_expect_eq(classify_block(__NR_clock_nanosleep, FD_NONE), CAT_SLEEP);
	cr_expect_eq(classify_block(__NR_pause, FD_NONE), CAT_SLEEP);
	cr_expect_eq(classify_block(__NR_rt_sigtimedwait, FD_NONE), CAT_SLEEP);
	cr_expect_eq(classify_block(__NR_wait4, FD_NONE), CAT_WAIT);
	cr_expect_eq(classify_block(__NR_waitid, FD_NONE), CAT_WAIT);
	cr_expect_eq(classify_block(__NR_vfork, FD_NONE), CAT_WAIT);
}

Test(classify, disk_syscalls_without_fd_lookup)
{
	cr_expect_eq(classify_block(__NR_fsync, FD_NONE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_fdatasync, FD_NONE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_openat, FD_NONE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_sync_file_range, FD_NONE), CAT_IO_DISK);
}

Test(classify, outside_a_syscall_or_unknown_is_other)
{
	cr_expect_eq(classify_block(CONCUR_NO_SYSCALL, FD_FILE), CAT_OTHER);
	cr_expect_eq(classify_block(__NR_mmap, FD_NONE), CAT_OTHER);
	cr_expect_eq(classify_block(100000, FD_NONE), CAT_OTHER);
}

Test(classify, inode_modes)
{
	cr_expect_eq(fdkind_from_mode(S_IFREG | 0644), FD_FILE);
	cr_expect_eq(fdkind_from_mode(S_IFBLK | 0660), FD_FILE);
	cr_expect_eq(fdkind_from_mode(S_IFSOCK | 0777), FD_SOCKET);
	cr_expect_eq(fdkind_from_mode(S_IFIFO | 0600), FD_PIPE);
	cr_expect_eq(fdkind_from_mode(S_IFCHR | 0620), FD_CHAR);
	cr_expect_eq(fdkind_from_mode(S_IFDIR | 0755), FD_OTHER);
	cr_expect_eq(fdkind_from_mode(0600), FD_OTHER); /* anon_inode */
}
