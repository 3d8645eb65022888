/* SPDX-License-Identifier: MIT */
/* What a process may use and has used: CPUs (affinity, cgroup quota), peak resident memory. */
#ifndef CONCUR_RESOURCES_H
#define CONCUR_RESOURCES_H

#include <stdint.h>

/* A cgroup v2 cpu.max line ("max 100000", "150000 100000") → CPUs' worth of quota, rounded
 * up; 0 for no limit, -EINVAL for a malformed line. */
int resources_parse_cpu_max(const char *line);
/* "VmHWM:   1234 kB" among /proc/PID/status's lines → kB; -ENOENT when absent. */
long long resources_parse_vmhwm(const char *status);
/* CPUs pid may run on: its affinity, capped by its cgroup's cpu.max and its ancestors';
 * 0 when unknown. */
uint32_t resources_cpus(uint32_t pid);
/* Peak resident memory of pid (kB), 0 when unknown. */
uint64_t resources_peak_rss_kb(uint32_t pid);

#endif
