/* SPDX-License-Identifier: MIT */
/*
 * What a process may use and has used: CPUs (affinity, cpuset, CFS quota of cgroup v1 or v2),
 * the time its cgroup's quota held it off the CPUs, peak resident memory.
 */
#ifndef CONCUR_RESOURCES_H
#define CONCUR_RESOURCES_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_PATH_MAX 2048
/* Deeper cgroup paths are not walked further up. */
#define CGROUP_LEVELS 64

/* A cgroup v2 cpu.max line ("max 100000", "150000 100000") → CPUs' worth of quota, rounded
 * up; 0 for no limit, -EINVAL for a malformed line. */
int resources_parse_cpu_max(const char *line);
/* cgroup v1 cpu.cfs_quota_us ("-1": none) and cpu.cfs_period_us → as resources_parse_cpu_max. */
int resources_parse_cfs(const char *quota, const char *period);
/* A cpu list ("0-3,6\n") into set; the number of CPUs in it, -EINVAL when malformed. */
int resources_parse_cpulist(const char *list, cpu_set_t *set);

/* A cgroup's CFS bandwidth counters (cpu.stat), throttled time in ns. */
struct cg_throttle {
	uint64_t nr_throttled;
	uint64_t throttled_ns;
};

/* cpu.stat: v1 "throttled_time" (ns) or v2 "throttled_usec"; -ENOENT when neither is there. */
int resources_parse_cpu_stat(const char *text, struct cg_throttle *t);
/*
 * /proc/PID/cgroup's text → the path of the cgroup holding controller ("cpu", "cpuset"): its
 * v1 hierarchy's line, else the v2 line "0::/path" (*v2 then true). 0, -ENOENT when neither
 * is there, -EINVAL for a path that is no clean absolute path.
 */
int resources_parse_cgroup(const char *text, const char *controller, char *path, size_t size,
			   bool *v2);
/*
 * One /proc/PID/mountinfo line: for a v1 cgroup mount with controller among its options (or
 * a cgroup2 mount when v2), its root within the hierarchy and its mount point (octal escapes
 * decoded). 1 when it is such a mount, 0 when not, -EINVAL when malformed.
 */
int resources_parse_mountinfo(const char *line, const char *controller, bool v2, char *root,
			      char *mnt, size_t size);
/* "VmHWM:   1234 kB" among /proc/PID/status's lines → kB; -ENOENT when absent. */
long long resources_parse_vmhwm(const char *status);

/*
 * The directory of pid's cgroup for controller, in this mount namespace: *top is the length
 * of its mount point's prefix (the walk up the path stops there). 0 or -errno.
 */
int resources_cgroup_dir(uint32_t pid, const char *controller, char *dir, size_t size, size_t *top,
			 bool *v2);
/*
 * CPUs pid may run on: its affinity, within its cpuset, capped by the tightest CFS quota on
 * its cgroup path (v1 or v2); 0 when unknown.
 */
uint32_t resources_cpus(uint32_t pid);
/* The counters of the cpu cgroup directory dir (from resources_cgroup_dir); 0 or -errno. */
int resources_read_throttle(const char *dir, struct cg_throttle *t);
/* Peak resident memory of pid (kB), 0 when unknown. */
uint64_t resources_peak_rss_kb(uint32_t pid);

#endif
