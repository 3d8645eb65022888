// SPDX-License-Identifier: MIT
/* name_ids: numbers by pointer in the order first seen, across the table's growth. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "profile/name_ids.h"

#define N 5000 /* the table starts with 1024 slots: grows several times */

Test(name_ids, numbers_pointers_in_order_first_seen)
{
	struct name_ids *t = name_ids__new();
	static char pool[N]; /* neighbouring pointers: hashing must spread them */
	int i, round;

	cr_assert_not_null(t);
	cr_assert_eq(name_ids__get(t, NULL), 0, "NULL is a key like any other");
	for (round = 0; round < 2; round++)
		for (i = 0; i < N; i++)
			cr_assert_eq(name_ids__get(t, &pool[i]), i + 1, "pointer %d, round %d", i,
				     round);
	cr_expect_eq(name_ids__get(t, NULL), 0);
	cr_expect_eq(name_ids__count(t), N + 1);
	cr_expect_eq(name_ids__name(t, 1), &pool[0]);
	cr_expect_eq(name_ids__name(t, N), &pool[N - 1]);
	cr_expect_null(name_ids__name(t, N + 1));
	name_ids__free(t);
}
