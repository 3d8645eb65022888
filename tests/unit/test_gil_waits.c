// SPDX-License-Identifier: MIT
/* GIL waits by Python function and holder (gil_waits.c), where the GIL's frame goes in a
 * stack (py_gil_slot), and how the text report says both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "fixture.h"
#include "profile/gil_waits.h"
#include "profile/py_merge.h"

Test(gil_waits, summed_by_waiter_function_and_split_by_holder)
{
	struct profile *p = fixture_profile();
	struct gil_wait_row *rows;
	long n;

	cr_assert_not_null(p);
	/* The fixture's own lock stack (wait_on_lock) is no GIL wait: none before. */
	cr_expect_eq(gil_waits(p, &rows), 0);
	gil_waits_free(rows, 0);
	cr_assert_eq(fixture_add_python(p), 0);
	n = gil_waits(p, &rows);
	cr_assert_eq(n, 1);
	cr_expect_eq(rows[0].tid, 100);
	cr_expect_str_eq(rows[0].thread, "server");
	cr_expect_str_eq(rows[0].function, "compute (app.py:30)");
	cr_expect_eq(rows[0].ns, 400 * FIXTURE_MS);
	cr_expect_eq(rows[0].count, 35);
	cr_assert_eq(rows[0].nholders, 2);
	cr_expect_eq(rows[0].holders[0].tid, 101);
	cr_expect_str_eq(rows[0].holders[0].thread, "worker \"1\"");
	cr_expect_str_eq(rows[0].holders[0].function, "parse_rows (etl.py:88)");
	cr_expect_eq(rows[0].holders[0].ns, 300 * FIXTURE_MS);
	cr_expect_eq(rows[0].holders[1].tid, 0);
	cr_expect_null(rows[0].holders[1].function);
	gil_waits_free(rows, n);
	profile__free(p);
}

/* One holder function at two lines is one share, named after its heavier line. */
Test(gil_waits, holder_lines_merge)
{
	struct profile *p = fixture_profile();
	struct gil_wait_row *rows;
	long n;
	size_t i;

	cr_assert_not_null(p);
	cr_assert_eq(fixture_add_python(p), 0);
	for (i = 0; i < p->nstacks; i++)
		if (p->stacks[i].gil && !p->stacks[i].gil_holder) {
			p->stacks[i].gil_holder = 101;
			p->stacks[i].gil_holder_frame =
				profile__intern(p, "parse_rows (etl.py:87)");
		}
	n = gil_waits(p, &rows);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].nholders, 1);
	cr_expect_eq(rows[0].holders[0].ns, 400 * FIXTURE_MS);
	cr_expect_str_eq(rows[0].holders[0].function, "parse_rows (etl.py:88)");
	gil_waits_free(rows, n);
	profile__free(p);
}

Test(gil_waits, text_report_names_waiter_and_holder)
{
	struct profile *p = fixture_profile();
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(p);
	cr_assert_eq(fixture_add_python(p), 0);
	cr_assert_eq(fixture_write(fixture_write_text, p, f), 0);
	fclose(f);
	cr_expect_not_null(strstr(out, "server (tid 100) waited 0.400 s for the GIL in compute"),
			   "%s", out);
	cr_expect_not_null(strstr(out,
				  "75% while worker \"1\" (tid 101) ran parse_rows (etl.py:88)"),
			   "%s", out);
	cr_expect_not_null(strstr(out, "25% with the holder unknown"), "%s", out);
	cr_expect_not_null(strstr(out, "2 Python frames are named [python]"), "%s", out);
	cr_expect_not_null(strstr(out, "1 stacks' Python frames did not match"), "%s", out);
	free(out);
	profile__free(p);
}

Test(gil_waits, text_report_has_no_section_without_gil_waits)
{
	struct profile *p = fixture_profile();
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(p);
	cr_assert_eq(fixture_write(fixture_write_text, p, f), 0);
	fclose(f);
	cr_expect_null(strstr(out, "GIL waits"), "%s", out);
	cr_expect_null(strstr(out, "[python]"), "%s", out);
	free(out);
	profile__free(p);
}

/* Leaf first: the mark goes right under the leaf-most Python frame, above libc's wait and the
 * interpreter's own frames, whether the native walk reached the eval loop or not. */
Test(py_gil_slot, under_the_leaf_most_python_frame)
{
	/* A frame-pointer walk cut in libc: the Python frames at the root. */
	const struct py_native rooted[] = {
		{ "__futex_abstimed_wait_common", "libc.so.6", false },
		{ "pthread_cond_timedwait", "libc.so.6", false },
		{ "compute (app.py:30)", "python3.11", true },
		{ "main (app.py:12)", "python3.11", true },
	};
	/* A CFI walk through the interpreter: its kept frames between the wait and Python. */
	const struct py_native spliced[] = {
		{ "__futex_abstimed_wait_common", "libc.so.6", false },
		{ "pthread_cond_timedwait", "libc.so.6", false },
		{ "PyEval_RestoreThread", "python3.11", false },
		{ "time_sleep", "python3.11", false },
		{ "poll (app.py:40)", "python3.11", true },
		{ "main", "python3.11", false },
		{ "__libc_start_main", "libc.so.6", false },
	};
	/* A python with symbols names take_gil itself. */
	const struct py_native sym[] = {
		{ "__futex_abstimed_wait_common", "libc.so.6", false },
		{ "take_gil", "libpython3.11.so.1.0", false },
		{ "PyEval_RestoreThread", "libpython3.11.so.1.0", false },
		{ "compute (app.py:30)", "python3.11", true },
	};
	/* No Python frame (its walk failed): under the interpreter's leaf-most frame. */
	const struct py_native native[] = {
		{ "__futex_abstimed_wait_common", "libc.so.6", false },
		{ "take_gil", "libpython3.11.so.1.0", false },
		{ "PyEval_RestoreThread", "libpython3.11.so.1.0", false },
	};
	size_t drop;

	cr_expect_eq(py_gil_slot(rooted, 4, "take_gil", &drop), 2);
	cr_expect_eq(drop, 4);
	cr_expect_eq(py_gil_slot(spliced, 7, "take_gil", &drop), 4);
	cr_expect_eq(drop, 7);
	/* No interpreter frame (a stack cut in libc): at the root. */
	cr_expect_eq(py_gil_slot(rooted, 2, "take_gil", &drop), 2);
	cr_expect_eq(drop, 2);
	cr_expect_eq(py_gil_slot(sym, 4, "take_gil", &drop), 3);
	cr_expect_eq(drop, 1);
	cr_expect_eq(py_gil_slot(native, 3, "take_gil", &drop), 1);
	cr_expect_eq(drop, 1);
	/* Only the frames leafward of the Python frame are the wait's own. */
	cr_expect_eq(py_gil_slot(sym + 2, 2, "take_gil", &drop), 1);
	cr_expect_eq(drop, 2);
}
