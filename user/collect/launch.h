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
/*
 * Lets it exec; returns the exec's negative errno if it failed, or -EPIPE if the child died
 * before it could exec (a signal to the whole process group while it was held). The child is
 * reaped then, its wait status in *wstatus (0 if it could not be had).
 */
int launch_release(struct launch *l, int *wstatus);
/* Never released: the child exits without running anything. */
void launch_abort(struct launch *l);
/* Never released, as a stop signal came first: the held child, which ran nothing of the
 * workload, is killed (whatever signals it ignores) and reaped. */
void launch_cancel(struct launch *l);
/* A wait status as a shell would report it: the code, or 128 + signal. */
int exit_status_of(int wstatus);

#endif
