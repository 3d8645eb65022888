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
