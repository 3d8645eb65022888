/* SPDX-License-Identifier: MIT */
/* What the BPF programs need from the kernel, checked before they are loaded. */
#ifndef CONCUR_FEATURES_H
#define CONCUR_FEATURES_H

#include <stddef.h>

struct btf;

/* The oldest Linux with every feature below (README, "Requirements"). */
#define FEATURES_MIN_LINUX "6.17"

struct feature {
	const char *name;  /* what the message calls it */
	const char *since; /* the first Linux release with it */
	/* 1 present, 0 absent, < 0 cannot tell (then the load reports what fails) */
	int (*probe)(const struct btf *vmlinux);
};

/*
 * Probes each of the n features; 0 when none is missing, else -EOPNOTSUPP with msg naming every
 * missing one, in one line.
 */
int features_check_list(const struct feature *f, size_t n, const struct btf *vmlinux, char *msg,
			size_t len);

/* The features concur's BPF programs use, probed here; -errno when the BTF is unreadable. */
int features_check(char *msg, size_t len);

/* Everything recording needs before anything is started: privileges (root, or CAP_BPF,
 * CAP_PERFMON and CAP_SYS_PTRACE), the kernel's BTF, then features_check(). 0, or -errno with
 * a one-line reason in msg. */
int features_check_env(char *msg, size_t len);

#endif
