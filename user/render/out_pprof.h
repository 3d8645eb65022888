/* SPDX-License-Identifier: MIT */
/* pprof output (profile.proto, gzip-compressed), for `go tool pprof` and friends. */
#ifndef CONCUR_OUT_PPROF_H
#define CONCUR_OUT_PPROF_H

#include <stdio.h>
#include "advise/advise.h"

/*
 * One pprof sample per stack, values [samples/count, time/nanoseconds] ("time" is the
 * default). The category is the root frame of every stack (a function named after it, in
 * the pseudo module "[concur]") and a string label "category"; labels "pid" and "tid"
 * (numbers), "thread" and "process" (comm names) say whose stack it is.
 * The advice is not shown. Returns 0 or a negative errno.
 */
int write_pprof(const struct profile *p, const struct advice *a, FILE *f);

#endif
