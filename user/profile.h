/* SPDX-License-Identifier: MIT */
/* The profile: everything a report needs, as plain data. Collect fills it, writers read it. */
#ifndef CONCUR_PROFILE_H
#define CONCUR_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "concur.h"

enum profile_mode { MODE_RUN, MODE_ATTACH };

struct other_sys {
	int32_t nr;		/* CONCUR_NO_SYSCALL: outside any syscall */
	uint64_t ns;
	uint64_t cnt;
};

struct proc {
	uint32_t pid;
	uint32_t ppid;
	bool exited;
	char comm[CONCUR_COMM_LEN];
	uint32_t nthreads;
	__u64 ns[CAT_MAX];
	struct other_sys *other;
	size_t nother;
};

struct thread {
	struct thread_acct acct;	/* closed at the end of the window */
	uint64_t start_ns;		/* relative to the window start */
	uint64_t end_ns;
	bool exited;
};

struct profile {
	enum profile_mode mode;
	char **command;			/* NULL-terminated */
	int exit_status;		/* run: the workload's, -1 if unknown */
	bool interrupted;
	uint64_t window_start_ns;	/* CLOCK_MONOTONIC */
	uint64_t window_ns;
	int cpus;
	uint64_t stats[STAT_MAX];
	uint64_t anomalies;
	struct thread *threads;
	size_t nthreads;
	struct proc *procs;
	size_t nprocs;
};

extern const char *const cat_names[CAT_MAX];
/* At most 4 characters, for columns. */
extern const char *const cat_short_names[CAT_MAX];

struct profile *profile__new(enum profile_mode mode, char **command);
void profile__free(struct profile *p);

/* Adds a thread whose interval in progress is closed at `end_mono` (CLOCK_MONOTONIC). */
int profile__add_thread(struct profile *p, const struct thread_acct *a, uint64_t end_mono);
int profile__add_proc(struct profile *p, uint32_t pid, uint32_t ppid, const char *comm,
		      bool exited);
int profile__add_other(struct profile *p, uint32_t pid, int32_t nr, uint64_t ns, uint64_t cnt);
struct proc *profile__find_proc(struct profile *p, uint32_t pid);

/* Sorts and derives per-process totals; call once everything is added. */
void profile__finish(struct profile *p);

uint64_t thread_lifetime_ns(const struct thread *t);
uint64_t profile__thread_ns(const struct profile *p, __u64 ns[CAT_MAX]);
uint64_t proc_thread_ns(const struct proc *pr);
uint64_t profile__lost(const struct profile *p);

#endif /* CONCUR_PROFILE_H */
