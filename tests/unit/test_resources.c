// SPDX-License-Identifier: MIT
/* The CPU quota and peak memory parsers behind the advisor's machine context. */
#include <criterion/criterion.h>
#include <errno.h>
#include "collect/resources.h"

Test(resources, cpu_max_quota_rounds_up_to_whole_cpus)
{
	cr_expect_eq(resources_parse_cpu_max("max 100000"), 0, "no limit");
	cr_expect_eq(resources_parse_cpu_max("100000 100000"), 1);
	cr_expect_eq(resources_parse_cpu_max("150000 100000\n"), 2, "1.5 CPUs can keep 2 busy");
	cr_expect_eq(resources_parse_cpu_max("50000 100000"), 1);
}

Test(resources, cpu_max_malformed_is_refused)
{
	cr_expect_eq(resources_parse_cpu_max(""), -EINVAL);
	cr_expect_eq(resources_parse_cpu_max("max"), -EINVAL);
	cr_expect_eq(resources_parse_cpu_max("100000 0"), -EINVAL);
	cr_expect_eq(resources_parse_cpu_max("lots 100000"), -EINVAL);
	cr_expect_eq(resources_parse_cpu_max("0 100000"), -EINVAL);
}

Test(resources, vmhwm_from_status)
{
	cr_expect_eq(resources_parse_vmhwm("Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t  4321 kB\n"),
		     4321);
	cr_expect_eq(resources_parse_vmhwm("VmHWM:\t12 kB\n"), 12);
	cr_expect_eq(resources_parse_vmhwm("Name:\tkthread\n"), -ENOENT,
		     "kernel threads have none");
	cr_expect_eq(resources_parse_vmhwm("Name:\tx\nVmHWM:\tjunk\n"), -ENOENT);
}

Test(resources, cfs_quota_v1)
{
	cr_expect_eq(resources_parse_cfs("-1\n", "100000\n"), 0, "-1: no quota");
	cr_expect_eq(resources_parse_cfs("20000\n", "100000\n"), 1, "0.2 CPU keeps one busy");
	cr_expect_eq(resources_parse_cfs("50000", "100000"), 1);
	cr_expect_eq(resources_parse_cfs("250000\n", "100000\n"), 3);
	cr_expect_eq(resources_parse_cfs("200000", "100000"), 2);
}

Test(resources, cfs_quota_v1_malformed_is_refused)
{
	cr_expect_eq(resources_parse_cfs("", "100000"), -EINVAL);
	cr_expect_eq(resources_parse_cfs("-2", "100000"), -EINVAL);
	cr_expect_eq(resources_parse_cfs("0", "100000"), -EINVAL);
	cr_expect_eq(resources_parse_cfs("50000", "0"), -EINVAL);
	cr_expect_eq(resources_parse_cfs("50000", "-1"), -EINVAL);
	cr_expect_eq(resources_parse_cfs("5e4", "100000"), -EINVAL);
	cr_expect_eq(resources_parse_cfs(" 50000", "100000"), -EINVAL);
	cr_expect_eq(resources_parse_cfs("99999999999999999999999", "100000"), -EINVAL, "overflow");
	cr_expect_eq(resources_parse_cpu_max("-5 100000"), -EINVAL);
	cr_expect_eq(resources_parse_cpu_max("max 100000 junk"), -EINVAL);
}

Test(resources, cpulist)
{
	cpu_set_t set;

	cr_expect_eq(resources_parse_cpulist("0-3,6\n", &set), 5);
	cr_expect(CPU_ISSET(3, &set) && CPU_ISSET(6, &set) && !CPU_ISSET(4, &set));
	cr_expect_eq(resources_parse_cpulist("1", &set), 1);
	cr_expect(CPU_ISSET(1, &set) && !CPU_ISSET(0, &set));
	cr_expect_eq(resources_parse_cpulist("0-1,1\n", &set), 2, "overlaps count once");
	cr_expect_eq(resources_parse_cpulist("\n", &set), 0, "an empty cpuset");
	cr_expect_eq(resources_parse_cpulist("3-1", &set), -EINVAL);
	cr_expect_eq(resources_parse_cpulist("0-", &set), -EINVAL);
	cr_expect_eq(resources_parse_cpulist("0,,1", &set), -EINVAL);
	cr_expect_eq(resources_parse_cpulist("a", &set), -EINVAL);
	cr_expect_eq(resources_parse_cpulist("0-99999", &set), -EINVAL, "beyond CPU_SETSIZE");
	cr_expect_eq(resources_parse_cpulist("0\n1", &set), -EINVAL, "a second line");
}

Test(resources, cpu_stat_v1_and_v2)
{
	struct cg_throttle t;

	cr_expect_eq(resources_parse_cpu_stat("nr_periods 21\nnr_throttled 20\n"
					      "throttled_time 1605946585\nnr_bursts 0\n"
					      "burst_time 0\n",
					      &t),
		     0);
	cr_expect_eq(t.nr_throttled, 20);
	cr_expect_eq(t.throttled_ns, 1605946585ull, "v1: ns");
	cr_expect_eq(resources_parse_cpu_stat("usage_usec 400000\nuser_usec 399000\n"
					      "system_usec 1000\nnr_periods 21\nnr_throttled 19\n"
					      "throttled_usec 1600000\nnr_bursts 0\nburst_usec 0\n",
					      &t),
		     0);
	cr_expect_eq(t.nr_throttled, 19);
	cr_expect_eq(t.throttled_ns, 1600000000ull, "v2: us → ns");
}

Test(resources, cpu_stat_without_bandwidth_or_malformed)
{
	struct cg_throttle t;

	cr_expect_eq(resources_parse_cpu_stat("usage_usec 1\nuser_usec 1\nsystem_usec 0\n", &t),
		     -ENOENT, "v2 without the cpu controller");
	cr_expect_eq(resources_parse_cpu_stat("", &t), -ENOENT);
	cr_expect_eq(resources_parse_cpu_stat("throttled_time -5\n", &t), -ENOENT);
	cr_expect_eq(resources_parse_cpu_stat("throttled_time 5x\n", &t), -ENOENT);
	cr_expect_eq(resources_parse_cpu_stat("nr_throttled 3\nthrottled_time 7", &t), 0,
		     "no final newline");
	cr_expect_eq(t.throttled_ns, 7);
}

static const char v1_cgroup[] = "9:name=systemd:/\n8:pids:/\n4:memory:/a\n3:cpuset:/set\n"
				"2:cpu,cpuacct:/concur/job\n0::/\n";

Test(resources, proc_cgroup_v1_and_v2)
{
	char path[CGROUP_PATH_MAX];
	bool v2;

	cr_expect_eq(resources_parse_cgroup(v1_cgroup, "cpu", path, sizeof(path), &v2), 0);
	cr_expect_str_eq(path, "/concur/job");
	cr_expect(!v2);
	cr_expect_eq(resources_parse_cgroup(v1_cgroup, "cpuset", path, sizeof(path), &v2), 0);
	cr_expect_str_eq(path, "/set");
	cr_expect_eq(resources_parse_cgroup(v1_cgroup, "cpuacct", path, sizeof(path), &v2), 0);
	cr_expect_str_eq(path, "/concur/job");
	cr_expect_eq(resources_parse_cgroup("0::/user.slice/a.scope\n", "cpu", path, sizeof(path),
					    &v2),
		     0);
	cr_expect_str_eq(path, "/user.slice/a.scope");
	cr_expect(v2, "no v1 line for it: the unified hierarchy");
	cr_expect_eq(resources_parse_cgroup("1:cpu:/\n", "cpu", path, sizeof(path), &v2), 0);
	cr_expect_str_eq(path, "/");
}

Test(resources, proc_cgroup_refused)
{
	char path[CGROUP_PATH_MAX];
	bool v2;

	cr_expect_eq(resources_parse_cgroup("4:memory:/a\n", "cpu", path, sizeof(path), &v2),
		     -ENOENT);
	cr_expect_eq(resources_parse_cgroup("2:cpu:/a/../../etc\n", "cpu", path, sizeof(path), &v2),
		     -EINVAL);
	cr_expect_eq(resources_parse_cgroup("2:cpu:a\n", "cpu", path, sizeof(path), &v2), -EINVAL);
	cr_expect_eq(resources_parse_cgroup("2:cpu:/a//b\n", "cpu", path, sizeof(path), &v2),
		     -EINVAL);
	cr_expect_eq(resources_parse_cgroup("2:cpu:/a/.\n", "cpu", path, sizeof(path), &v2),
		     -EINVAL);
	cr_expect_eq(resources_parse_cgroup("2:cpu:/abcdef\n", "cpu", path, 4, &v2), -EINVAL);
	cr_expect_eq(resources_parse_cgroup("garbage", "cpu", path, sizeof(path), &v2), -ENOENT);
}

Test(resources, mountinfo_cgroup_mounts)
{
	char root[256], mnt[256];

	cr_expect_eq(resources_parse_mountinfo("32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - "
					       "cgroup cgroup rw,cpu\n",
					       "cpu", false, root, mnt, sizeof(mnt)),
		     1);
	cr_expect_str_eq(mnt, "/sys/fs/cgroup/cpu");
	cr_expect_str_eq(root, "/");
	cr_expect_eq(resources_parse_mountinfo("25 24 0:22 /kube /sys/fs/cgroup/cpu,cpuacct "
					       "rw,nosuid shared:8 - cgroup cgroup "
					       "rw,cpu,cpuacct",
					       "cpu", false, root, mnt, sizeof(mnt)),
		     1, "optional fields, a root inside the hierarchy");
	cr_expect_str_eq(mnt, "/sys/fs/cgroup/cpu,cpuacct");
	cr_expect_str_eq(root, "/kube");
	cr_expect_eq(resources_parse_mountinfo("33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup "
					       "cgroup rw,cpuacct",
					       "cpu", false, root, mnt, sizeof(mnt)),
		     0, "cpuacct is not cpu");
	cr_expect_eq(resources_parse_mountinfo("41 31 0:38 / /sys/fs/cgroup/my\\040dir rw - "
					       "cgroup2 cgroup2 rw",
					       "cpu", true, root, mnt, sizeof(mnt)),
		     1);
	cr_expect_str_eq(mnt, "/sys/fs/cgroup/my dir", "octal escapes decoded");
	cr_expect_eq(resources_parse_mountinfo("41 31 0:38 / /sys/fs/cgroup/unified rw - "
					       "cgroup2 cgroup2 rw",
					       "cpu", false, root, mnt, sizeof(mnt)),
		     0, "v2 when v1 is asked for");
	cr_expect_eq(resources_parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw", "cpu", false,
					       root, mnt, sizeof(mnt)),
		     0);
}

Test(resources, mountinfo_malformed)
{
	char root[16], mnt[16];

	cr_expect_eq(resources_parse_mountinfo("32 31 0:29 / /sys/fs/cgroup/cpu rw", "cpu", false,
					       root, mnt, sizeof(mnt)),
		     -EINVAL, "no separator");
	cr_expect_eq(resources_parse_mountinfo("", "cpu", false, root, mnt, sizeof(mnt)), -EINVAL);
	cr_expect_eq(resources_parse_mountinfo("1 2 0:1 / /a\\09 rw - cgroup c rw,cpu", "cpu",
					       false, root, mnt, sizeof(mnt)),
		     -EINVAL, "a bad escape");
	cr_expect_eq(resources_parse_mountinfo("1 2 0:1 / /a\\000 rw - cgroup c rw,cpu", "cpu",
					       false, root, mnt, sizeof(mnt)),
		     -EINVAL, "an escaped NUL");
	cr_expect_eq(resources_parse_mountinfo("1 2 0:1 / /a/very/long/mount/point rw - cgroup c "
					       "rw,cpu",
					       "cpu", false, root, mnt, sizeof(mnt)),
		     -EINVAL, "longer than the buffer");
}
