// SPDX-License-Identifier: MIT
/* What /proc says about a target's threads: for threads already blocked when attach starts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "classify.h"
#include "procfs.h"

/* The state letter of a /proc/.../stat line; the comm may hold ')' and spaces. */
int procfs_parse_state(const char *stat_line)
{
	const char *p = strrchr(stat_line, ')');

	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	return (unsigned char)p[2];
}

/*
 * The task's flags word (task_struct.flags: PF_*), the 9th field of a /proc/.../stat line
 * (proc(5)), after the state and five numbers. 0 or -EINVAL.
 */
int procfs_parse_flags(const char *stat_line, uint32_t *flags)
{
	const char *p = strrchr(stat_line, ')');
	unsigned long v;
	char *end;
	int i;

	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EINVAL;
	p += 4;
	/* ppid, pgrp, session, tty_nr, tpgid: signed numbers, skipped. */
	for (i = 0; i < 5; i++) {
		errno = 0;
		strtol(p, &end, 10);
		if (errno || end == p || *end != ' ')
			return -EINVAL;
		p = end + 1;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || (*end != ' ' && *end) || v > UINT32_MAX)
		return -EINVAL;
	*flags = (uint32_t)v;
	return 0;
}

/*
 * A /proc/.../syscall line: "running", "-1 SP PC" (blocked outside a syscall) or
 * "NR ARG0 ARG1 ... SP PC". Returns 1 when running, 0 with *nr (and *arg0) set.
 */
int procfs_parse_syscall(const char *line, long *nr, long *arg0)
{
	char *end;

	if (!strncmp(line, "running", 7))
		return 1;
	errno = 0;
	*nr = strtol(line, &end, 10);
	if (errno || end == line)
		return -EINVAL;
	*arg0 = -1;
	if (*nr >= 0) {
		*arg0 = (long)strtoul(end, &end, 16);
		if (errno)
			return -EINVAL;
	}
	return 0;
}

int procfs_read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return 0;
}

/* The first line of a small file. */
static int read_small(const char *path, char *buf, size_t size)
{
	int err = procfs_read_text(path, buf, size);

	if (!err)
		buf[strcspn(buf, "\n")] = '\0';
	return err;
}

static __u32 fd_kind_of(uint32_t pid, long fd)
{
	char path[64];
	struct stat st;

	if (fd < 0 || fd > 1L << 30)
		return FD_NONE;
	snprintf(path, sizeof(path), "/proc/%u/fd/%ld", pid, fd);
	/* stat() describes the open file itself, whatever name it had. */
	if (stat(path, &st))
		return FD_NONE;
	return fdkind_from_mode(st.st_mode);
}

/* The kernel's runtime and run-queue wait for a thread: schedstat's first two fields. */
int procfs_read_kclock(uint32_t pid, uint32_t tid, struct acct_kclock *k)
{
	char path[64], buf[128];
	unsigned long long exec, delay;
	int err;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/schedstat", pid, tid);
	err = read_small(path, buf, sizeof(buf));
	if (err)
		return err;
	if (sscanf(buf, "%llu %llu", &exec, &delay) != 2)
		return -EINVAL;
	k->exec_ns = exec;
	k->run_delay_ns = delay;
	return 0;
}

/* The state a live thread is in right now, as a time-model starting point. */
int procfs_seed_thread(uint32_t pid, uint32_t tid, uint64_t now, struct thread_acct *a)
{
	char path[64], buf[512];
	long nr = CONCUR_NO_SYSCALL, arg0 = -1;
	struct acct_kclock k;
	struct wait_class w;
	uint32_t flags = 0;
	int state, err;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	err = read_small(path, buf, sizeof(buf));
	if (err)
		return err;
	state = procfs_parse_state(buf);
	if (state < 0)
		return state;
	memset(a, 0, sizeof(*a));
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	procfs_parse_flags(buf, &flags);
	if (state == 'R') {
		acct_init(a, pid, tid, now, TS_R_UNKNOWN, CAT_OTHER, CONCUR_NO_SYSCALL);
	} else if (flags & CONCUR_PF_IO_WORKER) {
		/* Its registers are its creator's: the state alone, with no in_iowait nor request
		 * in /proc ('D' is `other`); adopt_threads asks the task itself (concur.bpf.c). */
		w = classify_io_worker(state_from_proc(state), 0, IOW_UNKNOWN, 0, FD_NONE);
		acct_init(a, pid, tid, now, TS_BLOCKED, w.cat, w.nr);
	} else {
		__u32 bits = state_from_proc(state), kind = FD_NONE;

		snprintf(path, sizeof(path), "/proc/%u/task/%u/syscall", pid, tid);
		if (read_small(path, buf, sizeof(buf)) || procfs_parse_syscall(buf, &nr, &arg0))
			nr = CONCUR_NO_SYSCALL;
		/* A stopped thread's syscall does not matter: the stop is its wait. /proc has
		 * no in_iowait: a fault already waiting for its page stays "fault". */
		if (!stop_reason(bits) && nr >= 0 && syscall_takes_fd(nr))
			kind = fd_kind_of(pid, arg0);
		w = classify_wait(bits, 0, nr, kind);
		acct_init(a, pid, tid, now, TS_BLOCKED, w.cat, w.nr);
	}
	procfs_read_comm(pid, tid, a->comm);
	if (!procfs_read_kclock(pid, tid, &k))
		acct_set_kclock(a, k);
	return 0;
}

int procfs_for_each_thread(uint32_t pid, int (*fn)(uint32_t pid, uint32_t tid, void *ctx),
			   void *ctx)
{
	char path[64];
	struct dirent *de;
	unsigned long tid;
	char *end;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (de = readdir(dir))) {
		tid = strtoul(de->d_name, &end, 10);
		if (*end || end == de->d_name || !tid || tid > UINT32_MAX)
			continue;
		err = fn(pid, tid, ctx);
	}
	closedir(dir);
	return err;
}

int procfs_read_comm(uint32_t pid, uint32_t tid, char comm[CONCUR_COMM_LEN])
{
	char path[64], buf[64];
	int err;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	err = read_small(path, buf, sizeof(buf));
	if (!err) {
		memset(comm, 0, CONCUR_COMM_LEN);
		memcpy(comm, buf, strnlen(buf, CONCUR_COMM_LEN - 1));
	}
	return err;
}

int procfs_read_ppid(uint32_t pid, uint32_t *ppid)
{
	char path[64], buf[512];
	const char *p;
	int err;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	err = read_small(path, buf, sizeof(buf));
	if (err)
		return err;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %u", ppid) != 1)
		return -EINVAL;
	return 0;
}
