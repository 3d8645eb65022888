/* SPDX-License-Identifier: MIT */
#ifndef CONCUR_LAUNCH_H
#define CONCUR_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

struct launch {
	pid_t pid;
	int go_fd;
	int err_fd;
};

/* Forks the workload, held before exec. */
int launch_prepare(struct launch *l, char **argv, bool keep_root);
/* Lets it exec; returns the exec's negative errno if it failed (the child is reaped then). */
int launch_release(struct launch *l);
/* Never released: the child exits without running anything. */
void launch_abort(struct launch *l);
/* A wait status as a shell would report it: the code, or 128 + signal. */
int exit_status_of(int wstatus);

#endif
