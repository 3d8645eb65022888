/* SPDX-License-Identifier: MIT */
/* The stop signals (SIGINT, SIGTERM, SIGHUP) while collecting: a burst stops once. */
#ifndef CONCUR_STOP_SIGNALS_H
#define CONCUR_STOP_SIGNALS_H

#include <stdbool.h>

/* Installs the handler for the stop signals, and ignores SIGPIPE (a closed output pipe is an
 * error to report, not a death). */
void stop_signals_install(void);
/* The first stop signal received, 0 while none came. */
int stop_signals_first(void);
/* Whether that signal was sent by a process (kill), not by the terminal to its whole
 * foreground group (then the workload got it too). */
bool stop_signals_by_kill(void);

#endif
