// SPDX-License-Identifier: MIT
/* /proc/PID/maps lines, as the kernel writes them (proc(5)), and lines it never writes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include "profile/procmaps.h"

Test(procmaps, file_backed_executable)
{
	struct maps_line m;

	cr_assert_eq(maps_line_parse("7f1c2a400000-7f1c2a595000 r-xp 00028000 fe:01 1311 "
				     "   /usr/lib/x86_64-linux-gnu/libc.so.6",
				     &m),
		     0);
	cr_expect_eq(m.start, 0x7f1c2a400000ull);
	cr_expect_eq(m.end, 0x7f1c2a595000ull);
	cr_expect_eq(m.offset, 0x28000);
	cr_expect(m.exec);
	cr_expect_str_eq(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
}

/* An 'x' in the path (x86_64) is not an executable mapping. */
Test(procmaps, permissions_not_the_path_say_executable)
{
	struct maps_line m;

	cr_assert_eq(maps_line_parse("7f1c2a3d8000-7f1c2a400000 r--p 00000000 fe:01 1311 "
				     "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
				     &m),
		     0);
	cr_expect_not(m.exec);
}

Test(procmaps, anonymous_and_special_mappings)
{
	struct maps_line m;

	cr_assert_eq(maps_line_parse("7ffd5e1f0000-7ffd5e1f2000 r-xp 00000000 00:00 0 [vdso]", &m),
		     0);
	cr_expect_str_eq(m.path, "[vdso]");
	cr_assert_eq(maps_line_parse("7f00aa000000-7f00aa021000 rwxp 00000000 00:00 0 ", &m), 0);
	cr_expect(m.exec);
	cr_expect_str_eq(m.path, "");
}

Test(procmaps, a_path_with_spaces_is_whole)
{
	struct maps_line m;

	cr_assert_eq(maps_line_parse("400000-401000 r-xp 00001000 fe:01 42 /tmp/my prog (deleted)",
				     &m),
		     0);
	cr_expect_str_eq(m.path, "/tmp/my prog (deleted)");
}

Test(procmaps, malformed_lines_are_refused)
{
	struct maps_line m;

	cr_expect_eq(maps_line_parse("", &m), -EINVAL);
	cr_expect_eq(maps_line_parse("garbage", &m), -EINVAL);
	cr_expect_eq(maps_line_parse("400000-401000 r-xp", &m), -EINVAL);
	cr_expect_eq(maps_line_parse("400000-401000 r-xp 0 fe:01", &m), -EINVAL);
}

struct seen {
	uint64_t addr; /* to find */
	int visits;
};

static int find_exec(const struct maps_line *ml, void *ctx)
{
	struct seen *s = ctx;

	s->visits++;
	cr_expect(ml->exec, "only executable mappings are visited");
	return ml->start <= s->addr && s->addr < ml->end ? 7 : 0;
}

/* The shared reader of /proc/SRC/maps: executable mappings in order, stopped by the visitor's
 * non-zero return (handed back), -errno for a process that is not there. */
Test(procmaps, each_exec_visits_and_stops)
{
	struct seen s = { (uint64_t)(uintptr_t)&getpid, 0 };

	cr_expect_eq(procmaps_each_exec((uint32_t)getpid(), find_exec, &s), 7);
	cr_expect_gt(s.visits, 0);
	s = (struct seen){ 0, 0 };
	cr_expect_eq(procmaps_each_exec((uint32_t)getpid(), find_exec, &s), 0, "read whole");
	cr_expect_eq(procmaps_each_exec(0x7ffffff0u, find_exec, &s), -ENOENT);
}
