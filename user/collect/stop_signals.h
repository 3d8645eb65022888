/* SPDX-License-Identifier: MIT */
/* The stop signals (SIGINT, SIGTERM, SIGHUP) while collecting: a burst stops once. */
#ifndef CONCUR_STOP_SIGNALS_H
#define CONCUR_STOP_SIGNALS_H

#include <stdbool.h>

/* Installs the handler for the stop signals, and ignores SIGPIPE (a closed output pipe is an
 * error to report, not a death). */
void stop_signals_install(void);
/* Whether sig is one of the stop signals. */
bool stop_signal_is(int sig);
/* The first stop signal received, 0 while none came. */
int stop_signals_first(void);
/* Whether that signal was sent by a process (kill), not by the terminal to its whole
 * foreground group (then the workload got it too). */
bool stop_signals_by_kill(void);

/*
 * For tests: at the start-up stage named by $CONCUR_TEST_STOP_AT ("start", "loaded",
 * "attached"), a SIGTERM to concur's whole process group, as timeout(1) sends it, so that a
 * stop at each stage is tested deterministically. Nothing when unset.
 */
void stop_signals_test_point(const char *stage);

#endif
