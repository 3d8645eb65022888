// SPDX-License-Identifier: MIT
/* The kernel feature check's verdict and its one-line message, on made-up features. */
#include <errno.h>
#include <criterion/criterion.h>
#include "collect/features.h"

static int present(const struct btf *vmlinux)
{
	(void)vmlinux;
	return 1;
}

static int absent(const struct btf *vmlinux)
{
	(void)vmlinux;
	return 0;
}

/* A probe that could not tell: the load is left to say what fails. */
static int unknown(const struct btf *vmlinux)
{
	(void)vmlinux;
	return -EPERM;
}

Test(features, nothing_missing_passes)
{
	const struct feature f[] = { { "a", "5.8", present }, { "b", "5.11", unknown } };
	char msg[128] = "untouched";

	cr_expect_eq(features_check_list(f, 2, NULL, msg, sizeof(msg)), 0);
}

Test(features, one_missing_is_named_with_its_release)
{
	const struct feature f[] = { { "BPF ring buffers", "5.8", present },
				     { "BPF task storage", "5.11", absent } };
	char msg[128];

	cr_assert_eq(features_check_list(f, 2, NULL, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_expect_str_eq(msg, "this kernel lacks BPF task storage (needs Linux 5.11+)");
}

Test(features, several_missing_share_one_line)
{
	const struct feature f[] = { { "A", "5.8", absent },
				     { "B", "5.11", present },
				     { "C", "6.17", absent } };
	char msg[128];

	cr_assert_eq(features_check_list(f, 3, NULL, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_expect_str_eq(msg, "this kernel lacks A (Linux 5.8+), C (Linux 6.17+): "
			      "concur needs Linux " FEATURES_MIN_LINUX "+");
}

Test(features, a_short_buffer_is_cut_not_overrun)
{
	const struct feature f[] = { { "A long feature name", "5.8", absent },
				     { "Another long one", "6.17", absent } };
	char msg[24];

	cr_assert_eq(features_check_list(f, 2, NULL, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_expect_eq(strlen(msg), sizeof(msg) - 1);
	cr_expect_str_eq(msg, "this kernel lacks A lon");
}
