/* SPDX-License-Identifier: MIT */
/*
 * pprof output (github.com/google/pprof proto/profile.proto, gzip-compressed), for
 * `go tool pprof` and friends. The subset written is user/render/profile.proto.
 */
#ifndef CONCUR_OUT_PPROF_H
#define CONCUR_OUT_PPROF_H

#include <stdio.h>
#include "advise/advise.h"

/*
 * One pprof sample per stack, values [samples/count, time/nanoseconds] ("time" is the
 * default). The category is the root frame of every stack (a function named after it, in
 * the pseudo module "[concur]") and a string label "category"; labels "pid" and "tid"
 * (numbers), "thread" and "process" (comm names) say whose stack it is.
 * The advice is not shown. Returns 0, -EIO when f cannot be written, or -ENOMEM when the
 * packed message does not fit in memory (smaller allocations abort, as GLib's do).
 */
int write_pprof(const struct profile *p, const struct advice *a, FILE *f);

#endif
