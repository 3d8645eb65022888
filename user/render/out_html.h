/* SPDX-License-Identifier: MIT */
/* The self-contained HTML report: time breakdown and a flame graph of all time, one file. */
#ifndef CONCUR_OUT_HTML_H
#define CONCUR_OUT_HTML_H

#include <stdio.h>
#include "advise/advise.h"

/* 0 or a negative errno. */
int write_html(const struct profile *p, const struct advice *a, FILE *f);

#endif
