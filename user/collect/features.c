// SPDX-License-Identifier: MIT
/*
 * What the BPF programs need from the kernel, checked before they are loaded: a refusal by the
 * verifier names an instruction, not what the kernel lacks. Each feature is probed (distribution
 * kernels backport, so the version says little): by the types the kernel describes itself with
 * in its BTF, or by libbpf's probes, which create a map of the type. Left out: what every kernel
 * with these has anyway (bpf_task_pt_regs, 5.15; BTF-typed tracepoints, 5.5), and the cpu-clock
 * perf event, whose absence the sampler's attach reports in as many words.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "features.h"

static int has_ringbuf(const struct btf *vmlinux)
{
	(void)vmlinux;
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
}

/* The map type (5.11); tracing programs may use it from 5.13, which the checks below imply. */
static int has_task_storage(const struct btf *vmlinux)
{
	(void)vmlinux;
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL);
}

/* libbpf finds an iterator's target by this function, which the kernel defines for it. */
static int has_task_iter(const struct btf *vmlinux)
{
	return btf__find_by_name_kind(vmlinux, "bpf_iter_task", BTF_KIND_FUNC) > 0;
}

/*
 * on_switch takes the tracepoint's prev_state, its fourth argument since 5.18: before, the
 * verifier refuses the read. btf_trace_sched_switch points to the prototype, whose first
 * parameter is the context.
 */
static int has_switch_prev_state(const struct btf *vmlinux)
{
	int id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;

	t = t ? btf__type_by_id(vmlinux, t->type) : NULL;
	t = t && btf_is_ptr(t) ? btf__type_by_id(vmlinux, t->type) : NULL;
	return t && btf_is_func_proto(t) && btf_vlen(t) >= 5;
}

/*
 * fd_kind() reads a task's array of file pointers with bpf_rdonly_cast(p, 0), the untyped cast
 * of 6.17; the same release lists it in enum bpf_features so that programs can tell.
 */
static int has_rdonly_cast_void(const struct btf *vmlinux)
{
	int id = btf__find_by_name_kind(vmlinux, "bpf_features", BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	const struct btf_enum *v;
	const char *name;
	int i;

	if (!t)
		return 0;
	v = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, v++) {
		name = btf__name_by_offset(vmlinux, v->name_off);
		if (name && !strcmp(name, "BPF_FEAT_RDONLY_CAST_TO_VOID"))
			return 1;
	}
	return 0;
}

/* Oldest first: the last one missing is the release to move to. */
static const struct feature needed[] = {
	{ "BPF ring buffers", "5.8", has_ringbuf },
	{ "BPF task iterators", "5.8", has_task_iter },
	{ "BPF task storage", "5.11", has_task_storage },
	{ "sched_switch's prev_state argument", "5.18", has_switch_prev_state },
	{ "untyped bpf_rdonly_cast()", "6.17", has_rdonly_cast_void },
};

/* Appends to msg, which stays terminated; what does not fit is cut. */
static void append(char *msg, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n < len - *at ? (size_t)n : len - *at - 1;
}

int features_check_list(const struct feature *f, size_t n, const struct btf *vmlinux, char *msg,
			size_t len)
{
	size_t i, at = 0, missing = 0, last = 0;

	if (len)
		msg[0] = 0;
	for (i = 0; i < n; i++) {
		if (f[i].probe(vmlinux) != 0)
			continue;
		append(msg, len, &at, "%s%s (Linux %s+)", missing++ ? ", " : "this kernel lacks ",
		       f[i].name, f[i].since);
		last = i;
	}
	if (!missing)
		return 0;
	if (missing == 1) {
		at = 0;
		append(msg, len, &at, "this kernel lacks %s (needs Linux %s+)", f[last].name,
		       f[last].since);
	} else {
		append(msg, len, &at, ": concur needs Linux %s+", FEATURES_MIN_LINUX);
	}
	return -EOPNOTSUPP;
}

int features_check(char *msg, size_t len)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err;

	if (!vmlinux) {
		err = -errno;
		snprintf(msg, len, "cannot read this kernel's BTF: %s", strerror(-err));
		return err;
	}
	err = features_check_list(needed, sizeof(needed) / sizeof(needed[0]), vmlinux, msg, len);
	btf__free(vmlinux);
	return err;
}

static int has_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	const int need[] = { CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE };
	size_t i;

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(data[need[i] / 32].effective & (1u << (need[i] % 32))))
			return 0;
	return 1;
}

int features_check_env(char *msg, size_t len)
{
	if (geteuid() != 0 && !has_caps()) {
		snprintf(msg, len,
			 "needs root, or the capabilities CAP_BPF, CAP_PERFMON and "
			 "CAP_SYS_PTRACE (try: sudo concur ...)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(msg, len,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux): concur "
			 "needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	return features_check(msg, len);
}
