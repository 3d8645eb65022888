/* SPDX-License-Identifier: MIT */
/*
 * Which category a blocked thread's wait belongs to, from the syscall it is blocked in,
 * the kind of fd that syscall names and whether the sleep is uninterruptible. Shared by
 * the BPF program (classification at switch-out) and userspace (threads already blocked
 * when `attach` starts, read from /proc).
 */
#ifndef CONCUR_CLASSIFY_H
#define CONCUR_CLASSIFY_H

#include <asm/unistd.h>

#include "account.h"

#define CONCUR_S_IFMT	0170000
#define CONCUR_S_IFSOCK 0140000
#define CONCUR_S_IFREG	0100000
#define CONCUR_S_IFBLK	0060000
#define CONCUR_S_IFCHR	0020000
#define CONCUR_S_IFIFO	0010000

/* An inode's mode → fd kind; the same test the kernel's S_ISxxx macros make. */
ACCT_INLINE __u32 fdkind_from_mode(__u32 mode)
{
	switch (mode & CONCUR_S_IFMT) {
	case CONCUR_S_IFREG:
	case CONCUR_S_IFBLK:
		return FD_FILE;
	case CONCUR_S_IFSOCK:
		return FD_SOCKET;
	case CONCUR_S_IFIFO:
		return FD_PIPE;
	case CONCUR_S_IFCHR:
		return FD_CHAR;
	default:
		return FD_OTHER;
	}
}

/* Syscalls whose first argument is an fd whose kind decides the category. */
ACCT_INLINE int syscall_takes_fd(long nr)
{
	switch (nr) {
	case __NR_read:
	case __NR_write:
	case __NR_pread64:
	case __NR_pwrite64:
	case __NR_readv:
	case __NR_writev:
	case __NR_preadv:
	case __NR_pwritev:
	case __NR_preadv2:
	case __NR_pwritev2:
	case __NR_splice:
	case __NR_tee:
	case __NR_vmsplice:
	case __NR_sendfile:
	case __NR_ioctl:
		return 1;
	default:
		return 0;
	}
}

ACCT_INLINE __u32 cat_from_fdkind(__u32 kind)
{
	switch (kind) {
	case FD_FILE:
		return CAT_IO_DISK;
	case FD_SOCKET:
		return CAT_IO_NET;
	case FD_PIPE:
	case FD_CHAR:
		return CAT_IO_PIPE;
	default:
		return CAT_OTHER;
	}
}

/* Category of syscalls that do not depend on an fd; CAT_MAX when they do or are unknown. */
ACCT_INLINE __u32 cat_from_syscall(long nr)
{
	switch (nr) {
	case __NR_futex:
	case __NR_futex_waitv:
	case __NR_flock:
		return CAT_LOCK;
	case __NR_fsync:
	case __NR_fdatasync:
	case __NR_sync_file_range:
	case __NR_syncfs:
	case __NR_sync:
	case __NR_fallocate:
	case __NR_ftruncate:
	case __NR_truncate:
	case __NR_open:
	case __NR_openat:
	case __NR_openat2:
	case __NR_creat:
	case __NR_io_getevents:
	case __NR_io_pgetevents:
		return CAT_IO_DISK;
	case __NR_recvfrom:
	case __NR_recvmsg:
	case __NR_recvmmsg:
	case __NR_sendto:
	case __NR_sendmsg:
	case __NR_sendmmsg:
	case __NR_accept:
	case __NR_accept4:
	case __NR_connect:
		return CAT_IO_NET;
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
	case __NR_epoll_pwait2:
	case __NR_poll:
	case __NR_ppoll:
	case __NR_select:
	case __NR_pselect6:
	case __NR_io_uring_enter:
		return CAT_POLL;
	case __NR_nanosleep:
	case __NR_clock_nanosleep:
	case __NR_pause:
	case __NR_rt_sigtimedwait:
	case __NR_rt_sigsuspend:
		return CAT_SLEEP;
	case __NR_wait4:
	case __NR_waitid:
	case __NR_vfork: /* the parent sleeps until the child execs or exits */
		return CAT_WAIT;
	default:
		return CAT_MAX;
	}
}

/*
 * nr: syscall blocked in, or CONCUR_NO_SYSCALL; fdkind: kind of the fd in the first
 * argument (FD_NONE when not looked up).
 */
ACCT_INLINE __u32 classify_block(long nr, __u32 fdkind)
{
	__u32 cat;

	if (nr < 0)
		return CAT_OTHER;
	if (syscall_takes_fd(nr))
		return cat_from_fdkind(fdkind);
	cat = cat_from_syscall(nr);
	return cat < CAT_MAX ? cat : CAT_OTHER;
}

#endif /* CONCUR_CLASSIFY_H */
