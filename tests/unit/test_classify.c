// SPDX-License-Identifier: MIT
/* The category rules (include/classify.h), shared with the BPF program. */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include <linux/io_uring.h>
#include "classify.h"
#include "render/syscalls.h"

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
	/* Metadata (find's getdents64 on a cold tree was other: the audit). */
	cr_expect_eq(classify_block(__NR_getdents64, FD_NONE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_newfstatat, FD_NONE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_statx, FD_NONE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_unlinkat, FD_NONE), CAT_IO_DISK);
	cr_expect_eq(classify_block(__NR_renameat2, FD_NONE), CAT_IO_DISK);
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

Test(classify, a_stop_decides_before_the_syscall)
{
	struct wait_class w;

	/* do_signal_stop(): TASK_WAKEKILL | __TASK_STOPPED, here in a pipe write. */
	w = classify_wait(0x100 | CONCUR_TASK_STOPPED, 0, __NR_write, FD_PIPE);
	cr_expect_eq(w.cat, CAT_OTHER);
	cr_expect_eq(w.nr, CONCUR_STOPPED);
	/* ptrace_stop() at a syscall's entry: the registers say "in write". */
	w = classify_wait(CONCUR_TASK_TRACED, 0, __NR_write, FD_CHAR);
	cr_expect_eq(w.cat, CAT_OTHER);
	cr_expect_eq(w.nr, CONCUR_TRACED);
	/* Outside a syscall, waiting for I/O or not: the stop still decides. */
	w = classify_wait(CONCUR_TASK_STOPPED, 1, CONCUR_NO_SYSCALL, FD_NONE);
	cr_expect_eq(w.nr, CONCUR_STOPPED);
	cr_expect_eq(w.cat, CAT_OTHER);
	/* A tracee's group stop is a ptrace stop. */
	w = classify_wait(CONCUR_TASK_TRACED | CONCUR_TASK_STOPPED, 0, __NR_futex, FD_NONE);
	cr_expect_eq(w.nr, CONCUR_TRACED);
	/* The freezer holds a task as a job-control stop would. */
	w = classify_wait(CONCUR_TASK_FROZEN, 0, __NR_read, FD_FILE);
	cr_expect_eq(w.nr, CONCUR_STOPPED);
	cr_expect_eq(w.cat, CAT_OTHER);
}

Test(classify, sleeping_states_fall_to_the_syscall)
{
	struct wait_class w;

	/* TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, with TASK_FREEZABLE (0x2000). */
	w = classify_wait(0x1 | 0x2000, 0, __NR_futex, FD_NONE);
	cr_expect_eq(w.cat, CAT_LOCK);
	cr_expect_eq(w.nr, __NR_futex);
	w = classify_wait(0x2, 1, __NR_pread64, FD_FILE);
	cr_expect_eq(w.cat, CAT_IO_DISK);
	cr_expect_eq(w.nr, __NR_pread64);
	/* in_iowait inside a syscall does not override it: the syscall says what waits. */
	w = classify_wait(0x2, 1, __NR_write, FD_PIPE);
	cr_expect_eq(w.cat, CAT_IO_PIPE);
}

Test(classify, a_fault_waiting_for_io_is_disk)
{
	struct wait_class w;

	/* A major fault sleeps in io_schedule() (folio_wait_bit_common()): in_iowait. */
	w = classify_wait(0x2, 1, CONCUR_NO_SYSCALL, FD_NONE);
	cr_expect_eq(w.cat, CAT_IO_DISK);
	cr_expect_eq(w.nr, CONCUR_FAULT_IO);
	/* Without it (waiting for mmap_lock, a userfaultfd handler): other, "fault" as before. */
	w = classify_wait(0x2, 0, CONCUR_NO_SYSCALL, FD_NONE);
	cr_expect_eq(w.cat, CAT_OTHER);
	cr_expect_eq(w.nr, CONCUR_NO_SYSCALL);
}

Test(classify, proc_state_letters)
{
	cr_expect_eq(stop_reason(state_from_proc('T')), CONCUR_STOPPED);
	cr_expect_eq(stop_reason(state_from_proc('t')), CONCUR_TRACED);
	cr_expect_eq(stop_reason(state_from_proc('S')), 0);
	cr_expect_eq(stop_reason(state_from_proc('D')), 0);
	cr_expect_eq(state_from_proc('D'), CONCUR_TASK_UNINTERRUPTIBLE);
	cr_expect_eq(state_from_proc('S'), 0);
	cr_expect_eq(classify_wait(state_from_proc('T'), 0, __NR_read, FD_PIPE).nr, CONCUR_STOPPED);
}

Test(classify, reason_names)
{
	char buf[32];

	/* "fault" is what recordings already say: kept. */
	cr_expect_str_eq(syscall_name(CONCUR_NO_SYSCALL, buf, sizeof(buf)), "fault");
	cr_expect_str_eq(syscall_name(CONCUR_STOPPED, buf, sizeof(buf)), "stopped (job control)");
	cr_expect_str_eq(syscall_name(CONCUR_TRACED, buf, sizeof(buf)), "traced (ptrace stop)");
	cr_expect_str_eq(syscall_name(CONCUR_FAULT_IO, buf, sizeof(buf)), "fault (I/O)");
	cr_expect_str_eq(syscall_name(CONCUR_IO_WORKER_IDLE, buf, sizeof(buf)),
			 "io_uring worker idle");
	cr_expect_str_eq(syscall_name(CONCUR_IO_WORKER_REQ, buf, sizeof(buf)), "io_uring worker");
	cr_expect_str_eq(syscall_name(__NR_write, buf, sizeof(buf)), "write");
}

/* The io_uring workers' rules (classify_io_worker); states as sched_switch gives them. */
#define S_INTERRUPTIBLE	  0x1
#define S_UNINTERRUPTIBLE 0x2
#define S_KILLABLE	  (0x2 | 0x100) /* TASK_WAKEKILL | TASK_UNINTERRUPTIBLE */

Test(classify, io_uring_opcodes_are_the_abi)
{
	cr_expect_eq(CONCUR_IORING_OP_OPENAT, IORING_OP_OPENAT);
	cr_expect_eq(CONCUR_IORING_OP_STATX, IORING_OP_STATX);
	cr_expect_eq(CONCUR_IORING_OP_OPENAT2, IORING_OP_OPENAT2);
	cr_expect_eq(CONCUR_IORING_OP_RENAMEAT, IORING_OP_RENAMEAT);
	cr_expect_eq(CONCUR_IORING_OP_UNLINKAT, IORING_OP_UNLINKAT);
	cr_expect_eq(CONCUR_IORING_OP_MKDIRAT, IORING_OP_MKDIRAT);
	cr_expect_eq(CONCUR_IORING_OP_SYMLINKAT, IORING_OP_SYMLINKAT);
	cr_expect_eq(CONCUR_IORING_OP_LINKAT, IORING_OP_LINKAT);
}

Test(classify, an_io_worker_reading_a_page_is_disk)
{
	struct wait_class w;

	/* A buffered read's folio_wait_bit_common(): killable, in io_schedule(). */
	w = classify_io_worker(S_KILLABLE, 1, IOW_REQUEST, IORING_OP_READ, FD_FILE);
	cr_expect_eq(w.cat, CAT_IO_DISK);
	cr_expect_eq(w.nr, CONCUR_IO_WORKER_REQ);
	/* in_iowait decides even where the request is unknown (the SQPOLL thread). */
	w = classify_io_worker(S_UNINTERRUPTIBLE, 1, IOW_UNKNOWN, 0, FD_NONE);
	cr_expect_eq(w.cat, CAT_IO_DISK);
	/* A read of a regular file blocked elsewhere (the inode's lock) is still the file's. */
	w = classify_io_worker(S_UNINTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_READ, FD_FILE);
	cr_expect_eq(w.cat, CAT_IO_DISK);
}

Test(classify, an_io_worker_request_is_its_file_or_operation)
{
	/* A receive sleeps interruptibly in sk_wait_data(), never in io_schedule(). */
	cr_expect_eq(
		classify_io_worker(S_INTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_RECV, FD_SOCKET).cat,
		CAT_IO_NET);
	cr_expect_eq(
		classify_io_worker(S_INTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_READ, FD_PIPE).cat,
		CAT_IO_PIPE);
	/* No file: the operation says it, when it is a file system's. */
	cr_expect_eq(classify_io_worker(S_UNINTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_OPENAT,
					FD_NONE)
			     .cat,
		     CAT_IO_DISK);
	cr_expect_eq(
		classify_io_worker(S_UNINTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_STATX, FD_NONE).cat,
		CAT_IO_DISK);
	/* Neither says what it waits on: other, named after the worker. */
	cr_expect_eq(
		classify_io_worker(S_INTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_READ, FD_OTHER).cat,
		CAT_OTHER);
	cr_expect_eq(classify_io_worker(S_INTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_NOP, FD_NONE).nr,
		     CONCUR_IO_WORKER_REQ);
	/* The file decides before the operation: a fsync's file is a file. */
	cr_expect_eq(
		classify_io_worker(S_UNINTERRUPTIBLE, 0, IOW_REQUEST, IORING_OP_FSYNC, FD_FILE).cat,
		CAT_IO_DISK);
}

Test(classify, an_io_worker_waiting_for_work_is_idle_not_io)
{
	struct wait_class w;

	/* io_wq_worker()'s schedule_timeout() in TASK_INTERRUPTIBLE, no request. */
	w = classify_io_worker(S_INTERRUPTIBLE, 0, IOW_IDLE, 0, FD_NONE);
	cr_expect_eq(w.cat, CAT_POLL);
	cr_expect_eq(w.nr, CONCUR_IO_WORKER_IDLE);
	/* The SQPOLL thread's wait for submissions, and a worker seeded from /proc as 'S'. */
	w = classify_io_worker(S_INTERRUPTIBLE, 0, IOW_UNKNOWN, 0, FD_NONE);
	cr_expect_eq(w.cat, CAT_POLL);
	w = classify_io_worker(state_from_proc('S'), 0, IOW_UNKNOWN, 0, FD_NONE);
	cr_expect_eq(w.cat, CAT_POLL);
	/* With no request, an uninterruptible wait is the worker's own (a mutex, its exit). */
	w = classify_io_worker(S_UNINTERRUPTIBLE, 0, IOW_IDLE, 0, FD_NONE);
	cr_expect_eq(w.cat, CAT_OTHER);
	cr_expect_eq(w.nr, CONCUR_IO_WORKER_REQ);
	/* /proc's 'D' without in_iowait: not guessed to be the disk. */
	w = classify_io_worker(state_from_proc('D'), 0, IOW_UNKNOWN, 0, FD_NONE);
	cr_expect_eq(w.cat, CAT_OTHER);
	/* A stop still decides first (the freezer holds workers too). */
	w = classify_io_worker(0x8000, 1, IOW_REQUEST, IORING_OP_READ, FD_FILE);
	cr_expect_eq(w.nr, CONCUR_STOPPED);
}
