// SPDX-License-Identifier: MIT
/*
 * The CPUs a target may use, for the advisor's bounds: its affinity mask, capped by the CPU
 * quota of its cgroup (v2 cpu.max, the tightest along the path to the root). And its peak
 * resident memory, what each extra process would cost. Read from /proc and /sys only, never
 * written; the cgroup path is the kernel's, still checked before it becomes a path.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "resources.h"
#include "procfs.h"

int resources_parse_cpu_max(const char *line)
{
	unsigned long long quota, period;
	char word[32];

	if (sscanf(line, "%31s %llu", word, &period) != 2 || !period)
		return -EINVAL;
	if (!strcmp(word, "max"))
		return 0;
	if (sscanf(word, "%llu", &quota) != 1 || !quota)
		return -EINVAL;
	return (int)((quota + period - 1) / period);
}

long long resources_parse_vmhwm(const char *status)
{
	const char *p = strstr(status, "\nVmHWM:");
	long long kb;

	if (!p && !strncmp(status, "VmHWM:", 6))
		p = status - 1;
	if (!p || sscanf(p + 7, " %lld kB", &kb) != 1 || kb < 0)
		return -ENOENT;
	return kb;
}

/* The tightest cpu.max from the process's cgroup up to the root; 0 when none limits it. */
static int cgroup_cpus(uint32_t pid)
{
	char buf[4096], path[4200], line[128], *cg, *slash;
	int best = 0, n;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (procfs_read_text(path, buf, sizeof(buf)))
		return 0;
	/* cgroup v2: the one line "0::/path". */
	cg = strstr(buf, "0::/");
	if (!cg || (cg != buf && cg[-1] != '\n'))
		return 0;
	cg += 3;
	cg[strcspn(cg, "\n")] = '\0';
	if (strstr(cg, "/..") || strlen(cg) > 2048)
		return 0;
	for (;;) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpu.max", cg);
		if (!procfs_read_text(path, line, sizeof(line))) {
			n = resources_parse_cpu_max(line);
			if (n > 0 && (!best || n < best))
				best = n;
		}
		slash = strrchr(cg, '/');
		if (!slash || slash == cg)
			break;
		*slash = '\0';
	}
	return best;
}

uint32_t resources_cpus(uint32_t pid)
{
	cpu_set_t set;
	int n, quota;

	if (sched_getaffinity((pid_t)pid, sizeof(set), &set))
		return 0;
	n = CPU_COUNT(&set);
	quota = cgroup_cpus(pid);
	return (uint32_t)(quota > 0 && quota < n ? quota : n);
}

uint64_t resources_peak_rss_kb(uint32_t pid)
{
	char path[64], buf[4096];
	long long kb;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (procfs_read_text(path, buf, sizeof(buf)))
		return 0;
	kb = resources_parse_vmhwm(buf);
	return kb > 0 ? (uint64_t)kb : 0;
}
