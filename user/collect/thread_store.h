/* SPDX-License-Identifier: MIT */
/*
 * Moving thread accounts between userspace and the task storage the probes keep them in:
 * seeds in at attach, snapshots out for the status line and the final report. Both run a
 * BPF task iterator.
 */
#ifndef CONCUR_THREAD_STORE_H
#define CONCUR_THREAD_STORE_H

#include <stdint.h>
#include <linux/types.h>

struct bpf_program;

/* Runs an iter/task program over process pid's threads (pid 0: every task). */
int thread_store_iterate(struct bpf_program *prog, uint32_t pid);

/*
 * Empties the `threads` map (fd), then runs the snapshot program over every task: the map
 * then holds every live target thread's account, as of now. *dropped (the program's
 * counter) is zeroed first, and then says how many did not fit.
 */
int thread_store_snapshot(struct bpf_program *snapshot, int threads_fd, __u64 *dropped);

#endif
