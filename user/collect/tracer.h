/* SPDX-License-Identifier: MIT */
/*
 * The collect stage: probes in, workload or targets watched, profile out.
 *
 * Owns: the BPF skeleton's lifecycle, the launched workload, the targets, /proc readers, and
 * converting kernel maps into the profile (collect.c), before the profile is finished.
 * May not touch: advice or output; after tracer_collect() returns, nothing reads a map or
 * /proc again.
 */
#ifndef CONCUR_TRACER_H
#define CONCUR_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "profile/profile.h"

struct tracer_opts {
	enum profile_mode mode;
	char **argv;	/* run: the command */
	uint32_t *pids; /* attach: the targets */
	size_t npids;
	uint64_t duration_ns; /* attach: 0 for until interrupted or the targets exit */
	bool follow_children; /* attach --children; always on for run */
	bool keep_root;
	bool status_line;
	bool stacks;	   /* off-CPU stacks and on-CPU sampling */
	bool unwind_cfi;   /* user stacks by CFI tables (--unwind=cfi), else frame pointers */
	bool bench_timing; /* time the stack captures (--bench-timing, for probe_cost.py) */
	uint32_t sample_hz;
};

/* What went wrong, for the one-line message; exit_code is 127 when a command won't exec. */
struct tracer_error {
	char msg[512];
	int exit_code;
};

/* Checks privileges, BTF and what the probes need from the kernel, before anything starts. */
int tracer_check_env(struct tracer_error *e);
int tracer_collect(const struct tracer_opts *o, struct profile **out, struct tracer_error *e);

#endif
