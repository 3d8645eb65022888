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
	/* File-system metadata: blocked, they wait for directory and inode blocks as open does
	 * (io_uring's statx, mkdirat and the like are io.disk too: cat_from_io_request()). */
	case __NR_getdents:
	case __NR_getdents64:
	case __NR_stat:
	case __NR_lstat:
	case __NR_fstat:
	case __NR_newfstatat:
	case __NR_statx:
	case __NR_readlink:
	case __NR_readlinkat:
	case __NR_access:
	case __NR_faccessat:
	case __NR_faccessat2:
	case __NR_mkdir:
	case __NR_mkdirat:
	case __NR_rmdir:
	case __NR_unlink:
	case __NR_unlinkat:
	case __NR_rename:
	case __NR_renameat:
	case __NR_renameat2:
	case __NR_link:
	case __NR_linkat:
	case __NR_symlink:
	case __NR_symlinkat:
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

/*
 * Task state bits (task_struct.__state, the sched_switch tracepoint's prev_state), from
 * include/linux/sched.h (v6.18; unchanged since v6.1): #defines, not in BTF. A job-control stop
 * is TASK_STOPPED = TASK_WAKEKILL | __TASK_STOPPED (do_signal_stop() in kernel/signal.c); a
 * ptrace stop is TASK_TRACED = __TASK_TRACED (ptrace_stop()); a task held by the freezer (cgroup
 * v1 freezer, suspend) sleeps in TASK_FROZEN (__refrigerator() in kernel/freezer.c).
 */
#define CONCUR_TASK_UNINTERRUPTIBLE 0x0002 /* TASK_UNINTERRUPTIBLE */
#define CONCUR_TASK_STOPPED	    0x0004 /* __TASK_STOPPED */
#define CONCUR_TASK_TRACED	    0x0008 /* __TASK_TRACED */
#define CONCUR_TASK_FROZEN	    0x8000 /* TASK_FROZEN */

/* What a wait is: its category and the reason kept with it (a syscall or a CONCUR_* reason). */
struct wait_class {
	__u32 cat;
	__s32 nr;
};

/*
 * A stopped or traced task is not waiting for anything it asked for: whatever syscall it
 * stopped in (a ptrace stop at a syscall's entry leaves the registers saying "in write") or
 * outside of, the stop is the wait. Traced first: a tracee's group stop is a ptrace stop too
 * (do_jobctl_trap()). 0 when the state is neither.
 */
ACCT_INLINE __s32 stop_reason(__u32 state)
{
	if (state & CONCUR_TASK_TRACED)
		return CONCUR_TRACED;
	if (state & (CONCUR_TASK_STOPPED | CONCUR_TASK_FROZEN))
		return CONCUR_STOPPED;
	return 0;
}

/*
 * Why a task blocked. state: its task state bits; iowait: task_struct.in_iowait, set while it
 * sleeps in io_schedule() (how a fault waits for the page being read: folio_wait_bit_common()
 * in mm/filemap.c); nr: the syscall it is in, or CONCUR_NO_SYSCALL; fdkind: the kind of the fd
 * in that syscall's first argument (FD_NONE when not looked up). The state decides first;
 * outside a syscall, a wait for I/O is disk I/O (a file-backed fault reads the file; a swap-in
 * reads the swap device: in_iowait alone does not tell them apart); the rest is the syscall's.
 */
ACCT_INLINE struct wait_class classify_wait(__u32 state, int iowait, long nr, __u32 fdkind)
{
	__s32 stop = stop_reason(state);

	if (stop)
		return (struct wait_class){ CAT_OTHER, stop };
	if (nr < 0)
		return iowait ? (struct wait_class){ CAT_IO_DISK, CONCUR_FAULT_IO } :
				(struct wait_class){ CAT_OTHER, CONCUR_NO_SYSCALL };
	return (struct wait_class){ classify_block(nr, fdkind), nr };
}

/*
 * io_uring's own threads (task_struct.flags has PF_IO_WORKER, include/linux/sched.h): the io-wq
 * workers (iou-wrk-PID) that run the requests which cannot complete without blocking
 * (IOSQE_ASYNC, or a punt), and a ring's SQPOLL thread (iou-sqp-PID). create_io_thread() makes
 * them threads of the process that owns the ring, but their saved user registers are a copy of
 * their creator's (copy_thread(), with ip and sp 0): what a wait is must come from the kernel
 * side. Opcodes of the request a worker runs (io_kiocb.opcode), from uapi linux/io_uring.h
 * (enum io_uring_op: ABI, never renumbered): those whose request has no file and works on
 * a file system's metadata, as open(2) and stat(2) do.
 */
#define CONCUR_PF_IO_WORKER 0x00000010 /* PF_IO_WORKER, in task_struct.flags */

#define CONCUR_IORING_OP_OPENAT	   18
#define CONCUR_IORING_OP_STATX	   21
#define CONCUR_IORING_OP_OPENAT2   28
#define CONCUR_IORING_OP_RENAMEAT  35
#define CONCUR_IORING_OP_UNLINKAT  36
#define CONCUR_IORING_OP_MKDIRAT   37
#define CONCUR_IORING_OP_SYMLINKAT 38
#define CONCUR_IORING_OP_LINKAT	   39

/* The category of a request by its operation and the kind of its file (FD_NONE: none). */
ACCT_INLINE __u32 cat_from_io_request(__u32 opcode, __u32 fdkind)
{
	if (fdkind != FD_NONE)
		return cat_from_fdkind(fdkind);
	switch (opcode) {
	case CONCUR_IORING_OP_OPENAT:
	case CONCUR_IORING_OP_STATX:
	case CONCUR_IORING_OP_OPENAT2:
	case CONCUR_IORING_OP_RENAMEAT:
	case CONCUR_IORING_OP_UNLINKAT:
	case CONCUR_IORING_OP_MKDIRAT:
	case CONCUR_IORING_OP_SYMLINKAT:
	case CONCUR_IORING_OP_LINKAT:
		return CAT_IO_DISK;
	default:
		return CAT_OTHER;
	}
}

/* What an io_uring worker was doing when it blocked (classify_io_worker). */
enum io_worker_job {
	IOW_IDLE,    /* an io-wq worker with no request (io_worker.cur_work NULL) */
	IOW_REQUEST, /* an io-wq worker running a request (cur_work set) */
	IOW_UNKNOWN, /* no io_worker to ask: the SQPOLL thread, or /proc at attach */
};

/*
 * Why an io_uring worker blocked. state: its task state bits; iowait: task_struct.in_iowait
 * (a wait in io_schedule(): a page being read, a block request); job: see enum io_worker_job;
 * opcode and fdkind: the request's operation and file kind (IOW_REQUEST only). In order:
 *  - a stop, as for any task;
 *  - io_schedule() is disk I/O, whatever the job (a buffered read waits for its page so);
 *  - a request is its operation's: its file's kind, as a read(2) on that fd would be (a
 *    socket receive sleeps interruptibly in sk_wait_data(): net; io-wq seldom blocks so, as
 *    it arms a poll for a pollable file instead: io_wq_submit_work()), or a metadata
 *    operation's disk; a request neither tells (an eventfd) is `other`;
 *  - with no request, an interruptible sleep is the wait for work (io_wq_worker() and
 *    io_sq_thread() park in TASK_INTERRUPTIBLE): the pool's idle time, `poll` like the loop
 *    that waits for completions in io_uring_enter, and kept out of every I/O category (the
 *    advisor counts a thread parked there as idle, not as the program's wait);
 *  - with no request, an uninterruptible sleep is the worker's own (a mutex, its exit):
 *    `other`.
 * The reason kept is CONCUR_IO_WORKER_IDLE for the idle wait, CONCUR_IO_WORKER_REQ else.
 */
ACCT_INLINE struct wait_class classify_io_worker(__u32 state, int iowait, __u32 job, __u32 opcode,
						 __u32 fdkind)
{
	__s32 stop = stop_reason(state);

	if (stop)
		return (struct wait_class){ CAT_OTHER, stop };
	if (iowait)
		return (struct wait_class){ CAT_IO_DISK, CONCUR_IO_WORKER_REQ };
	if (job == IOW_REQUEST)
		return (struct wait_class){ cat_from_io_request(opcode, fdkind),
					    CONCUR_IO_WORKER_REQ };
	if (state & CONCUR_TASK_UNINTERRUPTIBLE)
		return (struct wait_class){ CAT_OTHER, CONCUR_IO_WORKER_REQ };
	return (struct wait_class){ CAT_POLL, CONCUR_IO_WORKER_IDLE };
}

/*
 * The state bits /proc/PID/task/TID/stat's state letter stands for, as far as classify_wait and
 * classify_io_worker ask.
 */
ACCT_INLINE __u32 state_from_proc(int letter)
{
	switch (letter) {
	case 'T':
		return CONCUR_TASK_STOPPED;
	case 't':
		return CONCUR_TASK_TRACED;
	case 'D':
		return CONCUR_TASK_UNINTERRUPTIBLE;
	default:
		return 0;
	}
}

#endif /* CONCUR_CLASSIFY_H */
