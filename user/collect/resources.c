// SPDX-License-Identifier: MIT
/*
 * The CPUs a target may use, for the advisor's bounds: its affinity mask, within its cpuset,
 * capped by the tightest CFS bandwidth quota on its cgroup path (v1 cpu.cfs_quota_us /
 * cpu.cfs_period_us, v2 cpu.max). The counters of the time that quota held it off the CPUs
 * (cpu.stat). And its peak resident memory, what each extra process would cost.
 *
 * Read from /proc and cgroupfs only, never written, and all of it untrusted: bounded reads,
 * numbers parsed strictly, the cgroup path checked before it becomes a path. The cgroup's
 * directory is found as the kernel tells it: the hierarchy holding the controller in
 * /proc/PID/cgroup, its mount point in /proc/self/mountinfo (a v1 cpu controller is mounted
 * anywhere: /sys/fs/cgroup/cpu,cpuacct, /sys/fs/cgroup/cpu...).
 *
 * Sources: Documentation/scheduler/sched-bwc.rst (quota, period, -1 for none; nr_throttled,
 * throttled_time in ns), Documentation/admin-guide/cgroup-v2.rst (cpu.max, cpu.stat's
 * throttled_usec, cpuset.cpus.effective), Documentation/admin-guide/cgroup-v1/cpusets.rst
 * (cpuset.cpus, cpuset.effective_cpus), Documentation/filesystems/proc.rst (mountinfo).
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "resources.h"
#include "procfs.h"

#define MOUNTINFO_LINE_MAX 8192
#define MOUNTINFO_LINES	   100000

/* Digits only (no sign, no blanks before), without overflow; *end after them. */
static int parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -EINVAL;
	*v = n;
	*end = p;
	return 0;
}

/* A number alone on its line (a trailing newline or blanks allowed). */
static int parse_number(const char *s, uint64_t *v)
{
	const char *end;

	if (parse_u64(s, v, &end))
		return -EINVAL;
	end += strspn(end, " \t\n");
	return *end ? -EINVAL : 0;
}

static int cpus_of_quota(uint64_t quota, uint64_t period)
{
	uint64_t n = quota / period + (quota % period != 0);

	return n > INT_MAX ? INT_MAX : (int)n;
}

int resources_parse_cpu_max(const char *line)
{
	uint64_t quota, period;
	const char *p = line;

	if (!strncmp(p, "max ", 4)) {
		quota = 0;
		p += 4;
	} else if (parse_u64(p, &quota, &p) || *p++ != ' ' || !quota) {
		return -EINVAL;
	}
	if (parse_number(p, &period) || !period)
		return -EINVAL;
	return quota ? cpus_of_quota(quota, period) : 0;
}

int resources_parse_cfs(const char *quota, const char *period)
{
	uint64_t q, per;

	if (parse_number(period, &per) || !per)
		return -EINVAL;
	if (!strcmp(quota, "-1") || !strcmp(quota, "-1\n"))
		return 0;
	if (parse_number(quota, &q) || !q)
		return -EINVAL;
	return cpus_of_quota(q, per);
}

int resources_parse_cpulist(const char *list, cpu_set_t *set)
{
	const char *p = list;
	uint64_t lo, hi, c;

	CPU_ZERO(set);
	while (*p && *p != '\n') {
		if (parse_u64(p, &lo, &p))
			return -EINVAL;
		hi = lo;
		if (*p == '-' && parse_u64(p + 1, &hi, &p))
			return -EINVAL;
		if (lo > hi || hi >= CPU_SETSIZE)
			return -EINVAL;
		for (c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	if (p[0] == '\n' && p[1])
		return -EINVAL;
	return CPU_COUNT(set);
}

int resources_parse_cpu_stat(const char *text, struct cg_throttle *t)
{
	const char *line = text, *value;
	bool found = false;
	uint64_t v;

	*t = (struct cg_throttle){};
	for (; *line; line += strcspn(line, "\n"), line += *line == '\n') {
		value = line + strcspn(line, " \n");
		if (*value != ' ' || parse_u64(value + 1, &v, &value) || (*value && *value != '\n'))
			continue; /* not a "key number" line: a later kernel's, skipped */
		if (!strncmp(line, "nr_throttled ", 13)) {
			t->nr_throttled = v;
		} else if (!strncmp(line, "throttled_time ", 15)) {
			t->throttled_ns = v;
			found = true;
		} else if (!strncmp(line, "throttled_usec ", 15)) {
			t->throttled_ns = v > UINT64_MAX / 1000 ? UINT64_MAX : v * 1000;
			found = true;
		}
	}
	return found ? 0 : -ENOENT;
}

/* Whether word is one of the comma-separated items of list[0, len). */
static bool in_list(const char *list, size_t len, const char *word)
{
	size_t n = strlen(word), i = 0, item;

	while (i < len) {
		item = strcspn(list + i, ",");
		if (item > len - i)
			item = len - i;
		if (item == n && !strncmp(list + i, word, n))
			return true;
		i += item + 1;
	}
	return false;
}

/* An absolute path with no "." or ".." component and no empty one but the root's. */
static bool clean_path(const char *path, size_t len)
{
	size_t i, comp;

	if (!len || path[0] != '/' || len >= CGROUP_PATH_MAX)
		return false;
	if (len == 1)
		return true;
	for (i = 1; i <= len; i += comp + 1) {
		comp = strcspn(path + i, "/");
		if (i + comp > len)
			comp = len - i;
		if (!comp || (comp == 1 && path[i] == '.') ||
		    (comp == 2 && path[i] == '.' && path[i + 1] == '.'))
			return false;
	}
	return true;
}

static int copy_path(const char *path, size_t len, char *out, size_t size)
{
	if (!clean_path(path, len) || len >= size)
		return -EINVAL;
	memcpy(out, path, len);
	out[len] = '\0';
	return 0;
}

int resources_parse_cgroup(const char *text, const char *controller, char *path, size_t size,
			   bool *v2)
{
	const char *line, *ctl, *p, *unified = NULL;
	size_t len, ulen = 0;

	for (line = text; *line; line += len + (line[len] == '\n')) {
		len = strcspn(line, "\n");
		ctl = memchr(line, ':', len);
		p = ctl ? memchr(ctl + 1, ':', len - (size_t)(ctl + 1 - line)) : NULL;
		if (!p)
			continue;
		if (ctl - line == 1 && line[0] == '0' && p == ctl + 1) {
			unified = p + 1;
			ulen = len - (size_t)(p + 1 - line);
		} else if (in_list(ctl + 1, (size_t)(p - ctl - 1), controller)) {
			*v2 = false;
			return copy_path(p + 1, len - (size_t)(p + 1 - line), path, size);
		}
	}
	if (!unified)
		return -ENOENT;
	*v2 = true;
	return copy_path(unified, ulen, path, size);
}

/* A mountinfo field, its octal escapes ("\040" for a space) decoded; NULL when malformed. */
static const char *take_field(const char *p, char *out, size_t size)
{
	size_t n = 0;

	for (; *p && *p != ' ' && *p != '\n'; p++) {
		if (n + 1 >= size)
			return NULL;
		if (*p == '\\') {
			if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' ||
			    p[3] > '7')
				return NULL;
			out[n++] = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
			p += 3;
		} else {
			out[n++] = *p;
		}
	}
	if (!n || !out[0] || memchr(out, '\0', n))
		return NULL;
	out[n] = '\0';
	return *p == ' ' ? p + 1 : p;
}

int resources_parse_mountinfo(const char *line, const char *controller, bool v2, char *root,
			      char *mnt, size_t size)
{
	char word[256];
	const char *p = line, *sep, *opts;
	int i;

	for (i = 0; i < 3 && p; i++) /* id, parent id, major:minor */
		p = take_field(p, word, sizeof(word));
	if (p)
		p = take_field(p, root, size);
	if (p)
		p = take_field(p, mnt, size);
	sep = p ? strstr(p, " - ") : NULL;
	if (!sep)
		return -EINVAL;
	p = take_field(sep + 3, word, sizeof(word)); /* the file system type */
	if (!p || root[0] != '/' || mnt[0] != '/')
		return -EINVAL;
	if (v2)
		return !strcmp(word, "cgroup2");
	if (strcmp(word, "cgroup"))
		return 0;
	opts = strchr(p, ' '); /* after the source */
	if (!opts)
		return -EINVAL;
	opts++;
	return in_list(opts, strcspn(opts, " \n"), controller);
}

/* The mount point of the hierarchy that holds cg (relative to the mount's root) → dir. */
static int find_mount(const char *controller, bool v2, const char *cg, char *dir, size_t size,
		      size_t *top)
{
	char root[CGROUP_PATH_MAX], mnt[1024], *line = NULL;
	size_t cap = 0, rlen;
	int err = -ENOENT, n = 0;
	const char *rel;
	ssize_t len;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (err == -ENOENT && n++ < MOUNTINFO_LINES && (len = getline(&line, &cap, f)) > 0) {
		if (len > MOUNTINFO_LINE_MAX ||
		    resources_parse_mountinfo(line, controller, v2, root, mnt, sizeof(mnt)) != 1 ||
		    !clean_path(root, strlen(root)))
			continue;
		rlen = strcmp(root, "/") ? strlen(root) : 0;
		if (strncmp(cg, root, rlen) || (cg[rlen] && cg[rlen] != '/'))
			continue; /* another part of the hierarchy (a bind mount) */
		rel = !strcmp(cg + rlen, "/") ? "" : cg + rlen;
		*top = strlen(mnt);
		err = snprintf(dir, size, "%s%s", mnt, rel) < (int)size ? 0 : -ENAMETOOLONG;
	}
	free(line);
	fclose(f);
	return err;
}

int resources_cgroup_dir(uint32_t pid, const char *controller, char *dir, size_t size, size_t *top,
			 bool *v2)
{
	char buf[8192], cg[CGROUP_PATH_MAX];
	int err;

	snprintf(buf, sizeof(buf), "/proc/%u/cgroup", pid);
	err = procfs_read_text(buf, buf, sizeof(buf));
	if (!err)
		err = resources_parse_cgroup(buf, controller, cg, sizeof(cg), v2);
	return err ? err : find_mount(controller, *v2, cg, dir, size, top);
}

/* A small file of a cgroup directory. */
static int read_cg(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return procfs_read_text(path, buf, size);
}

static int quota_at(const char *dir, bool v2)
{
	char quota[64], period[64];

	if (v2)
		return read_cg(dir, "cpu.max", quota, sizeof(quota)) ?
			       0 :
			       resources_parse_cpu_max(quota);
	if (read_cg(dir, "cpu.cfs_quota_us", quota, sizeof(quota)) ||
	    read_cg(dir, "cpu.cfs_period_us", period, sizeof(period)))
		return 0;
	return resources_parse_cfs(quota, period);
}

/* The tightest quota from pid's cgroup up to its hierarchy's root; 0 when none limits it.
 * A child may ask for more than its parent: the parent's still caps it (sched-bwc.rst). */
static int quota_cpus(uint32_t pid)
{
	char dir[PATH_MAX], *slash;
	size_t top, len;
	bool v2;
	int best = 0, n, level;

	if (resources_cgroup_dir(pid, "cpu", dir, sizeof(dir), &top, &v2))
		return 0;
	for (level = 0, len = strlen(dir); level < CGROUP_LEVELS; level++) {
		n = quota_at(dir, v2);
		if (n > 0 && (!best || n < best))
			best = n;
		slash = strrchr(dir, '/');
		if (len <= top || !slash || (size_t)(slash - dir) < top)
			break;
		*slash = '\0';
		len = (size_t)(slash - dir);
	}
	return best;
}

/* The CPUs of pid's cpuset into set; -errno when there is none to read. */
static int cpuset_of(uint32_t pid, cpu_set_t *set)
{
	char dir[PATH_MAX], list[4096];
	size_t top;
	bool v2;
	int err = resources_cgroup_dir(pid, "cpuset", dir, sizeof(dir), &top, &v2);

	if (!err && v2)
		err = read_cg(dir, "cpuset.cpus.effective", list, sizeof(list));
	else if (!err && read_cg(dir, "cpuset.effective_cpus", list, sizeof(list)))
		err = read_cg(dir, "cpuset.cpus", list, sizeof(list));
	if (!err && resources_parse_cpulist(list, set) <= 0)
		err = -EINVAL;
	return err;
}

uint32_t resources_cpus(uint32_t pid)
{
	cpu_set_t set, cpuset;
	int n, quota;

	if (sched_getaffinity((pid_t)pid, sizeof(set), &set))
		return 0;
	/* The kernel keeps affinity within the cpuset; a cpuset changed since still counts. */
	if (!cpuset_of(pid, &cpuset)) {
		CPU_AND(&cpuset, &cpuset, &set);
		if (CPU_COUNT(&cpuset))
			set = cpuset;
	}
	n = CPU_COUNT(&set);
	quota = quota_cpus(pid);
	return (uint32_t)(quota > 0 && quota < n ? quota : n);
}

int resources_read_throttle(const char *dir, struct cg_throttle *t)
{
	char buf[2048];
	int err = read_cg(dir, "cpu.stat", buf, sizeof(buf));

	return err ? err : resources_parse_cpu_stat(buf, t);
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
