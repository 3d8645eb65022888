// SPDX-License-Identifier: MIT
/* Folded output and the frame-pointer check, on the fixture's stacks. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "fixture.h"
#include "profile/unwind_check.h"
#include "render/output.h"

static char *render(writer_fn writer, struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(fixture_write(writer, p, f), 0);
	fclose(f);
	return buf;
}

Test(stacks, folded_lines_category_first_in_microseconds)
{
	struct profile *p = fixture_profile();
	char *out;

	cr_assert_not_null(p);
	out = render(write_folded, p);
	cr_expect_not_null(strstr(out, "cpu;main;handle_request;burn_cpu 600000\n"), "%s", out);
	cr_expect_not_null(strstr(out, "lock;main;handle_request;wait_on_lock;__lll_lock_wait;"
				       "futex_wait_[k];schedule_[k] 700000\n"),
			   "%s", out);
	cr_expect_not_null(strstr(out, "wait;main;wait4;do_wait_[k];schedule_[k] 1800000\n"));
	free(out);
	profile__free(p);
}

Test(stacks, folded_names_cannot_break_the_format)
{
	struct profile *p = fixture_profile();
	struct frame *f;
	char *out;

	cr_assert_not_null(p);
	f = &p->stacks[0].frames[2];
	f->name = profile__intern(p, "evil;name\nwith 1000");
	out = render(write_folded, p);
	cr_expect_not_null(strstr(out, "evil:name?with 1000 600000\n"), "%s", out);
	free(out);
	profile__free(p);
}

Test(stacks, threads_with_equal_stacks_are_merged)
{
	struct profile *p = fixture_profile();
	struct stack copy;
	char *out;

	cr_assert_not_null(p);
	copy = p->stacks[0];
	copy.tid = 100;
	copy.frames = malloc(copy.nframes * sizeof(*copy.frames));
	memcpy(copy.frames, p->stacks[0].frames, copy.nframes * sizeof(*copy.frames));
	cr_assert_eq(profile__add_stack(p, &copy), 0);
	out = render(write_folded, p);
	cr_expect_not_null(strstr(out, "cpu;main;handle_request;burn_cpu 1200000\n"), "%s", out);
	free(out);
	profile__free(p);
}

Test(stacks, shallow_stacks_name_their_object)
{
	struct profile *p = fixture_profile();

	cr_assert_not_null(p);
	cr_assert_eq(profile__check_unwinding(p), 0);
	/* child: "main;[unknown]" is 2 frames, but only 1 stack of it: not enough to judge. */
	cr_expect_eq(p->nunwind, 0);
	profile__free(p);
}
