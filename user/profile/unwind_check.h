/* SPDX-License-Identifier: MIT */
/* Objects whose stacks look cut short: built without frame pointers. */
#ifndef CONCUR_UNWIND_CHECK_H
#define CONCUR_UNWIND_CHECK_H

#include "profile.h"

/* Finds the objects most of whose stack weight stops after a frame or two, into p->unwind
 * (sorted, heaviest first); on a finished profile. 0 or -ENOMEM. */
int profile__check_unwinding(struct profile *p);

#endif
