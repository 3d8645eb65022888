/* SPDX-License-Identifier: MIT */
#ifndef CONCUR_PROCFS_H
#define CONCUR_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include "account.h"

/* A small file's text (one read() of at most size - 1 bytes), NUL-terminated; a symlink
 * is not followed. 0 or -errno. */
int procfs_read_text(const char *path, char *buf, size_t size);
int procfs_parse_state(const char *stat_line);
int procfs_parse_flags(const char *stat_line, uint32_t *flags);
int procfs_parse_syscall(const char *line, long *nr, long *arg0);
int procfs_seed_thread(uint32_t pid, uint32_t tid, uint64_t now, struct thread_acct *a);
int procfs_for_each_thread(uint32_t pid, int (*fn)(uint32_t pid, uint32_t tid, void *ctx),
			   void *ctx);
int procfs_read_comm(uint32_t pid, uint32_t tid, char comm[CONCUR_COMM_LEN]);
int procfs_read_kclock(uint32_t pid, uint32_t tid, struct acct_kclock *k);
int procfs_read_ppid(uint32_t pid, uint32_t *ppid);

#endif
