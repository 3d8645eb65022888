/* SPDX-License-Identifier: MIT */
/* A CFI row into an unwind rule, for the table builder (unwind_table.c). */
#ifndef CONCUR_UNWIND_RULE_H
#define CONCUR_UNWIND_RULE_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include "collect/unwind_table.h"

/* The rule of the row f (signal: its CIE marks a signal frame) into r; the rows that fit no
 * shape are counted in st as invalid, the inexact ones as approximate. */
void unwind_rule_classify(Dwarf_Frame *f, bool signal, struct unwind_rule *r,
			  struct unwind_stats *st);

#endif
